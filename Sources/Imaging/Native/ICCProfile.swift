import Foundation

/// Reads the human-readable description of an ICC profile (`Display P3`, `sRGB IEC61966-2.1`).
enum ICCProfile {
    /// The `desc` tag, in ICC v2 (`desc` type, ASCII) or v4 (`mluc` type, UTF-16BE) form.
    static func description(_ profile: [UInt8]) -> String? {
        guard profile.count >= 132 else { return nil }
        let tagCount = Int(readUInt32(profile, 128))
        guard tagCount < 1000 else { return nil }
        for index in 0..<tagCount {
            let entry = 132 + index * 12
            guard entry + 12 <= profile.count else { return nil }
            guard String(decoding: profile[entry..<entry + 4], as: UTF8.self) == "desc" else { continue }
            let offset = Int(readUInt32(profile, entry + 4))
            let size = Int(readUInt32(profile, entry + 8))
            guard offset >= 0, size >= 12, offset + size <= profile.count else { return nil }
            return decodeText(Array(profile[offset..<offset + size]))
        }
        return nil
    }

    private static func decodeText(_ tag: [UInt8]) -> String? {
        let type = String(decoding: tag[0..<4], as: UTF8.self)
        switch type {
        case "desc":
            let length = Int(readUInt32(tag, 8))
            guard length > 0, 12 + length <= tag.count else { return nil }
            return clean(String(decoding: tag[12..<12 + length].prefix { $0 != 0 }, as: UTF8.self))
        case "mluc":
            let records = Int(readUInt32(tag, 8))
            guard records > 0, tag.count >= 28 else { return nil }
            // The first record is the default language; enough for a label.
            let length = Int(readUInt32(tag, 20))
            let offset = Int(readUInt32(tag, 24))
            guard offset + length <= tag.count, length % 2 == 0 else { return nil }
            let units = stride(from: offset, to: offset + length, by: 2).map { UInt16(tag[$0]) << 8 | UInt16(tag[$0 + 1]) }
            return clean(String(decoding: units, as: UTF16.self))
        case "text":
            return clean(String(decoding: tag[8...].prefix { $0 != 0 }, as: UTF8.self))
        default:
            return nil
        }
    }

    private static func clean(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines.union(.controlCharacters))
        return trimmed.isEmpty ? nil : trimmed
    }

    private static func readUInt32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        guard offset + 4 <= bytes.count else { return 0 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }
}

extension ICCProfile {
    /// Whether a profile is one of the sRGB profiles cameras and editors embed
    /// (`sRGB IEC61966-2.1`, `sRGB built-in`, `sRGB IEC61966-2-1 black scaled`): RGB data,
    /// and a description that names sRGB.
    static func isSRGB(_ profile: [UInt8]) -> Bool {
        guard profile.count >= 132, String(decoding: profile[16..<20], as: UTF8.self) == "RGB " else { return false }
        guard let name = description(profile) else { return false }
        return name.lowercased().hasPrefix("srgb")
    }
}
