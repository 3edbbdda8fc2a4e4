import CRdKafkaShims
import CRdKafka

/// Facts about the linked librdkafka.
public enum KafkaLibrary {
    /// librdkafka's version, e.g. `2.0.2`, for start-up logs.
    public static var version: String { String(cString: rd_kafka_version_str()) }

    /// Threads librdkafka runs in this process right now, across every live handle and
    /// mock cluster: a leak check for a process that knows which handles it holds.
    public static var threadCount: Int { Int(rd_kafka_thread_cnt()) }
}
