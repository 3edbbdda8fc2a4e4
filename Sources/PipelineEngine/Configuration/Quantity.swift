import Foundation

/// Parses human-friendly quantities used in pipeline and daemon configuration.
public enum Quantity {
    /// `512MB`, `1.5GiB`, `200 kB`, `1048576`. Decimal units are powers of 1000, binary ones of 1024.
    public static func bytes(_ text: String) -> Int64? {
        let units: [(String, Double)] = [
            ("kib", 1024), ("mib", 1_048_576), ("gib", 1_073_741_824), ("tib", 1_099_511_627_776),
            ("kb", 1e3), ("mb", 1e6), ("gb", 1e9), ("tb", 1e12), ("k", 1024), ("m", 1_048_576), ("g", 1_073_741_824), ("b", 1),
        ]
        return scaled(text, units: units)
    }

    /// `250M`, `100MP`, `40k`, `268435456`.
    public static func count(_ text: String) -> Int64? {
        let units: [(String, Double)] = [("mp", 1e6), ("gp", 1e9), ("k", 1e3), ("m", 1e6), ("g", 1e9)]
        return scaled(text, units: units)
    }

    /// `250ms`, `30s`, `5m`, `2h`; a bare number is seconds.
    public static func duration(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        guard let millis = scaledDouble(text, units: units, multiplier: 1000) else { return nil }
        return .milliseconds(Int64(millis.rounded()))
    }

    private static func scaled(_ text: String, units: [(String, Double)]) -> Int64? {
        guard let value = scaledDouble(text, units: units, multiplier: 1), value < 9.2e18 else { return nil }
        return Int64(value.rounded())
    }

    private static func scaledDouble(_ text: String, units: [(String, Double)], multiplier: Double) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: "_", with: "")
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
            guard let value = Double(number), value >= 0 else { return nil }
            return value * factor * multiplier
        }
        guard let value = Double(trimmed), value >= 0 else { return nil }
        return value * multiplier
    }
}
