import Foundation
import PipelineEngine
import Testing
@testable import Video

/// Container and stream metadata of the fixtures, against the values the fixture script
/// wrote (and ffprobe reads).
@Suite struct VideoMetadataTests {
    func metadata(_ fixture: String, includeLocation: Bool = true) throws -> MediaMetadata {
        let harness = try VideoJob(fixture)
        try VideoInspector().inspect(harness.job)
        try VideoMetadataStage().run(.metadata(includeLocation: includeLocation), job: harness.job)
        return harness.job.metadata
    }

    @Test func h264AAC() throws {
        let m = try metadata("h264-aac.mp4")
        #expect(m.container == "mp4")
        #expect(m.duration == 2.0)
        #expect(m.videoCodec == "h264")
        #expect(m.videoProfile == "High")
        #expect(m.pixelFormat == "yuv420p")
        #expect(m.bitDepth == 8)
        #expect(m.width == 320 && m.height == 240)
        #expect(m.displayWidth == 320 && m.displayHeight == 240)
        #expect(m.frameRate == 25)
        #expect(m.rotation == 0)
        #expect(m.hdr == false)
        #expect(m.audioCodec == "aac")
        #expect(m.audioChannels == 2)
        #expect(m.audioSampleRate == 48000)
        #expect(m.creationTime == "2023-06-15T09:30:00Z")
        #expect(m.gps == nil)
        let reference = try Reference.probe(VideoFixtures.url("h264-aac.mp4"))
        #expect(abs(Double(m.bitrate ?? 0) - 234_884) < 1)
        #expect(abs((m.duration ?? 0) - reference.duration) < 0.001)
    }

    @Test func phoneMOVRotationLocationAndCreationDate() throws {
        let m = try metadata("phone-rotated.mov")
        #expect(m.container == "mov")
        #expect(m.rotation == 90)
        #expect(m.width == 480 && m.height == 270)
        #expect(m.displayWidth == 270 && m.displayHeight == 480)
        #expect(m.frameRate == 30)
        #expect(m.audioChannels == 1)
        #expect(m.audioSampleRate == 44100)
        #expect(m.creationTime == "2024-05-01T14:34:56+02:00")
        let gps = try #require(m.gps)
        #expect(gps == GeoLocation(latitude: 48.8584, longitude: 2.2945, altitude: 35))
        // ffprobe agrees on the rotation (it reports the display matrix counter-clockwise).
        #expect(try Reference.probe(VideoFixtures.url("phone-rotated.mov")).video?.rotation == -90)
    }

    @Test func locationIsLeftOutWhenTheStageSaysSo() throws {
        #expect(try metadata("phone-rotated.mov", includeLocation: false).gps == nil)
    }

    @Test func inspectorAloneNeverRecordsLocation() throws {
        let harness = try VideoJob("phone-rotated.mov")
        try VideoInspector().inspect(harness.job)
        #expect(harness.job.metadata.gps == nil)
        #expect(harness.job.metadata.rotation == 90)
    }

    @Test func webmVP9Opus() throws {
        let m = try metadata("vp9-opus.webm")
        #expect(m.container == "webm")
        #expect(m.videoCodec == "vp9")
        #expect(m.videoProfile == "Profile 0")
        #expect(m.audioCodec == "opus")
        #expect(m.audioChannels == 2)
        #expect(m.audioSampleRate == 48000)
        #expect(m.frameRate == 24)
        #expect(abs((m.duration ?? 0) - 2.008) < 0.001)
    }

    @Test func matroskaContainer() throws {
        let m = try metadata("h264-aac.mkv")
        #expect(m.container == "matroska")
        #expect(m.videoCodec == "h264" && m.audioCodec == "aac")
    }

    @Test func hdrHEVC() throws {
        let m = try metadata("hevc-10bit-pq.mp4")
        #expect(m.videoCodec == "hevc")
        #expect(m.videoProfile == "Main 10")
        #expect(m.pixelFormat == "yuv420p10le")
        #expect(m.bitDepth == 10)
        #expect(m.colorPrimaries == "bt2020")
        #expect(m.colorTransfer == "smpte2084")
        #expect(m.hdr == true)
    }

    @Test func audioOnly() throws {
        let m = try metadata("audio-only.m4a")
        #expect(m.container == "m4a")
        #expect(m.videoCodec == nil && m.width == nil)
        #expect(m.audioCodec == "aac")
        #expect(m.audioChannels == 2)
        #expect(m.audioSampleRate == 44100)
        #expect(m.duration == 2.0)
    }

    @Test func noAudio() throws {
        let m = try metadata("no-audio.mp4")
        #expect(m.videoCodec == "mpeg4")
        #expect(m.audioCodec == nil)
    }
}
