import Foundation
import PipelineEngine
import Testing
@testable import Video

/// Whole jobs through the engine's `PipelineRunner`: what a file's status and errors are.
@Suite struct VideoPipelineTests {
    static let stages: [StageDefinition] = [.metadata(), .poster(), .transcode()]

    @Test func videoSucceedsWithPosterAndTranscode() throws {
        let harness = try VideoJob("vp9-opus.webm", stages: Self.stages)
        let outcome = harness.runPipeline()
        #expect(outcome.status == .succeeded, "\(outcome.errors)")
        #expect(outcome.outputs.map(\.derivative.kind) == [.poster, .transcode])
        #expect(outcome.metadata.videoCodec == "vp9")
        #expect(outcome.timings.keys.sorted() == ["inspect", "metadata", "poster", "transcode"])
    }

    @Test func transcodeAfterPosterStartsFromTheFirstFrame() throws {
        // The poster stage seeks the job's opened file; the transcode must rewind it.
        for fixture in ["phone-rotated.mov", "vp9-opus.webm"] {
            let harness = try VideoJob(fixture, stages: [.poster(), .transcode(TranscodeSpec(maxShortSide: 160))])
            let outcome = harness.runPipeline()
            #expect(outcome.status == .succeeded, "\(outcome.errors)")
            let file = try #require(outcome.outputs.first { $0.derivative.kind == .transcode }?.file)
            let output = try Reference.probe(file)
            let source = try Reference.probe(VideoFixtures.url(fixture))
            #expect(abs(output.duration - source.duration) <= 0.1, "\(fixture)")
            #expect(output.video?.nb_frames == "\(fixture.hasSuffix("mov") ? 60 : 48)", "\(fixture): every frame")
        }
    }

    @Test func compatibleVideoSucceedsWithASkipWarning() throws {
        let harness = try VideoJob("h264-aac.mp4", stages: Self.stages)
        let outcome = harness.runPipeline()
        #expect(outcome.status == .succeeded)
        #expect(outcome.outputs.map(\.derivative.kind) == [.poster])
        #expect(outcome.warnings.map(\.code) == ["transcode_skipped"])
    }

    @Test func audioOnlyGetsMetadataAndWarningsOnly() throws {
        let harness = try VideoJob("audio-only.m4a", stages: Self.stages)
        #expect(harness.job.sniffed.mediaType == .audio)
        let outcome = harness.runPipeline()
        #expect(outcome.status == .succeeded, "\(outcome.errors)")
        #expect(outcome.errors.isEmpty)
        #expect(outcome.outputs.isEmpty)
        #expect(outcome.warnings.map(\.stage) == ["poster", "transcode"])
        #expect(outcome.metadata.audioCodec == "aac")
    }

    @Test func videoFileWithoutVideoFailsItsVideoStages() throws {
        let harness = try VideoJob("no-video.mp4", stages: Self.stages)
        let outcome = harness.runPipeline()
        #expect(outcome.errors.map(\.code) == ["no_usable_stream", "no_usable_stream"])
        #expect(outcome.errors.map(\.stage) == ["poster", "transcode"])
        #expect(outcome.status == .failed)
        #expect(outcome.metadata.audioCodec == "aac", "metadata still read")
    }

    @Test func truncatedFileIsRejectedBeforeTheStages() throws {
        let harness = try VideoJob("truncated.mp4", stages: Self.stages)
        let outcome = harness.runPipeline()
        #expect(outcome.status == .failed)
        #expect(outcome.errors.map(\.code) == ["truncated_file"])
        #expect(outcome.errors.first?.stage == "inspect")
        #expect(harness.workFiles.isEmpty)
    }

    @Test func shippedPipelineParsesIntoTheseStages() throws {
        let url = VideoFixtures.directory.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("pipelines/video.yaml")
        let pipeline = try PipelineLoader.loadFile(url)
        var registry = StageRegistry()
        VideoStages.register(into: &registry)
        for stage in pipeline.stages where ["metadata", "poster", "transcode"].contains(stage.kind.typeName) {
            for type in [MediaType.video, .audio] {
                #expect(registry.runner(for: stage.kind.typeName, mediaType: type) != nil)
            }
        }
        #expect(registry.inspector(for: .video) != nil && registry.inspector(for: .audio) != nil)
    }
}
