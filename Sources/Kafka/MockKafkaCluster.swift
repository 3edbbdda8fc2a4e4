import CRdKafkaShims
import CRdKafka
import Logging

/// An in-process Kafka cluster: librdkafka's mock brokers (`rdkafka_mock.h`), speaking
/// the real wire protocol on loopback TCP, with consumer groups, offset commits, the
/// idempotent producer, and fault injection. For tests, and for manual runs as a
/// standalone broker (`kcat -b <bootstrapServers>`).
///
/// Facts of librdkafka 2.0.2's mock, as measured here: the first group join waits ~3 s and later
/// rebalances `session.timeout.ms − 1 s` (use a short session timeout, e.g. 6 s, in
/// tests); each partition keeps only ~5 MiB (older records are silently dropped); moving
/// the coordinator alone yields no NOT_COORDINATOR; it refuses offset commits while a group
/// re-joins (REBALANCE_IN_PROGRESS; Apache Kafka accepts them). Brokers listen on random
/// ports. A topic that doesn't exist is created on first use with the mock's default
/// partition count.
public final class MockKafkaCluster: @unchecked Sendable {
    // @unchecked: the mock cluster is internally locked; the pointers are immutable and
    // freed only in deinit.

    /// A Kafka protocol API key, for `pushRequestErrors`.
    public struct APIKey: Hashable, Sendable {
        public let rawValue: Int16

        public init(rawValue: Int16) {
            self.rawValue = rawValue
        }

        public static let produce = APIKey(rawValue: 0)
        public static let fetch = APIKey(rawValue: 1)
        public static let listOffsets = APIKey(rawValue: 2)
        public static let metadata = APIKey(rawValue: 3)
        public static let offsetCommit = APIKey(rawValue: 8)
        public static let offsetFetch = APIKey(rawValue: 9)
        public static let findCoordinator = APIKey(rawValue: 10)
        public static let joinGroup = APIKey(rawValue: 11)
        public static let heartbeat = APIKey(rawValue: 12)
        public static let leaveGroup = APIKey(rawValue: 13)
        public static let syncGroup = APIKey(rawValue: 14)
        public static let initProducerID = APIKey(rawValue: 22)
    }

    /// The librdkafka handle that owns the cluster (a small producer, never used to send).
    private let owner: OpaquePointer
    private let cluster: OpaquePointer
    private let context: RDKafkaCallbackContext
    /// The number of brokers, ids 1…brokers.
    public let brokers: Int
    /// `host:port,host:port…` of the mock brokers, for `bootstrap.servers`.
    public let bootstrapServers: String

    /// Starts `brokers` mock brokers on 127.0.0.1.
    ///
    /// - Throws: `KafkaError` if librdkafka cannot create the owner handle or the cluster.
    public init(brokers: Int = 1, logger: Logger = Logger(label: "mediad.kafka.mock")) throws {
        let context = RDKafkaCallbackContext(logger: logger)
        // log_level 4: the owner has no bootstrap.servers by design; skip that notice.
        let conf = try RDKafkaConfig.make([("client.id", "mediad-mock-cluster-owner"), ("log_level", "4")])
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(context).toOpaque())
        RDKafkaCallbackContext.installCommonCallbacks(on: conf)
        var errorText = [CChar](repeating: 0, count: 512)
        let created = errorText.withUnsafeMutableBufferPointer { rd_kafka_new(RD_KAFKA_PRODUCER, conf, $0.baseAddress, $0.count) }
        guard let owner = created else {
            rd_kafka_conf_destroy(conf)
            let reason = errorText.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw KafkaError(code: .invalidArgument, message: "mock cluster owner: \(reason)", isRetriable: false)
        }
        guard let cluster = rd_kafka_mock_cluster_new(owner, Int32(brokers)) else {
            rd_kafka_destroy(owner)
            throw KafkaError(code: .invalidArgument, message: "rd_kafka_mock_cluster_new(\(brokers)) failed", isRetriable: false)
        }
        self.owner = owner
        self.cluster = cluster
        self.context = context
        self.brokers = brokers
        self.bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    /// Stops the brokers (clients still connected see their connections drop), then the owner.
    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(owner)
    }

    /// Keeps the cluster alive until the calling task is cancelled (for `mediad broker`).
    public func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(3600))
        }
    }

    /// Creates a topic. The mock can only create one that doesn't exist yet.
    ///
    /// - Throws: `KafkaError` (e.g. `TOPIC_ALREADY_EXISTS`).
    public func createTopic(name: String, partitions: Int, replicationFactor: Int = 1) throws {
        try check(rd_kafka_mock_topic_create(cluster, name, Int32(partitions), Int32(replicationFactor)), "create topic \(name)")
    }

    /// Takes broker `id` down: its connections close and new ones are refused.
    public func setBrokerDown(_ id: Int32) throws {
        try check(rd_kafka_mock_broker_set_down(cluster, id), "broker \(id) down")
    }

    /// Brings broker `id` back up.
    public func setBrokerUp(_ id: Int32) throws {
        try check(rd_kafka_mock_broker_set_up(cluster, id), "broker \(id) up")
    }

    /// Delays every response of broker `id` by `milliseconds`.
    public func setRTT(broker id: Int32, milliseconds: Int) throws {
        try check(rd_kafka_mock_broker_set_rtt(cluster, id, Int32(milliseconds)), "broker \(id) rtt")
    }

    /// Makes the next `errors.count` requests of `apiKey` (to any broker) fail, in order,
    /// with these codes (e.g. `.notEnoughReplicas` on `.produce`).
    public func pushRequestErrors(apiKey: APIKey, errors: [KafkaError.Code]) {
        let codes = errors.map { rd_kafka_resp_err_t(rawValue: $0.rawValue) }
        codes.withUnsafeBufferPointer { buffer in
            rd_kafka_mock_push_request_errors_array(cluster, apiKey.rawValue, buffer.count, buffer.baseAddress)
        }
    }

    /// Forgets the errors still queued for `apiKey`.
    public func clearRequestErrors(apiKey: APIKey) {
        rd_kafka_mock_clear_request_errors(cluster, apiKey.rawValue)
    }

    /// Makes every request on `topic` fail with `error` (`nil` clears it).
    public func setTopicError(_ topic: String, error: KafkaError.Code?) {
        rd_kafka_mock_topic_set_error(cluster, topic, rd_kafka_resp_err_t(rawValue: error?.rawValue ?? 0))
    }

    /// Moves the leadership of one partition to broker `id` (clients see NOT_LEADER and
    /// refresh their metadata).
    public func setPartitionLeader(topic: String, partition: Int32, broker id: Int32) throws {
        try check(rd_kafka_mock_partition_set_leader(cluster, topic, partition, id), "leader of \(topic)[\(partition)]")
    }

    /// Moves the group (`"group"`) or transaction (`"transaction"`) coordinator of `key`.
    public func setCoordinator(keyType: String = "group", key: String, broker id: Int32) throws {
        try check(rd_kafka_mock_coordinator_set(cluster, keyType, key, id), "coordinator of \(key)")
    }

    private func check(_ err: rd_kafka_resp_err_t, _ what: String) throws {
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError.rdKafka(err, message: "mock cluster: \(what): \(KafkaError.Code(rawValue: err.rawValue))")
        }
    }
}
