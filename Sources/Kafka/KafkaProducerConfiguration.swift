/// How a `KafkaProducer` connects and delivers. Every default is documented on its
/// property; `options` passes any other librdkafka key through
/// (https://github.com/confluentinc/librdkafka/blob/v2.0.2/CONFIGURATION.md).
public struct KafkaProducerConfiguration: Sendable {
    /// `bootstrap.servers`: `host:port` of one or more brokers.
    public var bootstrapServers: [String]
    /// `client.id`. Default `mediad`.
    public var clientID: String = "mediad"
    /// `enable.idempotence` with `acks=all`. Default `true`: librdkafka's retries then never
    /// duplicate or reorder a partition's records, so a delivery report means "stored once".
    public var idempotent: Bool = true
    /// `message.timeout.ms` (a.k.a. `delivery.timeout.ms`): how long librdkafka keeps
    /// retrying one record before `send` fails with `.messageTimedOut`. Default 300 s.
    public var messageTimeout: Duration = .seconds(300)
    /// `linger.ms`: how long to wait to batch records. Default 5 ms (librdkafka's).
    public var linger: Duration = .milliseconds(5)
    /// How long one `rd_kafka_poll` of the delivery-report thread waits. Default 100 ms.
    public var pollTimeout: Duration = .milliseconds(100)
    /// How long `close()` flushes outstanding records before purging them
    /// (their `send` then fails with `.purgedFromQueue`/`.purgedInFlight`). Default 10 s.
    public var closeTimeout: Duration = .seconds(10)
    /// Any librdkafka configuration key, applied last (it wins over every field above).
    public var options: [String: String] = [:]

    public init(bootstrapServers: [String]) {
        self.bootstrapServers = bootstrapServers
    }

    /// The librdkafka settings, in the order they are applied.
    var librdkafkaSettings: [(key: String, value: String)] {
        var settings: [(key: String, value: String)] = [
            ("bootstrap.servers", bootstrapServers.joined(separator: ",")),
            ("client.id", clientID),
            ("message.timeout.ms", String(messageTimeout.kafkaMilliseconds)),
            ("linger.ms", String(linger.kafkaMilliseconds)),
        ]
        if idempotent {
            settings += [("enable.idempotence", "true"), ("acks", "all")]
        }
        settings += options.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return settings
    }
}
