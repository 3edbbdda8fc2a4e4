import Foundation
import MediadTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import AMQP

extension AMQPSuite {
    /// Faults on the real broker, through the supervisor: what the layer reports, that it
    /// reconnects, and that deliveries of a lost connection are redelivered, never acked on
    /// the new one, and nothing is lost or acked twice.
    @Suite("Faults: closed connections, broker restarts, blocked publishers, silent brokers")
    struct Faults {
        static let bodies = (0..<20).map { "job-\($0)" }

        static func supervisor(_ context: AMQPTestContext, name: String, queue: String) throws -> AMQPConnectionSupervisor {
            AMQPConnectionSupervisor(
                configuration: try context.configuration(name: name), topology: context.queueTopology(queue),
                backoff: AMQPBackoff(initial: .milliseconds(200), maximum: .seconds(2)), logger: AMQPTestContext.logger(name))
        }

        /// Publishes `bodies` on a connection of its own, with confirms.
        static func seed(_ context: AMQPTestContext, queue: String, bodies: [String]) async throws {
            let connection = try await context.connect()
            try await connection.declare(context.queueTopology(queue))
            try await publishAll(try await connection.makePublisher(), bodies, exchange: "\(queue).x", routingKey: queue)
            await connection.close()
        }

        /// The supervisor's states, recorded.
        final class StateLog: Sendable {
            private let states = Mutex<[AMQPConnectionState]>([])
            init(_ supervisor: AMQPConnectionSupervisor) {
                let stream = supervisor.stateChanges()
                Task { [self] in for await state in stream { states.withLock { $0.append(state) } } }
            }
            var all: [AMQPConnectionState] { states.withLock { $0 } }
            var disconnections: [AMQPError] {
                all.compactMap { if case .disconnected(let error, _) = $0 { error } else { nil } }
            }
        }

        /// Acks the first 5 deliveries of the first connection and holds the next ones (the
        /// prefetch of 5 keeps them unacked there), then acks everything on later connections.
        static func holdAfterFive(_ delivery: AMQPDelivery, generation: Int, count: Int) -> Bool {
            generation == 1 && count > 5
        }

        /// Seeds 20 jobs, starts a supervisor named `label` and a consumer that acks 5 of them
        /// and holds the next 5 unacked (`holdAfterFive`); returns once it does.
        static func startHolding(_ label: String) async throws -> (AMQPTestContext, AMQPConnectionSupervisor, StateLog, AckingConsumer) {
            let context = try await AMQPTestContext.make(label)
            try await seed(context, queue: "jobs", bodies: bodies)
            let supervisor = try supervisor(context, name: label, queue: "jobs")
            let states = StateLog(supervisor)
            let consumer = AckingConsumer(supervisor.consumer(queue: "jobs", prefetch: 5), supervisor: supervisor, hold: holdAfterFive)
            supervisor.start()
            try await supervisor.waitUntilConnected(timeout: .seconds(30))
            try await waitUntil("5 acked and 5 held") { consumer.record.acked.count == 5 && consumer.record.held.count == 5 }
            return (context, supervisor, states, consumer)
        }

        /// The 5 held deliveries of the lost connection: acking them now is refused as stale
        /// (nothing is sent on the new connection).
        static func expectHeldStale(_ consumer: AckingConsumer, supervisor: AMQPConnectionSupervisor) async throws -> [AMQPDelivery] {
            let held = consumer.record.held
            #expect(held.count == 5, "5 deliveries were unacked when the connection went")
            for delivery in held {
                await #expect {
                    try await supervisor.ack(delivery)
                } throws: { ($0 as? AMQPError)?.code == .staleDelivery }
            }
            return held
        }

        /// After the fault: the held deliveries cannot be acked (stale), come back
        /// redelivered, and in the end every body is acked exactly once and the queue is empty.
        static func checkRecovery(_ consumer: AckingConsumer, supervisor: AMQPConnectionSupervisor, context: AMQPTestContext, queue: String) async throws {
            try await waitUntil("the consumer to resume on a new connection") { consumer.record.generations.count >= 2 }
            let held = try await expectHeldStale(consumer, supervisor: supervisor)
            try await waitUntil("every job acked") { Set(consumer.record.acked) == Set(bodies) }
            try await Task.sleep(for: .milliseconds(500))
            let record = consumer.record
            #expect(record.acked.count == bodies.count, "nothing acked twice: \(record.acked.sorted())")
            #expect(record.ackErrors.isEmpty, "\(record.ackErrors)")
            let heldBodies = Set(held.map(text))
            let redelivered = record.received.filter { $0.redelivered }.map(text)
            #expect(heldBodies.isSubset(of: Set(redelivered)), "the unacked ones came back redelivered: \(redelivered)")
            #expect(try await supervisor.connection?.queueStatus(queue).messageCount == 0)
            try await waitUntil("no unacked left") { try await context.counts(queue)?.unacked == 0 }
        }

