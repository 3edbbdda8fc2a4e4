import PipelineEngine
import Testing
@testable import Video

/// The pure-Swift decisions: transcode policy, output sizes, filter chains, metadata parsing.
@Suite struct TranscodePolicyTests {
    func probe(
        container: String = "mp4", codec: String = "h264", profile: String? = "High", pixelFormat: String = "yuv420p",
        width: Int = 1280, height: Int = 720, rotation: Int = 0, transfer: String? = nil,
        audio: String? = "aac", channels: Int = 2, moovFirst: Bool = true
    ) -> VideoProbe {
        var probe = VideoProbe(container: container, demuxer: "mov,mp4,m4a,3gp,3g2,mj2")
        probe.duration = 10
        probe.video = VideoStreamInfo(
            index: 0, codec: codec, profile: profile, width: width, height: height,
            pixelFormat: pixelFormat, bitDepth: pixelFormat.contains("10") ? 10 : 8, rotation: rotation, colorTransfer: transfer)
        if let audio {
            probe.audio = AudioStreamInfo(index: 1, codec: audio, profile: audio == "aac" ? "LC" : nil, channels: channels, sampleRate: 48000)
        }
        probe.moovBeforeMdat = container == "mp4" ? moovFirst : nil
        return probe
    }

    @Test func compatibleMP4IsSkipped() {
        guard case .skip(let reason) = TranscodePlan.decide(probe(), spec: TranscodeSpec()) else {
            Issue.record("expected a skip")
            return
        }
        #expect(reason.contains("compatible"))
    }

    @Test func wrongContainerOrLateMoovIsRemuxed() {
        for source in [probe(container: "mov"), probe(container: "matroska"), probe(moovFirst: false)] {
            guard case .run(let plan) = TranscodePlan.decide(source, spec: TranscodeSpec()) else {
                Issue.record("expected a remux of \(source.container)")
                continue
            }
            #expect(plan.video == .copy)
            #expect(plan.audio == .copy)
            #expect(plan.isRemux)
            #expect(plan.note.hasPrefix("remux"))
        }
    }

    @Test func otherAudioIsReencodedAlone() {
        guard case .run(let plan) = TranscodePlan.decide(probe(audio: "opus"), spec: TranscodeSpec()) else {
            Issue.record("expected a run")
            return
        }
        #expect(plan.video == .copy)
        #expect(plan.audio == .encode(sampleRate: 48000, channels: 2))
    }

    @Test func hdrTenBitAndForeignCodecsAreReencoded() {
        let sources = [
            probe(codec: "hevc", profile: "Main 10", pixelFormat: "yuv420p10le", transfer: "smpte2084"),
            probe(profile: "High 10", pixelFormat: "yuv420p10le"),
            probe(codec: "vp9", profile: "Profile 0"),
            probe(transfer: "arib-std-b67"),
            probe(width: 1920, height: 1080),
        ]
        for source in sources {
            guard case .run(let plan) = TranscodePlan.decide(source, spec: TranscodeSpec()) else {
                Issue.record("expected a re-encode of \(source.video!)")
                continue
            }
            guard case .encode = plan.video else {
                Issue.record("video of \(source.video!) should be encoded")
                continue
            }
            #expect(plan.audio == .encode(sampleRate: 48000, channels: 2))
        }
    }

    @Test func skipAndRemuxCanBeTurnedOff() {
        let noSkip = TranscodePlan.decide(probe(), spec: TranscodeSpec(skipCompatible: false))
        #expect(noSkip == .run(TranscodePlan(video: .copy, audio: .copy, reasons: ["compatible; skipping is off"])))
        guard case .run(let plan) = TranscodePlan.decide(probe(container: "mov"), spec: TranscodeSpec(allowRemux: false)) else {
            Issue.record("expected a run")
            return
        }
        #expect(plan.video == .encode(width: 1280, height: 720))
    }

    @Test func shortSideIsCappedEvenAndNeverUpscaled() {
        #expect(TranscodePlan.targetSize(display: (1920, 1080), maxShortSide: 720) == (1280, 720))
        #expect(TranscodePlan.targetSize(display: (1080, 1920), maxShortSide: 720) == (720, 1280))
        #expect(TranscodePlan.targetSize(display: (270, 480), maxShortSide: 240) == (240, 426))
        #expect(TranscodePlan.targetSize(display: (321, 241), maxShortSide: 720) == (320, 240))
        #expect(TranscodePlan.targetSize(display: (3840, 1600), maxShortSide: 720) == (1728, 720))
    }

    @Test func portraitDisplaySizeUsesRotation() {
        let rotated = probe(width: 1920, height: 1080, rotation: 90).video!
        #expect(rotated.displaySize == (1080, 1920))
        guard case .run(let plan) = TranscodePlan.decide(probe(width: 1920, height: 1080, rotation: 90), spec: TranscodeSpec()) else {
            Issue.record("expected a run")
            return
        }
        #expect(plan.video == .encode(width: 720, height: 1280))
    }
}

@Suite struct FilterChainTests {
    @Test func scalesBeforeRotatingAndEndsIn420() {
        let chain = FilterChains.video(source: (1920, 1080), target: (720, 1280), rotation: 90, toneMapping: nil, output: .yuv420p)
        #expect(chain == "scale=w=1280:h=720,transpose=clock,format=yuv420p,setsar=1")
    }

