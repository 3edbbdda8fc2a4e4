import Foundation
import PipelineEngine

/// Checks a video or audio file before any stage runs: it opens with the demuxer its bytes
/// name, it is whole, it has a stream to work on, and it is within the pipeline's duration
/// and per-frame pixel limits. Fills the container and stream metadata on the way (not the
/// location: that is the metadata stage's decision).
public struct VideoInspector: MediaInspector {
    public init() {}

    public func inspect(_ job: JobContext) throws(StageFailure) {
        let probe = try MediaAccess.probe(job)
        probe.fill(&job.metadata, includeLocation: false)
        try Self.checkLimits(probe, limits: job.pipeline.limits)
    }

    static func checkLimits(_ probe: VideoProbe, limits: PipelineLimits) throws(StageFailure) {
        guard probe.video != nil || probe.audio != nil else {
            throw StageFailure(.corruptFile, "the \(probe.container) file has no audio or video stream")
        }
        if let video = probe.video, video.pixels > limits.maxPixels {
            throw StageFailure(
                .tooManyPixels,
                "frames are \(video.width)x\(video.height) (\(video.pixels) pixels); the pipeline allows \(limits.maxPixels)")
        }
        if let duration = probe.duration, duration > limits.maxDuration.seconds {
            throw StageFailure(
                .tooLong, "the media lasts \(Int(duration)) s; the pipeline allows \(Int(limits.maxDuration.seconds)) s")
        }
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
