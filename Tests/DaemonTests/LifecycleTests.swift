import Daemon
import Events
import Foundation
import Kafka
import Logging
import MediaProcessing
import MediadTestSupport
import ObjectStorage
import PipelineEngine
import Testing

/// The file lifecycle through the real daemon on moto and the mock broker: deletions in every
/// form, a deletion racing its upload's job, overwrites that drop an output.
@Suite("File lifecycle through the daemon: deletions, races, overwrites (moto, mock broker)", .serialized, .timeLimit(.minutes(6)))
struct LifecycleTests {
    /// A daemon on a fresh moto (plain: moto cannot verify signed listings by prefixes with a slash).
    static func start(pipelines: URL = TestPaths.pipelines, adjust: (inout DaemonConfiguration) -> Void = { _ in }) async throws -> (MotoHarness, DaemonHarness) {
        let moto = try await MotoHarness.start(.plain)
        do {
            let daemon = try await DaemonHarness { configuration in
                configuration.useS3(endpoint: moto.info.endpoint, moto: moto)
                configuration.pipelines = pipelines.path
                adjust(&configuration)
            }
            return (moto, daemon)
        } catch {
            await moto.stop()
            throw error
        }
    }

    @Test("structured, binary, MinIO and AWS deletions remove every output and report each key; repeats and unknown files are answered; no trace of the GPS is left")
    func deleteForms() async throws {
        let (moto, daemon) = try await Self.start()
        defer { moto.stop() }
        do {
            let store = daemon.application.store
            for key in ["in/structured.jpg", "in/binary.jpg", "in/minio photo.jpg", "in/aws photo.jpg"] {
                _ = try await daemon.put(TestPaths.image("exif-rich.jpg"), key: key)
            }
            _ = try await daemon.put(TestPaths.image("gps-south-west.jpg"), key: "in/keep.jpg")
            let minioId = UploadEvent.stableFileId(bucket: "uploads", key: "in/minio photo.jpg")
            let awsId = UploadEvent.stableFileId(bucket: "uploads", key: "in/aws photo.jpg")

            try await daemon.send(DaemonHarness.cloudEvent(fileId: "f-structured", key: "in/structured.jpg"), key: "f-structured")
            try await daemon.send(DaemonHarness.cloudEvent(fileId: "f-binary", key: "in/binary.jpg"), key: "f-binary")
            try await daemon.send(DaemonHarness.cloudEvent(fileId: "keep", key: "in/keep.jpg"), key: "keep")
            try await daemon.send(Self.minioRecord("s3:ObjectCreated:Put", key: "in/minio+photo.jpg", sequencer: "17CB9C7C1B5A4F21"), key: "uploads/in/minio photo.jpg")
            try await daemon.send(Self.awsRecord("ObjectCreated:Put", key: "in/aws+photo.jpg", sequencer: "0055AED6DCD90281E5"), key: "uploads/in/aws photo.jpg")
            let processed = try await daemon.collect(5, topics: [daemon.configuration.outputTopic])
            let outcomes = Dictionary(processed.compactMap(Outcome.init).map { ($0.fileId, $0) }, uniquingKeysWith: { first, _ in first })
            #expect(Set(outcomes.keys) == ["f-structured", "f-binary", "keep", minioId, awsId])
            #expect(outcomes.values.allSatisfy { $0.status == "succeeded" }, "\(outcomes.values.map(\.errors))")
            let deletedIds = ["f-structured", "f-binary", minioId, awsId]
            let latitude = try #require(Self.latitude(in: processed, fileId: "f-structured"))
            let keptLatitude = try #require(Self.latitude(in: processed, fileId: "keep"))

            var before: [String: Set<String>] = [:]
            for id in deletedIds {
                before[id] = try await Self.keys(store, under: "derived/\(id)/")
                #expect(before[id]?.contains("derived/\(id)/manifest.json") == true)
                #expect((before[id]?.count ?? 0) >= 3, "manifest, thumbnail and preview: \(before[id] ?? [])")
            }

            // The originals go first (the file service's or the user's delete), then the events.
            for key in ["in/structured.jpg", "in/binary.jpg", "in/minio photo.jpg", "in/aws photo.jpg"] {
                try await store.delete(bucket: "uploads", key: key)
            }
            try await daemon.send(Self.deletedCloudEvent(fileId: "f-structured", key: "in/structured.jpg"), key: "f-structured")
            try await daemon.send(
                Array(#"{"fileId":"f-binary","bucket":"uploads","key":"in/binary.jpg"}"#.utf8), key: "f-binary",
                headers: [
                    (name: "ce_specversion", value: Array("1.0".utf8)), (name: "ce_type", value: Array("file.deleted".utf8)),
                    (name: "ce_id", value: Array("d-bin".utf8)), (name: "ce_source", value: Array("/file-service".utf8)),
                ])
            try await daemon.send(Self.minioRecord("s3:ObjectRemoved:Delete", key: "in/minio+photo.jpg", sequencer: "17CB9C7C1B5A4F40"), key: "uploads/in/minio photo.jpg")
            try await daemon.send(Self.awsRecord("ObjectRemoved:DeleteMarkerCreated", key: "in/aws+photo.jpg", sequencer: "0055AED6DCD90281F0"), key: "uploads/in/aws photo.jpg")
            // A repeated deletion, and one of a file never processed.
            try await daemon.send(Self.deletedCloudEvent(fileId: "f-structured", key: "in/structured.jpg"), key: "f-structured")
            try await daemon.send(Self.deletedCloudEvent(fileId: "f-never", key: "in/never.jpg"), key: "f-never")

            let all = try await daemon.collect(5 + 6, topics: [daemon.configuration.outputTopic])
            let deletions = all.filter { Self.type(of: $0) == "media.deleted" }
            #expect(deletions.count == 6)
            let directory = try TestPaths.temporaryDirectory("deleted-events")
            defer { try? FileManager.default.removeItem(at: directory) }
            var reports: [String: [[String: Any]]] = [:]
            for (index, message) in deletions.enumerated() {
                try Data(message.value ?? []).write(to: directory.appendingPathComponent("d\(index).json"))
                let data = try #require(KafkaReader.eventData(message))
                let fileId = try #require(data["fileId"] as? String)
                #expect(message.key == Array(fileId.utf8), "keyed by fileId like media.processed")
                reports[fileId, default: []].append(data)
            }
            let validation = try await Command.run(
                ["python3", TestPaths.root.appendingPathComponent("scripts/validate-json.py").path, TestPaths.schemas.appendingPathComponent("media.deleted.schema.json").path]
                    + deletions.indices.map { directory.appendingPathComponent("d\($0).json").path })
            #expect(validation.status == 0, "\(validation.text)")

            for id in deletedIds {
                let first = try #require(reports[id]?.first, "\(id) answered")
                #expect(first["status"] as? String == "deleted", "\(first)")
                #expect(Set(first["removed"] as? [String] ?? []) == before[id], "names every key that was there")
                #expect((first["bytesReclaimed"] as? Int ?? 0) > 0)
                #expect(try await Self.keys(store, under: "derived/\(id)/") == ["derived/\(id)/_deleted.json"], "only the tombstone is left")
            }
            let repeated = try #require(reports["f-structured"]?.last)
            #expect(reports["f-structured"]?.count == 2)
            #expect(repeated["status"] as? String == "deleted" && (repeated["removed"] as? [String])?.isEmpty == true, "\(repeated)")
            let never = try #require(reports["f-never"]?.first)
            #expect(never["status"] as? String == "deleted" && (never["removed"] as? [String])?.isEmpty == true, "\(never)")
            #expect(daemon.metricsText().contains(#"mediad_deletions_total{status="deleted"} 6"#), "\(daemon.metricsText())")

            // Privacy: no object in the bucket holds the deleted photo's coordinates, in text
            // (a manifest) or in its EXIF block; the live photo's are still found (the scan works).
            let exif = try Self.exifBlock(of: TestPaths.image("exif-rich.jpg"))
            var scanned = 0
            var keptFound = false
            for try await object in store.list(bucket: "uploads") {
                let (_, bytes) = try await store.getBytes(bucket: "uploads", key: object.key, maxSize: 64 << 20)
                scanned += 1
                #expect(!Self.contains(bytes, Array(latitude.utf8)), "\(object.key) holds the deleted photo's latitude")
                #expect(!Self.contains(bytes, exif), "\(object.key) holds the deleted photo's EXIF")
                keptFound = keptFound || Self.contains(bytes, Array(keptLatitude.utf8))
            }
            #expect(scanned > 4)
            #expect(keptFound, "the live photo's manifest still has its latitude \(keptLatitude)")

            // Nothing went to the dead-letter topic: the first dead letter is this poison message.
            try await daemon.send(Array("not json".utf8), key: "poison")
            let dead = try await daemon.collect(1, topics: [daemon.configuration.dlqTopic])
            #expect(dead.first?.key == Array("poison".utf8))
            try await daemon.stop()
        } catch {
            try? await daemon.stop()
            throw error
        }
    }

    @Test("a deletion that arrives while its upload's job runs ends with no outputs and a tombstone; a newer upload is processed and clears it")
    func deleteDuringJob() async throws {
        let (moto, daemon) = try await Self.start()
        defer { moto.stop() }
        do {
            let store = daemon.application.store
            _ = try await daemon.put(try GeneratedMedia.video(seconds: 8), key: "in/clip.mp4")
            try await daemon.send(DaemonHarness.cloudEvent(fileId: "race", key: "in/clip.mp4"), key: "race")
            // The attempt marker appears when the job gets its worker: it is running.
            try await Self.waitFor(key: "derived/race/_attempt.json", in: store)
            try await daemon.send(Self.deletedCloudEvent(fileId: "race", key: "in/clip.mp4"), key: "race-delete")
            let answered = try await daemon.collect(2, topics: [daemon.configuration.outputTopic], timeout: .seconds(120))
            #expect(Set(answered.compactMap { Self.type(of: $0) }) == ["media.processed", "media.deleted"])
            #expect(try await Self.keys(store, under: "derived/race/") == ["derived/race/_deleted.json"], "nothing but the tombstone")

            // The same upload event again (redelivered): the tombstone covers that version.
            try await daemon.send(DaemonHarness.cloudEvent(fileId: "race", key: "in/clip.mp4"), key: "race")
            let again = try await daemon.collect(3, topics: [daemon.configuration.outputTopic], timeout: .seconds(60))
            let late = try #require(again.compactMap(Outcome.init).last)
            #expect(late.status == "failed" && late.errors.map(\.code) == ["file_deleted"], "\(late.errors)")
            #expect(try await Self.keys(store, under: "derived/race/") == ["derived/race/_deleted.json"])

            // A new version uploaded after the deletion: processed as usual, the tombstone goes.
            try await Task.sleep(for: .seconds(1.1))  // Last-Modified has whole seconds
            _ = try await daemon.put(TestPaths.image("orientation-6.jpg"), key: "in/clip.mp4")
            try await daemon.send(DaemonHarness.cloudEvent(fileId: "race", key: "in/clip.mp4"), key: "race")
            let newer = try await daemon.collect(4, topics: [daemon.configuration.outputTopic], timeout: .seconds(60))
            let fresh = try #require(newer.compactMap(Outcome.init).last)
            #expect(fresh.status == "succeeded", "\(fresh.errors)")
            let left = try await Self.keys(store, under: "derived/race/")
            #expect(!left.contains("derived/race/_deleted.json"), "the tombstone is cleared")
            #expect(left.contains("derived/race/manifest.json") && left.contains("derived/race/thumbnail.webp"), "\(left)")
            try await daemon.stop()
        } catch {
            try? await daemon.stop()
            throw error
        }
    }

    @Test("a deletion on another replica while a job runs (no shared lock): the job removes what it wrote and reports file_deleted")
    func deleteDuringJobElsewhere() async throws {
        let moto = try await MotoHarness.start(.plain)
        defer { moto.stop() }
        var configuration = DaemonConfiguration()
        configuration.useS3(endpoint: moto.info.endpoint, moto: moto)
        configuration.pipelines = TestPaths.pipelines.path
        configuration.concurrency = 2
        configuration.instance = "replica-a"
        let store = try DaemonApplication.makeStore(configuration)
        let jobs = try DaemonApplication.makeJobRunner(configuration: configuration, store: store, logger: Logger.quiet)
        do {
            try await store.createBucket("uploads")
            _ = try await store.put(bucket: "uploads", key: "in/clip.mp4", file: try GeneratedMedia.video(seconds: 8), options: PutOptions())
            let running = Task { try await jobs.run(Job(fileId: "elsewhere", bucket: "uploads", key: "in/clip.mp4")) }
            try await Self.waitFor(key: "derived/elsewhere/_attempt.json", in: store)
            let deletion = FileDeletion(
                store: store, layout: DerivativeLayout(), derivativesBucket: nil, retry: jobs.retryPolicy, instance: "replica-b", logger: Logger.quiet)
            let report = try await deletion.run(.init(fileId: "elsewhere", bucket: "uploads", key: "in/clip.mp4"), defaultBucket: "uploads")
            #expect(report.status == .deleted)
            let outcome = try await running.value
            await jobs.recorded(outcome)
            #expect(outcome.data.status == .failed && outcome.data.errors.map(\.code) == ["file_deleted"], "\(outcome.data.errors)")
            #expect(try await Self.keys(store, under: "derived/elsewhere/") == ["derived/elsewhere/_deleted.json"])
        } catch {
            await jobs.processor.executor.shutdown()
            if let s3 = store as? S3ObjectStore { try? await s3.shutdown() }
            throw error
        }
        await jobs.processor.executor.shutdown()
        if let s3 = store as? S3ObjectStore { try? await s3.shutdown() }
    }

    @Test("an overwrite by image pipeline v2, which drops the preview: the preview's object goes, the others are replaced")
    func overwriteDropsOutput() async throws {
        let version2 = try TestPaths.temporaryDirectory("pipelines-v2")
        defer { try? FileManager.default.removeItem(at: version2) }
        for name in ["image.yaml", "video.yaml"] {
            try FileManager.default.copyItem(at: TestPaths.pipelines.appendingPathComponent(name), to: version2.appendingPathComponent(name))
        }
        let image = version2.appendingPathComponent("image.yaml")
        var yaml = try String(contentsOf: image, encoding: .utf8)
        yaml = yaml.replacingOccurrences(of: "version: 1", with: "version: 2")
        let preview = try #require(yaml.range(of: "  - stage: thumbnail\n    name: preview"))
        let end = try #require(yaml.range(of: "  - stage: placeholder", range: preview.upperBound..<yaml.endIndex))
        yaml.removeSubrange(preview.lowerBound..<end.lowerBound)
        try yaml.write(to: image, atomically: true, encoding: .utf8)

        let moto = try await MotoHarness.start(.plain)
        defer { moto.stop() }
        let first = try await DaemonHarness { configuration in
            configuration.useS3(endpoint: moto.info.endpoint, moto: moto)
        }
        let thumbnailBefore: ObjectInfo
        do {
            _ = try await first.put(TestPaths.image("exif-rich.jpg"), key: "in/photo.jpg")
            try await first.send(DaemonHarness.cloudEvent(fileId: "over", key: "in/photo.jpg"), key: "over")
            let v1 = try #require(try await first.collect(1, topics: [first.configuration.outputTopic]).compactMap(Outcome.init).first)
            #expect(Set(v1.derivativeKeys) == ["derived/over/thumbnail.webp", "derived/over/preview.jpg"])
            thumbnailBefore = try await first.application.store.head(bucket: "uploads", key: "derived/over/thumbnail.webp")
            try await first.stop()
        } catch {
            try? await first.stop()
            throw error
        }

        try await Task.sleep(for: .seconds(1.1))  // a later Last-Modified for the replaced objects
        let second = try await DaemonHarness { configuration in
            configuration.useS3(endpoint: moto.info.endpoint, moto: moto)
            configuration.pipelines = version2.path
        }
        do {
            let store = second.application.store
            try await second.send(DaemonHarness.cloudEvent(fileId: "over", key: "in/photo.jpg"), key: "over")
            let v2 = try #require(try await second.collect(1, topics: [second.configuration.outputTopic]).compactMap(Outcome.init).first)
            #expect(v2.status == "succeeded", "\(v2.errors)")
            #expect(v2.derivativeKeys == ["derived/over/thumbnail.webp"])
            #expect(try await Self.keys(store, under: "derived/over/") == ["derived/over/manifest.json", "derived/over/thumbnail.webp"], "the dropped preview is gone")
            let thumbnailAfter = try await store.head(bucket: "uploads", key: "derived/over/thumbnail.webp")
            #expect(try #require(thumbnailAfter.lastModified) > (try #require(thumbnailBefore.lastModified)), "replaced")
            try await second.stop()
        } catch {
            try? await second.stop()
            throw error
        }
    }

    @Test("identical bytes under another key are not decoded: byte-identical server-side copies, independent of the original file; one byte changed is decoded")
    func contentReuse() async throws {
        let (moto, daemon) = try await Self.start()
        defer { moto.stop() }
        do {
            let store = daemon.application.store
            let photo = TestPaths.image("exif-rich.jpg")
            for key in ["in/a.jpg", "in/b.jpg", "in/c.jpg", "in/e.jpg"] { _ = try await daemon.put(photo, key: key) }
            var changed = [UInt8](try Data(contentsOf: photo))
            let make = try #require((0..<(changed.count - 5)).first { Array(changed[$0..<($0 + 5)]) == Array("Canon".utf8) })
            changed[make] = UInt8(ascii: "D")
            let changedFile = try TestPaths.temporaryDirectory("changed").appendingPathComponent("changed.jpg")
            try Data(changed).write(to: changedFile)
            _ = try await daemon.put(changedFile, key: "in/d.jpg")
            let sha = String(try await Command.check(["sha256sum", photo.path]).text.prefix(64))

            var seen = 0
            func next(_ fileId: String, key: String, extra: [String: Any] = [:]) async throws -> [String: Any] {
                try await daemon.send(DaemonHarness.cloudEvent(fileId: fileId, key: key, extra: extra), key: fileId)
                seen += 1
                let messages = try await daemon.collect(seen, topics: [daemon.configuration.outputTopic])
                let match = messages.compactMap(KafkaReader.eventData).last { $0["fileId"] as? String == fileId }
                return try #require(match, "\(fileId) answered")
            }
            func timings(_ data: [String: Any]) -> Set<String> { Set((data["timings"] as? [String: Any] ?? [:]).keys) }
            func reusedFrom(_ data: [String: Any]) -> String? { (data["reusedFrom"] as? [String: Any])?["fileId"] as? String }

            let a = try await next("copy-a", key: "in/a.jpg")
            #expect(a["status"] as? String == "succeeded" && timings(a).contains("thumbnail"), "\(a)")
            #expect(reusedFrom(a) == nil)

            // Same bytes, no checksum in the event: downloaded and hashed, then copied.
            let b = try await next("copy-b", key: "in/b.jpg")
            #expect(b["status"] as? String == "succeeded", "\(b["errors"] ?? "")")
            #expect(reusedFrom(b) == "copy-a")
            #expect(timings(b) == ["reuse", "total"], "no image stage ran: \(timings(b))")
            // Same bytes with the event's sha256: copied without a download.
            let c = try await next("copy-c", key: "in/c.jpg", extra: ["sha256": sha])
            #expect(reusedFrom(c) != nil && timings(c) == ["reuse", "total"], "\(c)")
            #expect(daemon.metricsText().contains("mediad_content_reused_total 2"), "\(daemon.metricsText())")
            #expect(NSDictionary(dictionary: b["metadata"] as? [String: Any] ?? [:]) == NSDictionary(dictionary: a["metadata"] as? [String: Any] ?? [:]))

            func derivatives(_ data: [String: Any]) -> [String: String] {
                Dictionary(uniqueKeysWithValues: (data["derivatives"] as? [[String: Any]] ?? []).compactMap { d in
                    (d["key"] as? String).map { (d["name"] as? String ?? "", $0) }
                })
            }
            let original = derivatives(a)
            #expect(Set(derivatives(b).values) == ["derived/copy-b/thumbnail.webp", "derived/copy-b/preview.jpg"])
            for (name, key) in derivatives(b) {
                let copy = try await store.getBytes(bucket: "uploads", key: key, maxSize: 16 << 20).bytes
                let source = try await store.getBytes(bucket: "uploads", key: try #require(original[name]), maxSize: 16 << 20).bytes
                #expect(copy == source, "\(key) is a byte-identical copy")
            }

            // Deleting the file the copies came from leaves the copies whole.
            try await daemon.send(Self.deletedCloudEvent(fileId: "copy-a", key: "in/a.jpg"), key: "copy-a")
            seen += 1
            _ = try await daemon.collect(seen, topics: [daemon.configuration.outputTopic])
            #expect(try await Self.keys(store, under: "derived/copy-a/") == ["derived/copy-a/_deleted.json"])
            for key in derivatives(b).values { _ = try await store.head(bucket: "uploads", key: key) }
            // ... and the index points elsewhere: the same bytes again are still not decoded.
            let e = try await next("copy-e", key: "in/e.jpg")
            #expect(["copy-b", "copy-c"].contains(reusedFrom(e) ?? ""), "\(e["reusedFrom"] ?? "none")")

            // One byte changed: other bytes, decoded as usual.
            let d = try await next("copy-d", key: "in/d.jpg")
            #expect(d["status"] as? String == "succeeded" && reusedFrom(d) == nil && timings(d).contains("thumbnail"), "\(d)")
            #expect(daemon.metricsText().contains("mediad_content_reused_total 3"))
            try await daemon.stop()
        } catch {
            try? await daemon.stop()
            throw error
        }
    }

    // MARK: - Helpers

    static func keys(_ store: any ObjectStore, under prefix: String) async throws -> Set<String> {
        var keys: Set<String> = []
        for try await object in store.list(bucket: "uploads", prefix: prefix) { keys.insert(object.key) }
        return keys
    }

    static func waitFor(key: String, in store: any ObjectStore, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await store.head(bucket: "uploads", key: key)) != nil { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("\(key) never appeared")
        throw CancellationError()
    }

    static func type(of message: KafkaMessage) -> String? {
        guard let value = message.value, let event = try? JSONSerialization.jsonObject(with: Data(value)) as? [String: Any] else { return nil }
        return event["type"] as? String
    }

    /// The latitude of a processed file as its manifest writes it.
    static func latitude(in messages: [KafkaMessage], fileId: String) -> String? {
        for message in messages {
            guard let data = KafkaReader.eventData(message), data["fileId"] as? String == fileId,
                  let gps = (data["metadata"] as? [String: Any])?["gps"] as? [String: Any], let latitude = gps["latitude"] as? Double
            else { continue }
            // Enough digits to be this photo's and nobody else's.
            return String(String(latitude).prefix(7))
        }
        return nil
    }

    /// The APP1 `Exif` segment's first 96 bytes after its header: what a derivative carrying
    /// the photo's EXIF (GPS included) would contain.
    static func exifBlock(of file: URL) throws -> [UInt8] {
        let bytes = [UInt8](try Data(contentsOf: file))
        let marker = Array("Exif\0\0".utf8)
        guard let start = (0..<(bytes.count - marker.count)).first(where: { Array(bytes[$0..<($0 + marker.count)]) == marker }) else {
            throw CommandError(description: "no EXIF in \(file.lastPathComponent)")
        }
        return Array(bytes[(start + marker.count)..<min(bytes.count, start + marker.count + 96)])
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        let first = needle[0]
        var index = 0
        while index <= haystack.count - needle.count {
            if haystack[index] == first, Array(haystack[index..<(index + needle.count)]) == needle { return true }
            index += 1
        }
        return false
    }

    static func deletedCloudEvent(fileId: String, key: String) throws -> [UInt8] {
        let event: [String: Any] = [
            "specversion": "1.0", "id": UUID().uuidString, "source": "/file-service", "type": "file.deleted",
            "data": ["fileId": fileId, "bucket": "uploads", "key": key],
        ]
        return Array(try JSONSerialization.data(withJSONObject: event))
    }

    /// A bucket notification as MinIO publishes it to Kafka (one record per message).
    static func minioRecord(_ eventName: String, key encodedKey: String, sequencer: String) -> [UInt8] {
        let created = eventName.contains("Created")
        let object = created
            ? #"{"key":"\#(encodedKey)","size":186658,"eTag":"96cc601809b9ea4e4c29bbe353a4b8b1","contentType":"image/jpeg","userMetadata":{"content-type":"image/jpeg"},"sequencer":"\#(sequencer)"}"#
            : #"{"key":"\#(encodedKey)","sequencer":"\#(sequencer)"}"#
        let text = #"""
            {"EventName":"\#(eventName)","Key":"uploads/\#(encodedKey)","Records":[{"eventVersion":"2.0","eventSource":"minio:s3","awsRegion":"","eventTime":"2026-12-01T12:00:00.000Z","eventName":"\#(eventName)","userIdentity":{"principalId":"minioadmin"},"requestParameters":{"principalId":"minioadmin","region":"","sourceIPAddress":"127.0.0.1"},"responseElements":{"x-amz-id-2":"dd9025bab4ad464b049177c95eb6ebf374d3b3fd1af9251148b658df7ac2e3e8","x-amz-request-id":"17CB9C7C1B5A4F21","x-minio-deployment-id":"5a3c8a8e-3c1b-4b9f-9d0e-0e1f2a3b4c5d","x-minio-origin-endpoint":"http://127.0.0.1:9000"},"s3":{"s3SchemaVersion":"1.0","configurationId":"Config","bucket":{"name":"uploads","ownerIdentity":{"principalId":"minioadmin"},"arn":"arn:aws:s3:::uploads"},"object":\#(object)},"source":{"host":"127.0.0.1","port":"","userAgent":"MinIO (linux; amd64) minio-go/v7.0.70"}}]}
            """#
        return Array(text.utf8)
    }

    /// A bucket notification as AWS writes it (to SQS or EventBridge, forwarded to Kafka).
    static func awsRecord(_ eventName: String, key encodedKey: String, sequencer: String) -> [UInt8] {
        let object = eventName.contains("Created")
            ? #"{"key":"\#(encodedKey)","size":186658,"eTag":"96cc601809b9ea4e4c29bbe353a4b8b1","versionId":"096fKKXTRTtl3on89fVO.nfljtsv6qko","sequencer":"\#(sequencer)"}"#
            : #"{"key":"\#(encodedKey)","versionId":"Uu3GJBgYxvE9GGU3kpTsF8lC.JwcHj3I","sequencer":"\#(sequencer)"}"#
        let text = #"""
            {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2026-12-01T12:00:00.000Z","eventName":"\#(eventName)","userIdentity":{"principalId":"AWS:AIDAJDPLRKLG7UEXAMPLE"},"requestParameters":{"sourceIPAddress":"203.0.113.7"},"responseElements":{"x-amz-request-id":"D82B88E5F771F645","x-amz-id-2":"vlR7PnpV2Ce81l0PRw6jlUpck7Jo5ZsQjryTjKlc5aLWGVHPZLj5NeC6qMa0emYBDXOo6QBU0Wo="},"s3":{"s3SchemaVersion":"1.0","configurationId":"mediad-uploads","bucket":{"name":"uploads","ownerIdentity":{"principalId":"A3I5XTEXAMAI3E"},"arn":"arn:aws:s3:::uploads"},"object":\#(object)}}]}
            """#
        return Array(text.utf8)
    }
}
