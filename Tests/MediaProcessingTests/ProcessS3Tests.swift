import Events
import Foundation
import MediadTestSupport
import Testing

@Suite("mediad process and storage against a real S3 API (moto, signatures verified)", .serialized)
struct ProcessS3Tests {
    /// Listing a prefix with `/` or spaces signs a query value moto cannot verify,
    /// so this round trip runs on a server without verification; the next test verifies.
    @Test("a prefix of objects in, derivatives and manifests out, through S3 only")
    func roundTrip() throws {
        let moto = try MotoHarness(verifying: false)
        defer { moto.stop() }
        let env = moto.environment
        let made = try Mediad.run(["storage", "mb", "s3://media"], environment: env)
        #expect(made.status == 0, "\(made.stderr)")

        let inbox = try TestPaths.temporaryDirectory("inbox")
        defer { try? FileManager.default.removeItem(at: inbox) }
        for name in ["exif-rich.jpg", "orientation-6.jpg", "truncated.jpg"] {
            try FileManager.default.copyItem(at: TestPaths.image(name), to: inbox.appendingPathComponent(name))
        }
        let upload = try Mediad.run(["storage", "cp", "--recursive", inbox.path, "s3://media/uploads/2024 trip/"], environment: env)
        #expect(upload.status == 0, "\(upload.stderr)")
        #expect(upload.text.contains("3 file(s)"))

        let run = try Mediad.run(["process", "s3://media/uploads/2024 trip/", "--out", "s3://media/derived", "--json"], environment: env)
        #expect(run.status == 1, "the truncated file fails: \(run.stderr)")
        let lines = run.text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(lines.count == 3)
        // Objects get the id a bucket notification would give them: stable whatever else is listed.
        let richID = UploadEvent.stableFileId(bucket: "media", key: "uploads/2024 trip/exif-rich.jpg")
        let truncatedID = UploadEvent.stableFileId(bucket: "media", key: "uploads/2024 trip/truncated.jpg")
        let rich = try #require(lines.first { $0["fileId"] as? String == richID })
        let source = try #require(rich["source"] as? [String: Any])
        #expect(source["bucket"] as? String == "media")
        #expect(source["key"] as? String == "uploads/2024 trip/exif-rich.jpg")
        #expect((source["etag"] as? String)?.isEmpty == false)
        let derivatives = try #require(rich["derivatives"] as? [[String: Any]])
        #expect(Set(derivatives.compactMap { $0["key"] as? String }) == ["derived/\(richID)/thumbnail.webp", "derived/\(richID)/preview.jpg"])
        #expect(derivatives.allSatisfy { $0["bucket"] == nil || $0["bucket"] as? String == "media" })

        let listing = try Mediad.run(["storage", "ls", "s3://media/derived/"], environment: env)
        #expect(listing.status == 0, "\(listing.stderr)")
        let keys = Set(listing.text.split(separator: "\n").compactMap { $0.split(separator: "\t").last.map(String.init) })
        #expect(keys.isSuperset(of: ["derived/\(richID)/thumbnail.webp", "derived/\(richID)/preview.jpg", "derived/\(richID)/manifest.json", "derived/\(truncatedID)/manifest.json"]))

        // A second run over the whole bucket takes the originals again, never the outputs.
        let again = try Mediad.run(["process", "s3://media/", "--out", "s3://media/derived", "--json"], environment: env)
        let relisted = again.text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(Set(relisted.compactMap { ($0["source"] as? [String: Any])?["key"] as? String }) == Set(["exif-rich.jpg", "orientation-6.jpg", "truncated.jpg"].map { "uploads/2024 trip/\($0)" }))
        #expect(Set(relisted.compactMap { $0["fileId"] as? String }).isSuperset(of: [richID, truncatedID]), "the same ids as the first run")

        // What landed in S3 is what was reported: download and compare the preview's checksum.
        let back = try TestPaths.temporaryDirectory("back")
        defer { try? FileManager.default.removeItem(at: back) }
        let download = try Mediad.run(["storage", "cp", "s3://media/derived/\(richID)/preview.jpg", back.appendingPathComponent("p.jpg").path], environment: env)
        #expect(download.status == 0, "\(download.stderr)")
        let preview = try #require(derivatives.first { $0["name"] as? String == "preview" })
        let sha = try Command.check(["sha256sum", back.appendingPathComponent("p.jpg").path]).text.prefix(64)
        #expect(preview["sha256"] as? String == String(sha))
    }

    @Test("signed requests: one object processed into S3; a wrong secret is a signature error")
    func signatures() throws {
        let moto = try MotoHarness()
        defer { moto.stop() }
        var env = moto.environment
        #expect(try Mediad.run(["storage", "mb", "s3://media"], environment: env).status == 0)
        #expect(try Mediad.run(["storage", "cp", TestPaths.image("gps-south-west.jpg").path, "s3://media/in.jpg"], environment: env).status == 0)
        let run = try Mediad.run(["process", "s3://media/in.jpg", "--out", "s3://media/out"], environment: env)
        #expect(run.status == 0, "\(run.text) \(run.stderr)")
        #expect(run.text.contains("✓ in.jpg: succeeded"))
        let manifest = try TestPaths.temporaryDirectory("manifest")
        defer { try? FileManager.default.removeItem(at: manifest) }
        let get = try Mediad.run(["storage", "cp", "s3://media/out/\(UploadEvent.stableFileId(bucket: "media", key: "in.jpg"))/manifest.json", manifest.appendingPathComponent("m.json").path], environment: env)
        #expect(get.status == 0, "\(get.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: manifest.appendingPathComponent("m.json"))) as? [String: Any]
        #expect((object?["metadata"] as? [String: Any])?["model"] as? String == "iPhone 15 Pro")

        env["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
        let result = try Mediad.run(["storage", "cp", TestPaths.image("exif-rich.jpg").path, "s3://media/a.jpg"], environment: env)
        #expect(result.status != 0)
        #expect(result.stderr.contains("SignatureDoesNotMatch") || result.stderr.lowercased().contains("signature"), "\(result.stderr)")
    }
}
