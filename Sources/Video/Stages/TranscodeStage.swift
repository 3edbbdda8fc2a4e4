import Foundation
import PipelineEngine

/// The `transcode` stage: an MP4 that plays everywhere (H.264 High 8-bit 4:2:0 + AAC,
/// fast start), made by the cheapest route the source allows: nothing (already compatible),
/// a remux (right codecs, wrong container or moov at the end), or a re-encode (scaled,
/// rotated, HDR tone-mapped). Written under a temporary name and renamed when complete, so a
/// timeout or failure leaves no partial file.
public struct TranscodeStage: StageRunner {
    public init() {}

    public func run(_ stage: StageDefinition, job: JobContext) throws(StageFailure) {
        try run(stage, job: job, progress: nil)
    }

    /// - Parameter progress: called with the output time as encoding advances (tests).
    func run(_ stage: StageDefinition, job: JobContext, progress: ((Double, Deadline) -> Void)?) throws(StageFailure) {
        guard case .transcode(let spec) = stage.kind else { return }
        let probe = try MediaAccess.probe(job)
        guard probe.video != nil else {
            try NoVideoPolicy.handle(stage, job: job, making: "video transcode")
            return
        }
        let plan: TranscodePlan
        switch TranscodePlan.decide(probe, spec: spec) {
        case .skip(let reason):
            job.warnings.append(ProcessingIssue(stage: stage.name, code: .transcodeSkipped, message: reason))
            return
        case .run(let decided):
            plan = decided
        }

        let url = job.outputFile(stage: stage.name, extension: "mp4")
        let temporary = FileOutput.temporary(for: url)
        var committed = false
        defer { if !committed { FileOutput.remove(temporary) } }
        let summary: Transcoder.Summary
        do {
            let input = try MediaAccess.input(job, fromStart: true)
            let deadline = input.deadline
            var transcoder = Transcoder(
                input: input, probe: probe, plan: plan, spec: spec, maxPixels: job.pipeline.limits.maxPixels,
                maxDuration: job.pipeline.limits.maxDuration.seconds)
            if let progress { transcoder.progress = { progress($0, deadline) } }
            summary = try transcoder.run(to: temporary)
        }
        try FileOutput.commit(temporary, to: url)
        committed = true

        if probe.video?.isHDR == true, !VideoRuntime.zscaleAvailable, plan.video != .copy {
            job.warnings.append(ProcessingIssue(
                stage: stage.name, code: .toneMappingUnavailable,
                message: "this FFmpeg build has no zscale filter: HDR was converted to BT.709 without tone mapping"))
        }
        if summary.decodeErrors > 0 {
            job.warnings.append(ProcessingIssue(
                stage: stage.name, code: .decodeErrors,
                message: "\(summary.decodeErrors) damaged packet(s) were skipped"))
        }
        let digest = try Checksummer.digest(file: url, md5: false)
        job.addOutput(
            Derivative(
                name: stage.name, kind: .transcode, contentType: "video/mp4", width: summary.width, height: summary.height,
                bytes: digest.bytes, sha256: digest.sha256, note: plan.note),
            file: url)
    }
}
