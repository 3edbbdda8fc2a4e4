import CVips
import CVipsShims
import Foundation
import PipelineEngine

/// What the stages ask of an image's header, in Swift terms.
extension VipsImageHandle {
    /// Display size: the stored size with orientation 5–8 swapping the sides.
    var displaySize: (width: Int, height: Int) {
        orientation >= 5 ? (height, width) : (width, height)
    }

    var bitsPerSample: Int {
        if let bits = int("bits-per-sample") ?? int("heif-bitdepth"), bits > 0 { return bits }
        switch format {
        case VIPS_FORMAT_UCHAR, VIPS_FORMAT_CHAR: return 8
        case VIPS_FORMAT_USHORT, VIPS_FORMAT_SHORT: return 16
        case VIPS_FORMAT_UINT, VIPS_FORMAT_INT, VIPS_FORMAT_FLOAT: return 32
        default: return 64
        }
    }

    /// `srgb`, `cmyk`, `b-w`, `rgb16`, `grey16`, ... as libvips names them.
    var colourSpaceName: String? {
        guard let nick = vips_enum_nick(vips_interpretation_get_type(), Int32(interpretation.rawValue)) else { return nil }
        return String(cString: nick)
    }

    /// The loader's name without its `load` suffix (`jpeg`, `png`, `heif`), if libvips says.
    var loaderName: String? {
        string("vips-loader")?.components(separatedBy: "load").first
    }

    var isCMYK: Bool { interpretation == VIPS_INTERPRETATION_CMYK }

    /// Whether to keep the source's colour space: only RGB images that carry a profile can
    /// stay wide-gamut; CMYK and untagged images always go to sRGB.
    func keepsProfile(_ colour: ColourHandling) -> Bool {
        guard colour == .preserve, hasField("icc-profile-data") else { return false }
        return interpretation == VIPS_INTERPRETATION_sRGB || interpretation == VIPS_INTERPRETATION_RGB16
    }

    /// 8-bit RGB(A) whose numbers already are sRGB: untagged (sRGB by definition on the web
    /// and in libvips), or tagged with an sRGB profile. An ICC transform to sRGB is then a
    /// no-op that costs a full LittleCMS pass, so renders skip it.
    var isAlreadySRGB: Bool {
        guard interpretation == VIPS_INTERPRETATION_sRGB, format == VIPS_FORMAT_UCHAR, bands == 3 || bands == 4 else { return false }
        guard let profile = blob("icc-profile-data") else { return true }
        return ICCProfile.isSRGB(profile)
    }

    /// How a render of this image treats colour for a stage's `colour` setting.
    func colourPath(_ colour: ColourHandling) -> ColourPath {
        if keepsProfile(colour) { return .keep }
        if isAlreadySRGB { return .alreadySRGB }
        return .transform(cmykFallback: isCMYK)
    }
}

/// What a render does to colour.
enum ColourPath: Equatable {
    /// Keep the source's space and attach its profile (wide gamut preserved).
    case keep
    /// The pixels already are sRGB: no transform.
    case alreadySRGB
    /// Transform through the embedded profile to sRGB; untagged files fall back to sRGB, or
    /// to libvips' CMYK profile for CMYK (libvips' own default would shift colours).
    case transform(cmykFallback: Bool)

    /// Whether the output is sRGB (and so may share a decoded base with other sRGB renders).
    var isSRGB: Bool { self != .keep }
}
