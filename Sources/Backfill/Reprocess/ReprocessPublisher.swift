import Events
import Kafka

/// Where `mediad reprocess` sends what it produces: the `file.reprocess` requests of publish
/// mode, or the `media.processed` events of a direct run with `--emit`. One implementation
/// per broker, so that planning, the retries and the outcomes stay the runner's and are the
/// same on Kafka and on RabbitMQ.
public protocol ReprocessPublisher: Sendable {
    /// The topic, or exchange and routing key, for log lines.
    var destination: String { get }

    /// Returns once the broker has the record (Kafka's delivery report, RabbitMQ's confirm).
    func send(_ record: OutboundRecord) async throws

    /// Whether sending again may succeed. The runner retries those (a broker that is away
    /// comes back) and gives up at once on the others (no queue to route to).
    func isRetriable(_ error: any Error) -> Bool

    /// Waits for what is still outstanding and closes the connection. The command that made
    /// the publisher calls it once at the end of a run; the runner never does.
    func close() async
}

/// Records to one Kafka topic through a producer the caller owns.
public struct KafkaReprocessPublisher: ReprocessPublisher {
    public let producer: KafkaProducer
    public let topic: String

    public init(producer: KafkaProducer, topic: String) {
        self.producer = producer
        self.topic = topic
    }

    public var destination: String { topic }

    public func send(_ record: OutboundRecord) async throws {
        _ = try await producer.send(topic: topic, key: record.key, value: record.value, headers: record.headers.map { (name: $0.0, value: $0.1) })
    }

    /// librdkafka already retried for `message.timeout.ms`; the runner tries a few more times,
    /// as it always has, for a broker that is away longer.
    public func isRetriable(_ error: any Error) -> Bool { true }

    public func close() async {
        try? await producer.flush(timeout: .seconds(10))
        await producer.close()
    }
}
