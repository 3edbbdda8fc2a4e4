import Foundation
import MediadTestSupport
import Testing

@Suite("Mutation fuzzing through mediad process", .serialized, .timeLimit(.minutes(15)))
struct MutationFuzzTests {
    static let seed: UInt64 = 20_261_201

    @Test("thousands of seeded mutants of every image and video fixture: each gets an outcome, the parent never crashes")
    func mutants() async throws {
        let images = try FileManager.default.contentsOfDirectory(at: TestPaths.images, includingPropertiesForKeys: nil)
            .filter { !["bomb.png", "bomb.jpg", "panorama.jpg"].contains($0.lastPathComponent) }.sorted { $0.path < $1.path }
        let videos = try FileManager.default.contentsOfDirectory(at: TestPaths.fixtures.appendingPathComponent("video"), includingPropertiesForKeys: nil)
            .sorted { $0.path < $1.path }
        let directory = try TestPaths.temporaryDirectory("fuzz")
        defer { try? FileManager.default.removeItem(at: directory) }
        let inputs = try Mutator.mutants(of: images, count: 90, seed: Self.seed, into: directory.appendingPathComponent("in"))
            + Mutator.mutants(of: videos, count: 12, seed: Self.seed, into: directory.appendingPathComponent("in"))
        #expect(inputs.count >= 2000)

        // Minutes of waiting for a child: on a Dispatch thread, not one of the few cooperative ones.
        let arguments = [
            "process", directory.appendingPathComponent("in").path, "--out", directory.appendingPathComponent("out").path,
            "--json", "--concurrency", "2",
        ]
        let result = try await MediadBinary.run(arguments)
        // 0: all fine, 1: some files failed; a signal or any other status is a parent crash.
        #expect(result.status == 0 || result.status == 1, "status \(result.status): \(result.stderr.suffix(2000))")
        let lines = result.text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(lines.count == inputs.count, "every input has an outcome: \(lines.count) of \(inputs.count)")
        let statuses = Dictionary(grouping: lines, by: { $0["status"] as? String ?? "?" }).mapValues(\.count)
        #expect(Set(statuses.keys).isSubset(of: ["succeeded", "partial", "failed"]), "\(statuses)")
        let crashers = lines.filter { ($0["errors"] as? [[String: Any]] ?? []).contains { $0["code"] as? String == "worker_crashed" } }
            .compactMap { ($0["source"] as? [String: Any])?["key"] as? String }
        print("fuzz: \(inputs.count) mutants (seed \(Self.seed)): \(statuses); worker crashes: \(crashers.count) \(crashers.prefix(10))")
    }
}
