import CRdKafkaShims
import CRdKafka

/// An error from librdkafka (or from this module's use of it), copied out of the C
/// library at the boundary so it outlives the handle that raised it.
///
/// `code` is librdkafka's `rd_kafka_resp_err_t`: broker error codes are positive
/// (Kafka protocol codes), librdkafka's own are negative (`__TRANSPORT`, `__TIMED_OUT`…).
/// `isRetriable` and `isFatal` come from librdkafka's `rd_kafka_error_t` where it gives
/// one, otherwise from the Kafka protocol's list of retriable codes.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    /// A librdkafka error code. Not frozen: any `rd_kafka_resp_err_t` value can appear,
    /// the static members name the ones mediad reacts to.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The `rd_kafka_resp_err_t` value.
        public let rawValue: Int32

        public init(rawValue: Int32) {
            self.rawValue = rawValue
        }

        /// librdkafka's symbolic name, e.g. `REQUEST_TIMED_OUT` or `_TRANSPORT`.
        public var name: String { String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: rawValue))) }

        public var description: String { name }

        // librdkafka's own (negative) codes.
        /// The handle was closed (librdkafka's `__DESTROY`): the call came too late.
        public static let destroyed = Code(rawValue: RD_KAFKA_RESP_ERR__DESTROY.rawValue)
        public static let transport = Code(rawValue: RD_KAFKA_RESP_ERR__TRANSPORT.rawValue)
        public static let allBrokersDown = Code(rawValue: RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN.rawValue)
        public static let timedOut = Code(rawValue: RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue)
        /// A message was not delivered within `message.timeout.ms`.
        public static let messageTimedOut = Code(rawValue: RD_KAFKA_RESP_ERR__MSG_TIMED_OUT.rawValue)
        /// The local producer queue is full (`queue.buffering.max.messages`/`kbytes`).
        public static let queueFull = Code(rawValue: RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue)
        /// The message was purged from the queue before being sent (producer closed).
        public static let purgedFromQueue = Code(rawValue: RD_KAFKA_RESP_ERR__PURGE_QUEUE.rawValue)
        /// The message was in flight when the producer closed: it may or may not be stored.
        public static let purgedInFlight = Code(rawValue: RD_KAFKA_RESP_ERR__PURGE_INFLIGHT.rawValue)
        /// The client raised a fatal error (e.g. idempotence broken); see `rd_kafka_fatal_error`.
        public static let fatal = Code(rawValue: RD_KAFKA_RESP_ERR__FATAL.rawValue)
        /// A bad argument or configuration value (the message says which).
        public static let invalidArgument = Code(rawValue: RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue)
        /// The call is not valid in the client's current state (e.g. not assigned).
        public static let state = Code(rawValue: RD_KAFKA_RESP_ERR__STATE.rawValue)
        public static let unknownPartition = Code(rawValue: RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION.rawValue)
        public static let unknownTopic = Code(rawValue: RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC.rawValue)
        /// No offsets to commit (an empty commit).
        public static let noOffset = Code(rawValue: RD_KAFKA_RESP_ERR__NO_OFFSET.rawValue)

        // Kafka protocol codes.
        public static let offsetOutOfRange = Code(rawValue: RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE.rawValue)
        public static let unknownTopicOrPartition = Code(rawValue: RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART.rawValue)
        public static let notLeaderForPartition = Code(rawValue: RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION.rawValue)
        public static let leaderNotAvailable = Code(rawValue: RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE.rawValue)
        public static let requestTimedOut = Code(rawValue: RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT.rawValue)
        public static let coordinatorNotAvailable = Code(rawValue: RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE.rawValue)
        public static let notCoordinator = Code(rawValue: RD_KAFKA_RESP_ERR_NOT_COORDINATOR.rawValue)
        public static let notEnoughReplicas = Code(rawValue: RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS.rawValue)
        public static let illegalGeneration = Code(rawValue: RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION.rawValue)
        public static let unknownMemberID = Code(rawValue: RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID.rawValue)
        public static let rebalanceInProgress = Code(rawValue: RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS.rawValue)
        public static let offsetMetadataTooLarge = Code(rawValue: RD_KAFKA_RESP_ERR_OFFSET_METADATA_TOO_LARGE.rawValue)
        public static let invalidCommitOffsetSize = Code(rawValue: RD_KAFKA_RESP_ERR_INVALID_COMMIT_OFFSET_SIZE.rawValue)
        public static let groupAuthorizationFailed = Code(rawValue: RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED.rawValue)
        public static let messageSizeTooLarge = Code(rawValue: RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE.rawValue)
    }

    /// What went wrong, as librdkafka's code.
    public let code: Code
    /// librdkafka's name for `code` (e.g. `REQUEST_TIMED_OUT`), for logs and metrics labels.
    public let name: String
    /// The human-readable message: librdkafka's error string, or a more precise one.
    public let message: String
    /// Retrying the same call later may succeed (librdkafka's own verdict where it gives one).
    public let isRetriable: Bool
    /// The client is unusable: close it and make a new one.
    public let isFatal: Bool
    /// The partition a per-partition error (commit, fetch) is about, when there is one.
    public let topicPartition: TopicPartition?
    /// Where in mediad the error was built.
    public let file: String
    public let line: Int

    /// Builds an error; `message` defaults to librdkafka's text for `code`.
    public init(
        code: Code,
        message: String? = nil,
        isRetriable: Bool? = nil,
        isFatal: Bool = false,
        topicPartition: TopicPartition? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.name = code.name
        self.message = message ?? String(cString: rd_kafka_err2str(rd_kafka_resp_err_t(rawValue: code.rawValue)))
        self.isRetriable = isRetriable ?? Self.retriableCodes.contains(code)
        self.isFatal = isFatal || code == .fatal
        self.topicPartition = topicPartition
        self.file = file
        self.line = line
    }

    public var description: String {
        var text = "KafkaError(\(name)): \(message)"
        if let topicPartition { text += " [\(topicPartition)]" }
        if isFatal { text += " (fatal)" } else if isRetriable { text += " (retriable)" }
        return text
    }

    /// Codes Kafka's protocol marks retriable, plus librdkafka's transient local ones.
    static let retriableCodes: Set<Code> = [
        .transport, .allBrokersDown, .timedOut, .queueFull, .notLeaderForPartition, .requestTimedOut,
        .coordinatorNotAvailable, .notCoordinator, .notEnoughReplicas, .rebalanceInProgress, .leaderNotAvailable,
        Code(rawValue: RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS.rawValue),
        Code(rawValue: RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION.rawValue),
        Code(rawValue: RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND.rawValue),
        Code(rawValue: RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR.rawValue),
        Code(rawValue: RD_KAFKA_RESP_ERR__WAIT_COORD.rawValue),
        Code(rawValue: RD_KAFKA_RESP_ERR__RETRY.rawValue),
    ]
}

extension KafkaError {
    /// An error from a bare `rd_kafka_resp_err_t`.
    static func rdKafka(
        _ err: rd_kafka_resp_err_t, message: String? = nil, topicPartition: TopicPartition? = nil,
        file: String = #fileID, line: Int = #line
    ) -> KafkaError {
        KafkaError(code: Code(rawValue: err.rawValue), message: message, topicPartition: topicPartition, file: file, line: line)
    }

    /// Copies code, message and flags out of an `rd_kafka_error_t`, then destroys it.
    static func consuming(_ error: OpaquePointer, file: String = #fileID, line: Int = #line) -> KafkaError {
        defer { rd_kafka_error_destroy(error) }
        return KafkaError(
            code: Code(rawValue: rd_kafka_error_code(error).rawValue),
            message: String(cString: rd_kafka_error_string(error)),
            isRetriable: rd_kafka_error_is_retriable(error) != 0,
            isFatal: rd_kafka_error_is_fatal(error) != 0,
            file: file, line: line
        )
    }

    /// The handle is closed or closing.
    static func closed(file: String = #fileID, line: Int = #line) -> KafkaError {
        KafkaError(code: .destroyed, message: "the Kafka client is closed", isRetriable: false, file: file, line: line)
    }
}
