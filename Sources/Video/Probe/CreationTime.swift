import Foundation
/// Normalises the creation dates containers carry into ISO 8601.
///
/// QuickTime's `com.apple.quicktime.creationdate` keeps the local time and its offset
/// (`2024-05-01T14:34:56+0200`); `creation_time` is UTC as libavformat formats it
/// (`2024-05-01T12:34:56.000000Z`). Both become `2024-05-01T14:34:56+02:00` /
/// `2024-05-01T12:34:56Z`: the offset is kept when known (the event's contract) and
/// zero fractions are dropped.
enum CreationTime {
    static func normalize(_ raw: String) -> String? {
        var text = raw.trimmingCharacters(in: .whitespaces)
        guard text.count >= 19 else { return nil }
        let chars = Array(text)
        // Date and time must be where ISO 8601 puts them: YYYY-MM-DD[T ]hh:mm:ss.
        let digitPositions = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
        guard digitPositions.allSatisfy({ chars[$0].isNumber }), chars[4] == "-", chars[7] == "-",
            chars[10] == "T" || chars[10] == " ", chars[13] == ":", chars[16] == ":"
        else { return nil }
        // libavformat writes 1970-01-01 or 1904-01-01 when a muxer left the field at zero.
        if text.hasPrefix("1904-01-01") || text.hasPrefix("1970-01-01T00:00:00") { return nil }
        var head = String(chars[0..<19])
        head.replace(" ", with: "T")
        text = String(chars[19...])
        var fraction = ""
        if text.first == "." {
            let digits = text.dropFirst().prefix { $0.isNumber }
            let trimmed = digits.reversed().drop { $0 == "0" }
            fraction = trimmed.isEmpty ? "" : "." + String(trimmed.reversed())
            text = String(text.dropFirst(1 + digits.count))
        }
        let zone: String
        switch text {
        case "", "Z", "z": zone = text.isEmpty ? "" : "Z"
        default:
            let sign = text.first!
            let digits = text.dropFirst().filter(\.isNumber)
            guard sign == "+" || sign == "-", digits.count == 4 || digits.count == 2 else { return nil }
            let hours = digits.prefix(2)
            let minutes = digits.count == 4 ? digits.suffix(2) : "00"
            zone = "\(sign)\(hours):\(minutes)"
        }
        return head + fraction + zone
    }
}
