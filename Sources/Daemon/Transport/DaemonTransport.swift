import Events

/// What the daemon needs of a message broker, so that everything after intake (jobs,
/// workers, storage, outcomes) is the same on Kafka and on RabbitMQ: deliveries in, each
/// settled once its outcome is recorded, and publishes that return only once the broker
/// has the message.
///
/// How a settled delivery is made durable is the transport's own: Kafka commits each
/// partition below its first unsettled message, RabbitMQ acks the delivery.
public protocol DaemonTransport: Sendable {
    /// Where it reads and writes, for the startup log line.
    var summary: String { get }

    /// Whether the lane is configured at all (the backfill lane can be switched off).
    func hasLane(_ lane: IntakeLane) -> Bool

    /// Subscribes or connects; throws what makes serving impossible (a bad subscription).
    /// A broker that is merely away is not an error: the transport keeps trying.
    func start() async throws

    /// Hands the lane's messages to `receive`, one at a time and in order, until `receive`
    /// returns false, intake stops (graceful shutdown, `stopIntake()`) or the broker fails
    /// for good. The next message is taken only after `receive` returns, so a `receive`
    /// that waits for capacity holds the lane back.
    func consume(_ lane: IntakeLane, receive: (InboundMessage) async -> Bool) async

    /// Backpressure: asks the broker for no more of the lane until `resume`, while staying a
    /// member (Kafka pauses its partitions; RabbitMQ's prefetch already bounds deliveries).
    func pause(_ lane: IntakeLane)
    func resume(_ lane: IntakeLane)

    /// Publishes one outcome and returns once the broker has confirmed it.
    func publish(_ record: OutboundRecord, to destination: OutboundDestination) async throws

    /// The topic or exchange a destination is, for log lines.
    func address(of destination: OutboundDestination) -> String

    /// Called every second while serving: commits, lag and connection metrics.
    func maintain() async

    /// No more deliveries: the first step of shutdown. Synchronous, so that it can run in a
    /// graceful-shutdown handler.
    func stopIntake()

    /// After the in-flight jobs are done (or abandoned): makes the settled deliveries
    /// durable, waits for outstanding publishes, closes the connections.
    func close() async

    /// The transport's checks for `/readyz`, by name.
    var readiness: [String: Bool] { get }
}

/// Fresh uploads, and the backfill work of `mediad reprocess --publish`, which only gets
/// spare capacity.
public enum IntakeLane: Sendable, Hashable {
    case uploads
    case backfill
}

/// One message from the broker, in the form the intake decodes, with a way to say its
/// outcome is recorded.
public struct InboundMessage: Sendable {
    public var key: [UInt8]?
    public var value: [UInt8]
    /// In order; CloudEvents binary-mode attributes as `ce_*`, the content type as `content-type`.
    public var headers: [(String, [UInt8]?)]
    /// Where it came from, for logs and the dead-letter headers: the topic or queue, the
    /// partition (0 for a queue) and the offset (a queue's delivery tag).
    public var source: String
    public var partition: Int
    public var position: Int64
    /// The broker delivered it before (RabbitMQ's `redelivered`; Kafka cannot tell).
    public var redelivered: Bool
    let settler: @Sendable () async -> Void

    public init(
        key: [UInt8]?, value: [UInt8], headers: [(String, [UInt8]?)], source: String, partition: Int, position: Int64,
        redelivered: Bool = false, settle: @escaping @Sendable () async -> Void
    ) {
        self.key = key
        self.value = value
        self.headers = headers
        self.source = source
        self.partition = partition
        self.position = position
        self.redelivered = redelivered
        self.settler = settle
    }

    /// Its outcome is recorded: the broker may forget it. A message never settled is
    /// delivered again (after a restart, a rebalance or a lost connection).
    public func settle() async { await settler() }
}

public enum OutboundDestination: Sendable, Hashable {
    /// The upload lane's own input (`file.uploaded`): what an HTTP intake hands over.
    case intake
    /// Results for the file and notification services.
    case results
    /// Messages that cannot be processed, as received, with headers that say why.
    case deadLetters
}
