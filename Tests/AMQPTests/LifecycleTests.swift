import Foundation
import MediadTestSupport
import Synchronization
import Testing

@testable import AMQP

extension AMQPSuite {
    @Suite("Lifecycle: clean close, dropped connections, supervisor shutdown, re-consume after a broker cancel")
    struct Lifecycle {
        /// Connection threads and C connections return to what they were.
        static func waitForNoLeaks(threads: Int, connections: Int) async throws {
            try await waitUntil("connection threads and C connections to be freed", timeout: .seconds(20)) {
                AMQPLibrary.connectionThreads <= threads && AMQPLibrary.liveConnections <= connections
            }
        }

        @Test("close cancels consumers, waits for confirms, closes channels and connection, and frees thread and handle, over repeated runs")
        func cleanClose() async throws {
            let context = try await AMQPTestContext.make("close")
            let threads = AMQPLibrary.connectionThreads
            let connections = AMQPLibrary.liveConnections
            for round in 0..<3 {
                weak var weakConnection: AMQPConnection?
                do {
                    let name = "close-\(round)"
                    let connection = try await context.connect(name: name)
                    weakConnection = connection
                    #expect(AMQPLibrary.connectionThreads == threads + 1)
                    try await connection.declare(context.queueTopology("cycle"))
                    let publisher = try await connection.makePublisher()
                    let consumer = try await connection.consume(queue: "cycle", prefetch: 2)
                    let recorder = Recorder(consumer.events)
                    let events = Recorder(connection.events)
                    // Publishes racing the close: those sent before it are confirmed (close
                    // waits for their confirms), those after it are refused with `.closed`.
                    let confirmed = Counter()
                    let refused = Counter()
                    let publishes = Task {
                        await withTaskGroup(of: Void.self) { group in
                            for index in 0..<40 {
                                group.addTask {
                                    let result = await outcome { () async throws(AMQPError) in
                                        try await publisher.publish(message("r\(round)-\(index)"), exchange: "cycle.x", routingKey: "cycle")
                                    }
                                    switch result {
                                    case .success: confirmed.increment()
                                    case .failure(let error) where error.code == .closed: refused.increment()
                                    case .failure(let error): Issue.record("publish failed: \(error)")
                                    }
                                }
                            }
                        }
                    }
                    try await waitUntil("some publishes confirmed") { confirmed.value >= 5 }
                    let elapsed = await measure {
                        await connection.close()
                    }
                    await publishes.value
                    #expect(elapsed < .seconds(5), "close took \(elapsed)")
                    #expect(confirmed.value + refused.value == 40)
                    #expect(!connection.isOpen)
                    #expect(connection.lostError == nil)
                    try await waitUntil("the consumer's events to finish") { recorder.isFinished }
                    try await waitUntil("the connection's events to finish") { events.isFinished }
                    #expect(events.events.last == .closed(nil))
                    await #expect {
                        try await publisher.publish(message("late"), exchange: "cycle.x", routingKey: "cycle")
                    } throws: { ($0 as? AMQPError)?.code == .closed }
                    try await waitUntil("the broker to forget the connection") { try await !context.broker.connectionNames().contains(name) }
                    // Unacked deliveries went back: every confirmed message is there, no other.
                    let check = try await context.connect()
                    try await waitUntil("the unacked deliveries to return") {
                        try await check.queueStatus("cycle").messageCount == UInt32(confirmed.value)
                    }
                    #expect(try await check.purgeQueue("cycle") == UInt32(confirmed.value))
                    await check.close()
                }
                try await Self.waitForNoLeaks(threads: threads, connections: connections)
                try await Task.sleep(for: .milliseconds(100))
                #expect(weakConnection == nil, "the connection was freed")
            }
        }

        @Test("a connection dropped without close still closes in the background")
        func dropped() async throws {
            let context = try await AMQPTestContext.make("dropped")
            let threads = AMQPLibrary.connectionThreads
            let connections = AMQPLibrary.liveConnections
            var connection: AMQPConnection? = try await context.connect(name: "dropped")
            try await connection?.declare(context.queueTopology("left"))
            _ = try await connection?.consume(queue: "left")
            #expect(AMQPLibrary.connectionThreads == threads + 1)
            connection = nil
            try await Self.waitForNoLeaks(threads: threads, connections: connections)
            try await waitUntil("the broker to see it gone") { try await !context.broker.connectionNames().contains("dropped") }
        }

