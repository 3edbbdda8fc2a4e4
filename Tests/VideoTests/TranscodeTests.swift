import Foundation
import PipelineEngine
import Testing
@testable import Video

/// Transcode outputs, checked with ffprobe: codecs, profile, pixel format, size, duration,
/// audio, fast start, rotation.
@Suite struct TranscodeTests {
    func transcode(_ fixture: String, _ spec: TranscodeSpec = TranscodeSpec()) throws -> (Derivative, Reference.Probe, VideoJob) {
        let harness = try VideoJob(fixture)
        try TranscodeStage().run(.transcode(spec), job: harness.job)
        let output = try #require(harness.output("transcode"), "warnings: \(harness.job.warnings)")
        let file = try #require(output.file)
        #expect(file.lastPathComponent == "transcode.mp4")
        #expect(harness.workFiles == ["transcode.mp4"], "no temporary left behind")
        #expect(try Reference.topLevelBoxes(file).firstIndex(of: "moov")! < Reference.topLevelBoxes(file).firstIndex(of: "mdat")!)
        #expect(output.derivative.bytes == Int64(try Data(contentsOf: file).count))
        #expect(output.derivative.sha256 == (try Checksummer.digest(file: file)).sha256)
        #expect(output.derivative.contentType == "video/mp4")
        return (output.derivative, try Reference.probe(file), harness)
    }

    func expectPlaysEverywhere(_ probe: Reference.Probe, width: Int, height: Int, audio: Bool, source: String) throws {
        let video = try #require(probe.video)
        #expect(video.codec_name == "h264")
        #expect(video.profile == "High")
        #expect(video.pix_fmt == "yuv420p")
        #expect(video.width == width && video.height == height)
        #expect(video.rotation == 0, "rotation is applied to the pixels")
        #expect(probe.format.format_name.contains("mp4"))
        if audio {
            let track = try #require(probe.audio)
            #expect(track.codec_name == "aac")
            #expect(track.channels == 2)
        } else {
            #expect(probe.audio == nil)
        }
        let sourceDuration = try Reference.probe(VideoFixtures.url(source)).duration
        #expect(abs(probe.duration - sourceDuration) <= 0.1, "duration \(probe.duration) vs \(sourceDuration)")
    }

    @Test func compatibleMP4IsSkippedWithAReason() throws {
        let harness = try VideoJob("h264-aac.mp4")
        try TranscodeStage().run(.transcode(), job: harness.job)
        #expect(harness.job.outputs.isEmpty)
        #expect(harness.workFiles.isEmpty)
        let warning = try #require(harness.job.warnings.first)
        #expect(warning.code == "transcode_skipped")
        #expect(warning.message.contains("compatible"))
    }

    @Test func movIsRemuxedKeepingTheDisplayMatrix() throws {
        let (derivative, probe, _) = try transcode("phone-rotated.mov")
        #expect(derivative.note?.hasPrefix("remux") == true)
        #expect(derivative.width == 270 && derivative.height == 480)
        #expect(probe.video?.codec_name == "h264")
        #expect(probe.video?.width == 480 && probe.video?.height == 270, "pixels untouched")
        #expect(probe.video?.rotation == -90, "display matrix kept")
        #expect(probe.audio?.codec_name == "aac" && probe.audio?.channels == 1, "audio copied")
        #expect(abs(probe.duration - 2.0) <= 0.1)
    }

    @Test func lateMoovIsRemuxedToFastStart() throws {
        #expect(try Reference.topLevelBoxes(VideoFixtures.url("h264-aac-moov-end.mp4")).last == "moov")
        let (derivative, probe, _) = try transcode("h264-aac-moov-end.mp4")
        #expect(derivative.note?.contains("moov") == true)
        try expectPlaysEverywhere(probe, width: 320, height: 240, audio: true, source: "h264-aac-moov-end.mp4")
    }

    @Test func mkvIsRemuxed() throws {
        let (derivative, probe, _) = try transcode("h264-aac.mkv")
        #expect(derivative.note == "remux: container is matroska")
        try expectPlaysEverywhere(probe, width: 320, height: 240, audio: true, source: "h264-aac.mkv")
    }

    @Test func webmIsReencoded() throws {
        let (derivative, probe, _) = try transcode("vp9-opus.webm")
        #expect(derivative.note?.hasPrefix("re-encoded") == true)
        #expect(derivative.width == 320 && derivative.height == 180)
        try expectPlaysEverywhere(probe, width: 320, height: 180, audio: true, source: "vp9-opus.webm")
        #expect(probe.audio?.sample_rate == "48000")
    }

    @Test func hdrIsToneMappedToSDR() throws {
        let (_, probe, harness) = try transcode("hevc-10bit-pq.mp4")
        try expectPlaysEverywhere(probe, width: 320, height: 180, audio: true, source: "hevc-10bit-pq.mp4")
        #expect(probe.video?.color_transfer == "bt709")
        #expect(probe.video?.color_primaries == "bt709")
        let stats = PictureStats(rgb: try Reference.rgbPixels(harness.work.appendingPathComponent("transcode.mp4")))
        #expect(stats.saturation > 120 && stats.lumaDeviation > 45, "tone-mapped output looks washed out: \(stats)")
    }

    @Test func videoWithoutAudioStillTranscodes() throws {
        let (_, probe, _) = try transcode("no-audio.mp4")
        try expectPlaysEverywhere(probe, width: 320, height: 240, audio: false, source: "no-audio.mp4")
    }

    @Test func rotationIsAppliedWhenReencoding() throws {
        // A 240p limit forces the phone clip (270x480 as shown) through the encoder.
        let (derivative, probe, _) = try transcode("phone-rotated.mov", TranscodeSpec(maxShortSide: 240))
        #expect(derivative.width == 240 && derivative.height == 426)
        try expectPlaysEverywhere(probe, width: 240, height: 426, audio: true, source: "phone-rotated.mov")
        #expect(probe.audio?.sample_rate == "44100")
    }

    @Test func compatibleSourceIsReencodedWhenRemuxIsOff() throws {
        let (derivative, probe, _) = try transcode("h264-aac.mp4", TranscodeSpec(skipCompatible: false, allowRemux: false))
        #expect(derivative.note?.hasPrefix("re-encoded") == true)
        try expectPlaysEverywhere(probe, width: 320, height: 240, audio: true, source: "h264-aac.mp4")
    }

    @Test func audioOnlyRecordsASkip() throws {
        let harness = try VideoJob("audio-only.m4a")
        try TranscodeStage().run(.transcode(), job: harness.job)
        #expect(harness.job.outputs.isEmpty)
        #expect(harness.job.warnings.map(\.code) == ["no_usable_stream"])
    }

    @Test func videoWithoutVideoStreamFails() throws {
        let harness = try VideoJob("no-video.mp4")
        let error = failure { () throws(StageFailure) in try TranscodeStage().run(.transcode(), job: harness.job) }
        #expect(error?.code == .noUsableStream)
        #expect(harness.workFiles.isEmpty)
    }
}
