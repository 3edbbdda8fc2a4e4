import Foundation
import PipelineEngine

/// Parses ISO 6709 point strings as QuickTime stores them (`©xyz` and
/// `com.apple.quicktime.location.ISO6709`): `+48.8584+002.2945+035.000/`.
///
/// The standard allows degrees, degrees-minutes and degrees-minutes-seconds, told apart by
/// the number of integer digits (latitude DD, DDMM, DDMMSS; longitude DDD, DDDMM, DDDMMSS);
/// phones write decimal degrees, older cameras the others.
enum ISO6709 {
    static func parse(_ text: String) -> GeoLocation? {
        var fields: [Substring] = []
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        // Up to three signed numbers, then an optional CRS and the closing '/'.
        while let sign = rest.first, sign == "+" || sign == "-", fields.count < 3 {
            let body = rest.dropFirst()
            let end = body.firstIndex { !($0.isASCII && ($0.isNumber || $0 == ".")) } ?? body.endIndex
            fields.append(rest[rest.startIndex..<end])
            rest = body[end...]
        }
        guard fields.count >= 2,
            let latitude = angle(fields[0], degreeDigits: 2), abs(latitude) <= 90,
            let longitude = angle(fields[1], degreeDigits: 3), abs(longitude) <= 180
        else { return nil }
        let altitude = fields.count == 3 ? Double(fields[2]) : nil
        return GeoLocation(latitude: latitude, longitude: longitude, altitude: altitude)
    }

    private static func angle(_ field: Substring, degreeDigits: Int) -> Double? {
        let negative = field.first == "-"
        let digits = field.dropFirst()
        let integerPart = digits.prefix { $0 != "." }
        let fraction = Double("0" + digits.dropFirst(integerPart.count)) ?? 0
        guard !integerPart.isEmpty, integerPart.allSatisfy(\.isNumber) else { return nil }
        let value: Double
        switch integerPart.count - degreeDigits {
        case 0:
            value = Double(integerPart)! + fraction
        case 2:
            let degrees = Double(integerPart.prefix(degreeDigits))!
            let minutes = Double(integerPart.suffix(2))! + fraction
            guard minutes < 60 else { return nil }
            value = degrees + minutes / 60
        case 4:
            let degrees = Double(integerPart.prefix(degreeDigits))!
            let minutes = Double(integerPart.dropFirst(degreeDigits).prefix(2))!
            let seconds = Double(integerPart.suffix(2))! + fraction
            guard minutes < 60, seconds < 60 else { return nil }
            value = degrees + minutes / 60 + seconds / 3600
        default:
            return nil
        }
        return negative ? -value : value
    }
}
