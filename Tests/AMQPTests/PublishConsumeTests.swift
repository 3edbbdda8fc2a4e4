import Foundation
import MediadTestSupport
import Testing

@testable import AMQP

extension AMQPSuite {
    @Suite("Publish with confirms, consume with manual acks")
    struct PublishConsume {
        static let headers: AMQPTable = [
            "cloudEvents_specversion": "1.0", "cloudEvents_id": "evt-1", "cloudEvents_source": "/storage/bucket",
            "cloudEvents_type": "file.uploaded", "cloudEvents_time": "2026-12-01T12:00:00Z",
            "attempt": 3, "big": .int64(1 << 40), "small": .int8(-5), "flag": true, "raw": .bytes([0, 1, 2, 255]),
            "ratio": 0.5, "when": .timestamp(1_764_590_400),
            "nested": .table(["size": 1024, "tags": .array(["a", "b", .table(["deep": false])])]),
        ]

        static let properties = AMQPProperties(
            contentType: "application/json", contentEncoding: "identity", headers: headers, deliveryMode: .persistent,
            priority: 4, correlationID: "corr-9", replyTo: "replies", expiration: "600000", messageID: "msg-1",
            timestamp: Date(timeIntervalSince1970: 1_764_590_400), type: "media.requested", appID: "mediad"
        )

        @Test("body, headers (nested) and properties round-trip; every message is confirmed and acked once")
        func roundTrip() async throws {
            let context = try await AMQPTestContext.make("roundtrip")
            let connection = try await context.connect()
            try await connection.declare(context.queueTopology("input"))
            let publisher = try await connection.makePublisher()
            let body = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }  // more than two frames
            try await publisher.publish(AMQPMessage(body: body, properties: Self.properties), exchange: "input.x", routingKey: "input")
            try await publishAll(publisher, (0..<50).map { "m\($0)" }, exchange: "input.x", routingKey: "input")
            #expect(try await publisher.outstandingConfirms() == 0)

            let consumer = try await connection.consume(queue: "input", prefetch: 100)
            let recorder = Recorder(consumer.events)
            try await recorder.wait(for: "51 deliveries") { $0.count >= 51 }
            let first = try #require(recorder.deliveries.first)
            #expect(first.body == body)
            #expect(first.properties == Self.properties)
            #expect(first.header("cloudEvents_id")?.stringValue == "evt-1")
            #expect(first.header("nested")?.tableValue?["tags"]?.arrayValue?.count == 3)
            #expect(first.exchange == "input.x")
            #expect(first.routingKey == "input")
            #expect(first.consumerTag == consumer.consumerTag)
            #expect(!first.redelivered)
            #expect(Set(recorder.bodies.dropFirst()) == Set((0..<50).map { "m\($0)" }))
            #expect(recorder.deliveries.map(\.deliveryTag) == Array(1...51))

            for delivery in recorder.deliveries { try await consumer.ack(delivery) }
            await #expect {
                try await consumer.ack(first)
            } throws: { ($0 as? AMQPError)?.code == .unknownDeliveryTag }
            try await waitUntil("the queue to be empty") { try await context.counts("input")?.unacked == 0 }
            #expect(try await connection.queueStatus("input").messageCount == 0)
            #expect(connection.isOpen, "a refused double ack did not reach the broker (it would close the channel)")
            await connection.close()
            #expect(recorder.isFinished || recorder.events.count == 51)
        }

        @Test("a mandatory message no queue takes fails with NO_ROUTE; without mandatory it is confirmed and dropped")
        func mandatoryReturn() async throws {
            let context = try await AMQPTestContext.make("mandatory")
            let connection = try await context.connect()
            try await connection.declare(context.queueTopology("routed"))
            let publisher = try await connection.makePublisher()
            await #expect {
                try await publisher.publish(message("lost", id: "r1"), exchange: "routed.x", routingKey: "nowhere", mandatory: true)
            } throws: { error in
                guard let error = error as? AMQPError else { return false }
                return error.code == .noRoute && error.message.contains("312")
            }
            try await publisher.publish(message("dropped"), exchange: "routed.x", routingKey: "nowhere")
            // Returns and acks interleaved with routed messages: each publish gets its own outcome.
            let outcomes = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
                for index in 0..<20 {
                    group.addTask {
                        let routable = index % 2 == 0
                        do {
                            try await publisher.publish(
                                message("x\(index)", id: "x\(index)"), exchange: "routed.x", routingKey: routable ? "routed" : "nowhere",
                                mandatory: true)
                            return (index, true)
                        } catch let error as AMQPError where error.code == .noRoute {
                            return (index, false)
                        }
                    }
                }
                var outcomes: [Int: Bool] = [:]
                for try await (index, confirmed) in group { outcomes[index] = confirmed }
                return outcomes
            }
            #expect(outcomes == Dictionary(uniqueKeysWithValues: (0..<20).map { ($0, $0 % 2 == 0) }))
            #expect(try await connection.queueStatus("routed").messageCount == 10)
            // Publishing to a missing exchange closes the publisher's channel: the publish fails.
            await #expect {
                try await publisher.publish(message("void"), exchange: "no-such-exchange", routingKey: "k")
            } throws: { error in
                guard let error = error as? AMQPError else { return false }
                return error.code == .notFound && error.isChannelClosed
            }
            await #expect(throws: AMQPError.self) { try await publisher.publish(message("after"), exchange: "routed.x", routingKey: "routed") }
            let replacement = try await connection.makePublisher()
            try await replacement.publish(message("after"), exchange: "routed.x", routingKey: "routed")
            await connection.close()
        }
    }
}
