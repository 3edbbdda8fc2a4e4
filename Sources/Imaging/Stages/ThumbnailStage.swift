import Foundation
import PipelineEngine

/// The `thumbnail` stage: a resized, oriented, colour-managed image with no metadata left
/// in it (no GPS leaks), as JPEG, WebP, AVIF or PNG. Animated inputs give their first frame.
public struct ThumbnailStage: StageRunner {
    public init() {}

    public func run(_ stage: StageDefinition, job: JobContext) throws(StageFailure) {
        guard case .thumbnail(let spec) = stage.kind else { return }
        try VipsRuntime.start()
        let input = try job.inputImage(spec.input)
        let header = try RenderCache.of(job).header(of: input)
        let image = try RenderPlanner.image(for: stage, job: job)
        let file = job.outputFile(stage: stage.name, extension: spec.format.fileExtension)
        try Thumbnailer.save(
            image, to: file, format: spec.format, quality: spec.quality,
            keepProfile: header.keepsProfile(spec.colour), deadline: job.remainingTime)
        let digests = try Checksummer.digest(file: file, md5: false)
        job.addOutput(
            Derivative(
                name: stage.name, kind: spec.derivativeKind, contentType: spec.format.contentType,
                width: image.width, height: image.height, bytes: digests.bytes, sha256: digests.sha256),
            file: file)
    }
}

/// The `placeholder` stage: a ThumbHash of the image, inline in the output.
public struct PlaceholderStage: StageRunner {
    public init() {}

    public func run(_ stage: StageDefinition, job: JobContext) throws(StageFailure) {
        guard case .placeholder = stage.kind else { return }
        try VipsRuntime.start()
        let image = try RenderPlanner.image(for: stage, job: job).rgba8()
        image.armDeadline(job.remainingTime)
        let pixels = try image.pixelBytes()
        let hash = ThumbHash.encode(width: image.width, height: image.height, rgba: pixels)
        job.addOutput(
            Derivative(
                name: stage.name, kind: .placeholder, contentType: "application/x-thumbhash",
                width: image.width, height: image.height, data: Data(hash).base64EncodedString()),
            file: nil)
    }
}
