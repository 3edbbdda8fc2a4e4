import CVipsShims
import CVips
import Foundation
import PipelineEngine

/// Makes and writes resized images with libvips.
///
/// From a file, `thumbnail` uses shrink-on-load (JPEG and WebP decode at 1/2, 1/4, 1/8
/// scale; HEIC uses its embedded thumbnail when large enough) and sequential access, so
/// memory follows the output size, not the input size.
enum Thumbnailer {
    /// A lazy thumbnail straight from a file; orientation applied.
    static func render(file: URL, request: ThumbnailRequest, toSRGB: Bool, failOn: DecodePolicy.FailOn, cmyk: Bool) throws(StageFailure) -> VipsImageHandle {
        var options = request.options(toSRGB: toSRGB, rotate: true, failOn: failOn, cmyk: cmyk)
        var out: UnsafeMutablePointer<VipsImage>?
        guard mediad_vips_thumbnail(file.path, &out, &options) == 0, let out else {
            throw VipsError.failure("making the thumbnail", file: file.path)
        }
        return VipsImageHandle(owning: out, source: file.path)
    }

    /// A smaller image from an already rendered (oriented, converted) one: no second decode.
    static func derive(from base: VipsImageHandle, request: ThumbnailRequest) throws(StageFailure) -> VipsImageHandle {
        var options = request.options(toSRGB: false, rotate: false, failOn: .none)
        return try base.derive("resizing the rendered image") { mediad_vips_thumbnail_image($0, $1, &options) }
    }

    /// Metadata fields that must never reach an output: EXIF (with GPS), XMP, IPTC, maker
    /// data, HDR gain maps, orientation (already applied to the pixels).
    static let privateFieldPrefixes = ["exif", "xmp", "iptc", "ipct", "gainmap", "heif-", "orientation", "png-", "gif-", "jpeg-", "webp-", "tiff-", "photoshop", "magick"]

    /// Encodes `image` to `file`. With `keepProfile` the ICC profile stays and every other
    /// metadata field (EXIF with GPS, XMP, IPTC) goes; otherwise everything is stripped.
    /// A partial file is removed when encoding fails or runs out of time.
    static func save(
        _ image: VipsImageHandle, to file: URL, format: ImageFormat, quality: Int, keepProfile: Bool, deadline: Duration
    ) throws(StageFailure) {
        var output = image
        if format == .jpeg, output.hasAlpha {
            output = try output.derive("flattening transparency") { mediad_vips_flatten($0, $1, 255, 255, 255) }
        }
        // libvips 8.14's savers do not honour `strip` everywhere (webpsave keeps EXIF with GPS),
        // so metadata is removed from the image itself before any saver sees it.
        output = try output.derive("copying") { mediad_vips_copy($0, $1) }
        output.removeFields { name in
            if name == "icc-profile-data" { return !keepProfile }
            return Self.privateFieldPrefixes.contains { name.hasPrefix($0) } || name.contains("comment")
        }
        output.armDeadline(deadline)
        let strip: Int32 = keepProfile ? 0 : 1
        let quality = Int32(quality)
        let result: Int32 = switch format {
        case .jpeg: mediad_vips_jpegsave(output.pointer, file.path, quality, strip, 0)
        case .webp: mediad_vips_webpsave(output.pointer, file.path, quality, strip, 4)
        case .avif: mediad_vips_heifsave(output.pointer, file.path, quality, strip, 1, 4)
        case .png: mediad_vips_pngsave(output.pointer, file.path, strip)
        }
        guard result == 0 else {
            let killed = vips_image_iskilled(output.pointer) != 0
            try? FileManager.default.removeItem(at: file)
            throw VipsError.failure("encoding \(format.rawValue)", file: output.source, killed: killed)
        }
        if format == .webp {
            do throws(StageFailure) {
                try WebPMetadata.strip(file: file, keepICC: keepProfile)
            } catch {
                try? FileManager.default.removeItem(at: file)
                throw error
            }
        }
    }
}
