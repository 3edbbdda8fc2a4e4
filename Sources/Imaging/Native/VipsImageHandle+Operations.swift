import CVips
import CVipsShims
import PipelineEngine

/// The libvips operations the stages use, each returning a new (lazy) image.
extension VipsImageHandle {
    /// Transparency composited onto white (JPEG has no alpha).
    func flattenedOntoWhite() throws(StageFailure) -> VipsImageHandle {
        try derive("flattening transparency") { mediad_vips_flatten($0, $1, 255, 255, 255) }
    }

    /// A new image sharing these pixels with metadata of its own, safe to edit.
    func editableCopy() throws(StageFailure) -> VipsImageHandle {
        try derive("copying") { mediad_vips_copy($0, $1) }
    }

    /// 8-bit sRGB with an alpha band, as ThumbHash reads it.
    func rgba8() throws(StageFailure) -> VipsImageHandle {
        var image = self
        if image.bands < 3 {
            image = try image.derive("converting to sRGB") { mediad_vips_colourspace($0, $1, Int32(VIPS_INTERPRETATION_sRGB.rawValue)) }
        }
        if !image.hasAlpha {
            image = try image.derive("adding alpha") { mediad_vips_addalpha($0, $1) }
        }
        if image.format != VIPS_FORMAT_UCHAR {
            image = try image.derive("casting to 8 bits") { mediad_vips_cast($0, $1, Int32(VIPS_FORMAT_UCHAR.rawValue)) }
        }
        guard image.bands == 4 else {
            throw StageFailure(.internalError, "placeholder source has \(image.bands) bands, expected RGBA")
        }
        return image
    }
}
