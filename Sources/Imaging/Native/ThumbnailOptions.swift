import CVips
import CVipsShims
import PipelineEngine

extension ThumbnailRequest {
    /// The request as libvips' `thumbnail` options.
    /// - Parameters:
    ///   - colour: what happens to colour (only `.transform` asks for an ICC transform).
    ///   - rotate: apply EXIF orientation (already done when deriving from a rendered base).
    func options(colour: ColourPath, rotate: Bool, failOn: DecodePolicy.FailOn) -> mediad_thumbnail_options {
        var options = mediad_thumbnail_options()
        options.width = Int32(width)
        options.height = Int32(height)
        options.size = Int32((upscale ? VIPS_SIZE_BOTH : VIPS_SIZE_DOWN).rawValue)
        options.crop = Int32(crop?.vipsValue.rawValue ?? VIPS_INTERESTING_NONE.rawValue)
        options.no_rotate = rotate ? 0 : 1
        options.fail_on = Int32(failOn.vipsValue.rawValue)
        if case .transform(let cmykFallback) = colour {
            options.export_srgb = 1
            options.import_cmyk = cmykFallback ? 1 : 0
        }
        options.intent = Int32(VIPS_INTENT_RELATIVE.rawValue)
        return options
    }
}

extension CropFocus {
    var vipsValue: VipsInteresting {
        switch self {
        case .attention: VIPS_INTERESTING_ATTENTION
        case .entropy: VIPS_INTERESTING_ENTROPY
        case .centre: VIPS_INTERESTING_CENTRE
        }
    }
}
