import Foundation
import MediadTestSupport
import Testing

@testable import AMQP

extension AMQPSuite {
    @Suite("Deliveries: prefetch, redelivery, delivery limit, basic.get, cancel")
    struct Deliveries {
        @Test("prefetch bounds unacked deliveries: with N unacked nothing more arrives; each ack lets one more in")
        func prefetchBound() async throws {
            let context = try await AMQPTestContext.make("prefetch")
            let connection = try await context.connect()
            try await connection.declare(context.queueTopology("work"))
            let publisher = try await connection.makePublisher()
            try await publishAll(publisher, (0..<10).map { "w\($0)" }, exchange: "work.x", routingKey: "work")

            let consumer = try await connection.consume(queue: "work", prefetch: 3)
            let recorder = Recorder(consumer.events)
            try await recorder.wait(for: "3 deliveries") { $0.count >= 3 }
            try await Task.sleep(for: .seconds(1))
            #expect(recorder.deliveries.count == 3, "no more than the prefetch while 3 are unacked")
            try await waitUntil("the broker to count 3 unacked") { try await context.counts("work")?.unacked == 3 }

            try await consumer.ack(recorder.deliveries[0])
            try await recorder.wait(for: "a 4th delivery") { $0.count >= 4 }
            try await Task.sleep(for: .milliseconds(500))
            #expect(recorder.deliveries.count == 4)

            // `multiple` acks every earlier delivery of the channel at once.
            try await consumer.ack(recorder.deliveries[3], multiple: true)
            try await recorder.wait(for: "7 deliveries") { $0.count >= 7 }
            try await Task.sleep(for: .milliseconds(500))
            #expect(recorder.deliveries.count == 7)
            await #expect {
                try await consumer.ack(recorder.deliveries[2])
            } throws: { ($0 as? AMQPError)?.code == .unknownDeliveryTag }
            await connection.close()
            // Closing with 3 unacked: the broker has them back, ready.
            try await waitUntil("the unacked to return") { try await context.counts("work")?.ready == 6 }
        }

        @Test("nack with requeue redelivers the message with redelivered set; reject without requeue drops it")
        func nackRequeue() async throws {
            let context = try await AMQPTestContext.make("nack")
            let connection = try await context.connect()
            try await connection.declare(context.queueTopology("retry"))
            let publisher = try await connection.makePublisher()
            try await publisher.publish(message("again", id: "a"), exchange: "retry.x", routingKey: "retry")
            try await publisher.publish(message("gone", id: "g"), exchange: "retry.x", routingKey: "retry")

            let consumer = try await connection.consume(queue: "retry", prefetch: 1)
            let recorder = Recorder(consumer.events)
            try await recorder.wait(for: "the first delivery") { $0.count >= 1 }
            let first = recorder.deliveries[0]
            #expect(text(first) == "again" && !first.redelivered)
            try await consumer.nack(first, requeue: true)
            // A quorum queue (3.10) puts a returned message behind the others.
            try await recorder.wait(for: "the second message") { $0.count >= 2 }
            let other = recorder.deliveries[1]
            #expect(text(other) == "gone" && !other.redelivered)
            try await consumer.reject(other, requeue: false)
            try await recorder.wait(for: "the redelivery") { $0.count >= 3 }
            let redelivered = recorder.deliveries[2]
            #expect(text(redelivered) == "again")
            #expect(redelivered.redelivered)
            #expect(redelivered.header("x-delivery-count")?.intValue == 1, "quorum queues count returns: \(redelivered.properties.headers)")
            try await consumer.ack(redelivered)
            try await waitUntil("the queue to be empty") {
                let counts = try await context.counts("retry")
                return counts?.ready == 0 && counts?.unacked == 0
            }
            await connection.close()
        }

        @Test("a quorum queue's x-delivery-limit dead-letters a message nacked past the limit")
        func deliveryLimit() async throws {
            let context = try await AMQPTestContext.make("poison")
            let connection = try await context.connect()
            var topology = context.queueTopology("input", deliveryLimit: 2, deadLetterExchange: "dlx")
            topology.exchanges.append(AMQPExchange(name: "dlx", kind: .fanout))
            topology.queues.append(AMQPQueue(name: "dlq"))
            topology.bindings.append(AMQPBinding(queue: "dlq", exchange: "dlx"))
            try await connection.declare(topology)
            let publisher = try await connection.makePublisher()
            try await publisher.publish(message("poison", id: "p1"), exchange: "input.x", routingKey: "input")

            let consumer = try await connection.consume(queue: "input", prefetch: 1)
            let recorder = Recorder(consumer.events)
            for attempt in 1...3 {
                try await recorder.wait(for: "delivery \(attempt)") { $0.count >= attempt }
                try await consumer.nack(recorder.deliveries[attempt - 1], requeue: true)
            }
            try await waitUntil("the dead letter") { try await context.counts("dlq")?.ready == 1 }
            try await Task.sleep(for: .milliseconds(500))
            #expect(recorder.deliveries.count == 3, "delivered once plus the limit of 2 redeliveries, then dead-lettered")
            #expect(try await connection.queueStatus("input").messageCount == 0)

            let dead = try #require(try await connection.get(from: "dlq"))
            #expect(text(dead) == "poison")
            #expect(dead.properties.messageID == "p1")
            let death = dead.header("x-death")?.arrayValue?.first?.tableValue
            #expect(death?["reason"]?.stringValue == "delivery_limit", "\(dead.properties.headers)")
            #expect(death?["queue"]?.stringValue == "input")
            try await connection.ack(dead)
            await connection.close()
        }

