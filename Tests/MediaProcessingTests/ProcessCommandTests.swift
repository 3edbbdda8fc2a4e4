import Foundation
import MediadTestSupport
import Testing

/// The `mediad` executable built beside the test bundle, run as a user would run it.
typealias Mediad = MediadBinary

@Suite("mediad process, end to end", .serialized)
struct ProcessCommandTests {
    @Test("mediad installed without mediad-native says so and exits before any job; isolation: none says so too")
    func withoutNativeBinary() throws {
        let alone = try TestPaths.temporaryDirectory("alone")
        defer { try? FileManager.default.removeItem(at: alone) }
        let binary = alone.appendingPathComponent("mediad")
        try FileManager.default.copyItem(at: Mediad.executable, to: binary)
        let out = alone.appendingPathComponent("out")
        for isolation in ["process", "none"] {
            let result = try Command.run(
                [binary.path, "process", TestPaths.image("exif-rich.jpg").path, "--out", out.path, "--isolation", isolation],
                currentDirectory: TestPaths.root)
            #expect(result.status != 0 && result.stderr.contains("mediad-native"), "\(isolation): \(result.status) \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("exif-rich/manifest.json").path), "\(isolation) ran the job")
        }
    }

    @Test("every fixture gets a schema-valid manifest; hostile files fail and the exit code says so")
    func allFixtures() throws {
        let out = try TestPaths.temporaryDirectory("cli")
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try Mediad.run(["process", TestPaths.images.path, "--out", out.path, "--json"])
        #expect(result.status == 1, "hostile fixtures fail, so the run fails: \(result.stderr)")

        let lines = result.text.split(separator: "\n")
        let fixtures = try FileManager.default.contentsOfDirectory(atPath: TestPaths.images.path).filter { !$0.hasPrefix(".") }
        #expect(lines.count == fixtures.count)
        let jsonl = out.appendingPathComponent("all.jsonl")
        try result.stdout.write(to: jsonl)

        var failed: Set<String> = []
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let fileId = try #require(object["fileId"] as? String)
            if object["status"] as? String == "failed" { failed.insert(fileId) }
            // The manifest on disk says the same as the line on stdout.
            let manifest = out.appendingPathComponent(fileId).appendingPathComponent("manifest.json")
            let stored = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: manifest)) as? [String: Any])
            #expect(stored["status"] as? String == object["status"] as? String)
            #expect(NSDictionary(dictionary: stored["derivatives"].map { ["d": $0] } ?? [:]) == NSDictionary(dictionary: object["derivatives"].map { ["d": $0] } ?? [:]))
            for derivative in (object["derivatives"] as? [[String: Any]] ?? []) {
                guard let key = derivative["key"] as? String else { continue }
                #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(key).path), "\(key) is missing")
            }
        }
        #expect(failed == ["bomb", "bomb.png", "corrupt", "empty", "text", "truncated", "vector"])

        // Every output, failures included, validates against the published schema.
        let schema = TestPaths.schemas.appendingPathComponent("media.processed.data.schema.json")
        let manifests = try FileManager.default.contentsOfDirectory(atPath: out.path)
            .map { out.appendingPathComponent($0).appendingPathComponent("manifest.json") }
            .filter { FileManager.default.fileExists(atPath: $0.path) }
        #expect(manifests.count == fixtures.count)
        let validation = try Command.run(
            ["python3", TestPaths.root.appendingPathComponent("scripts/validate-json.py").path, schema.path, jsonl.path] + manifests.map(\.path))
        #expect(validation.status == 0, "\(validation.text)\(validation.stderr)")
        #expect(validation.text.contains("\(fixtures.count * 2) document(s) checked, 0 problem(s)"))
    }

    @Test("the readable summary, and exit 0 when every file succeeds")
    func summary() throws {
        let out = try TestPaths.temporaryDirectory("cli")
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try Mediad.run(["process", TestPaths.image("exif-rich.jpg").path, TestPaths.image("orientation-6.jpg").path, "--out", out.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text.contains("✓ exif-rich.jpg: succeeded"))
        #expect(result.text.contains("taken 2023-07-14T18:42:07.25+02:00"))
        #expect(result.text.contains("2 file(s) in"))
        #expect(result.text.contains("2 succeeded, 0 partial, 0 failed"))
        for name in ["thumbnail.webp", "preview.jpg", "manifest.json"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("exif-rich/\(name)").path))
        }
    }

    @Test("a forced pipeline, and an unknown one")
    func pipelineOption() throws {
        let out = try TestPaths.temporaryDirectory("cli")
        defer { try? FileManager.default.removeItem(at: out) }
        let unknown = try Mediad.run(["process", TestPaths.image("exif-rich.jpg").path, "--out", out.path, "--pipeline", "nope"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("no pipeline named 'nope'"))
    }

    @Test("pipelines validate: the shipped files pass; a broken one names file, line, stage and field")
    func validate() throws {
        let ok = try Mediad.run(["pipelines", "validate"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.text.contains("image v1"))
        #expect(ok.text.contains("pipeline(s) valid"))

        let directory = try TestPaths.temporaryDirectory("bad")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("bad.yaml")
        try "name: bad\nversion: 1\nmatch: {mediaTypes: [image]}\nstages:\n  - stage: thumbnail\n    name: small\n    size: 200\n    quality: 900\n"
            .write(to: file, atomically: true, encoding: .utf8)
        let bad = try Mediad.run(["pipelines", "validate", file.path])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("bad.yaml:8:14: stage 'small': field 'stages[0].quality': must be from 1 to 100, got 900"), "\(bad.stderr)")
    }
}