        @Test("a refused login is a typed error and leaves no thread or handle behind")
        func refusedLogin() async throws {
            let context = try await AMQPTestContext.make("refused")
            let threads = AMQPLibrary.connectionThreads
            let connections = AMQPLibrary.liveConnections
            var wrongPassword = try context.configuration()
            wrongPassword.password = "wrong"
            await #expect {
                _ = try await AMQPConnection.connect(wrongPassword, logger: AMQPTestContext.logger("refused"))
            } throws: { ($0 as? AMQPError)?.code == .accessRefused }
            var noVhost = try context.configuration()
            noVhost.virtualHost = "no-such-vhost"
            await #expect(throws: AMQPError.self) { _ = try await AMQPConnection.connect(noVhost, logger: AMQPTestContext.logger("refused")) }
            var nothingListens = try context.configuration()
            nothingListens.port = Int(try LoopbackPorts.free(1)[0])
            await #expect {
                _ = try await AMQPConnection.connect(nothingListens, logger: AMQPTestContext.logger("refused"))
            } throws: { ($0 as? AMQPError)?.isConnectionLost == true }
            try await Self.waitForNoLeaks(threads: threads, connections: connections)
        }

        @Test("supervisor shutdown: consumers cancelled, in-flight work settled, confirms awaited, connection closed, state closed")
        func supervisorShutdown() async throws {
            let context = try await AMQPTestContext.make("shutdown")
            let threads = AMQPLibrary.connectionThreads
            let connections = AMQPLibrary.liveConnections
            let supervisor = AMQPConnectionSupervisor(
                configuration: try context.configuration(name: "shutdown"), topology: context.queueTopology("in"),
                logger: AMQPTestContext.logger("shutdown"))
            let states = supervisor.stateChanges()
            let input = supervisor.consumer(queue: "in", prefetch: 4)
            let recorder = Recorder(input.events)
            supervisor.start()
            try await supervisor.waitUntilConnected(timeout: .seconds(30))
            for index in 0..<10 { try await supervisor.publish(message("s\(index)"), exchange: "in.x", routingKey: "in") }
            try await recorder.wait(for: "4 deliveries (the prefetch)") { $0.filter { if case .delivery = $0 { true } else { false } }.count >= 4 }

            await supervisor.stopConsuming()
            try await waitUntil("the consumer's events to finish") { recorder.isFinished }
            // Work already handed out is settled after the cancel, on the same connection.
            for delivery in recorder.deliveries { try await supervisor.ack(delivery) }
            #expect(recorder.deliveries.count == 4, "nothing delivered after the cancel")
            await supervisor.shutdown()
            #expect(supervisor.currentState == .closed)
            #expect(!supervisor.isReady)
            await #expect {
                try await supervisor.publish(message("late"), exchange: "in.x", routingKey: "in")
            } throws: { ($0 as? AMQPError)?.code == .notConnected }
            var seen: [AMQPConnectionState] = []
            for await state in states { seen.append(state) }
            #expect(seen.first == .connecting(attempt: 1))
            #expect(seen.contains(.connected(generation: 1)))
            #expect(seen.last == .closed)
            try await Self.waitForNoLeaks(threads: threads, connections: connections)
            let check = try await context.connect()
            #expect(try await check.queueStatus("in").messageCount == 6, "the 4 acked are gone, the rest wait")
            await check.close()
        }

        @Test("the supervisor re-consumes after the broker cancelled its consumer (queue deleted) and replaces a closed publisher channel")
        func reconsumeAfterCancel() async throws {
            let context = try await AMQPTestContext.make("reconsume")
            let supervisor = AMQPConnectionSupervisor(
                configuration: try context.configuration(name: "reconsume"), topology: context.queueTopology("q"),
                backoff: AMQPBackoff(initial: .milliseconds(100), maximum: .seconds(1)), logger: AMQPTestContext.logger("reconsume"))
            let input = supervisor.consumer(queue: "q", prefetch: 4)
            let consumer = AckingConsumer(input, supervisor: supervisor)
            supervisor.start()
            try await supervisor.waitUntilConnected(timeout: .seconds(30))
            try await waitUntil("consuming") { consumer.record.generations == [1] }
            let other = try await context.connect()
            try await other.deleteQueue("q")
            try await waitUntil("the cancel and the re-consume") { consumer.record.cancels == 1 && consumer.record.generations == [1, 1] }
            #expect(input.isConsuming)
            try await supervisor.publish(message("after"), exchange: "q.x", routingKey: "q")
            try await waitUntil("the message on the re-declared queue") { consumer.record.acked == ["after"] }
            // A publish the broker refuses by closing the publisher's channel: the next one
            // goes out on a new channel of the same connection.
            await #expect {
                try await supervisor.publish(message("nowhere"), exchange: "no-such-exchange", routingKey: "q")
            } throws: { ($0 as? AMQPError)?.code == .notFound }
            try await supervisor.publish(message("again"), exchange: "q.x", routingKey: "q")
            try await waitUntil("the next message") { consumer.record.acked == ["after", "again"] }
            #expect(consumer.record.interruptions.isEmpty, "the connection stayed up")
            await other.close()
            await supervisor.shutdown()
        }
    }
}