        @Test("basic.get reads one message at a time: get, republish with confirm, ack; empty gives nil")
        func getAndReplay() async throws {
            let context = try await AMQPTestContext.make("get")
            let connection = try await context.connect()
            var topology = context.queueTopology("input")
            topology.queues.append(AMQPQueue(name: "dlq"))
            try await connection.declare(topology)
            let publisher = try await connection.makePublisher()
            for index in 0..<3 {
                try await publisher.publish(message("dead-\(index)", id: "d\(index)"), exchange: "", routingKey: "dlq")
            }
            #expect(try await connection.get(from: "input") == nil)

            var replayed: [String] = []
            while let dead = try await connection.get(from: "dlq") {
                #expect(dead.consumerTag == nil)
                #expect(dead.messageCount == UInt32(2 - replayed.count), "messages left after this one")
                // Only after the republish is confirmed is the dead letter acked.
                try await publisher.publish(AMQPMessage(body: dead.body, properties: dead.properties), exchange: "input.x", routingKey: "input")
                try await connection.ack(dead)
                replayed.append(text(dead))
            }
            #expect(replayed == ["dead-0", "dead-1", "dead-2"])

            // Concurrent gets take turns on the one getter channel: each gets its own message.
            for index in 0..<4 {
                try await publisher.publish(message("burst-\(index)"), exchange: "", routingKey: "dlq")
            }
            let burst = try await withThrowingTaskGroup(of: AMQPDelivery?.self) { group in
                for _ in 0..<6 { group.addTask { try await connection.get(from: "dlq") } }
                var got: [AMQPDelivery?] = []
                for try await delivery in group { got.append(delivery) }
                return got
            }
            #expect(burst.compactMap { $0.map(text) }.sorted() == (0..<4).map { "burst-\($0)" })
            #expect(burst.filter { $0 == nil }.count == 2)
            for delivery in burst.compactMap({ $0 }) { try await connection.ack(delivery) }
            try await waitUntil("the dlq to be empty") {
                let counts = try await context.counts("dlq")
                return counts?.ready == 0 && counts?.unacked == 0
            }
            #expect(try await connection.queueStatus("input").messageCount == 3)

            // An unacked get goes back when its connection closes: nothing is lost.
            let peeked = try #require(try await connection.get(from: "input"))
            #expect(text(peeked) == "dead-0")
            #expect(try await connection.queueStatus("input").messageCount == 2)
            try await waitUntil("the broker to count it unacked") { try await context.counts("input")?.unacked == 1 }
            await connection.close()
            let again = try await context.connect()
            try await waitUntil("the peeked message to return") { try await again.queueStatus("input").messageCount == 3 }
            await #expect {
                try await again.ack(peeked)
            } throws: { ($0 as? AMQPError)?.code == .staleDelivery }
            await again.close()
        }

        @Test("deleting the queue cancels its consumer: the broker's basic.cancel arrives as an event")
        func consumerCancelNotification() async throws {
            let context = try await AMQPTestContext.make("cancel")
            let connection = try await context.connect()
            try await connection.declare(context.queueTopology("doomed"))
            let publisher = try await connection.makePublisher()
            try await publisher.publish(message("one"), exchange: "doomed.x", routingKey: "doomed")
            let consumer = try await connection.consume(queue: "doomed")
            let recorder = Recorder(consumer.events)
            try await recorder.wait(for: "the delivery") { $0.count >= 1 }

            let other = try await context.connect()
            try await other.deleteQueue("doomed")
            try await recorder.wait(for: "the cancel notification", timeout: .seconds(20)) { events in
                events.contains { if case .cancelledByBroker = $0 { true } else { false } }
            }
            try await waitUntil("the events to finish") { recorder.isFinished }
            #expect(connection.isOpen, "a cancelled consumer leaves the connection up")
            // Its delivery can still be settled on its channel, which then closes.
            let channels = { try await connection.core.perform { driver in driver.channels.count } }
            let open = try await channels()
            try await consumer.ack(recorder.deliveries[0])
            try await waitUntil("the cancelled consumer's channel to close") { try await channels() == open - 1 }
            // Our own cancel: the sequence finishes, nothing else is reported.
            try await other.declare(context.queueTopology("doomed"))
            let second = try await connection.consume(queue: "doomed")
            let secondRecorder = Recorder(second.events)
            try await second.cancel()
            try await waitUntil("the second consumer's events to finish") { secondRecorder.isFinished }
            #expect(secondRecorder.events.isEmpty)
            #expect(try await connection.queueStatus("doomed").consumerCount == 0)
            await other.close()
            await connection.close()
        }
    }
}
