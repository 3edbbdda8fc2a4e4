import Foundation

/// Identifies a file by its magic bytes, never by its name or declared type: uploads lie
/// (a `.jpg` that is HTML, a `.mp4` that is an HLS playlist), and the pipeline must
/// match what the decoder will actually see.
public enum MediaSniffer {
    /// Bytes read from the start of a file; enough for every signature below.
    public static let headerLength = 512

    /// Reads the head of `file` and sniffs it.
    /// - Throws: `CocoaError` when the file can't be read.
    public static func sniff(file: URL) throws -> SniffedType {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        let head = try handle.read(upToCount: headerLength) ?? Data()
        return sniff(Array(head))
    }

    /// Sniffs a buffer holding the first bytes of a file.
    public static func sniff(_ bytes: [UInt8]) -> SniffedType {
        if bytes.isEmpty { return .empty }
        if let type = sniffImage(bytes) ?? sniffISOBaseMedia(bytes) ?? sniffOther(bytes) {
            return type
        }
        return .unknown
    }

    private static func sniffImage(_ b: [UInt8]) -> SniffedType? {
        if b.starts(with: [0xFF, 0xD8, 0xFF]) { return image("image/jpeg", "jpeg") }
        if b.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return image("image/png", "png") }
        if b.starts(with: Array("GIF87a".utf8)) || b.starts(with: Array("GIF89a".utf8)) { return image("image/gif", "gif") }
        if b.starts(with: Array("RIFF".utf8)), b.count >= 12, Array(b[8..<12]) == Array("WEBP".utf8) {
            return image("image/webp", "webp")
        }
        if b.starts(with: [0x49, 0x49, 0x2A, 0x00]) || b.starts(with: [0x4D, 0x4D, 0x00, 0x2A])
            || b.starts(with: [0x49, 0x49, 0x2B, 0x00]) || b.starts(with: [0x4D, 0x4D, 0x00, 0x2B])
        {
            return image("image/tiff", "tiff")
        }
        if b.starts(with: Array("BM".utf8)), b.count >= 26 { return image("image/bmp", "bmp") }
        if b.starts(with: [0xFF, 0x0A]) || b.starts(with: [0, 0, 0, 0x0C, 0x4A, 0x58, 0x4C, 0x20]) {
            return image("image/jxl", "jxl")
        }
        if b.starts(with: [0, 0, 0, 0x0C, 0x6A, 0x50, 0x20, 0x20]) { return image("image/jp2", "jp2") }
        if b.starts(with: Array("%PDF-".utf8)) { return SniffedType(mediaType: .other, contentType: "application/pdf", format: "pdf") }
        if looksLikeSVG(b) { return image("image/svg+xml", "svg") }
        return nil
    }

    /// ISO base media files (MP4, MOV, HEIC, AVIF, M4A, 3GP) share one `ftyp` box; the brands decide.
    private static func sniffISOBaseMedia(_ b: [UInt8]) -> SniffedType? {
        guard b.count >= 12, Array(b[4..<8]) == Array("ftyp".utf8) else {
            // Old QuickTime files may start with another atom.
            if b.count >= 8, ["moov", "mdat", "wide", "free", "skip", "pnot"].contains(String(decoding: b[4..<8], as: UTF8.self)) {
                return SniffedType(mediaType: .video, contentType: "video/quicktime", format: "mov")
            }
            return nil
        }
        let boxSize = Int(b[0]) << 24 | Int(b[1]) << 16 | Int(b[2]) << 8 | Int(b[3])
        var brands = [String(decoding: b[8..<12], as: UTF8.self)]
        var offset = 16
        while offset + 4 <= min(boxSize, b.count) {
            brands.append(String(decoding: b[offset..<offset + 4], as: UTF8.self))
            offset += 4
        }
        let major = brands[0]
        // The major brand wins; compatible brands settle the rest (an iPhone HEIC is `heic`, mif1).
        if ["avif", "avis"].contains(major) { return image("image/avif", "avif") }
        if ["heic", "heix", "heim", "heis", "hevc", "hevx"].contains(major) { return image("image/heic", "heic") }
        if ["mif1", "msf1"].contains(major) {
            if brands.contains("avif") { return image("image/avif", "avif") }
            return image("image/heif", "heif")
        }
        if major == "qt  " { return SniffedType(mediaType: .video, contentType: "video/quicktime", format: "mov") }
        if ["M4A ", "M4B ", "M4P "].contains(major) { return SniffedType(mediaType: .audio, contentType: "audio/mp4", format: "m4a") }
        if major.hasPrefix("3g") { return SniffedType(mediaType: .video, contentType: "video/3gpp", format: "3gp") }
        if brands.contains("avif") { return image("image/avif", "avif") }
        if brands.contains("heic") { return image("image/heic", "heic") }
        return SniffedType(mediaType: .video, contentType: "video/mp4", format: "mp4")
    }

    private static func sniffOther(_ b: [UInt8]) -> SniffedType? {
        if b.starts(with: [0x1A, 0x45, 0xDF, 0xA3]) {
            // Matroska and WebM share EBML; the DocType string tells them apart.
            let isWebM = b.firstRange(of: Array("webm".utf8)) != nil
            return isWebM
                ? SniffedType(mediaType: .video, contentType: "video/webm", format: "webm")
                : SniffedType(mediaType: .video, contentType: "video/x-matroska", format: "mkv")
        }
        if b.starts(with: Array("RIFF".utf8)), b.count >= 12 {
            switch String(decoding: b[8..<12], as: UTF8.self) {
            case "AVI ": return SniffedType(mediaType: .video, contentType: "video/x-msvideo", format: "avi")
            case "WAVE": return SniffedType(mediaType: .audio, contentType: "audio/wav", format: "wav")
            default: return nil
            }
        }
        if b.starts(with: [0x00, 0x00, 0x01, 0xBA]) { return SniffedType(mediaType: .video, contentType: "video/mpeg", format: "mpeg") }
        if b.count > 188, b[0] == 0x47, b[188] == 0x47 { return SniffedType(mediaType: .video, contentType: "video/mp2t", format: "mpegts") }
        if b.starts(with: Array("OggS".utf8)) { return SniffedType(mediaType: .audio, contentType: "audio/ogg", format: "ogg") }
        if b.starts(with: Array("fLaC".utf8)) { return SniffedType(mediaType: .audio, contentType: "audio/flac", format: "flac") }
        if b.starts(with: Array("ID3".utf8)) || (b.count > 1 && b[0] == 0xFF && (b[1] & 0xE0) == 0xE0 && (b[1] & 0x06) != 0) {
            return SniffedType(mediaType: .audio, contentType: "audio/mpeg", format: "mp3")
        }
        if b.starts(with: [0xFF, 0xF1]) || b.starts(with: [0xFF, 0xF9]) {
            return SniffedType(mediaType: .audio, contentType: "audio/aac", format: "aac")
        }
        if looksLikeText(b) { return SniffedType(mediaType: .other, contentType: "text/plain", format: "text") }
        return nil
    }

    private static func image(_ contentType: String, _ format: String) -> SniffedType {
        SniffedType(mediaType: .image, contentType: contentType, format: format)
    }

    private static func looksLikeSVG(_ b: [UInt8]) -> Bool {
        let text = String(decoding: b, as: UTF8.self).lowercased()
        let trimmed = text.drop { $0.isWhitespace || $0 == "\u{FEFF}" }
        return (trimmed.hasPrefix("<?xml") || trimmed.hasPrefix("<svg") || trimmed.hasPrefix("<!doctype svg")) && text.contains("<svg")
    }

    private static func looksLikeText(_ b: [UInt8]) -> Bool {
        // Valid UTF-8 with no control bytes other than whitespace.
        guard String(validating: b, as: UTF8.self) != nil || b.count == headerLength else { return false }
        return b.allSatisfy { $0 >= 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == 0x0C }
    }
}
