import Foundation
import PipelineEngine
import Testing
@testable import Video

/// Damaged, lying and oversized inputs, limits and timeouts: each gives its error code and
/// leaves no output behind.
@Suite struct HostileFileTests {
    func inspect(_ fixture: String, limits: PipelineLimits = PipelineLimits(), sniffed: SniffedType? = nil) throws -> StageFailure? {
        let harness = try VideoJob(fixture, limits: limits, sniffed: sniffed)
        return failure { () throws(StageFailure) in try VideoInspector().inspect(harness.job) }
    }

    @Test func truncatedMP4() throws {
        let error = try inspect("truncated.mp4")
        #expect(error?.code == .truncatedFile, "\(String(describing: error))")
        #expect(error?.message.contains("mdat") == true)
    }

    @Test func truncatedMP4WithoutItsMoovAtom() throws {
        // Cut the moov-at-the-end variant: the demuxer finds no moov, the boxes say why.
        let source = try Data(contentsOf: VideoFixtures.url("h264-aac-moov-end.mp4"))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mediad-video-cut-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cut = directory.appendingPathComponent("cut.mp4")
        try source.prefix(source.count / 2).write(to: cut)
        let harness = try VideoJob("h264-aac.mp4")
        let job = JobContext(
            file: cut, size: Int64(source.count / 2), sniffed: harness.job.sniffed, pipeline: harness.job.pipeline,
            workDirectory: harness.work, logger: harness.job.logger)
        let error = failure { () throws(StageFailure) in try VideoInspector().inspect(job) }
        #expect(error?.code == .truncatedFile, "\(String(describing: error))")
    }

    @Test func truncatedWebMFailsItsTranscodeCleanly() throws {
        // Matroska has no index to check up front: the transcode finds the data ends early.
        let source = try Data(contentsOf: VideoFixtures.url("vp9-opus.webm"))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mediad-video-cut-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cut = directory.appendingPathComponent("cut.webm")
        try source.prefix(source.count * 4 / 10).write(to: cut)
        let harness = try VideoJob("vp9-opus.webm")
        let job = JobContext(
            file: cut, size: Int64(source.count * 4 / 10), sniffed: harness.job.sniffed, pipeline: harness.job.pipeline,
            workDirectory: harness.work, logger: harness.job.logger)
        let error = failure { () throws(StageFailure) in try TranscodeStage().run(.transcode(), job: job) }
        #expect(error?.code == .truncatedFile, "\(String(describing: error))")
        #expect(harness.workFiles.isEmpty, "left behind: \(harness.workFiles)")
    }

    @Test func hlsPlaylistRenamedMP4IsNotFollowed() throws {
        // The real sniffer already calls it text: no video pipeline would take it.
        #expect(try MediaSniffer.sniff(file: VideoFixtures.url("hls-playlist.mp4")).mediaType == .other)
        // Handed to the module as an MP4 anyway, the pinned demuxer rejects it.
        let lying = SniffedType(mediaType: .video, contentType: "video/mp4", format: "mp4")
        let error = try inspect("hls-playlist.mp4", sniffed: lying)
        #expect(error?.code == .corruptFile, "\(String(describing: error))")
        // ffprobe, unrestricted, does follow it to the segment: the danger is real.
        #expect(try Reference.probe(VideoFixtures.url("hls-playlist.mp4")).video?.codec_name == "h264")
    }

    @Test func hlsPlaylistIsRejectedWithoutAPinnedDemuxerToo() throws {
        // An unknown sniffed format probes among the allowed demuxers only: never hls.
        let unknown = SniffedType(mediaType: .video, contentType: "video/x-unknown", format: "unknown")
        let error = try inspect("hls-playlist.mp4", sniffed: unknown)
        #expect(error?.code == .corruptFile, "\(String(describing: error))")
        #expect(try inspect("hls-segment.ts", sniffed: unknown) == nil, "the segment itself is a fine video")
    }

    @Test func garbageIsCorrupt() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mediad-video-junk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let junk = directory.appendingPathComponent("junk.mp4")
        var bytes = [UInt8](repeating: 0, count: 4096)
        for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index &* 2_654_435_761 >> 7) }
        bytes.replaceSubrange(0..<12, with: [0, 0, 0, 12] + Array("ftypisom".utf8))
        try Data(bytes).write(to: junk)
        let harness = try VideoJob("h264-aac.mp4")
        let job = JobContext(
            file: junk, size: 4096, sniffed: harness.job.sniffed, pipeline: harness.job.pipeline,
            workDirectory: harness.work, logger: harness.job.logger)
        let error = failure { () throws(StageFailure) in try VideoInspector().inspect(job) }
        #expect([.corruptFile, .truncatedFile].contains(error?.code), "\(String(describing: error))")
    }

    @Test func durationLimit() throws {
        let error = try inspect("fade-in.mp4", limits: PipelineLimits(maxDuration: .seconds(3)))
        #expect(error?.code == .tooLong)
        #expect(try inspect("h264-aac.mp4", limits: PipelineLimits(maxDuration: .seconds(3))) == nil)
    }

    @Test func pixelLimit() throws {
        let error = try inspect("h264-aac.mp4", limits: PipelineLimits(maxPixels: 320 * 240 - 1))
        #expect(error?.code == .tooManyPixels)
        #expect(try inspect("h264-aac.mp4", limits: PipelineLimits(maxPixels: 320 * 240)) == nil)
    }

    @Test func tinyTimeoutGivesTimeoutAndNoFile() throws {
        // Only the transcode stage, so the inspector's probe doesn't use the budget first.
        var registry = StageRegistry()
        registry.register("transcode", for: .video, TranscodeStage())
        let harness = try VideoJob(
            "vp9-opus.webm", limits: PipelineLimits(stageTimeout: .milliseconds(1)), stages: [.transcode()])
        let outcome = harness.runPipeline(registry: registry)
        #expect(outcome.errors.map(\.code) == ["timeout"], "\(outcome.errors)")
        #expect(outcome.errors.first?.retryable == true)
        #expect(outcome.outputs.isEmpty)
        #expect(harness.workFiles.isEmpty)
    }

    @Test func timeoutHalfWayLeavesNoPartialFile() throws {
        let harness = try VideoJob("vp9-opus.webm")
        var frames = 0
        let error = failure { () throws(StageFailure) in
            try TranscodeStage().run(.transcode(), job: harness.job) { _, deadline in
                frames += 1
                if frames == 10 { deadline.expire() }
            }
        }
        #expect(error?.code == .timeout, "\(String(describing: error))")
        #expect(frames >= 10)
        #expect(harness.job.outputs.isEmpty)
        #expect(harness.workFiles.isEmpty, "left behind: \(harness.workFiles)")
    }

    @Test func posterTimeout() throws {
        var registry = StageRegistry()
        registry.register("poster", for: .video, PosterStage())
        let harness = try VideoJob("h264-aac.mp4", limits: PipelineLimits(stageTimeout: .milliseconds(1)), stages: [.poster()])
        let outcome = harness.runPipeline(registry: registry)
        #expect(outcome.errors.map(\.code) == ["timeout"], "\(outcome.errors)")
        #expect(harness.workFiles.isEmpty)
    }
}
