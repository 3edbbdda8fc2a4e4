import Backfill
import Daemon
import Events
import Foundation
import Kafka
import MediaProcessing
import ObjectStorage
import MediadTestSupport
import Testing

@Suite("mediad reprocess against moto and the mock broker", .serialized)
struct ReprocessTests {
    /// The shipped pipelines with `image` at version 2: what a pipeline change looks like.
    static func pipelinesV2() throws -> URL {
        let directory = try TestPaths.temporaryDirectory("pipelines-v2")
        for name in try FileManager.default.contentsOfDirectory(atPath: TestPaths.pipelines.path) where name.hasSuffix(".yaml") {
            var text = try String(contentsOf: TestPaths.pipelines.appendingPathComponent(name), encoding: .utf8)
            if name == "image.yaml" {
                #expect(text.contains("\nversion: 1\n"), "image.yaml is expected at version 1")
                text = text.replacingOccurrences(of: "\nversion: 1\n", with: "\nversion: 2\n")
            }
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return directory
    }

    @Test("--only-outdated picks exactly the files without a manifest or with an older pipeline version; a second run finds nothing")
    func onlyOutdated() async throws {
        let stack = try await BackfillStack()
        defer { Task { await stack.stop() } }
        let v2 = try Self.pipelinesV2()
        defer { try? FileManager.default.removeItem(at: v2) }
        let old = try await stack.upload(3, prefix: "a/")
        let current = try await stack.upload(2, prefix: "b/")
        let never = try await stack.upload(2, prefix: "c/")

        // History: a/ processed by image v1, b/ by image v2, c/ never.
        let first = try await stack.runner().run(stack.runner().plan(.init(source: .prefix(bucket: BackfillStack.bucket, prefix: "a/"))), checkpoint: nil)
        #expect(first.outcomes == ["succeeded": 3])
        let second = try await stack.runner(pipelines: v2).run(stack.runner(pipelines: v2).plan(.init(source: .prefix(bucket: BackfillStack.bucket, prefix: "b/"))), checkpoint: nil)
        #expect(second.outcomes == ["succeeded": 2])
        let currentBefore = try await currentManifests(stack, keys: current)

        let runner = try stack.runner(pipelines: v2)
        let plan = try await runner.plan(.init(source: .prefix(bucket: BackfillStack.bucket, prefix: "")))
        let decisions = Dictionary(uniqueKeysWithValues: plan.items.map { ($0.candidate.key, $0.decision) })
        // mediad's own derived/ keys are never candidates.
        #expect(Set(decisions.keys) == Set(old + current + never))
        for key in old { #expect(decisions[key] == .process(.olderPipeline(name: "image", stored: 1, current: 2)), "\(key)") }
        for key in never { #expect(decisions[key] == .process(.noManifest), "\(key)") }
        for key in current { #expect(decisions[key] == .skip(.upToDate(pipeline: "image", version: 2)), "\(key)") }

        let summary = await runner.run(plan, checkpoint: nil)
        #expect(summary.outcomes == ["succeeded": 5])
        #expect(summary.skipped == ["up to date": 2])
        for key in old + never {
            let fileId = UploadEvent.stableFileId(bucket: BackfillStack.bucket, key: key)
            let pipeline = try #require(try await stack.manifest(fileId: fileId)?["pipeline"] as? [String: Any], "\(key)")
            #expect(pipeline["version"] as? Int == 2, "\(key)")
        }
        // The current ones were not touched.
        #expect(try await currentManifests(stack, keys: current) == currentBefore)
        // Safe to run twice: nothing is outdated any more.
        let again = try await runner.plan(.init(source: .prefix(bucket: BackfillStack.bucket, prefix: "")))
        #expect(again.toProcess == 0)
    }

    private func currentManifests(_ stack: BackfillStack, keys: [String]) async throws -> [String] {
        var result: [String] = []
        for key in keys {
            let manifest = try #require(try await stack.manifest(fileId: UploadEvent.stableFileId(bucket: BackfillStack.bucket, key: key)))
            result.append("\(key) \(manifest["processedAt"] ?? "")")
        }
        return result
    }

    @Test("--dry-run lists every decision and changes nothing: no derivatives, no events, no checkpoint")
    func dryRun() async throws {
        let stack = try await BackfillStack()
        defer { Task { await stack.stop() } }
        let keys = try await stack.upload(3, prefix: "photos/")
        let before = try await stack.snapshot()
        let directory = try TestPaths.temporaryDirectory("dry-run")
        defer { try? FileManager.default.removeItem(at: directory) }

        for extra in [[], ["--publish"], ["--all", "--emit"]] {
            let result = try await MediadBinary.run(["reprocess", "s3://uploads/photos/", "--dry-run"] + extra, environment: stack.environment, currentDirectory: directory)
            #expect(result.status == 0, "\(result.stderr)")
            for key in keys { #expect(result.text.contains("uploads/\(key)"), "\(result.text)") }
            #expect(result.text.contains("dry run: 3 to"), "\(result.text)")
        }
        #expect(try await stack.snapshot() == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        let produced = try await stack.collect(1, topics: [stack.configuration.reprocessTopic, stack.configuration.outputTopic], timeout: .seconds(8))
        #expect(produced.isEmpty)
    }

    @Test("a failed file shows in the summary by its error code and makes the exit status 1")
    func failureExitStatus() async throws {
        let stack = try await BackfillStack()
        defer { Task { await stack.stop() } }
        try await stack.upload(1, of: "truncated.jpg", prefix: "broken/")
        try await stack.upload(1, of: "exif-rich.jpg", prefix: "broken/ok-")
        let directory = try TestPaths.temporaryDirectory("failure")
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try await MediadBinary.run(["reprocess", "s3://uploads/broken/"], environment: stack.environment, currentDirectory: directory)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(tableValue(result.text, "succeeded") == 1, "\(result.text)")
        #expect(tableValue(result.text, "truncated_file") == 1, "\(result.text)")
        // The run finished: its checkpoint is gone even though a file failed.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test("a tombstone the store refuses to give is a failure (store_failed), never read as 'not deleted'; once readable, it is obeyed")
    func unreadableTombstone() async throws {
        let stack = try await BackfillStack()
        defer { Task { await stack.stop() } }
        let key = try #require(try await stack.upload(1, prefix: "deleted/").first)
        let fileId = UploadEvent.stableFileId(bucket: BackfillStack.bucket, key: key)
        let original = try await stack.store.head(bucket: BackfillStack.bucket, key: key)
        // The file was deleted (this very version), and S3 now refuses to give the tombstone.
        let tombstoneKey = DerivativeLayout().tombstoneKey(fileId: fileId)
        let tombstone = Tombstone(fileId: fileId, deletedAt: Date(), etag: original.etag, sequencer: nil, bucket: BackfillStack.bucket, key: key, instance: "test")
        _ = try await stack.store.put(bucket: BackfillStack.bucket, key: tombstoneKey, bytes: Array(try ManifestCoding.encoder().encode(tombstone)))
        try await GCTests.setPolicy(stack, deny: "s3:GetObject", resource: tombstoneKey)
        let directory = try TestPaths.temporaryDirectory("tombstone")
        defer { try? FileManager.default.removeItem(at: directory) }

        let refused = try await MediadBinary.run(["reprocess", "s3://uploads/deleted/", "--all"], environment: stack.environment, currentDirectory: directory)
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(tableValue(refused.text, "store_failed") == 1, "\(refused.text)")
        #expect(try await stack.manifest(fileId: fileId) == nil, "the deleted file was not processed")

        let lifted = try await Command.run(
            ["python3", "-c", "import boto3, sys; boto3.client('s3').delete_bucket_policy(Bucket=sys.argv[1])", BackfillStack.bucket],
            environment: stack.moto.environment)
        #expect(lifted.status == 0, "\(lifted.stderr)")
        let obeyed = try await MediadBinary.run(["reprocess", "s3://uploads/deleted/", "--all"], environment: stack.environment, currentDirectory: directory)
        #expect(tableValue(obeyed.text, "file_deleted") == 1, "\(obeyed.text)")
        #expect(try await stack.manifest(fileId: fileId) == nil)
    }

    @Test("a run interrupted with Ctrl-C resumes from its checkpoint and every file is done exactly once")
    func interruptAndResume() async throws {
        let stack = try await BackfillStack()
        defer { Task { await stack.stop() } }
        let count = 24
        let keys = try await stack.upload(count, of: "panorama.jpg", prefix: "batch/")
        let directory = try TestPaths.temporaryDirectory("resume")
        defer { try? FileManager.default.removeItem(at: directory) }
        let arguments = [MediadBinary.executable.path, "reprocess", "s3://uploads/batch/", "--all", "--emit", "--checkpoint", "run.checkpoint", "--set", "concurrency=1", "--set", "queueDepth=0"]
        let checkpoint = directory.appendingPathComponent("run.checkpoint")

        // First run: interrupt it once a few files are finished.
        let process = try MediadBinary.start(Array(arguments.dropFirst()), environment: stack.environment, currentDirectory: directory)
        let deadline = ContinuousClock.now + .seconds(60)
        while finishedLines(checkpoint) < 3, process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(process.isRunning, "the run must still be going when interrupted; make the batch bigger")
        process.interrupt()
        await process.exited()
        #expect(process.terminationStatus == 130)
        let finishedFirst = finishedLines(checkpoint)
        #expect(finishedFirst >= 3 && finishedFirst < count, "finished before the interrupt: \(finishedFirst)")

        // Second run: the same command continues and finishes.
        let second = try await Command.run(arguments, currentDirectory: directory, environment: stack.environment)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("resuming from"), "\(second.stderr)")
        // --all redoes everything, except what the interrupted run finished.
        #expect(tableValue(second.text, "succeeded") == count - finishedFirst, "\(second.text)")
        #expect(tableValue(second.text, "done earlier (checkpoint)") == finishedFirst, "\(second.text)")
        #expect(!FileManager.default.fileExists(atPath: checkpoint.path), "a finished run removes its checkpoint")

        // Every file announced once, with a manifest.
        let events = try await stack.collect(count + 5, topics: [stack.configuration.outputTopic], timeout: .seconds(15))
        let fileIds = events.compactMap { KafkaReader.eventData($0)?["fileId"] as? String }
        #expect(fileIds.count == count, "media.processed events: \(fileIds.count)")
        #expect(Set(fileIds) == Set(keys.map { UploadEvent.stableFileId(bucket: BackfillStack.bucket, key: $0) }))
        for event in events {
            let data = KafkaReader.eventData(event)
            #expect(data?["status"] as? String == "succeeded", "\(data?["source"] ?? "") \(data?["errors"] ?? "")")
        }
    }

    /// A number from the summary table.
    private func tableValue(_ table: String, _ label: String) -> Int? {
        for line in table.split(separator: "\n") where line.trimmingCharacters(in: .whitespaces).hasPrefix(label) {
            return Int(line.split(separator: " ").last ?? "")
        }
        return nil
    }

    private func finishedLines(_ checkpoint: URL) -> Int {
        guard let text = try? String(contentsOf: checkpoint, encoding: .utf8) else { return 0 }
        return text.split(separator: "\n").filter { $0.contains("\"outcome\"") && !$0.contains("\"started\"") }.count
    }

    @Test("publish mode: with both topics loaded, serve works through uploads first and gives reprocess work only spare capacity")
    func uploadsFirst() async throws {
        let stack = try await BackfillStack()
        defer { Task { await stack.stop() } }
        let backfillKeys = try await stack.upload(30, of: "panorama.jpg", prefix: "old/")
        let uploadKeys = try await stack.upload(10, of: "panorama.jpg", prefix: "new/")

        // `mediad reprocess --publish` of the old files.
        let producer = try stack.producer()
        let publisher = try stack.runner { _ in .publish(producer: producer, topic: stack.configuration.reprocessTopic) }
        let published = await publisher.run(try await publisher.plan(.init(source: .prefix(bucket: BackfillStack.bucket, prefix: "old/"))), checkpoint: nil)
        #expect(published.outcomes == ["published": 30])

        let daemon = try RunningDaemon(stack) { $0.concurrency = 2 }
        // Let backfill run on the idle daemon, then a burst of uploads arrives.
        let early = try await stack.collect(3, topics: [stack.configuration.outputTopic], timeout: .seconds(60))
        #expect(early.count == 3)
        let uploadsSent = Date()
        for key in uploadKeys {
            let event: [String: Any] = [
                "specversion": "1.0", "id": UUID().uuidString, "source": "/tests", "type": "file.uploaded",
                "data": ["fileId": "upload-\(key)", "bucket": BackfillStack.bucket, "key": key],
            ]
            _ = try await producer.send(topic: stack.configuration.topic, key: nil, value: Array(try JSONSerialization.data(withJSONObject: event)))
        }
        let outcomes = try await stack.collect(40, topics: [stack.configuration.outputTopic], timeout: .seconds(120))
        try await daemon.stop()
        await producer.close()
        #expect(outcomes.count == 40)

        let results = CompetingResults(events: outcomes.compactMap { message in
            message.value.flatMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
        })
        #expect(results.uploads.count == 10)
        #expect(Set(results.backfill.map(\.fileId)) == Set(backfillKeys.map { UploadEvent.stableFileId(bucket: BackfillStack.bucket, key: $0) }))
        let firstUpload = try #require(results.firstUpload)
        #expect(firstUpload > uploadsSent)
        #expect(results.backfillDuringUploads <= 3, "reprocess results while uploads were waiting: \(results.backfillDuringUploads)")
        #expect(daemon.application.daemon.peakBackfillAdmitted <= 2)
    }
}
