import Backfill
import Daemon
import Events
import Foundation
import Kafka
import MediadTestSupport
import ObjectStorage
import Testing

@Suite("mediad dlq against the mock broker and moto", .serialized)
struct DeadLetterTests {
    @Test("a dead letter whose cause was fixed is replayed through to media.processed; replays are counted, marked and limited")
    func replayAfterFix() async throws {
        let stack = try await BackfillStack()
        defer { Task { await stack.stop() } }
        try await stack.store.createBucket("archive")
        _ = try await stack.store.put(bucket: "archive", key: "2019/beach.jpg", file: TestPaths.image("exif-rich.jpg"), options: PutOptions(contentType: "image/jpeg"))
        let producer = try stack.producer()
        defer { Task { await producer.close() } }
        let topic = stack.configuration.topic
        let env = stack.environment

        // The daemon only allows the uploads bucket: an event for the archive is dead-lettered,
        // and so is a message that is not JSON.
        let strict = try RunningDaemon(stack) { $0.allowedBuckets = ["uploads"] }
        let event: [String: Any] = [
            "specversion": "1.0", "id": "evt-1", "source": "/tests", "type": "file.uploaded",
            "data": ["fileId": "beach", "bucket": "archive", "key": "2019/beach.jpg"],
        ]
        _ = try await producer.send(topic: topic, key: Array("beach".utf8), value: Array(try JSONSerialization.data(withJSONObject: event)), headers: [(name: "trace", value: Array("t-1".utf8))])
        _ = try await producer.send(topic: topic, key: nil, value: Array("not json".utf8))
        let letters = try await stack.collect(2, topics: [stack.configuration.dlqTopic])
        try await strict.stop()
        #expect(letters.count == 2)

        let list = try await MediadBinary.run(["dlq", "list"], environment: env)
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.text.contains("bucket_not_allowed") && list.text.contains("malformed_json"), "\(list.text)")
        #expect(list.text.contains("pending"), "\(list.text)")
        let beachPosition = try #require(letters.first { KafkaReader.header($0, DeadLetter.Header.errorCode) == "bucket_not_allowed" }).offset
        let inspect = try await MediadBinary.run(["dlq", "inspect", "0:\(beachPosition)"], environment: env)
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.text.contains("\"fileId\" : \"beach\"") && inspect.text.contains("trace: t-1"), "\(inspect.text)")

        // The fix: the archive is allowed now. Replay that code only.
        let fixed = try RunningDaemon(stack) { $0.allowedBuckets = ["uploads", "archive"] }
        let dry = try await MediadBinary.run(["dlq", "replay", "--code", "bucket_not_allowed", "--dry-run"], environment: env)
        #expect(dry.status == 0 && dry.text.contains("1 would replay"), "\(dry.text)\(dry.stderr)")
        let replay = try await MediadBinary.run(["dlq", "replay", "--code", "bucket_not_allowed"], environment: env)
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replay.text.contains("1 replayed, 0 refused, 1 passed over"), "\(replay.text)")

        let processed = try await stack.collect(1, topics: [stack.configuration.outputTopic])
        let data = try #require(processed.first.flatMap(KafkaReader.eventData))
        #expect(data["fileId"] as? String == "beach")
        #expect(data["status"] as? String == "succeeded")
        // The replayed copy carries the original key and headers, the count and where it came from.
        let uploads = try await stack.collect(3, topics: [topic], timeout: .seconds(15))
        let copy = try #require(uploads.first { KafkaReader.header($0, DeadLetter.Header.replayCount) != nil })
        #expect(KafkaReader.header(copy, DeadLetter.Header.replayCount) == "1")
        #expect(KafkaReader.header(copy, DeadLetter.Header.replayedFrom) == "0:\(beachPosition)")
        #expect(KafkaReader.header(copy, "trace") == "t-1")
        #expect(KafkaReader.header(copy, DeadLetter.Header.errorCode) == nil)
        #expect(copy.key == Array("beach".utf8))

        // The mark moved: the same replay finds nothing new.
        let again = try await MediadBinary.run(["dlq", "replay", "--code", "bucket_not_allowed"], environment: env)
        #expect(again.status == 0 && again.text.contains("0 replayed"), "\(again.text)\(again.stderr)")

        // A message that keeps failing is not replayed for ever.
        var tired = DeadLetter(key: nil, value: Array("still not json".utf8), headers: [(DeadLetter.Header.replayCount, Array("3".utf8))], code: "malformed_json", message: "x", topic: topic, partition: 0, offset: 0, failedAt: "2026-01-01T00:00:00Z")
        tired.headers.append(("extra", nil))
        let report = try await producer.send(topic: stack.configuration.dlqTopic, key: nil, value: tired.value, headers: tired.headers.map { (name: $0.0, value: $0.1) })
        let refused = try await MediadBinary.run(["dlq", "replay", "--offset", "0:\(report.offset)"], environment: env)
        #expect(refused.status == 1)
        #expect(refused.text.contains("already replayed 3 times"), "\(refused.text)")
        try await fixed.stop()
    }
}