        @Test("rabbitmqctl close_connection mid-stream: loss reported, reconnect, unacked redelivered, each message acked once")
        func closedByBroker() async throws {
            let (context, supervisor, states, consumer) = try await Self.startHolding("fault-close")
            let firstConnection = try #require(supervisor.connection)

            #expect(try await context.broker.closeConnections(named: "fault-close") == 1)
            try await waitUntil("the interruption") { !consumer.record.interruptions.isEmpty }
            let interruption = consumer.record.interruptions[0]
            #expect(interruption.isConnectionLost)
            #expect(interruption.code == .connectionForced, "\(interruption)")
            #expect(firstConnection.lostError?.code == .connectionForced)
            try await Self.checkRecovery(consumer, supervisor: supervisor, context: context, queue: "jobs")
            #expect(states.disconnections.first?.code == .connectionForced, "\(states.all)")
            #expect(states.all.contains(.connected(generation: 2)))
            #expect(supervisor.isReady)
            await supervisor.shutdown()
            #expect(supervisor.currentState == .closed)
        }

        @Test("stop_app/start_app with messages in flight: reconnect with backoff, redelivery, confirmed publishes all arrive")
        func brokerRestart() async throws {
            let (context, supervisor, states, consumer) = try await Self.startHolding("fault-restart")

            // A publisher keeps going through the outage: a publish either is confirmed or
            // throws; one that throws is retried once connected again.
            let confirmed = Mutex<[String]>([])
            let failures = Mutex<[AMQPError]>([])
            // It goes on past ten until one publish has met the outage (under load, ten can
            // all be done before `stop_app` takes effect), and returns how many it published.
            let publishing = Task {
                var index = 0
                while index < 10 || (failures.withLock { $0.isEmpty } && index < 2000) {
                    defer { index += 1 }
                    let body = "extra-\(index)"
                    while true {
                        do throws(AMQPError) {
                            try await supervisor.publish(message(body, id: body), exchange: "jobs.x", routingKey: "jobs", timeout: .seconds(5))
                            confirmed.withLock { $0.append(body) }
                            break
                        } catch {
                            failures.withLock { $0.append(error) }
                            try? await Task.sleep(for: .milliseconds(200))
                        }
                    }
                    try? await Task.sleep(for: .milliseconds(100))
                }
                return index
            }
            try await Task.sleep(for: .milliseconds(300))
            try await context.broker.stopApp()
            try await waitUntil("the interruption") { !consumer.record.interruptions.isEmpty }
            #expect(consumer.record.interruptions[0].isConnectionLost)
            #expect(!supervisor.isReady)
            try await waitUntil("a failed reconnection attempt", timeout: .seconds(30)) { states.disconnections.count >= 2 }
            await #expect {
                try await supervisor.publish(message("while down"), exchange: "jobs.x", routingKey: "jobs")
            } throws: { ($0 as? AMQPError)?.isRetriable == true }
            try await context.broker.startApp()
            try await supervisor.waitUntilConnected(timeout: .seconds(60))
            let extras = await publishing.value

