import Foundation
import Logging
import MediadTestSupport
import PipelineEngine
import Testing

/// Stage implementations with scripted outcomes, to test the runner's bookkeeping.
private struct ScriptedStage: StageRunner {
    var failure: StageFailure?
    var makesOutput = false
    var publishesImage = false

    func run(_ stage: StageDefinition, job: JobContext) throws(StageFailure) {
        if let failure { throw failure }
        if makesOutput { job.addOutput(Derivative(name: stage.name, kind: .thumbnail, contentType: "image/webp"), file: nil) }
        if publishesImage { job.addImage(job.file, stage: stage.name) }
    }
}

@Suite("Pipeline runner")
struct PipelineRunnerTests {
    private func job(_ yaml: String) throws -> JobContext {
        let pipeline = try PipelineLoader.parse(yaml, file: "runner.yaml")
        return JobContext(
            file: TestPaths.image("exif-rich.jpg"), size: 1000,
            sniffed: SniffedType(mediaType: .video, contentType: "video/mp4", format: "mp4"), pipeline: pipeline,
            workDirectory: FileManager.default.temporaryDirectory, logger: Logger.quiet)
    }

    private let yaml = """
        name: runner
        version: 1
        match: {mediaTypes: [video]}
        limits: {maxBytes: 5000}
        stages:
          - stage: checksum
          - stage: poster
          - stage: thumbnail
            input: poster
            size: 100
          - stage: transcode
        """

    @Test("a failed stage is recorded, independent stages still run: partial")
    func partial() throws {
        var registry = StageRegistry()
        registry.register("checksum", ChecksumStage())
        registry.register("poster", ScriptedStage(publishesImage: true))
        registry.register("thumbnail", ScriptedStage(makesOutput: true))
        registry.register("transcode", ScriptedStage(failure: StageFailure(.encodeFailed, "encoder said no")))
        let outcome = PipelineRunner(registry: registry).run(try job(yaml))
        #expect(outcome.status == .partial)
        #expect(outcome.errors == [ProcessingIssue(stage: "transcode", code: "encode_failed", message: "encoder said no", retryable: false)])
        #expect(outcome.outputs.map(\.derivative.name) == ["thumbnail"])
        #expect(outcome.sha256?.count == 64)
        #expect(Set(outcome.timings.keys) == ["checksum", "poster", "thumbnail", "transcode"])
    }

    @Test("a stage whose input failed is skipped with dependency_failed; nothing made: failed")
    func dependency() throws {
        var registry = StageRegistry()
        registry.register("checksum", ChecksumStage())
        registry.register("poster", ScriptedStage(failure: StageFailure(.corruptFile, "bad frame")))
        registry.register("thumbnail", ScriptedStage(makesOutput: true))
        registry.register("transcode", ScriptedStage(failure: StageFailure(.corruptFile, "bad stream")))
        let outcome = PipelineRunner(registry: registry).run(try job(yaml))
        #expect(outcome.status == .failed)
        #expect(outcome.errors.map(\.code) == ["corrupt_file", "dependency_failed", "corrupt_file"])
        #expect(outcome.errors[1].stage == "thumbnail")
    }

    @Test("limits reject a file before any decoding stage; checksums still run")
    func tooLarge() throws {
        var registry = StageRegistry()
        registry.register("checksum", ChecksumStage())
        registry.register("poster", ScriptedStage(publishesImage: true))
        let pipeline = try PipelineLoader.parse(yaml, file: "runner.yaml")
        let job = JobContext(
            file: TestPaths.image("exif-rich.jpg"), size: 9000,
            sniffed: SniffedType(mediaType: .video, contentType: "video/mp4", format: "mp4"), pipeline: pipeline,
            workDirectory: FileManager.default.temporaryDirectory, logger: Logger.quiet)
        let outcome = PipelineRunner(registry: registry).run(job)
        #expect(outcome.status == .failed)
        #expect(outcome.errors.map(\.code) == ["too_large"])
        #expect(outcome.sha256 != nil)
        #expect(outcome.timings["poster"] == nil)
    }

    @Test("a stage with no implementation for the media type is stage_unavailable")
    func unavailable() throws {
        var registry = StageRegistry()
        registry.register("checksum", ChecksumStage())
        let outcome = PipelineRunner(registry: registry).run(try job(yaml))
        #expect(outcome.errors.first?.code == "stage_unavailable")
        #expect(outcome.status == .failed)
    }
}
