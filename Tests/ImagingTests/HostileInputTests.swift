import Foundation
import MediadTestSupport
import PipelineEngine
import Testing

// libvips keeps one error buffer per process: two hostile files decoding at once in this test
// process could read each other's message (workers run one job at a time, so mediad cannot).
@Suite("Bad input: clear errors, bounded cost, no crash", .serialized)
struct HostileInputTests {
    @Test(
        "each hostile fixture fails with its own error code",
        arguments: [
            ("truncated.jpg", "truncated_file", "thumbnail"), ("empty.jpg", "empty_file", "intake"),
            ("text.jpg", "unsupported_type", "intake"), ("vector.svg", "unsupported_type", "intake"),
            ("bomb.png", "too_many_pixels", "inspect"), ("bomb.jpg", "too_many_pixels", "inspect"),
            ("corrupt.jpg", "corrupt_file", "inspect"),
        ]
    )
    func hostile(fixture: String, code: String, stage: String) async throws {
        let data = try await ImageHarness().process(fixture: fixture)
        #expect(data.status == .failed)
        #expect(data.errors.first?.code == code, "\(data.errors)")
        #expect(data.errors.first?.stage == stage)
        #expect(data.errors.allSatisfy { !$0.retryable }, "bad bytes never get better on retry")
        #expect(data.derivatives.isEmpty)
        // Bounded work: nothing is decoded in full. The stages' own times are summed, since
        // `total` also counts waits for a thread of the pool that this test process shares
        // with the suites running beside it (10 s of them on a loaded machine).
        let work = data.timings.filter { $0.key != "total" && $0.key != "queued" }.values.reduce(0, +)
        #expect(work < 10_000, "\(data.timings)")
    }

    @Test("a text file named .jpg is reported as a type mismatch")
    func mismatch() async throws {
        let data = try await ImageHarness().process(TestPaths.image("text.jpg"), declared: "image/jpeg")
        #expect(data.source.contentType == "text/plain")
        #expect(data.source.declaredContentType == "image/jpeg")
        #expect(data.warnings.map(\.code) == ["content_type_mismatch"])
    }

    @Test("bombs are rejected from the header: checksums still identify the file")
    func bombKeepsChecksums() async throws {
        let data = try await ImageHarness().process(fixture: "bomb.png")
        #expect(data.source.sha256?.count == 64)
        #expect(data.metadata.width == nil, "nothing decoded")
        #expect((data.timings["inspect"] ?? 1000) < 500)
    }

    @Test("a stage past its timeout is stopped, and leaves no file behind")
    func timeout() async throws {
        let harness = try ImageHarness(yaml: """
            name: hurried
            version: 1
            match: {mediaTypes: [image]}
            limits: {timeout: 1ms}
            stages:
              - {stage: thumbnail, name: big, fit: long-side, size: 8000, format: png}
            """)
        let data = try await harness.process(TestPaths.image("panorama.jpg"))
        #expect(data.status == .failed)
        #expect(data.errors.first?.code == "timeout", "\(data.errors)")
        #expect(data.errors.first?.retryable == false)
        let folder = harness.output.appendingPathComponent("panorama")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        #expect(left == ["manifest.json"])
    }

    @Test("a pipeline over a loader that is unsafe on untrusted input gets loader_disabled")
    func untrustedLoader() async throws {
        let harness = try ImageHarness(yaml: """
            name: vector
            version: 1
            match: {mediaTypes: [image], formats: [svg]}
            stages:
              - {stage: thumbnail, size: 64}
            """)
        let data = try await harness.process(TestPaths.image("vector.svg"))
        #expect(data.status == .failed)
        #expect(data.errors.first?.code == "loader_disabled", "\(data.errors)")
        #expect(data.errors.first?.message.contains("untrusted") == true)
    }

    @Test("a truncated file may be decoded when the pipeline allows it (failOn: none)")
    func tolerantDecoding() async throws {
        let harness = try ImageHarness(yaml: """
            name: tolerant
            version: 1
            match: {mediaTypes: [image]}
            decode: {failOn: none}
            stages:
              - {stage: thumbnail, size: 100}
            """)
        let data = try await harness.process(TestPaths.image("truncated.jpg"))
        #expect(data.status == .succeeded, "\(data.errors)")
    }
}
