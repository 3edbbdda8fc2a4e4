import AMQP
import Backfill
import Daemon
import Events
import Foundation
import MediadTestSupport
import ObjectStorage
import Testing

@Suite("mediad dlq against RabbitMQ", .serialized, .timeLimit(.minutes(5)))
struct RabbitMQDeadLetterTests {
    /// A dead letter as the daemon publishes it: the message with `mediad-*` headers, to the
    /// dead-letter exchange keyed by the queue it came from.
    static func publishDeadLetter(_ letter: DeadLetter, stack: RabbitMQBackfillStack, on connection: AMQPConnection) async throws {
        let publisher = try await connection.makePublisher()
        try await publisher.publish(
            AMQPRecords.message(key: letter.key, value: letter.value, headers: letter.headers), exchange: stack.names.deadLetterExchange,
            routingKey: stack.names.queue, mandatory: true)
    }

    /// A message a consumer kept handing back: nacked with requeue until the input queue's
    /// `x-delivery-limit` makes the broker dead-letter it.
    static func exhaustDeliveries(stack: RabbitMQBackfillStack, on connection: AMQPConnection, deadLetters: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while try await stack.depth(stack.names.deadLetterQueue) < deadLetters {
            try #require(ContinuousClock.now < deadline, "the broker did not dead-letter the message")
            if let delivery = try await connection.get(from: stack.names.queue) {
                try await connection.nack(delivery, requeue: true)
            } else {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    @Test("list and inspect show mediad's and the broker's dead letters and leave the queue as it was; replay by id sends one back")
    func listAndInspect() async throws {
        let stack = try await RabbitMQBackfillStack("dlq-list") { $0.amqpDeliveryLimit = 2 }
        defer { stack.stop() }
        let connection = try await stack.connect()
        let names = stack.names

        let event: [String: Any] = [
            "specversion": "1.0", "id": "evt-1", "source": "/tests", "type": "file.uploaded",
            "data": ["fileId": "beach", "bucket": "archive", "key": "2019/beach.jpg"],
        ]
        let letter = DeadLetter(
            key: Array("beach".utf8), value: Array(try JSONSerialization.data(withJSONObject: event)), headers: [("trace", Array("t-1".utf8))],
            code: "bucket_not_allowed", message: "bucket 'archive' is not in the allowed buckets", topic: names.queue, partition: 0,
            offset: 7, failedAt: "2026-01-01T00:00:00Z")
        try await Self.publishDeadLetter(letter, stack: stack, on: connection)
        var properties = AMQPProperties(contentType: "application/json", messageID: "poison-1")
        properties.headers["attempt"] = .int64(1)
        let publisher = try await connection.makePublisher()
        let poison = AMQPMessage(body: Array(#"{"poison": true}"#.utf8), properties: properties)
        try await publisher.publish(poison, exchange: names.exchange, routingKey: "file.uploaded")
        try await Self.exhaustDeliveries(stack: stack, on: connection, deadLetters: 2)

        let first = try await stack.mediad(["dlq", "list"])
        #expect(first.status == 0, "\(first.stderr)")
        let lines = first.text.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(first.text)")
        #expect(lines.first?.hasPrefix("ID ") == true, "\(first.text)")
        // Head first, as they were dead-lettered.
        #expect(lines.dropFirst().first?.contains("bucket_not_allowed") == true, "\(first.text)")
        #expect(lines.dropFirst().first?.contains("\(names.queue)#7") == true, "\(first.text)")
        let broker = try #require(lines.dropFirst(2).first, "\(first.text)")
        #expect(broker.hasPrefix("poison-1 ") && broker.contains("delivery_limit") && broker.contains(names.queue), "\(first.text)")
        #expect(first.text.contains("2 dead letter(s): bucket_not_allowed 1, delivery_limit 1"), "\(first.text)")

        // Nothing lost, nothing moved: the same listing again, the same depth.
        let second = try await stack.mediad(["dlq", "list"])
        #expect(second.text == first.text)
        #expect(try await stack.waitForDepth(names.deadLetterQueue, 2, timeout: .seconds(5)) == 2)
        #expect(try await stack.depth(names.queue) == 0)

        let json = try await stack.mediad(["dlq", "list", "--json", "--code", "bucket_not_allowed"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.text.utf8)) as? [String: Any], "\(json.text)")
        let id = try #require(object["id"] as? String)
        #expect(id.count == 12 && object["originalTopic"] as? String == names.queue, "\(object)")

        let mediadLetter = try await stack.mediad(["dlq", "inspect", id])
        #expect(mediadLetter.status == 0, "\(mediadLetter.stderr)")
        let expectedLines = [
            "code:      bucket_not_allowed", "trace: t-1", #""fileId" : "beach""#, "key:       beach", "from:      queue \(names.queue) delivery 7",
        ]
        for expected in expectedLines {
            #expect(mediadLetter.text.contains(expected), "\(expected) in \(mediadLetter.text)")
        }
        let brokerLetter = try await stack.mediad(["dlq", "inspect", "poison-1"])
        #expect(brokerLetter.status == 0, "\(brokerLetter.stderr)")
        let brokerLines = ["code:      delivery_limit", "from:      queue \(names.queue)", "x-first-death-reason: delivery_limit", #""poison" : true"#]
        for expected in brokerLines {
            #expect(brokerLetter.text.contains(expected), "\(expected) in \(brokerLetter.text)")
        }
        let missing = try await stack.mediad(["dlq", "inspect", "no-such-id"])
        #expect(missing.status == 1)
        // A quorum queue takes requeued messages back through its log: ready again shortly after.
        #expect(try await stack.waitForDepth(names.deadLetterQueue, 2, timeout: .seconds(5)) == 2)

        // Replay by id: the broker's dead letter goes back to its queue as first published,
        // without the broker's bookkeeping; mediad's stays.
        let replay = try await stack.mediad(["dlq", "replay", "--id", "poison-1"])
        #expect(replay.status == 0, "\(replay.text)\(replay.stderr)")
        #expect(replay.text.contains("replayed poison-1 (delivery_limit) -> \(names.queue) [replay 1]"), "\(replay.text)")
        #expect(try await stack.waitForDepth(names.queue, 1) == 1)
        let copy = try #require(await stack.peek(names.queue).first)
        let headers = try #require(copy["headers"] as? [String: Any])
        #expect(copy["message_id"] as? String == "poison-1")
        #expect(copy["body"] as? String == #"{"poison": true}"#)
        #expect(headers[DeadLetter.Header.replayCount] as? String == "1")
        #expect(headers[DeadLetter.Header.replayedFrom] as? String == "poison-1")
        #expect(headers["attempt"] as? Int == 1)
        // The quorum queue counts deliveries afresh (0 on this first one); x-death and the rest are gone.
        #expect(headers.keys.filter { $0.hasPrefix("x-") && $0 != "x-delivery-count" }.isEmpty, "\(headers)")
        #expect(headers["x-delivery-count"] as? Int ?? 0 == 0, "\(headers)")
        let rest = try await stack.mediad(["dlq", "list", "--json"])
        #expect(rest.text.split(separator: "\n").count == 1 && rest.text.contains(id), "\(rest.text)")
        let unknown = try await stack.mediad(["dlq", "replay", "--id", "no-such-id"])
        #expect(unknown.status == 1 && unknown.text.contains("not found no-such-id"), "\(unknown.text)")
        let offsets = try await stack.mediad(["dlq", "replay", "--offset", "0:1"])
        #expect(offsets.status != 0 && offsets.stderr.contains("--id"), "\(offsets.stderr)")
        #expect(try await stack.waitForDepth(names.deadLetterQueue, 1, timeout: .seconds(5)) == 1)
        await connection.close()
    }

    @Test("a dead letter whose cause was fixed is replayed through the real daemon to media.processed; replays are counted and limited")
    func replayAfterFix() async throws {
        let stack = try await RabbitMQBackfillStack("dlq-replay")
        defer { stack.stop() }
        let names = stack.names
        try await stack.store.createBucket("archive")
        let image = TestPaths.image("exif-rich.jpg")
        _ = try await stack.store.put(bucket: "archive", key: "2019/beach.jpg", file: image, options: PutOptions(contentType: "image/jpeg"))
        let connection = try await stack.connect()

        // The daemon only allows the uploads bucket: an event for the archive is dead-lettered,
        // and so is a message that is not JSON.
        let strict = try stack.serve(["--allowed-buckets", "uploads"])
        let trace: [(String, [UInt8]?)] = [("trace", Array("t-1".utf8))]
        try await stack.publishUpload(fileId: "beach", key: "2019/beach.jpg", bucket: "archive", on: connection, headers: trace)
        let publisher = try await connection.makePublisher()
        try await publisher.publish(AMQPMessage(body: Array("not json".utf8)), exchange: names.exchange, routingKey: "file.uploaded")
        #expect(try await stack.waitForDepth(names.deadLetterQueue, 2) == 2, "\(strict.log)")
        strict.stop()

        let list = try await stack.mediad(["dlq", "list"])
        #expect(list.text.contains("bucket_not_allowed") && list.text.contains("malformed_json"), "\(list.text)\(list.stderr)")
        let dry = try await stack.mediad(["dlq", "replay", "--code", "bucket_not_allowed", "--dry-run"])
        #expect(dry.status == 0 && dry.text.contains("1 would replay"), "\(dry.text)\(dry.stderr)")
        #expect(try await stack.waitForDepth(names.deadLetterQueue, 2, timeout: .seconds(5)) == 2)
        #expect(try await stack.depth(names.queue) == 0)

        // The fix: the archive is allowed now. Replay that code only, while no daemon runs, so
        // the copy can be looked at in the input queue first.
        let replay = try await stack.mediad(["dlq", "replay", "--code", "bucket_not_allowed"])
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replay.text.contains("1 replayed, 0 refused, 1 passed over"), "\(replay.text)")
        #expect(try await stack.waitForDepth(names.queue, 1) == 1)
        #expect(try await stack.waitForDepth(names.deadLetterQueue, 1, timeout: .seconds(5)) == 1)
        let copy = try #require(await stack.peek(names.queue).first)
        let headers = try #require(copy["headers"] as? [String: Any])
        #expect(headers[DeadLetter.Header.replayCount] as? String == "1")
        #expect((headers[DeadLetter.Header.replayedFrom] as? String)?.count == 12, "\(headers)")
        #expect(headers["trace"] as? String == "t-1")
        #expect(headers[AMQPRecords.keyHeader] as? String == "beach")
        #expect(headers[DeadLetter.Header.errorCode] == nil)

        let fixed = try stack.serve(["--allowed-buckets", "uploads,archive"])
        defer { fixed.stop() }
        let processed = try await stack.take(1, from: names.outputQueue, timeout: .seconds(120))
        let result = try #require(processed.first, "\(fixed.log)")
        let data = try #require(RabbitMQBackfillStack.eventData(result))
        #expect(data["fileId"] as? String == "beach")
        #expect(data["status"] as? String == "succeeded")
        #expect(result["routing_key"] as? String == "media.processed")

        // Still not JSON: replayed, dead-lettered again with the count, then refused.
        let again = try await stack.mediad(["dlq", "replay", "--code", "malformed_json"])
        #expect(again.status == 0 && again.text.contains("1 replayed"), "\(again.text)\(again.stderr)")
        let deadline = ContinuousClock.now + .seconds(30)
        var relisted = try await stack.mediad(["dlq", "list", "--json"])
        while !relisted.text.contains("\"replayCount\":1"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            relisted = try await stack.mediad(["dlq", "list", "--json"])
        }
        #expect(relisted.text.contains("\"code\":\"malformed_json\"") && relisted.text.contains("\"replayCount\":1"), "\(relisted.text)\(fixed.log)")
        let refused = try await stack.mediad(["dlq", "replay", "--all", "--max-replays", "1"])
        #expect(refused.status == 1)
        #expect(refused.text.contains("already replayed 1 times") && refused.text.contains("0 replayed, 1 refused"), "\(refused.text)")

        // The DLQ ends with only the refused one.
        #expect(try await stack.waitForDepth(names.deadLetterQueue, 1, timeout: .seconds(5)) == 1)
        let final = try await stack.mediad(["dlq", "list"])
        #expect(final.text.contains("1 dead letter(s): malformed_json 1"), "\(final.text)")
        #expect(try await stack.depth(names.queue) == 0)
        await connection.close()
    }
}
