import Foundation
import MediadTestSupport
import PipelineEngine
import Testing

@Suite("Pipeline files")
struct PipelineLoaderTests {
    @Test("the shipped pipelines load and pick files by sniffed type")
    func shippedPipelines() throws {
        let set = try PipelineLoader.loadDirectory(TestPaths.pipelines)
        let image = try #require(set.named("image"))
        #expect(image.version >= 1)
        #expect(image.stages.map(\.kind.typeName) == ["checksum", "metadata", "thumbnail", "thumbnail", "placeholder"])
        guard case .thumbnail(let thumbnail) = image.stages[2].kind, case .thumbnail(let preview) = image.stages[3].kind else {
            Issue.record("expected two thumbnail stages")
            return
        }
        #expect(thumbnail.fit == .shortSide(250))
        #expect(thumbnail.format == .webp)
        #expect(preview.fit == .shortSide(1440))
        #expect(preview.format == .jpeg)
        #expect(preview.quality == 80)
        #expect(preview.derivativeKind == .preview)
        #expect(set.matching(SniffedType(mediaType: .image, contentType: "image/jpeg", format: "jpeg"))?.name == "image")
        #expect(set.matching(SniffedType(mediaType: .image, contentType: "image/svg+xml", format: "svg")) == nil)
        #expect(set.matching(SniffedType(mediaType: .video, contentType: "video/mp4", format: "mp4"))?.name == "video")
    }

    private func parse(_ yaml: String) throws(PipelineConfigError) -> PipelineDefinition {
        try PipelineLoader.parse(yaml, file: "test.yaml")
    }

    private let header = """
        name: sample
        version: 2
        match:
          mediaTypes: [image]
        stages:

        """

    @Test("limits, decode policy and every thumbnail fit parse into typed values")
    func fullParse() throws {
        let pipeline = try parse("""
            name: full
            version: 3
            match: { mediaTypes: [image, video], formats: [jpeg, mp4] }
            limits: { maxBytes: 10MiB, maxPixels: 100MP, maxDuration: 90s, timeout: 1500ms }
            decode: { failOn: error, untrustedLoaders: [svg] }
            stages:
              - stage: checksum
                md5: false
              - stage: thumbnail
                name: square
                fit: cover
                width: 200
                height: 200
                crop: entropy
                format: avif
                quality: 55
                colour: preserve
              - stage: thumbnail
                name: box
                fit: inside
                width: 640
                height: 480
            """)
        #expect(pipeline.limits == PipelineLimits(maxBytes: 10 * 1_048_576, maxPixels: 100_000_000, maxDuration: .seconds(90), stageTimeout: .milliseconds(1500)))
        #expect(pipeline.decode == DecodePolicy(failOn: .error, untrustedLoaders: ["svg"]))
        #expect(pipeline.match == MatchRule(mediaTypes: [.image, .video], formats: ["jpeg", "mp4"]))
        #expect(pipeline.stages[0].kind == .checksum(ChecksumSpec(sha256: true, md5: false)))
        #expect(pipeline.stages[1].kind == .thumbnail(ThumbnailSpec(fit: .cover(width: 200, height: 200, crop: .entropy), format: .avif, quality: 55, colour: .preserve)))
        #expect(pipeline.stages[2].kind == .thumbnail(ThumbnailSpec(fit: .inside(width: 640, height: 480))))
    }

