import Foundation

/// Reads the top-level boxes of an ISO base media file (MP4, MOV, M4A) without a demuxer:
/// enough to tell whether the moov atom is at the front (fast start) and whether the file
/// ends before its last box does (an interrupted upload).
struct TopLevelBoxes: Sendable, Equatable {
    struct Box: Sendable, Equatable {
        var type: String
        var offset: Int64
        var size: Int64
    }

    var boxes: [Box] = []
    /// The last box claims more bytes than the file has.
    var truncated = false

    /// Whether `moov` precedes the first `mdat`; nil when either is missing.
    var moovBeforeMdat: Bool? {
        guard let moov = boxes.firstIndex(where: { $0.type == "moov" }),
            let mdat = boxes.firstIndex(where: { $0.type == "mdat" })
        else { return nil }
        return moov < mdat
    }

    /// Box types that may open an ISO BMFF file (QuickTime allows several before `ftyp`).
    static let openingTypes: Set<String> = ["ftyp", "moov", "mdat", "free", "skip", "wide", "pnot", "styp", "sidx", "moof", "uuid", "junk"]

    /// Scans `url`; nil when it does not start like an ISO BMFF file (a text file named
    /// `.mp4` is not "truncated"). Stops at the first thing that is not a box.
    static func scan(_ url: URL, maxBoxes: Int = 4096) -> TopLevelBoxes? {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        guard let fileSize = try? handle.seekToEnd() else { return nil }
        var result = TopLevelBoxes()
        var offset: UInt64 = 0
        while offset + 8 <= fileSize, result.boxes.count < maxBoxes {
            guard (try? handle.seek(toOffset: offset)) != nil,
                let header = try? handle.read(upToCount: 16), header.count >= 8
            else { return nil }
            let bytes = [UInt8](header)
            var size = UInt64(bigEndian32(bytes, 0))
            let type = String(decoding: bytes[4..<8], as: UTF8.self)
            var headerLength: UInt64 = 8
            if size == 1 {
                guard bytes.count >= 16 else { result.truncated = true; break }
                size = UInt64(bigEndian32(bytes, 8)) << 32 | UInt64(bigEndian32(bytes, 12))
                headerLength = 16
            } else if size == 0 {
                size = fileSize - offset  // "extends to the end of the file"
            }
            guard size >= headerLength, isBoxType(bytes[4..<8]) else { return result.boxes.isEmpty ? nil : result }
            if result.boxes.isEmpty, !openingTypes.contains(type) { return nil }
            result.boxes.append(Box(type: type, offset: Int64(offset), size: Int64(clamping: size)))
            if offset + size > fileSize {
                result.truncated = true
                break
            }
            offset += size
        }
        if offset < fileSize, offset + 8 > fileSize, result.boxes.count < maxBoxes { result.truncated = true }
        return result
    }

    /// Four printable characters (QuickTime also uses `©`, 0xA9).
    private static func isBoxType(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.allSatisfy { (0x20...0x7E).contains($0) || $0 == 0xA9 }
    }

    private static func bigEndian32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }
}
