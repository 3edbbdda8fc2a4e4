import Daemon
import Events
import Foundation
import Kafka
import MediadTestSupport
import ObjectStorage
import PipelineEngine
import Testing

@Suite("mediad serve end to end: mock Kafka cluster over TCP, local store", .serialized, .timeLimit(.minutes(5)))
struct DaemonEndToEndTests {
    @Test("every encoding yields a schema-valid media.processed; poison goes to the DLQ; offsets are committed")
    func encodingsAndPoison() async throws {
        let daemon = try await DaemonHarness()
        do {
            let photo = try await daemon.put(TestPaths.image("exif-rich.jpg"), key: "in/photo one.jpg")
            _ = try await daemon.put(TestPaths.image("orientation-6.jpg"), key: "in/rotated.jpg")
            _ = try await daemon.put(TestPaths.image("gps-south-west.jpg"), key: "in/minio upload.jpg")

            // 1. structured CloudEvent, with the size and sha256 the file service knows.
            let sha = try await Command.check(["sha256sum", TestPaths.image("exif-rich.jpg").path]).text.prefix(64)
            try await daemon.send(DaemonHarness.cloudEvent(fileId: "f-structured", key: "in/photo one.jpg", extra: ["size": photo.size, "sha256": String(sha), "ownerId": "u1", "albumId": "a1"]), key: "f-structured")
            // 2. binary-mode CloudEvent.
            try await daemon.send(
                Array(#"{"fileId":"f-binary","bucket":"uploads","key":"in/rotated.jpg"}"#.utf8), key: "f-binary",
                headers: [(name: "ce_specversion", value: Array("1.0".utf8)), (name: "ce_type", value: Array("file.uploaded".utf8)), (name: "ce_id", value: Array("b1".utf8)), (name: "ce_source", value: Array("/t".utf8))])
            // 3. a MinIO bucket notification.
            let minio = #"{"EventName":"s3:ObjectCreated:Put","Key":"uploads/in/minio+upload.jpg","Records":[{"eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":"uploads"},"object":{"key":"in/minio+upload.jpg","size":22199}}}]}"#
            try await daemon.send(Array(minio.utf8), key: "uploads/in/minio upload.jpg")
            // 4. poison.
            try await daemon.send(Array("{definitely not json".utf8), key: "poison", headers: [(name: "trace-id", value: Array("t-1".utf8))])

            let processed = try await daemon.collect(3, topics: [daemon.configuration.outputTopic])
            #expect(processed.count == 3)
            let directory = try TestPaths.temporaryDirectory("events")
            defer { try? FileManager.default.removeItem(at: directory) }
            var byFile: [String: [String: Any]] = [:]
            for (index, message) in processed.enumerated() {
                let file = directory.appendingPathComponent("e\(index).json")
                try Data(message.value ?? []).write(to: file)
                let event = try #require(try JSONSerialization.jsonObject(with: Data(message.value ?? [])) as? [String: Any])
                let data = try #require(event["data"] as? [String: Any])
                let fileId = try #require(data["fileId"] as? String)
                #expect(message.key == Array(fileId.utf8), "keyed by fileId")
                byFile[fileId] = data
            }
            let validation = try await Command.run(["python3", TestPaths.root.appendingPathComponent("scripts/validate-json.py").path, TestPaths.schemas.appendingPathComponent("media.processed.schema.json").path]
                + (0..<processed.count).map { directory.appendingPathComponent("e\($0).json").path })
            #expect(validation.status == 0, "\(validation.text)")

            let structured = try #require(byFile["f-structured"])
            #expect(structured["status"] as? String == "succeeded")
            #expect(structured["ownerId"] as? String == "u1" && structured["albumId"] as? String == "a1")
            let derivatives = try #require(structured["derivatives"] as? [[String: Any]])
            for derivative in derivatives {
                guard let key = derivative["key"] as? String else { continue }
                #expect(FileManager.default.fileExists(atPath: daemon.root.appendingPathComponent("uploads/\(key)").path), "\(key)")
            }
            #expect(byFile["f-binary"]?["status"] as? String == "succeeded")
            let minioId = try #require(byFile.keys.first { $0.hasPrefix("s3-") })
            #expect(((byFile[minioId]?["metadata"] as? [String: Any])?["model"] as? String) == "iPhone 15 Pro")

            let dead = try await daemon.collect(1, topics: [daemon.configuration.dlqTopic])
            let letter = try #require(dead.first)
            #expect(letter.value == Array("{definitely not json".utf8), "the original value, untouched")
            #expect(letter.key == Array("poison".utf8))
            #expect(letter.header("trace-id") == .some(Array("t-1".utf8)))
            #expect(letter.header(DeadLetter.Header.errorCode) == .some(Array("malformed_json".utf8)))
            #expect(letter.header(DeadLetter.Header.originalTopic) == .some(Array("file.uploaded".utf8)))

            // All four messages have outcomes, so every offset is committed (commits run each second).
            try await Task.sleep(for: .seconds(2))
            try await daemon.stop()
            let committed = try await daemon.committed(topic: "file.uploaded", partitions: 2)
            #expect(committed.values.reduce(0, +) == 4, "\(committed)")
        } catch {
            try? await daemon.stop()
            throw error
        }
    }

    @Test("a redelivered event is answered from the manifest without recomputing")
    func redelivery() async throws {
        let daemon = try await DaemonHarness()
        do {
            _ = try await daemon.put(TestPaths.image("exif-rich.jpg"), key: "in/a.jpg")
            let event = try DaemonHarness.cloudEvent(fileId: "f-again", key: "in/a.jpg")
            try await daemon.send(event, key: "f-again")
            try await daemon.send(event, key: "f-again")
            let processed = try await daemon.collect(2, topics: [daemon.configuration.outputTopic])
            #expect(processed.count == 2)
            let datas = processed.compactMap { try? JSONSerialization.jsonObject(with: Data($0.value ?? [])) as? [String: Any] }.compactMap { $0["data"] as? [String: Any] }
            #expect(datas.count == 2)
            #expect(NSDictionary(dictionary: datas[0]["timings"] as? [String: Any] ?? [:]) == NSDictionary(dictionary: datas[1]["timings"] as? [String: Any] ?? [:]), "same result, not recomputed")
            #expect(daemon.metricsText().contains("mediad_answered_from_manifest_total 1"))
            try await daemon.stop()
        } catch {
            try? await daemon.stop()
            throw error
        }
    }
}

@Suite("mediad serve under load", .serialized, .timeLimit(.minutes(5)))
struct DaemonLoadTests {
    @Test("500 queued events with a pool of 2: work in flight never exceeds the bound, every event answered")
    func backpressure() async throws {
        let daemon = try await DaemonHarness { configuration in
            configuration.concurrency = 2
            configuration.queueDepth = 2
        }
        do {
            _ = try await daemon.put(TestPaths.image("orientation-3.jpg"), key: "in/small.jpg")
            let count = 500
            for index in 0..<count {
                try await daemon.send(DaemonHarness.cloudEvent(fileId: "load-\(index)", key: "in/small.jpg"), key: "load-\(index)")
            }
            let processed = try await daemon.collect(count, topics: [daemon.configuration.outputTopic], timeout: .seconds(180))
            #expect(Set(processed.compactMap { $0.key.map { String(decoding: $0, as: UTF8.self) } }).count == count)
            #expect(daemon.kafka.hasJoinedGroup, "/readyz: consumer in group")
            #expect(daemon.application.daemon.peakAdmitted <= daemon.application.daemon.admissionCapacity)
            #expect(daemon.application.daemon.peakAdmitted == 4, "the bound was reached, so it was the bound that held")
            #expect(daemon.application.pool.snapshot.peakRunningWeight <= 2)
            #expect(daemon.metricsText().contains(#"mediad_outcomes_total{status="succeeded"} \#(count)"#))
            // Lag per owned partition, from the consumer's statistics (every 5 s).
            let lagDeadline = ContinuousClock.now + .seconds(15)
            while !daemon.metricsText().contains(#"mediad_consumer_lag{topic="file.uploaded""#), ContinuousClock.now < lagDeadline {
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(daemon.metricsText().contains(#"mediad_consumer_lag{topic="file.uploaded",partition="0"}"#), "\(daemon.metricsText())")
            try await Task.sleep(for: .seconds(2))
            try await daemon.stop()
            let committed = try await daemon.committed(topic: "file.uploaded", partitions: 2)
            #expect(committed.values.reduce(0, +) == Int64(count))
        } catch {
            try? await daemon.stop()
            throw error
        }
    }
}
