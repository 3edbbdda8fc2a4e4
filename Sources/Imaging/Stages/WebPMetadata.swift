import Foundation
import PipelineEngine

/// Removes metadata chunks from a WebP file. libvips 8.14's WebP writer adds an EXIF chunk
/// (orientation, resolution) even to an image with no metadata left, so the file is
/// cleaned after encoding: `EXIF` and `XMP ` chunks always go, `ICCP` unless kept.
enum WebPMetadata {
    private static let iccFlag: UInt8 = 0x20, exifFlag: UInt8 = 0x08, xmpFlag: UInt8 = 0x04

    /// - Throws: `StageFailure(.encodeFailed)` if the file is not a well-formed WebP.
    static func strip(file: URL, keepICC: Bool) throws(StageFailure) {
        guard let data = try? Data(contentsOf: file) else {
            throw StageFailure(.ioError, "cannot read the encoded WebP")
        }
        let bytes = [UInt8](data)
        guard bytes.count >= 12, bytes.starts(with: Array("RIFF".utf8)), Array(bytes[8..<12]) == Array("WEBP".utf8) else {
            throw StageFailure(.encodeFailed, "the encoder produced no WebP file")
        }
        var output: [UInt8] = Array(bytes[0..<12])
        var offset = 12
        var changed = false
        while offset + 8 <= bytes.count {
            let kind = String(decoding: bytes[offset..<offset + 4], as: UTF8.self)
            let size = Int(bytes[offset + 4]) | Int(bytes[offset + 5]) << 8 | Int(bytes[offset + 6]) << 16 | Int(bytes[offset + 7]) << 24
            let end = offset + 8 + size + (size & 1)
            guard end <= bytes.count else { throw StageFailure(.encodeFailed, "the encoded WebP has a malformed \(kind) chunk") }
            let drop = kind == "EXIF" || kind == "XMP " || (kind == "ICCP" && !keepICC)
            if drop {
                changed = true
            } else {
                output += bytes[offset..<end]
            }
            offset = end
        }
        guard changed else { return }
        // VP8X flags say which optional chunks exist; they must agree with what is left.
        if output.count >= 21, String(decoding: output[12..<16], as: UTF8.self) == "VP8X" {
            output[20] &= ~(exifFlag | xmpFlag | (keepICC ? 0 : iccFlag))
        }
        let riffSize = UInt32(output.count - 8)
        output.replaceSubrange(4..<8, with: [UInt8(riffSize & 0xFF), UInt8(riffSize >> 8 & 0xFF), UInt8(riffSize >> 16 & 0xFF), UInt8(riffSize >> 24)])
        do {
            try Data(output).write(to: file, options: .atomic)
        } catch {
            throw StageFailure(.ioError, "cannot rewrite the WebP: \(error.localizedDescription)")
        }
    }
}
