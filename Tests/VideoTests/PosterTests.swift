import Foundation
import PipelineEngine
import Testing
@testable import Video

@Suite struct PosterTests {
    /// Runs the poster stage; returns the derivative, its file and the harness (which owns
    /// the work directory: keep it alive while reading the file).
    func poster(_ fixture: String, _ spec: PosterSpec = PosterSpec()) throws -> (Derivative, URL, VideoJob) {
        let harness = try VideoJob(fixture)
        try PosterStage().run(.poster(spec), job: harness.job)
        let output = try #require(harness.output("poster"))
        let file = try #require(output.file)
        #expect(harness.job.images["poster"] == file)
        return (output.derivative, file, harness)
    }

    @Test func landscapeJPEG() throws {
        let (derivative, file, harness) = try poster("h264-aac.mp4")
        #expect(derivative.kind == .poster)
        #expect(derivative.contentType == "image/jpeg")
        #expect(derivative.width == 320 && derivative.height == 240)
        #expect(derivative.bytes == Int64(try Data(contentsOf: file).count))
        #expect(derivative.sha256 == (try Checksummer.digest(file: file)).sha256)
        let reference = try Reference.probe(file)
        #expect(reference.video?.codec_name == "mjpeg")
        #expect(reference.video?.pix_fmt == "yuvj420p")
        #expect(reference.video?.width == 320 && reference.video?.height == 240)
        #expect(!harness.workFiles.contains { $0.hasPrefix(".") })
    }

    @Test func rotatedClipGivesAPortraitPoster() throws {
        let (derivative, file, harness) = try poster("phone-rotated.mov")
        defer { withExtendedLifetime(harness) {} }
        #expect(derivative.width == 270 && derivative.height == 480)
        let reference = try Reference.probe(file)
        #expect(reference.video?.width == 270 && reference.video?.height == 480)
    }

    @Test func hdrPosterIsToneMappedNotWashedOut() throws {
        let (_, file, harness) = try poster("hevc-10bit-pq.mp4")
        defer { withExtendedLifetime(harness) {} }
        let mapped = PictureStats(rgb: try Reference.rgbPixels(file))
        // What a naive 8-bit conversion of the same frame looks like (PQ values shown as SDR).
        let naive = PictureStats(rgb: try Reference.rgbPixels(VideoFixtures.url("hevc-10bit-pq.mp4")))
        #expect(naive.lumaDeviation < 35 && naive.saturation < 80, "fixture should look washed out untreated: \(naive)")
        #expect(mapped.lumaDeviation > naive.lumaDeviation * 1.6, "contrast \(mapped) vs \(naive)")
        #expect(mapped.saturation > naive.saturation * 2, "saturation \(mapped) vs \(naive)")
        #expect(mapped.p99Luma > 190, "highlights \(mapped)")
    }

    @Test func blackIntroIsNotThePoster() throws {
        let (derivative, file, harness) = try poster("fade-in.mp4")
        defer { withExtendedLifetime(harness) {} }
        let stats = PictureStats(rgb: try Reference.rgbPixels(file))
        #expect(stats.meanLuma > 40, "poster is dark: \(stats); \(derivative.note ?? "")")
        #expect(derivative.note?.contains("blank") == true)
    }

    @Test func posterIsCappedAndCanBePNG() throws {
        let (derivative, file, harness) = try poster("phone-rotated.mov", PosterSpec(format: .png, maxSize: 240))
        defer { withExtendedLifetime(harness) {} }
        #expect(derivative.contentType == "image/png")
        #expect(file.pathExtension == "png")
        #expect(derivative.width == 135 && derivative.height == 240)
        #expect(try Reference.probe(file).video?.codec_name == "png")
    }

    @Test func webmAndMPEG4Posters() throws {
        for fixture in ["vp9-opus.webm", "no-audio.mp4"] {
            let (derivative, _, _) = try poster(fixture)
            #expect(derivative.width != nil, "\(fixture)")
        }
    }

    @Test func audioOnlyRecordsASkip() throws {
        let harness = try VideoJob("audio-only.m4a")
        try PosterStage().run(.poster(), job: harness.job)
        #expect(harness.job.outputs.isEmpty)
        #expect(harness.job.images.isEmpty)
        #expect(harness.job.warnings.map(\.code) == ["no_usable_stream"])
    }

    @Test func videoWithoutVideoStreamFails() throws {
        let harness = try VideoJob("no-video.mp4")
        #expect(harness.job.sniffed.mediaType == .video)
        #expect(failure { () throws(StageFailure) in try PosterStage().run(.poster(), job: harness.job) }?.code == .noUsableStream)
    }
}

/// The poster's orientation and colours against the ffmpeg program's own rendering of the
/// same instant (ffmpeg rotates by the display matrix too): a rotation the wrong way round
/// would still be portrait, but would not match.
@Suite struct PosterReferenceTests {
    @Test func rotatedPosterMatchesFFmpeg() throws {
        let harness = try VideoJob("phone-rotated.mov")
        try PosterStage().run(.poster(PosterSpec(format: .png)), job: harness.job)
        let output = try #require(harness.output("poster"))
        let note = try #require(output.derivative.note)
        let time = try #require(note.split(separator: " ").dropFirst(2).first.flatMap { Double($0) })
        let reference = harness.work.appendingPathComponent("reference.png")
        _ = try Reference.run("/usr/bin/ffmpeg", [
            "-v", "error", "-ss", String(time), "-i", VideoFixtures.url("phone-rotated.mov").path,
            "-frames:v", "1", reference.path,
        ])
        let ours = try Reference.rgbPixels(try #require(output.file))
        let theirs = try Reference.rgbPixels(reference)
        #expect(ours.count == theirs.count)
        let difference = zip(ours, theirs).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) } / Double(max(1, ours.count))
        #expect(difference < 4, "mean difference \(difference) per channel")
    }
}
