import AMQP
import Events
import Logging

/// `mediad dlq` on RabbitMQ: reads the dead-letter queue without losing a message, and
/// replays dead letters to the queue they came from once the cause is fixed.
///
/// A queue has no offsets and no way to look without taking: every message the queue holds
/// when reading begins is taken with `basic.get` and left unacked (the broker keeps it), and
/// whatever is not replayed goes back with a requeueing nack, one at a time in the order read
/// (classic queues put a message back where it was, quorum queues return them in the order
/// they come back). If the connection ends first, the broker returns them all itself. While
/// a read is running, another reader sees the queue without the messages it holds.
///
/// A replayed message is acked only after the queue it came from confirmed the copy, so the
/// queue itself is the replay mark: what is in it has not been replayed. Should the
/// connection end between the confirm and the ack, the dead letter comes back too, and
/// replaying it again is answered by the daemon from the manifest.
public struct AMQPDeadLetterQueue: Sendable {
    public var configuration: AMQPConfiguration
    /// The dead-letter queue (`amqpDeadLetterQueue`).
    public var queue: String
    public var logger: Logger

    public init(configuration: AMQPConfiguration, queue: String, logger: Logger) {
        self.configuration = configuration
        self.queue = queue
        self.logger = logger
    }

    /// Which dead letters a replay sends back.
    public enum Selection: Sendable, Hashable {
        /// Those whose code is in the set (empty: every code).
        case codes(Set<String>)
        /// Exactly these, by id.
        case ids(Set<String>)
    }

    /// A message taken from the queue and not yet settled.
    struct Held: Sendable {
        var entry: DeadLetterEntry
        var delivery: AMQPDelivery
    }

    /// Every dead letter in the queue, head first; the queue is left as it was.
    /// - Throws: `DeadLetterQueueError.noQueue`, or the `AMQPError` that ended the connection.
    public func list() async throws -> [DeadLetterEntry] {
        try await withConnection { (connection: AMQPConnection) async throws -> [DeadLetterEntry] in
            let held = try await take(on: connection)
            try await giveBack(held, on: connection)
            return held.map(\.entry)
        }
    }

    /// Sends the selected dead letters back to the queue they came from (the default
    /// exchange, keyed by the queue's name, mandatory and confirmed) with
    /// `mediad-replay-count` incremented, acking each only once its copy is confirmed; the
    /// others go back to the dead-letter queue. A message already replayed `maxReplays` times
    /// is refused and stays.
    public func replay(_ selection: Selection, maxReplays: Int, dryRun: Bool) async throws -> DeadLetterReplayReport {
        try await withConnection { (connection: AMQPConnection) async throws -> DeadLetterReplayReport in
            let publisher: AMQPPublisher? = dryRun ? nil : try await connection.makePublisher()
            let held = try await take(on: connection)
            var report = DeadLetterReplayReport()
            var kept: [Held] = []
            for message in held {
                if try await replay(message, selection: selection, maxReplays: maxReplays, publisher: publisher, on: connection, into: &report) {
                    continue
                }
                kept.append(message)
            }
            try await giveBack(kept, on: connection)
            if case .ids(let ids) = selection {
                report.notFound = ids.subtracting(held.map(\.entry.id)).sorted()
            }
            return report
        }
    }

    /// Replays one message if the selection picks it and the limit allows, recording what
    /// happened. Returns true when it was sent and acked; without a publisher (a dry run)
    /// it is only recorded.
    private func replay(
        _ message: Held, selection: Selection, maxReplays: Int, publisher: AMQPPublisher?, on connection: AMQPConnection,
        into report: inout DeadLetterReplayReport
    ) async throws -> Bool {
        let entry = message.entry
        let picked: Bool
        switch selection {
        case .codes(let codes): picked = codes.isEmpty || codes.contains(entry.code)
        case .ids(let ids): picked = ids.contains(entry.id)
        }
        guard picked else {
            report.passedOver += 1
            return false
        }
        guard let origin = entry.originalTopic, !origin.isEmpty else {
            report.refused.append((entry, "no \(DeadLetter.Header.originalTopic) or \(DeadLetterEntry.BrokerHeader.firstDeathQueue) header"))
            return false
        }
        if let refusal = entry.replayLimitRefusal(maxReplays: maxReplays) {
            report.refused.append((entry, refusal))
            return false
        }
        guard let publisher else {
            report.replayed.append(entry)
            return false
        }
        do {
            try await publisher.publish(entry.replayMessage(of: message.delivery), exchange: "", routingKey: origin, mandatory: true)
        } catch {
            guard error.code == .noRoute else { throw error }
            report.refused.append((entry, "there is no queue '\(origin)' to send it back to"))
            return false
        }
        try await connection.ack(message.delivery)
        logger.info("replayed", metadata: ["from": "\(entry.id)", "to": "\(origin)", "code": "\(entry.code)", "replay": "\(entry.replayCount + 1)"])
        report.replayed.append(entry)
        return true
    }

    /// Runs `body` on a connection of its own, closed afterwards whatever happens: what
    /// `body` took and did not settle goes back to the queue then.
    private func withConnection<T: Sendable>(_ body: (AMQPConnection) async throws -> T) async throws -> T {
        let connection = try await AMQPConnection.connect(configuration, logger: logger)
        do {
            let result = try await body(connection)
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Takes the messages the queue holds now (not those that arrive while reading), unacked.
    /// Entries with the same id (the same message dead-lettered twice) get `#2`, `#3`… in the
    /// order read.
    private func take(on connection: AMQPConnection) async throws -> [Held] {
        let status: AMQPQueueStatus
        do {
            status = try await connection.queueStatus(queue)
        } catch {
            throw error.code == .notFound ? DeadLetterQueueError.noQueue(queue) : error
        }
        var held: [Held] = []
        var seen: [String: Int] = [:]
        while held.count < Int(status.messageCount), let delivery = try await connection.get(from: queue) {
            var entry = DeadLetterEntry(delivery, index: held.count)
            seen[entry.id, default: 0] += 1
            if let count = seen[entry.id], count > 1 { entry.id += "#\(count)" }
            held.append(Held(entry: entry, delivery: delivery))
        }
        return held
    }

    /// Requeues `held` one at a time, in the order read.
    private func giveBack(_ held: [Held], on connection: AMQPConnection) async throws {
        for message in held {
            try await connection.nack(message.delivery, requeue: true)
        }
    }
}
