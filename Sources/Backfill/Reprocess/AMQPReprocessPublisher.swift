import Events
import AMQP
import Logging

/// Records to RabbitMQ, each published with a confirm on a supervised connection that
/// declares mediad's topology (`AMQPNames.topology`) on every connect, so the queues the
/// daemon reads exist before the first request goes out.
public struct AMQPReprocessPublisher: ReprocessPublisher {
    public let supervisor: AMQPConnectionSupervisor
    public let exchange: String
    /// Nil: the record's event type, as the daemon routes its results.
    public let routingKey: String?
    /// A message no queue takes fails (`.noRoute`) instead of being dropped and confirmed.
    public let mandatory: Bool

    public init(supervisor: AMQPConnectionSupervisor, exchange: String, routingKey: String?, mandatory: Bool) {
        self.supervisor = supervisor
        self.exchange = exchange
        self.routingKey = routingKey
        self.mandatory = mandatory
    }

    /// `file.reprocess` requests straight into the backfill lane: the default exchange,
    /// keyed by the reprocess queue's name, mandatory (a missing queue is an error, never a
    /// silent loss).
    public static func reprocessQueue(_ names: AMQPNames, supervisor: AMQPConnectionSupervisor) -> AMQPReprocessPublisher {
        AMQPReprocessPublisher(supervisor: supervisor, exchange: "", routingKey: names.reprocessQueue, mandatory: true)
    }

    /// `media.processed` as the daemon publishes it: to the output exchange, keyed by the
    /// event type, not mandatory (the output queue is optional; other consumers bind their own).
    public static func results(_ names: AMQPNames, supervisor: AMQPConnectionSupervisor) -> AMQPReprocessPublisher {
        AMQPReprocessPublisher(supervisor: supervisor, exchange: names.outputExchange, routingKey: nil, mandatory: false)
    }

    /// Starts a supervisor for `names`' topology and waits until it is connected.
    /// - Throws: `AMQPError` (`.notConnected` with the last failure) when no connection is up
    ///   within `timeout`; the supervisor is shut down then.
    public static func connect(
        _ configuration: AMQPConfiguration, names: AMQPNames, timeout: Duration = .seconds(30), logger: Logger
    ) async throws(AMQPError) -> AMQPConnectionSupervisor {
        let supervisor = AMQPConnectionSupervisor(configuration: configuration, topology: names.topology, logger: logger)
        supervisor.start()
        do throws(AMQPError) {
            try await supervisor.waitUntilConnected(timeout: timeout)
        } catch {
            await supervisor.shutdown()
            throw error
        }
        return supervisor
    }

    public var destination: String {
        exchange.isEmpty ? "queue \(routingKey ?? "?")" : "exchange \(exchange)"
    }

    public func send(_ record: OutboundRecord) async throws {
        let message = AMQPRecords.message(key: record.key, value: record.value, headers: record.headers)
        try await supervisor.publish(message, exchange: exchange, routingKey: routingKey ?? record.eventType ?? "", mandatory: mandatory)
    }

    /// A lost or blocked connection, a nack or a missing confirm may pass; a message no queue
    /// takes, or an exchange that does not exist, will not.
    public func isRetriable(_ error: any Error) -> Bool {
        (error as? AMQPError)?.isRetriable ?? true
    }

    public func close() async {
        await supervisor.shutdown()
    }
}