    @Test(
        "mistakes are reported with file, line, stage and field",
        arguments: [
            ("  - stage: thumbnail\n    name: small\n    size: 250\n    qualty: 80\n", 9, "small", "qualty", "did you mean 'quality'?"),
            ("  - stage: thumbnail\n    name: small\n    size: 250\n    quality: high\n", 9, "small", "quality", "expected a whole number"),
            ("  - stage: thumbnail\n    name: small\n    size: 250\n    quality: 101\n", 9, "small", "quality", "must be from 1 to 100"),
            ("  - stage: thumbnail\n    name: small\n    format: gif\n    size: 10\n", 8, "small", "format", "'gif' is not one of: jpeg, webp, avif, png"),
            ("  - stage: thumbnail\n    name: small\n", 6, "small", "size", "missing required field"),
            ("  - stage: resize\n", 6, nil, "stage", "unknown stage type 'resize'"),
            ("  - stage: checksum\n  - stage: checksum\n", 7, "checksum", "name", "two stages are named 'checksum'"),
            ("  - stage: placeholder\n    input: poster\n", 6, "placeholder", "input", "must name an earlier stage"),
            ("  - stage: thumbnail\n    size: 100\n    fit: sideways\n", 8, "thumbnail", "fit", "'sideways' is not one of"),
        ] as [(String, Int, String?, String, String)]
    )
    func locatedErrors(stages: String, line: Int, stage: String?, field: String, message: String) throws {
        let error = #expect(throws: PipelineConfigError.self) { try self.parse(self.header + stages) }
        #expect(error?.file == "test.yaml")
        #expect(error?.line == line, "\(error?.description ?? "")")
        #expect(error?.stage == stage)
        #expect(error?.field?.hasSuffix(field) == true, "\(error?.description ?? "")")
        #expect(error?.message.contains(message) == true, "\(error?.description ?? "")")
    }

    @Test("top-level mistakes: bad YAML, missing fields, wrong limits")
    func topLevelErrors() throws {
        let syntax = #expect(throws: PipelineConfigError.self) { try self.parse("name: x\nversion: [1\n") }
        #expect(syntax?.message.contains("not valid YAML") == true)
        #expect(syntax?.line == 3)

        let missing = #expect(throws: PipelineConfigError.self) { try self.parse("name: x\nmatch: {mediaTypes: [image]}\nstages: []\n") }
        #expect(missing?.field == "version")

        let limit = #expect(throws: PipelineConfigError.self) {
            try self.parse("name: x\nversion: 1\nmatch: {mediaTypes: [image]}\nlimits:\n  maxBytes: lots\nstages:\n  - stage: checksum\n")
        }
        #expect(limit?.field == "limits.maxBytes")
        #expect(limit?.line == 5)

        let mediaType = #expect(throws: PipelineConfigError.self) { try self.parse("name: x\nversion: 1\nmatch: {mediaTypes: [photo]}\nstages:\n  - stage: checksum\n") }
        #expect(mediaType?.message.contains("'photo' is not one of") == true)
    }

    @Test("a directory with two pipelines of one name is rejected")
    func duplicateNames() throws {
        let directory = try TestPaths.temporaryDirectory("pipelines")
        defer { try? FileManager.default.removeItem(at: directory) }
        let yaml = "name: same\nversion: 1\nmatch: {mediaTypes: [image]}\nstages:\n  - stage: checksum\n"
        try yaml.write(to: directory.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        try yaml.write(to: directory.appendingPathComponent("b.yaml"), atomically: true, encoding: .utf8)
        let error = #expect(throws: PipelineConfigError.self) { try PipelineLoader.loadDirectory(directory) }
        #expect(error?.message.contains("also defined in") == true)
    }

    @Test("quantities: sizes, counts and durations")
    func quantities() {
        #expect(Quantity.bytes("200MB") == 200_000_000)
        #expect(Quantity.bytes("1.5GiB") == 1_610_612_736)
        #expect(Quantity.bytes("512") == 512)
        #expect(Quantity.bytes("-3MB") == nil)
        #expect(Quantity.count("250M") == 250_000_000)
        #expect(Quantity.count("100MP") == 100_000_000)
        #expect(Quantity.duration("250ms") == .milliseconds(250))
        #expect(Quantity.duration("5m") == .seconds(300))
        #expect(Quantity.duration("2h") == .seconds(7200))
        #expect(Quantity.duration("soon") == nil)
    }
}
