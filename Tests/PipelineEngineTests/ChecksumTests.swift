import Foundation
import Logging
import MediadTestSupport
import PipelineEngine
import Testing

@Suite("Streaming checksums")
struct ChecksumTests {
    @Test("SHA-256 and MD5 equal sha256sum and md5sum", arguments: ["exif-rich.jpg", "empty.jpg", "panorama.jpg", "rgb16.png"])
    func fixtures(name: String) throws {
        let file = TestPaths.image(name)
        let digests = try Checksummer.digest(file: file)
        let sha = try Command.check(["sha256sum", file.path]).text.split(separator: " ").first.map(String.init)
        let md5 = try Command.check(["md5sum", file.path]).text.split(separator: " ").first.map(String.init)
        #expect(digests.sha256 == sha)
        #expect(digests.md5 == md5)
        #expect(digests.bytes == (try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber)?.int64Value)
    }

    @Test("a file spanning many chunks with a ragged tail")
    func largeFile() throws {
        let directory = try TestPaths.temporaryDirectory("checksum")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("big.bin")
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<(Checksummer.chunkSize * 5 + 12_345)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try Data(bytes).write(to: file)
        let digests = try Checksummer.digest(file: file)
        let sha = try Command.check(["sha256sum", file.path]).text.prefix(64)
        #expect(digests.sha256 == String(sha))
        #expect(digests.bytes == Int64(bytes.count))
    }

    @Test("a missing file is an io_error, not a crash")
    func missingFile() {
        let error = #expect(throws: StageFailure.self) { try Checksummer.digest(file: URL(fileURLWithPath: "/nonexistent/file")) }
        #expect(error?.code == .ioError)
    }

    @Test("the checksum stage takes digests the download already computed, and reads the file only for the missing one")
    func knownDigests() throws {
        let pipeline = try PipelineLoader.parse(
            "name: c\nversion: 1\nmatch: {mediaTypes: [image]}\nstages:\n  - stage: checksum\n", file: "c.yaml")
        let file = TestPaths.image("exif-rich.jpg")
        func run(_ known: KnownDigests) throws -> JobContext {
            let job = JobContext(
                file: file, size: 1, sniffed: SniffedType(mediaType: .image, contentType: "image/jpeg", format: "jpeg"),
                pipeline: pipeline, workDirectory: FileManager.default.temporaryDirectory, logger: Logger.quiet)
            job.knownDigests = known
            try ChecksumStage().run(pipeline.stages[0], job: job)
            return job
        }
        let computed = try Checksummer.digest(file: file)
        // A known value is taken as is (here a marker, to show the file was not read for it).
        let both = try run(KnownDigests(sha256: "known-sha", md5: "known-md5"))
        #expect(both.sha256 == "known-sha" && both.md5 == "known-md5")
        let half = try run(KnownDigests(sha256: "known-sha"))
        #expect(half.sha256 == "known-sha" && half.md5 == computed.md5)
        let none = try run(KnownDigests())
        #expect(none.sha256 == computed.sha256 && none.md5 == computed.md5)
    }
}
