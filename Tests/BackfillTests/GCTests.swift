@testable import Backfill
import Events
import Foundation
import MediaProcessing
import MediadTestSupport
import ObjectStorage
import PipelineEngine
import Testing

@Suite("mediad gc against moto, through the real binary", .serialized)
struct GCTests {
    /// A bucket with live files, orphans of every kind, and keys gc must never touch.
    struct Scene {
        /// Orphan folder prefix → the reason gc must give.
        var orphans: [String: String]
        /// Kept folders by reason, as the summary must count them.
        var kept: [String: Int]
        var folders: Int { orphans.count + kept.values.reduce(0, +) }
        /// Every key in the bucket before gc ran.
        var before: [String: String]

        /// What `--delete` must remove: every object of an orphan folder but its tombstone.
        var doomed: Set<String> {
            Set(before.keys.filter { key in
                orphans.keys.contains { key.hasPrefix($0) && !key.dropFirst($0.count).contains("/") } && !key.hasSuffix("/_deleted.json")
            })
        }
    }

    static let tiny = Array("x".utf8)

    /// Processes five real photos, then makes orphans of three of them and plants the rest by hand.
    static func plant(_ stack: BackfillStack) async throws -> Scene {
        let bucket = BackfillStack.bucket
        let store = stack.store
        let keys = try await stack.upload(5, prefix: "in/")
        let runner = try stack.runner()
        let processed = await runner.run(try await runner.plan(.init(source: .prefix(bucket: bucket, prefix: "in/"))), checkpoint: nil)
        #expect(processed.outcomes == ["succeeded": 5])
        let ids = keys.map { UploadEvent.stableFileId(bucket: bucket, key: $0) }
        for id in ids { #expect(try await stack.manifest(fileId: id) != nil, "\(id) has no manifest") }

        // (a) The original of a processed file is gone (deleted while mediad was not listening).
        try await store.delete(bucket: bucket, key: keys[0])
        // (b) A manifest made by a pipeline that no longer exists; its original is still there.
        var manifest = try #require(try await stack.manifest(fileId: ids[1]))
        var pipeline = try #require(manifest["pipeline"] as? [String: Any])
        pipeline["name"] = "retired-pipeline"
        manifest["pipeline"] = pipeline
        _ = try await store.put(bucket: bucket, key: "derived/\(ids[1])/manifest.json", data: try JSONSerialization.data(withJSONObject: manifest))
        // (c) Derivatives without a manifest: a processed file that lost it, a job that died
        // halfway (attempt marker and one derivative), and leftovers beside a tombstone.
        try await store.delete(bucket: bucket, key: "derived/\(ids[2])/manifest.json")
        for key in ["derived/halfdone/_attempt.json", "derived/halfdone/thumb-256.webp", "derived/leftover/_deleted.json", "derived/leftover/preview.webp"] {
            _ = try await store.put(bucket: bucket, key: key, bytes: tiny)
        }

        // Nested file ids: a live file's folder inside an orphan's, its keys among the orphan's
        // own (`manifest.json` < `p/manifest.json` < `preview.jpg`), and a nested orphan
        // after a live folder's keys.
        let live = try JSONSerialization.data(withJSONObject: try #require(try await stack.manifest(fileId: ids[3])))
        _ = try await store.put(bucket: bucket, key: "derived/\(ids[0])/p/manifest.json", data: live)
        _ = try await store.put(bucket: bucket, key: "derived/\(ids[4])/zz/thumb-256.webp", bytes: tiny)

        // Never to be touched: keys outside the layout, records alone, a manifest gc cannot read.
        for key in [
            "derivedfoo/x.jpg", "notes/derived/x", "derived/stray.txt", "derived/gone/_deleted.json", "derived/running/_attempt.json",
            "derived/garbled/manifest.json", "derived/garbled/thumb-256.webp",
        ] {
            _ = try await store.put(bucket: bucket, key: key, bytes: tiny)
        }
        return Scene(
            orphans: [
                "derived/\(ids[0])/": "original_missing", "derived/\(ids[1])/": "pipeline_removed", "derived/\(ids[2])/": "no_manifest",
                "derived/halfdone/": "no_manifest", "derived/leftover/": "no_manifest", "derived/\(ids[4])/zz/": "no_manifest",
            ],
            kept: ["live": 3, "tombstone": 1, "in_flight": 1, "unreadable_manifest": 1],
            before: try await stack.snapshot())
    }

    @Test("a dry run lists exactly the orphans and changes nothing; --delete removes exactly them; a second run finds none")
    func dryRunThenDelete() async throws {
        let stack = try await BackfillStack()
        defer { Task { await stack.stop() } }
        let scene = try await Self.plant(stack)
        let directory = try TestPaths.temporaryDirectory("gc")
        defer { try? FileManager.default.removeItem(at: directory) }

        let dry = try await MediadBinary.run(["gc", "s3://uploads", "--min-age", "0"], environment: stack.environment, currentDirectory: directory)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(Self.reported(dry.text, action: "orphan") == scene.orphans, "\(dry.text)")
        // Each line says why: the original that is gone, the pipeline, or what is left.
        let lines = dry.text.split(separator: "\n").filter { $0.hasPrefix("orphan ") }
        #expect(lines.contains { $0.contains("(original_missing: s3://uploads/in/000.jpg;") }, "\(lines)")
        #expect(lines.contains { $0.contains("(pipeline_removed: pipeline retired-pipeline v1;") }, "\(lines)")
        #expect(lines.contains { $0.hasSuffix("derived/halfdone/  (no_manifest: no manifest; 2 object(s), 2 bytes)") }, "\(lines)")
        #expect(try await stack.snapshot() == scene.before, "a dry run changed the bucket")
        #expect(Self.tableValue(dry.text, "folders scanned") == scene.folders, "\(dry.text)")
        #expect(Self.tableValue(dry.text, "orphans") == scene.orphans.count, "\(dry.text)")
        #expect(Self.tableValue(dry.text, "objects deleted") == nil, "a dry run reports no deletions: \(dry.text)")
        #expect(dry.text.contains("dry run: nothing was changed"), "\(dry.text)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty, "a finished run leaves no checkpoint")

        let run = try await MediadBinary.run(["gc", "s3://uploads", "--min-age", "0", "--delete"], environment: stack.environment, currentDirectory: directory)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(Self.reported(run.text, action: "deleted") == scene.orphans, "\(run.text)")
        let after = try await stack.snapshot()
        let removed = Set(scene.before.keys).subtracting(after.keys)
        #expect(removed == scene.doomed, "removed: \(removed.sorted())")
        #expect(Set(after.keys).isSubset(of: scene.before.keys))
        for (key, etag) in after { #expect(scene.before[key] == etag, "\(key) was rewritten") }
        #expect(after["derived/leftover/_deleted.json"] != nil, "tombstones stay")
        #expect(after["in/001.jpg"] != nil, "the original of a removed pipeline's file is not a candidate")
        #expect(after.keys.contains { $0.hasSuffix("/p/manifest.json") }, "a live nested file inside an orphan's folder stays")

        // The summary counts what it did.
        #expect(Self.tableValue(run.text, "folders scanned") == scene.folders, "\(run.text)")
        #expect(Self.tableValue(run.text, "orphans") == scene.orphans.count, "\(run.text)")
        #expect(Self.tableValue(run.text, "original_missing") == 1, "\(run.text)")
        #expect(Self.tableValue(run.text, "pipeline_removed") == 1, "\(run.text)")
        #expect(Self.tableValue(run.text, "no_manifest") == 4, "\(run.text)")
        #expect(Self.tableValue(run.text, "kept") == scene.kept.values.reduce(0, +), "\(run.text)")
        for (reason, count) in scene.kept { #expect(Self.tableValue(run.text, reason) == count, "\(reason): \(run.text)") }
        #expect(Self.tableValue(run.text, "objects deleted") == scene.doomed.count, "\(run.text)")
        #expect(Self.tableValue(run.text, "failed") == nil, "\(run.text)")

        let again = try await MediadBinary.run(["gc", "s3://uploads", "--min-age", "0", "--delete"], environment: stack.environment, currentDirectory: directory)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(Self.tableValue(again.text, "orphans") == 0, "\(again.text)")
        #expect(try await stack.snapshot() == after)
    }

    @Test("--delete reclaims the bytes it reports")
    func bytesReclaimed() async throws {
        let stack = try await BackfillStack()
        defer { Task { await stack.stop() } }
        var sizes = 0
        for (index, size) in [100, 2_000, 35_000].enumerated() {
            _ = try await stack.store.put(bucket: BackfillStack.bucket, key: "derived/dead-\(index)/thumb.webp", bytes: [UInt8](repeating: 7, count: size))
            sizes += size
        }
        let directory = try TestPaths.temporaryDirectory("gc-bytes")
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try await MediadBinary.run(["gc", "s3://uploads/derived/", "--min-age", "0", "--delete"], environment: stack.environment, currentDirectory: directory)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(Self.tableValue(run.text, "objects deleted") == 3, "\(run.text)")
        #expect(Self.tableValue(run.text, "bytes reclaimed") == sizes, "\(run.text)")
        #expect(try await stack.snapshot().isEmpty)
    }

    @Test("a run interrupted with Ctrl-C exits 130 with a checkpoint; the same command resumes and finishes; a second run finds nothing")
    func interruptAndResume() async throws {
        let stack = try await BackfillStack()
        defer { Task { await stack.stop() } }
        // Enough folders that the run is still going when the test has seen 48 of them done,
        // on a quiet machine too.
        let count = 2000
        let bulk = (0..<count).map { String(format: "derived/bulk-%04d/", $0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, folder) in bulk.enumerated() {
                if index >= 16 { try await group.next() }
                group.addTask { _ = try await stack.store.put(bucket: BackfillStack.bucket, key: folder + "thumb-256.webp", bytes: Self.tiny) }
            }
            try await group.waitForAll()
        }
        let protected = ["derived/gone/_deleted.json", "derived/running/_attempt.json", "derivedfoo/x.jpg", "notes/derived/x", "in/keep.jpg"]
        for key in protected { _ = try await stack.store.put(bucket: BackfillStack.bucket, key: key, bytes: Self.tiny) }
        let before = try await stack.snapshot()
        let directory = try TestPaths.temporaryDirectory("gc-resume")
        defer { try? FileManager.default.removeItem(at: directory) }
        let arguments = [MediadBinary.executable.path, "gc", "s3://uploads", "--delete", "--min-age", "0", "--checkpoint", "run.checkpoint"]
        let checkpoint = directory.appendingPathComponent("run.checkpoint")

        // First run: interrupted once some folders are gone.
        let process = try MediadBinary.start(Array(arguments.dropFirst()), environment: stack.environment, currentDirectory: directory)
        let deadline = ContinuousClock.now + .seconds(60)
        while Self.foldersDone(checkpoint) < 48, process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(process.isRunning, "the run must still be going when interrupted; plant more folders")
        process.interrupt()
        await process.exited()
        #expect(process.terminationStatus == 130)
        #expect(FileManager.default.fileExists(atPath: checkpoint.path), "an interrupted run leaves its checkpoint")
        let doneFirst = Self.foldersDone(checkpoint)
        let middle = try await stack.snapshot()
        let goneFirst = bulk.filter { middle[$0 + "thumb-256.webp"] == nil }.count
        #expect(goneFirst >= 48 && goneFirst < count, "removed before the interrupt: \(goneFirst)")
        // The checkpoint covers exactly what was removed (each batch is finished before it stops).
        #expect(doneFirst == goneFirst, "checkpoint: \(doneFirst) folders, removed: \(goneFirst)")
        for key in protected { #expect(middle[key] == before[key], "\(key)") }

        // Second run: the same command continues and finishes, reporting the whole run.
        let second = try await Command.run(arguments, currentDirectory: directory, environment: stack.environment)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("resuming from"), "\(second.stderr)")
        #expect(Self.tableValue(second.text, "orphans") == count, "\(second.text)")
        #expect(Self.tableValue(second.text, "objects deleted") == count, "\(second.text)")
        #expect(Self.tableValue(second.text, "tombstone") == 1 && Self.tableValue(second.text, "in_flight") == 1, "\(second.text)")
        // It judged only what the first run had not: none of its lines names a folder removed before.
        let resumed = Self.reported(second.text, action: "deleted")
        #expect(resumed.count == count - goneFirst, "\(resumed.count) reported by the resumed run")
        #expect(!FileManager.default.fileExists(atPath: checkpoint.path), "a finished run removes its checkpoint")
        let after = try await stack.snapshot()
        #expect(Set(after.keys) == Set(protected), "left: \(after.keys.sorted().prefix(10))")
        for key in protected { #expect(after[key] == before[key], "\(key)") }

        // A second full run finds nothing.
        let third = try await Command.run(arguments, currentDirectory: directory, environment: stack.environment)
        #expect(third.status == 0, "\(third.stderr)")
        #expect(!third.stderr.contains("resuming from"), "\(third.stderr)")
        #expect(Self.tableValue(third.text, "orphans") == 0, "\(third.text)")
        #expect(Self.tableValue(third.text, "folders scanned") == 2, "\(third.text)")
    }

    @Test("a PREFIX outside the derivatives layout is refused and changes nothing")
    func prefixOutsideLayout() async throws {
        let stack = try await BackfillStack()
        defer { Task { await stack.stop() } }
        for key in ["in/a.jpg", "derivedfoo/x.jpg", "notes/derived/x", "derived/orphan/thumb.webp"] {
            _ = try await stack.store.put(bucket: BackfillStack.bucket, key: key, bytes: Self.tiny)
        }
        let before = try await stack.snapshot()
        let directory = try TestPaths.temporaryDirectory("gc-outside")
        defer { try? FileManager.default.removeItem(at: directory) }
        for target in ["s3://uploads/in/", "s3://uploads/derivedfoo/", "s3://uploads/notes/derived/", "s3://uploads/der"] {
            let result = try await MediadBinary.run(["gc", target, "--delete", "--min-age", "0"], environment: stack.environment, currentDirectory: directory)
            #expect(result.status == 2, "\(target): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains("outside the derivatives layout (derived/)"), "\(target): \(result.stderr)")
            #expect(!result.text.contains("deleted"), "\(target): \(result.text)")
        }
        #expect(try await stack.snapshot() == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)

        // Inside the layout a narrower prefix is fine, and the layout's root without its slash too.
        for target in ["s3://uploads/derived/or", "s3://uploads/derived"] {
            let result = try await MediadBinary.run(["gc", target, "--min-age", "0"], environment: stack.environment, currentDirectory: directory)
            #expect(result.status == 0, "\(target): \(result.stderr)")
            #expect(Self.reported(result.text, action: "orphan") == ["derived/orphan/": "no_manifest"], "\(target): \(result.text)")
        }
    }

    @Test("a bucket that does not exist is a setup error (exit 2), not an interrupted run")
    func missingBucket() async throws {
        let stack = try await BackfillStack()
        defer { Task { await stack.stop() } }
        let directory = try TestPaths.temporaryDirectory("gc-missing")
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try await MediadBinary.run(["gc", "s3://no-such-bucket", "--min-age", "0"], environment: stack.environment, currentDirectory: directory)
        #expect(result.status == 2, "\(result.status) \(result.stderr)")
        #expect(result.stderr.contains("no-such-bucket"), "\(result.stderr)")
        #expect(!result.stderr.contains("run the same command again"), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test("a folder that cannot be emptied is reported FAILED, counted, and makes the exit status 1; the rest is removed")
    func undeletableFolder() async throws {
        let stack = try await BackfillStack()
        defer { Task { await stack.stop() } }
        let scene = try await Self.plant(stack)
        // moto applies a bucket policy to DeleteObjects key by key, as S3 does.
        let locked = try #require(scene.orphans.first { $0.value == "original_missing" }?.key)
        try await Self.setPolicy(stack, deny: "s3:DeleteObject", resource: locked + "*")
        let directory = try TestPaths.temporaryDirectory("gc-locked")
        defer { try? FileManager.default.removeItem(at: directory) }

        let result = try await MediadBinary.run(["gc", "s3://uploads", "--min-age", "0", "--delete"], environment: stack.environment, currentDirectory: directory)
        #expect(result.status == 1, "\(result.status) \(result.stderr)")
        #expect(Self.reported(result.text, action: "FAILED") == [locked: "original_missing"], "\(result.text)")
        var others = scene.orphans
        others[locked] = nil
        #expect(Self.reported(result.text, action: "deleted") == others, "\(result.text)")
        #expect(Self.tableValue(result.text, "failed") == 1, "\(result.text)")
        #expect(Self.tableValue(result.text, "orphans") == scene.orphans.count, "\(result.text)")
        let after = try await stack.snapshot()
        let removed = Set(scene.before.keys).subtracting(after.keys)
        #expect(removed == scene.doomed.filter { !$0.hasPrefix(locked) }, "removed: \(removed.sorted())")
        #expect(Self.tableValue(result.text, "objects deleted") == removed.count, "\(result.text)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty, "the run finished: no checkpoint")
    }

    @Test("a manifest the store refuses to give is a failure (exit 1), not a folder to keep or remove silently")
    func unreadableManifest() async throws {
        let stack = try await BackfillStack()
        defer { Task { await stack.stop() } }
        let scene = try await Self.plant(stack)
        let hidden = try #require(scene.orphans.first { $0.value == "pipeline_removed" }?.key)
        try await Self.setPolicy(stack, deny: "s3:GetObject", resource: hidden + "manifest.json")
        let directory = try TestPaths.temporaryDirectory("gc-hidden")
        defer { try? FileManager.default.removeItem(at: directory) }

        let result = try await MediadBinary.run(["gc", "s3://uploads", "--min-age", "0", "--delete"], environment: stack.environment, currentDirectory: directory)
        #expect(result.status == 1, "\(result.status) \(result.stderr)")
        #expect(result.stderr.contains(hidden), "the failure names the folder: \(result.stderr)")
        #expect(Self.tableValue(result.text, "failed") == 1, "\(result.text)")
        #expect(Self.tableValue(result.text, "orphans") == scene.orphans.count - 1, "\(result.text)")
        #expect(Self.tableValue(result.text, "unreadable_manifest") == 1, "only the garbled one: \(result.text)")
        var others = scene.orphans
        others[hidden] = nil
        #expect(Self.reported(result.text, action: "deleted") == others, "\(result.text)")
        let after = try await stack.snapshot()
        for (key, etag) in scene.before where key.hasPrefix(hidden) { #expect(after[key] == etag, "\(key)") }
    }

    @Test("a tombstone alone goes once older than the retention with its original gone; a recent one, one whose original is back, and an unreadable one stay")
    func tombstoneRetention() async throws {
        let stack = try await BackfillStack()
        defer { Task { await stack.stop() } }
        let bucket = BackfillStack.bucket
        let longAgo = Date().addingTimeInterval(-40 * 86_400)
        for (fileId, deletedAt) in [("old-gone", longAgo), ("old-back", longAgo), ("recent", Date().addingTimeInterval(-86_400))] {
            let tombstone = Tombstone(fileId: fileId, deletedAt: deletedAt, etag: "e", sequencer: nil, bucket: bucket, key: "in/\(fileId).jpg", instance: "test")
            _ = try await stack.store.put(bucket: bucket, key: "derived/\(fileId)/_deleted.json", data: try ManifestCoding.encoder(pretty: true).encode(tombstone))
        }
        _ = try await stack.store.put(bucket: bucket, key: "in/old-back.jpg", bytes: Self.tiny)
        _ = try await stack.store.put(bucket: bucket, key: "derived/garbled/_deleted.json", bytes: Self.tiny)
        let directory = try TestPaths.temporaryDirectory("gc-tombstones")
        defer { try? FileManager.default.removeItem(at: directory) }

        let dry = try await MediadBinary.run(["gc", "s3://uploads", "--min-age", "0"], environment: stack.environment, currentDirectory: directory)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(Self.reported(dry.text, action: "orphan") == ["derived/old-gone/": "tombstone_expired"], "\(dry.text)")
        #expect(Self.tableValue(dry.text, "tombstone") == 3, "\(dry.text)")

        let run = try await MediadBinary.run(["gc", "s3://uploads", "--min-age", "0", "--delete"], environment: stack.environment, currentDirectory: directory)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(Self.reported(run.text, action: "deleted") == ["derived/old-gone/": "tombstone_expired"], "\(run.text)")
        let after = try await stack.snapshot()
        #expect(Set(after.keys) == ["derived/old-back/_deleted.json", "derived/recent/_deleted.json", "derived/garbled/_deleted.json", "in/old-back.jpg"])

        // A shorter retention takes the recent one too; the one whose original is back stays.
        let short = try await MediadBinary.run(
            ["gc", "s3://uploads", "--min-age", "0", "--tombstone-retention", "3600"], environment: stack.environment, currentDirectory: directory)
        #expect(Self.reported(short.text, action: "orphan") == ["derived/recent/": "tombstone_expired"], "\(short.text)")
    }

    @Test("--min-age keeps freshly written orphans, reported as kept `recent`")
    func minAgeKeepsRecent() async throws {
        let stack = try await BackfillStack()
        defer { Task { await stack.stop() } }
        let scene = try await Self.plant(stack)
        let directory = try TestPaths.temporaryDirectory("gc-recent")
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try await MediadBinary.run(["gc", "s3://uploads", "--min-age", "3600", "--delete"], environment: stack.environment, currentDirectory: directory)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Self.reported(result.text, action: "deleted").isEmpty, "\(result.text)")
        #expect(Self.tableValue(result.text, "orphans") == 0, "\(result.text)")
        #expect(Self.tableValue(result.text, "recent") == scene.folders, "\(result.text)")
        #expect(Self.tableValue(result.text, "objects deleted") == 0, "\(result.text)")
        #expect(try await stack.snapshot() == scene.before)
        // The default is an hour too.
        let fallback = try await MediadBinary.run(["gc", "s3://uploads"], environment: stack.environment, currentDirectory: directory)
        #expect(fallback.status == 0, "\(fallback.stderr)")
        #expect(Self.tableValue(fallback.text, "recent") == scene.folders, "\(fallback.text)")
    }

    // MARK: Helpers

    /// The folders named by lines starting with `action` (`orphan`, `deleted`), with the reason given.
    static func reported(_ text: String, action: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix(action + " ") {
            let words = line.split(separator: " ")
            guard words.count >= 3 else { continue }
            #expect(result[String(words[1])] == nil, "reported twice: \(words[1])")
            result[String(words[1])] = String(words[2].drop { $0 == "(" }.prefix { $0 != ":" })
        }
        return result
    }

    /// A number from the summary table, by its label.
    static func tableValue(_ table: String, _ label: String) -> Int? {
        for line in table.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix(label + " "), let value = trimmed.split(separator: " ").last else { continue }
            if trimmed.dropFirst(label.count).trimmingCharacters(in: .whitespaces) == value { return Int(value) }
        }
        return nil
    }

    /// A bucket policy that denies `action` on `resource` (a key or pattern in the uploads
    /// bucket), set with boto3: moto applies it, as S3 does.
    static func setPolicy(_ stack: BackfillStack, deny action: String, resource: String) async throws {
        let policy = """
            {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "\(action)", \
            "Resource": "arn:aws:s3:::\(BackfillStack.bucket)/\(resource)"}]}
            """
        let script = "import boto3, sys; boto3.client('s3').put_bucket_policy(Bucket=sys.argv[1], Policy=sys.argv[2])"
        let result = try await Command.run(["python3", "-c", script, BackfillStack.bucket, policy], environment: stack.moto.environment)
        guard result.status == 0 else { throw CommandError(description: "put_bucket_policy failed: \(result.stderr)") }
    }

    static func foldersDone(_ checkpoint: URL) -> Int {
        guard let data = FileManager.default.contents(atPath: checkpoint.path),
              let saved = try? JSONDecoder().decode(GCCheckpoint.self, from: data)
        else { return 0 }
        return saved.summary.folders
    }
}

@Suite("OutputFolderGrouper and the layout check")
struct OutputFolderGrouperTests {
    static func object(_ key: String) -> ObjectInfo { ObjectInfo(bucket: "b", key: key, size: 1) }

    static func group(_ keys: [String], template: String = DerivativeLayout.defaultTemplate) -> [(String, [String])] {
        var grouper = OutputFolderGrouper(layout: DerivativeLayout(template: template))
        var folders = keys.flatMap { grouper.add(object($0)) }
        folders += grouper.finish()
        return folders.map { ($0.fileId, $0.objects.map(\.key)) }
    }

    @Test("groups a sorted listing into one folder per file id, nested ids too; keys outside the layout and mediad's own records are passed over")
    func groups() {
        let keys = [
            "derived/", "derived/_content/ab/abcd.image.json", "derived/a-b/x.webp", "derived/a/_attempt.json", "derived/a/manifest.json",
            "derived/a/nested/deep.webp", "derived/a/thumb.webp", "derived/b/_deleted.json", "derived/stray.txt", "derivedfoo/x.jpg",
        ]
        let folders = Self.group(keys)
        #expect(folders.map(\.0) == ["a-b", "a/nested", "a", "b"])
        #expect(folders.map(\.1) == [
            ["derived/a-b/x.webp"], ["derived/a/nested/deep.webp"], ["derived/a/_attempt.json", "derived/a/manifest.json", "derived/a/thumb.webp"],
            ["derived/b/_deleted.json"],
        ])
    }

    @Test("a nested folder among its parent's keys closes first; the resume point never passes a key of a folder still open")
    func nestedResumePoint() {
        var grouper = OutputFolderGrouper(layout: DerivativeLayout(), startAfter: "derived/0")
        #expect(grouper.add(Self.object("derived/a/manifest.json")).isEmpty)
        #expect(grouper.resumePoint == "derived/0" && grouper.openPrefixes == ["derived/a/"])
        #expect(grouper.add(Self.object("derived/a/n/deeper/x.webp")).isEmpty)
        #expect(grouper.openPrefixes == ["derived/a/", "derived/a/n/deeper/"])
        let closed = grouper.add(Self.object("derived/a/n/manifest.json"))
        #expect(closed.map(\.fileId) == ["a/n/deeper"])
        #expect(grouper.add(Self.object("derived/a/preview.jpg")).map(\.fileId) == ["a/n"])
        #expect(grouper.resumePoint == "derived/0", "a's first key is still before any safe point")
        #expect(grouper.listedThrough == "derived/a/preview.jpg")
        let last = grouper.add(Self.object("derived/b/manifest.json"))
        #expect(last.map(\.fileId) == ["a"] && last.first?.objects.count == 2)
        #expect(grouper.resumePoint == "derived/a/preview.jpg" && grouper.openPrefixes == ["derived/b/"])
        #expect(grouper.finish().map(\.fileId) == ["b"])
        #expect(grouper.resumePoint == "derived/b/manifest.json")

        // A resumed run passes over the folders that closed before the save, not the open ones.
        let saved = GCCheckpoint(selection: "s", startAfter: "derived/0", listedThrough: "derived/a/preview.jpg", openFolders: ["derived/a/"])
        let folder = { (id: String, keys: [String]) in OutputFolder(fileId: id, prefix: "derived/\(id)/", objects: keys.map(Self.object)) }
        #expect(saved.judged(folder("a/n", ["derived/a/n/manifest.json"])))
        #expect(!saved.judged(folder("a", ["derived/a/manifest.json", "derived/a/preview.jpg"])))
        #expect(!saved.judged(folder("b", ["derived/b/manifest.json"])))
    }

    @Test("reprocess's manifest index reads the manifests of nested file ids too")
    func nestedManifests() async throws {
        let root = try TestPaths.temporaryDirectory("manifest-index")
        defer { try? FileManager.default.removeItem(at: root) }
        let store = LocalObjectStore(root: root)
        try await store.createBucket("uploads")
        let layout = DerivativeLayout()
        for (fileId, key) in [("a", "in/a.jpg"), ("a/b", "in/b.jpg"), ("album/2024/c", "in/c.jpg")] {
            let source = SourceInfo(bucket: "uploads", key: key, size: 1, mediaType: .image, contentType: "image/jpeg", etag: "e-\(fileId)")
            let manifest = ProcessedData.failed(fileId: fileId, ownerId: nil, albumId: nil, source: source, ProcessingIssue(stage: "intake", code: "corrupt", message: "x"))
            _ = try await store.put(bucket: "uploads", key: layout.manifestKey(fileId: fileId), data: try ManifestCoding.encoder(pretty: false).encode(manifest))
        }
        let index = try await ManifestIndex.load(store: store, bucket: "uploads", keyTemplate: DerivativeLayout.defaultTemplate)
        #expect(index.entry(bucket: "uploads", key: "in/a.jpg")?.fileId == "a")
        #expect(index.entry(bucket: "uploads", key: "in/b.jpg")?.fileId == "a/b")
        #expect(index.entry(bucket: "uploads", key: "in/c.jpg")?.fileId == "album/2024/c")
        #expect(index.unreadable.isEmpty)
    }

    @Test("a key with an empty file id is no file's output")
    func emptyFileId() {
        #expect(Self.group(["derived//manifest.json", "derived//x.webp"]).isEmpty)
    }

    @Test("another template: its own root")
    func otherTemplate() {
        let folders = Self.group(["out/v1/f1/manifest.json", "out/v1/f1/thumb.jpg", "out/v1/f2/manifest.json", "other/f3/x"], template: "out/v1/{fileId}/{name}.{ext}")
        #expect(folders.map(\.0) == ["f1", "f2"])
        #expect(folders.first?.1 == ["out/v1/f1/manifest.json", "out/v1/f1/thumb.jpg"])
    }

    @Test("templates without a folder per file, and prefixes outside the layout, are refused")
    func problems() {
        let layout = DerivativeLayout()
        #expect(GarbageCollector.problem(with: layout, prefix: "derived/") == nil)
        #expect(GarbageCollector.problem(with: layout, prefix: "derived/s3-") == nil)
        #expect(GarbageCollector.problem(with: layout, prefix: "in/") != nil)
        #expect(GarbageCollector.problem(with: layout, prefix: "derivedfoo/") != nil)
        #expect(GarbageCollector.problem(with: layout, prefix: "") != nil)
        #expect(GarbageCollector.problem(with: DerivativeLayout(template: "derived/{fileId}-{name}.{ext}"), prefix: "derived/") != nil)
        #expect(GarbageCollector.problem(with: DerivativeLayout(template: "{fileId}/{name}.{ext}"), prefix: "") != nil)
        #expect(Self.group(["derived/a-thumb.webp"], template: "derived/{fileId}-{name}.{ext}").isEmpty)
    }
}
