import Foundation
import PipelineEngine

/// Decides, for one thumbnail or placeholder stage, whether to decode its input directly or
/// to render once, in memory, the largest image that this and the later stages of the job
/// need, and derive each of them from the smallest image already rendered.
enum RenderPlanner {
    /// The placeholder's source: ThumbHash works on at most 100 × 100 pixels.
    static let placeholderRequest = ThumbnailRequest(width: 100, height: 100)

    /// The image a stage should encode (or hash).
    static func image(for stage: StageDefinition, job: JobContext) throws(StageFailure) -> VipsImageHandle {
        let cache = RenderCache.of(job)
        let stages = job.pipeline.stages
        let index = stages.firstIndex { $0.name == stage.name } ?? stages.count
        guard let render = try planned(stage, job: job, cache: cache) else {
            throw StageFailure(.internalError, "stage '\(stage.name)' makes no image")
        }
        let key = RenderCache.Key(input: render.input.path, srgb: render.srgb)
        let header = try cache.header(of: render.input)
        let display = header.displaySize
        var later: [PlannedRender] = []
        for next in stages[(index + 1)...] {
            if let plannedNext = try planned(next, job: job, cache: cache), plannedNext.input == render.input, plannedNext.srgb == render.srgb {
                later.append(plannedNext)
            }
        }
        // Placeholders and `colour: srgb` thumbnails go to sRGB (skipping the transform when the
        // pixels already are sRGB); `colour: preserve` keeps a tagged source's space.
        let colour: ColourPath = render.srgb ? header.colourPath(.srgb) : .keep

        if !cache.hasRenders(for: key) {
            if later.isEmpty {
                // Nothing else needs this input: stream it straight from the file.
                return try Thumbnailer.render(
                    file: render.input, request: render.request, colour: colour, failOn: job.pipeline.decode.failOn)
            }
            let needs = ([render] + later).map { $0.request.sourceSize(displayWidth: display.width, displayHeight: display.height) }
            let baseRequest = ThumbnailRequest(
                width: needs.map(\.width).max() ?? 1, height: needs.map(\.height).max() ?? 1,
                upscale: ([render] + later).contains { $0.request.upscale })
            let lazy = try Thumbnailer.render(
                file: render.input, request: baseRequest, colour: colour, failOn: job.pipeline.decode.failOn)
            cache.store(try lazy.materialise(deadline: job.remainingTime), for: key)
        }
        let needed = render.request.sourceSize(displayWidth: display.width, displayHeight: display.height)
        guard let source = cache.smallestRender(for: key, atLeast: needed) else {
            throw StageFailure(.internalError, "render cache lost its image")
        }
        let target = render.request.outputSize(displayWidth: display.width, displayHeight: display.height)
        if render.request.crop == nil, abs(source.width - target.width) <= 1, abs(source.height - target.height) <= 1 {
            return source
        }
        let derived = try Thumbnailer.derive(from: source, size: needed, request: render.request)
        // A later, smaller render (the placeholder after a 250-px thumbnail) starts from this
        // one instead of the large base: keep it in memory when anything smaller follows.
        let targetPixels = target.width * target.height
        let smallerFollows = later.contains { next in
            let size = next.request.sourceSize(displayWidth: display.width, displayHeight: display.height)
            return size.width * size.height < targetPixels
        }
        guard smallerFollows, render.request.crop == nil else { return derived }
        let kept = try derived.materialise(deadline: job.remainingTime)
        cache.store(kept, for: key)
        return kept
    }

    /// What a stage will render, or nil for stages that make no image from an input.
    static func planned(_ stage: StageDefinition, job: JobContext, cache: RenderCache) throws(StageFailure) -> PlannedRender? {
        switch stage.kind {
        case .thumbnail(let spec):
            guard let input = try? job.inputImage(spec.input) else { return nil }
            let header = try cache.header(of: input)
            let display = header.displaySize
            let request = ThumbnailRequest(
                fit: spec.fit, displayWidth: display.width, displayHeight: display.height,
                upscale: spec.upscale, maxSide: spec.format.maxSide)
            return PlannedRender(stageName: stage.name, input: input, srgb: !header.keepsProfile(spec.colour), request: request)
        case .placeholder(let spec):
            guard let input = try? job.inputImage(spec.input) else { return nil }
            return PlannedRender(stageName: stage.name, input: input, srgb: true, request: placeholderRequest)
        default:
            return nil
        }
    }
}

extension ThumbnailRequest {
    /// The scaled source a request crops or takes from: the output itself, or for `cover`
    /// the whole image scaled so that the box is filled.
    func sourceSize(displayWidth: Int, displayHeight: Int) -> (width: Int, height: Int) {
        guard crop != nil else { return outputSize(displayWidth: displayWidth, displayHeight: displayHeight) }
        var scale = max(Double(width) / Double(displayWidth), Double(height) / Double(displayHeight))
        if !upscale { scale = min(scale, 1) }
        return (Int((Double(displayWidth) * scale).rounded(.up)), Int((Double(displayHeight) * scale).rounded(.up)))
    }
}