            let expected = Set(Self.bodies + (0..<extras).map { "extra-\($0)" })
            try await waitUntil("every job and every confirmed extra acked") { Set(consumer.record.acked) == expected }
            #expect(!failures.withLock { $0 }.isEmpty, "some publishes failed during the outage (and were retried)")
            #expect(Set(confirmed.withLock { $0 }) == Set((0..<extras).map { "extra-\($0)" }))
            let held = try await Self.expectHeldStale(consumer, supervisor: supervisor)
            let record = consumer.record
            // Jobs are acked once; an extra whose confirm was lost in the outage may have been
            // stored and republished, so it can arrive twice (at least once), never not at all.
            let jobs = record.acked.filter { $0.hasPrefix("job-") }
            #expect(jobs.count == Self.bodies.count, "\(jobs.sorted())")
            #expect(record.ackErrors.isEmpty, "\(record.ackErrors)")
            #expect(Set(held.map(text)).isSubset(of: Set(record.received.filter(\.redelivered).map(text))))
            let generations = states.all.compactMap { if case .connected(let generation) = $0 { generation } else { nil } }
            #expect(generations.first == 1 && (generations.last ?? 0) >= 2, "\(states.all)")
            await supervisor.shutdown()
        }

        @Test("a publish whose confirm never comes (memory alarm) fails, never reports confirmed; blocked publishes are held, then time out or fail with the connection")
        func blockedPublisher() async throws {
            let context = try await AMQPTestContext.make("fault-blocked")
            let connection = try await context.connect(name: "fault-blocked")
            try await connection.declare(context.queueTopology("out"))
            let publisher = try await connection.makePublisher()
            try await publisher.publish(message("before"), exchange: "out.x", routingKey: "out")
            let events = Recorder(connection.events)

            try await context.broker.setMemoryHighWatermark(0)
            do {
                // Written before the broker blocks the connection, or held once it did:
                // either way no confirm comes, and the publish fails.
                let first = await outcome { () async throws(AMQPError) in
                    try await publisher.publish(message("never-confirmed"), exchange: "out.x", routingKey: "out", timeout: .seconds(3))
                }
                #expect(throws: AMQPError.self) { try first.get() }
                if case .failure(let error) = first { #expect(error.code == .confirmTimedOut, "\(error)") }
                try await events.wait(for: "connection.blocked", timeout: .seconds(20)) { events in
                    events.contains { if case .blocked = $0 { true } else { false } }
                }
                #expect(connection.blockedReason != nil)

                // Held back while blocked: not sent; it times out with the reason.
                let held = await outcome { () async throws(AMQPError) in
                    try await publisher.publish(message("held"), exchange: "out.x", routingKey: "out", timeout: .seconds(1))
                }
                if case .failure(let error) = held {
                    #expect(error.code == .confirmTimedOut && error.message.contains("not sent"), "\(error)")
                } else {
                    Issue.record("a publish while blocked was reported confirmed")
                }

                // Outstanding when the connection goes: fails with the loss.
                let pending = Task {
                    await outcome { () async throws(AMQPError) in
                        try await publisher.publish(message("lost with the connection"), exchange: "out.x", routingKey: "out", timeout: .seconds(60))
                    }
                }
                try await Task.sleep(for: .milliseconds(300))
                #expect(try await context.broker.closeConnections(named: "fault-blocked") == 1)
                let lost = await pending.value
                if case .failure(let error) = lost {
                    #expect(error.isConnectionLost, "\(error)")
                } else {
                    Issue.record("a publish outstanding at the connection's loss was reported confirmed")
                }
            }
            try await context.broker.setMemoryHighWatermark(0.4)
            try await events.wait(for: "the closed event") { events in
                events.contains { if case .closed(let error) = $0 { error != nil } else { false } }
            }
            #expect(!connection.isOpen)
            let fresh = try await context.connect()
            let freshPublisher = try await fresh.makePublisher()
            try await freshPublisher.publish(message("after"), exchange: "out.x", routingKey: "out")
            await fresh.close()
        }

        @Test("heartbeats keep an idle connection up; a silent broker (SIGSTOP) is detected by missed heartbeats")
        func heartbeats() async throws {
            let context = try await AMQPTestContext.make("fault-heartbeat")
            let connection = try await context.connect { $0.heartbeat = .seconds(1) }
            #expect(connection.heartbeat == .seconds(1))
            try await connection.declare(context.queueTopology("hb"))
            try await Task.sleep(for: .seconds(4))
            #expect(connection.isOpen, "heartbeats kept it open while idle")
            #expect(try await context.broker.connectionNames().count >= 1)

            let pid = try #require(context.broker.pid)
            let events = Recorder(connection.events)
            kill(pid, SIGSTOP)
            let detected: Duration
            do {
                defer { kill(pid, SIGCONT) }
                detected = try await measure {
                    try await events.wait(for: "the loss", timeout: .seconds(15)) { events in
                        events.contains { if case .closed = $0 { true } else { false } }
                    }
                }
            }
            #expect(connection.lostError?.code == .heartbeatTimeout, "\(String(describing: connection.lostError))")
            #expect(detected < .seconds(6), "two heartbeat intervals (plus poll jitter): \(detected)")
            try await waitUntil("the broker to answer again") { (try? await context.broker.connectionNames()) != nil }
        }
    }
}
