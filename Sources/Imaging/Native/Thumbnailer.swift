import CVips
import CVipsShims
import Foundation
import PipelineEngine

/// Makes and writes resized images with libvips.
///
/// From a file, `thumbnail` uses shrink-on-load (JPEG decodes at 1/2, 1/4, 1/8 scale, WebP
/// at any scale; HEIC uses its embedded thumbnail when large enough) and sequential access,
/// so memory follows the output size, not the input size.
enum Thumbnailer {
    // Shrink-on-load keeps libvips' own rule (decode a JPEG at 1/2, 1/4 or 1/8 only while at
    // least a factor of 2 is left for the Lanczos step). Decoding at the largest scale that
    // still covers the output, as Pillow's `draft` does, was measured and rejected: 30 % less
    // CPU on a 24 MP photo, but SSIM against a full-resolution Lanczos resize drops by 0.03.

    /// A lazy thumbnail straight from a file; orientation applied.
    static func render(file: URL, request: ThumbnailRequest, colour: ColourPath, failOn: DecodePolicy.FailOn) throws(StageFailure) -> VipsImageHandle {
        var options = request.options(colour: colour, rotate: true, failOn: failOn)
        var out: UnsafeMutablePointer<VipsImage>?
        guard mediad_vips_thumbnail(file.path, &out, &options) == 0, let out else {
            throw VipsError.failure("making the thumbnail", file: file.path)
        }
        return VipsImageHandle(owning: out, source: file.path)
    }

    /// A smaller image from an already rendered (oriented, converted) one: no second decode.
    /// `size` is the scaled source the request takes its output from (`sourceSize`), computed
    /// from the original's display size so that it matches a render straight from the file.
    static func derive(from base: VipsImageHandle, size: (width: Int, height: Int), request: ThumbnailRequest) throws(StageFailure) -> VipsImageHandle {
        var scaled = base
        if size.width != base.width || size.height != base.height {
            scaled = try base.derive("resizing the rendered image") { mediad_vips_resize_to($0, $1, Int32(size.width), Int32(size.height)) }
        }
        guard request.crop != nil else { return scaled }
        // The base is already oriented and in the output's colour space: only the crop is left.
        var options = request.options(colour: .keep, rotate: false, failOn: .none)
        return try scaled.derive("cropping the rendered image") { mediad_vips_thumbnail_image($0, $1, &options) }
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
            output = try output.flattenedOntoWhite()
        }
        // libvips 8.14's savers do not honour `strip` everywhere (webpsave keeps EXIF with GPS),
        // so metadata is removed from the image itself before any saver sees it.
        output = try output.editableCopy()
        output.removeFields { name in
            if name == "icc-profile-data" { return !keepProfile }
            return Self.privateFieldPrefixes.contains { name.hasPrefix($0) } || name.contains("comment")
        }
        output.armDeadline(deadline)
        do throws(StageFailure) {
            try ImageSaver.save(output, to: file, format: format, quality: quality, strip: !keepProfile)
            if format == .webp {
                try WebPMetadata.strip(file: file, keepICC: keepProfile)
            }
        } catch {
            try? FileManager.default.removeItem(at: file)
            throw error
        }
    }
}
