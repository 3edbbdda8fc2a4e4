import Foundation
import PipelineEngine

/// The `poster` stage: a representative, correctly oriented 8-bit sRGB still of the video,
/// written as the stage's derivative and published for the thumbnail and placeholder stages
/// (`input: poster`).
public struct PosterStage: StageRunner {
    public init() {}

    public func run(_ stage: StageDefinition, job: JobContext) throws(StageFailure) {
        guard case .poster(let spec) = stage.kind else { return }
        let probe = try MediaAccess.probe(job)
        guard let video = probe.video else {
            try NoVideoPolicy.handle(stage, job: job, making: "poster")
            return
        }
        let input = try MediaAccess.input(job, fromStart: false)
        let deadline = input.deadline
        let extractor = PosterExtractor(input: input, video: video, duration: probe.duration, maxPixels: job.pipeline.limits.maxPixels)
        let pick = try extractor.pick(position: spec.position, maxOffset: spec.maxOffset.seconds, candidates: spec.candidates)
        let writer = PosterWriter(format: spec.format, quality: spec.quality, maxSize: spec.maxSize)
        let format = writer.encoding.format
        if format != spec.format {
            job.warnings.append(ProcessingIssue(
                stage: stage.name, code: .formatSubstituted,
                message: "\(spec.format.rawValue) posters are not encoded by libavcodec here; wrote \(format.rawValue)"))
        }
        let url = job.outputFile(stage: stage.name, extension: format.fileExtension)
        let size = try writer.write(pick.frame, video: video, to: url, deadline: deadline, zscaleAvailable: VideoRuntime.zscaleAvailable)
        if video.isHDR && !VideoRuntime.zscaleAvailable {
            job.warnings.append(ProcessingIssue(
                stage: stage.name, code: .toneMappingUnavailable,
                message: "this FFmpeg build has no zscale filter: the HDR poster is converted without tone mapping"))
        }
        let digest = try Checksummer.digest(file: url, md5: false)
        job.addOutput(
            Derivative(
                name: stage.name, kind: .poster, contentType: format.contentType, width: size.width, height: size.height,
                bytes: digest.bytes, sha256: digest.sha256,
                note: String(format: "frame at %.2f s%@", pick.time, pick.fullDecode ? " (keyframes near the position were blank)" : "")),
            file: url)
        job.addImage(url, stage: stage.name)
    }
}