    @Test func hdrIsToneMappedAfterScaling() {
        let video = VideoStreamInfo(
            index: 0, codec: "hevc", profile: "Main 10", width: 3840, height: 2160, pixelFormat: "yuv420p10le", bitDepth: 10,
            colorPrimaries: "bt2020", colorTransfer: "smpte2084", colorSpace: "bt2020nc", colorRange: "tv")
        let mapping = FilterChains.toneMapping(for: video, zscaleAvailable: true)
        let chain = FilterChains.video(source: (3840, 2160), target: (1280, 720), rotation: 0, toneMapping: mapping, output: .jpeg)
        #expect(chain.hasPrefix("scale=w=1280:h=720,zscale=tin=smpte2084:pin=bt2020:min=bt2020nc:rin=tv:t=linear"))
        #expect(chain.contains("tonemap=tonemap=mobius"))
        #expect(chain.hasSuffix("scale=out_color_matrix=bt601:out_range=full,format=yuvj420p,setsar=1"))
        #expect(FilterChains.toneMapping(for: video, zscaleAvailable: false) == .unavailable)
    }

    @Test func upsideDownIsFlippedBothWays() {
        let chain = FilterChains.video(source: (640, 360), target: (640, 360), rotation: 180, toneMapping: nil, output: .rgb24)
        #expect(chain == "hflip,vflip,format=rgb24,setsar=1")
    }

    @Test func posterLongSideIsCapped() {
        #expect(FilterChains.posterSize(display: (3840, 2160), maxSize: 1920) == (1920, 1080))
        #expect(FilterChains.posterSize(display: (270, 480), maxSize: 1920) == (270, 480))
        #expect(FilterChains.posterSize(display: (1080, 1920), maxSize: 640) == (360, 640))
    }

    @Test func posterPositionGrowsWithDurationButStaysEarly() {
        #expect(PosterExtractor.target(duration: 4, position: 0.1, maxOffset: 5) == 0.4)
        #expect(PosterExtractor.target(duration: 600, position: 0.1, maxOffset: 5) == 5)
        #expect(PosterExtractor.target(duration: nil, position: 0.1, maxOffset: 5) == 0)
    }

    @Test func jpegQualityMapsToQuantiserScale() {
        #expect(PosterWriter.mjpegScale(quality: 85) == 4)
        #expect(PosterWriter.mjpegScale(quality: 95) == 1)
        #expect(PosterWriter.mjpegScale(quality: 75) == 6)
        #expect(PosterWriter.mjpegScale(quality: 10) == 31)
    }
}

@Suite struct MetadataParsingTests {
    @Test func iso6709DecimalDegrees() {
        let place = ISO6709.parse("+48.8584+002.2945+035.000/")
        #expect(place == GeoLocation(latitude: 48.8584, longitude: 2.2945, altitude: 35))
        #expect(ISO6709.parse("-33.8568+151.2153/") == GeoLocation(latitude: -33.8568, longitude: 151.2153))
        #expect(ISO6709.parse("+40.6892-074.0445CRSWGS_84/") == GeoLocation(latitude: 40.6892, longitude: -74.0445))
    }

    @Test func iso6709MinutesAndSeconds() throws {
        let minutes = try #require(ISO6709.parse("+4851.504+00217.670/"))
        #expect(abs(minutes.latitude - 48.8584) < 1e-4)
        #expect(abs(minutes.longitude - 2.29450) < 1e-4)
        let seconds = try #require(ISO6709.parse("-335124.48+1511255.08/"))
        #expect(abs(seconds.latitude + 33.8568) < 1e-4)
        #expect(abs(seconds.longitude - 151.2153) < 1e-4)
    }

    @Test func iso6709RejectsNonsense() {
        for text in ["", "48.8584,2.2945", "+91.0+000.0/", "+48.8+181.0/", "hello", "+4899.0+00217.6/"] {
            #expect(ISO6709.parse(text) == nil, "\(text)")
        }
    }

    @Test func creationTimesKeepTheirOffset() {
        #expect(CreationTime.normalize("2024-05-01T14:34:56+0200") == "2024-05-01T14:34:56+02:00")
        #expect(CreationTime.normalize("2024-05-01T12:34:56.000000Z") == "2024-05-01T12:34:56Z")
        #expect(CreationTime.normalize("2024-05-01 12:34:56.250") == "2024-05-01T12:34:56.25")
        #expect(CreationTime.normalize("2021-11-02T08:00:00-05:00") == "2021-11-02T08:00:00-05:00")
        #expect(CreationTime.normalize("1904-01-01T00:00:00.000000Z") == nil)
        #expect(CreationTime.normalize("yesterday") == nil)
    }

    @Test func detailScoreSeesFlatPictures() {
        let black = DetailMeter.score([UInt8](repeating: 0, count: 64 * 48), width: 64, height: 48)
        #expect(black.isFlat)
        var pixels = [UInt8](repeating: 0, count: 64 * 48)
        for index in pixels.indices where (index % 64) / 8 % 2 == 1 { pixels[index] = 200 }
        let stripes = DetailMeter.score(pixels, width: 64, height: 48)
        #expect(!stripes.isFlat)
        #expect(black < stripes)
    }
}
