import Foundation
import PipelineEngine

/// Decoded images kept for the rest of one job, so that a pipeline making a 1440-px
/// preview, a 250-px thumbnail and a placeholder decodes its source once, not three times,
/// and each smaller image is made from the smallest one already rendered.
///
/// Headers live here too: the inspector, the metadata stage and the renders share one open
/// file instead of each opening it again.
final class RenderCache {
    struct Key: Hashable {
        var input: String
        var srgb: Bool
    }

    /// Rendered images in memory per input and colour path, largest first.
    private var renders: [Key: [VipsImageHandle]] = [:]
    private var headers: [String: VipsImageHandle] = [:]

    static func of(_ job: JobContext) -> RenderCache {
        let id = ObjectIdentifier(RenderCache.self)
        if let cache = job.moduleState[id] as? RenderCache { return cache }
        let cache = RenderCache()
        job.moduleState[id] = cache
        return cache
    }

    /// The header of an input (lazily opened; pixels are not decoded).
    func header(of file: URL, failOn: DecodePolicy.FailOn = .none) throws(StageFailure) -> VipsImageHandle {
        if let header = headers[file.path] { return header }
        let header = try VipsImageHandle.open(file.path, failOn: failOn)
        headers[file.path] = header
        return header
    }

    /// Whether a base has been rendered for `key`.
    func hasRenders(for key: Key) -> Bool { renders[key]?.isEmpty == false }

    /// The smallest rendered image that still holds `size` in both dimensions.
    func smallestRender(for key: Key, atLeast size: (width: Int, height: Int)) -> VipsImageHandle? {
        renders[key]?.last { $0.width >= size.width && $0.height >= size.height } ?? renders[key]?.first
    }

    /// Keeps a rendered (in-memory) image for later, smaller renders of the same input.
    func store(_ render: VipsImageHandle, for key: Key) {
        renders[key, default: []].append(render)
        renders[key]?.sort { $0.width * $0.height > $1.width * $1.height }
    }
}

/// A thumbnail or placeholder of some input that the job will make.
struct PlannedRender {
    var stageName: String
    var input: URL
    var srgb: Bool
    var request: ThumbnailRequest
}
