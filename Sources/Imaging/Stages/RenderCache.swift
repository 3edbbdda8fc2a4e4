import CVipsShims
import CVips
import Foundation
import PipelineEngine

/// Decoded images kept for the rest of one job, so that a pipeline making a 1440-px
/// preview, a 250-px thumbnail and a placeholder decodes its source once, not three times.
final class RenderCache {
    struct Key: Hashable {
        var input: String
        var srgb: Bool
    }

    private(set) var bases: [Key: VipsImageHandle] = [:]
    private var headers: [String: VipsImageHandle] = [:]

    static func of(_ job: JobContext) -> RenderCache {
        let id = ObjectIdentifier(RenderCache.self)
        if let cache = job.moduleState[id] as? RenderCache { return cache }
        let cache = RenderCache()
        job.moduleState[id] = cache
        return cache
    }

    /// The header of an input (lazily opened; pixels are not decoded).
    func header(of file: URL) throws(StageFailure) -> VipsImageHandle {
        if let header = headers[file.path] { return header }
        let header = try VipsImageHandle.open(file.path, failOn: .none)
        headers[file.path] = header
        return header
    }

    func base(for key: Key) -> VipsImageHandle? { bases[key] }

    func store(_ base: VipsImageHandle, for key: Key) { bases[key] = base }
}

/// A thumbnail or placeholder of some input that the job will make.
struct PlannedRender {
    var stageName: String
    var input: URL
    var srgb: Bool
    var request: ThumbnailRequest
}

extension VipsImageHandle {
    /// Display size: the stored size with orientation 5–8 swapping the sides.
    var displaySize: (width: Int, height: Int) {
        orientation >= 5 ? (height, width) : (width, height)
    }

    var isCMYK: Bool { interpretation == VIPS_INTERPRETATION_CMYK }

    /// Whether to keep the source's colour space: only RGB images that carry a profile can
    /// stay wide-gamut; CMYK and untagged images always go to sRGB.
    func keepsProfile(_ colour: ColourHandling) -> Bool {
        guard colour == .preserve, hasField("icc-profile-data") else { return false }
        return interpretation == VIPS_INTERPRETATION_sRGB || interpretation == VIPS_INTERPRETATION_RGB16
    }
}
