import CRdKafkaShims
import CRdKafka
import Dispatch
import Logging

/// Administrative calls on a running cluster (librdkafka's Admin API), for tools and tests
/// that prepare a real broker: a topic auto-created on first use gets the broker's default
/// partition count (one, on most brokers), so partitioned topics are created up front.
public enum KafkaAdmin {
    /// A topic to create.
    public struct NewTopic: Sendable, Hashable {
        public var name: String
        public var partitions: Int
        public var replicationFactor: Int

        public init(name: String, partitions: Int, replicationFactor: Int = 1) {
            self.name = name
            self.partitions = partitions
            self.replicationFactor = replicationFactor
        }
    }

    /// Creates `topics` with one CreateTopics request and waits for the controller's answer.
    ///
    /// Runs on a Dispatch queue of its own (the call blocks in `rd_kafka_queue_poll`).
    ///
    /// - Parameter ignoreExisting: a topic that already exists is not an error (its
    ///   partition count is left as it is).
    /// - Throws: `KafkaError` for the first topic the broker refused (`TOPIC_ALREADY_EXISTS`,
    ///   `INVALID_PARTITIONS`, …) or when no answer came within `timeout`.
    public static func createTopics(
        _ topics: [NewTopic], bootstrapServers: [String], ignoreExisting: Bool = false,
        timeout: Duration = .seconds(30), logger: Logger = Logger(label: "mediad.kafka.admin")
    ) async throws {
        let servers = bootstrapServers.joined(separator: ",")
        try await BlockingExecutor(label: "mediad.kafka.admin").run {
            try createTopicsBlocking(topics, bootstrapServers: servers, ignoreExisting: ignoreExisting, timeout: timeout, logger: logger)
        }
    }

    private static func createTopicsBlocking(
        _ topics: [NewTopic], bootstrapServers: String, ignoreExisting: Bool, timeout: Duration, logger: Logger
    ) throws {
        guard !topics.isEmpty else { return }
        let context = RDKafkaCallbackContext(logger: logger)
        let conf = try RDKafkaConfig.make([("bootstrap.servers", bootstrapServers), ("client.id", "mediad-admin")])
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(context).toOpaque())
        RDKafkaCallbackContext.installCommonCallbacks(on: conf)
        var errorText = [CChar](repeating: 0, count: 512)
        let created = errorText.withUnsafeMutableBufferPointer { rd_kafka_new(RD_KAFKA_PRODUCER, conf, $0.baseAddress, $0.count) }
        guard let handle = created else {
            rd_kafka_conf_destroy(conf)
            let reason = errorText.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw KafkaError(code: .invalidArgument, message: "admin client: \(reason)", isRetriable: false)
        }
        // The context must outlive the handle: librdkafka's threads call back into it.
        defer { withExtendedLifetime(context) { rd_kafka_destroy(handle) } }
        guard let queue = rd_kafka_queue_new(handle) else {
            throw KafkaError(code: .invalidArgument, message: "rd_kafka_queue_new failed", isRetriable: false)
        }
        defer { rd_kafka_queue_destroy(queue) }

        var newTopics: [OpaquePointer?] = []
        defer { for topic in newTopics { rd_kafka_NewTopic_destroy(topic) } }
        for topic in topics {
            let made = errorText.withUnsafeMutableBufferPointer {
                rd_kafka_NewTopic_new(topic.name, Int32(topic.partitions), Int32(topic.replicationFactor), $0.baseAddress, $0.count)
            }
            guard let made else {
                let reason = errorText.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                throw KafkaError(code: .invalidArgument, message: "topic \(topic.name): \(reason)", isRetriable: false)
            }
            newTopics.append(made)
        }

        let milliseconds = Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let options = rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        _ = errorText.withUnsafeMutableBufferPointer {
            rd_kafka_AdminOptions_set_operation_timeout(options, milliseconds, $0.baseAddress, $0.count)
        }
        _ = errorText.withUnsafeMutableBufferPointer {
            rd_kafka_AdminOptions_set_request_timeout(options, milliseconds, $0.baseAddress, $0.count)
        }
        newTopics.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_CreateTopics(handle, buffer.baseAddress, buffer.count, options, queue)
        }

        guard let event = rd_kafka_queue_poll(queue, milliseconds + 1000) else {
            throw KafkaError(code: .timedOut, message: "CreateTopics: no answer from \(bootstrapServers) within \(timeout)")
        }
        defer { rd_kafka_event_destroy(event) }
        let requestError = rd_kafka_event_error(event)
        if requestError != RD_KAFKA_RESP_ERR_NO_ERROR {
            let text = rd_kafka_event_error_string(event).map { String(cString: $0) }
            throw KafkaError.rdKafka(requestError, message: "CreateTopics: \(text ?? "failed")")
        }
        guard let result = rd_kafka_event_CreateTopics_result(event) else {
            throw KafkaError(code: .state, message: "CreateTopics: the answer is not a CreateTopics result")
        }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return }
        for index in 0..<count {
            let topicResult = results[index]
            let err = rd_kafka_topic_result_error(topicResult)
            if err == RD_KAFKA_RESP_ERR_NO_ERROR { continue }
            if ignoreExisting, err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS { continue }
            let name = String(cString: rd_kafka_topic_result_name(topicResult))
            let text = rd_kafka_topic_result_error_string(topicResult).map { String(cString: $0) }
            throw KafkaError.rdKafka(err, message: "CreateTopics \(name): \(text ?? KafkaError.Code(rawValue: err.rawValue).name)")
        }
    }
}
