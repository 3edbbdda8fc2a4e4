import CVips
import CVipsShims
import Foundation
import PipelineEngine

/// libvips' savers, one per output format, with the encoder settings mediad uses.
enum ImageSaver {
    /// WebP's effort (0–6): 4 is libvips' default; measured on 250-px thumbnails it is within
    /// a few percent of effort 6's size at a fraction of its time.
    static let webpEffort: Int32 = 4
    /// AVIF's effort (0–9) through libheif/aom.
    static let avifEffort: Int32 = 4

    /// Encodes `image` to `file` (baseline JPEG with optimised Huffman tables, lossy WebP,
    /// AV1 HEIF, PNG). `strip` drops every metadata field the saver would write.
    /// - Throws: `StageFailure(.encodeFailed)` and friends from libvips' message, or
    ///   `.timeout` when the image's deadline stopped the encode.
    static func save(_ image: VipsImageHandle, to file: URL, format: ImageFormat, quality: Int, strip: Bool) throws(StageFailure) {
        let strip: Int32 = strip ? 1 : 0
        let quality = Int32(quality)
        let result = try image.withUnsafeImagePointer { pointer throws(StageFailure) -> Int32 in
            switch format {
            case .jpeg: mediad_vips_jpegsave(pointer, file.path, quality, strip, 0)
            case .webp: mediad_vips_webpsave(pointer, file.path, quality, strip, webpEffort)
            case .avif: mediad_vips_heifsave(pointer, file.path, quality, strip, 1, avifEffort)
            case .png: mediad_vips_pngsave(pointer, file.path, strip)
            }
        }
        guard result == 0 else {
            throw VipsError.failure("encoding \(format.rawValue)", file: image.source, killed: image.wasKilled)
        }
    }
}
