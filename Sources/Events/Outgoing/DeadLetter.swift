import Foundation

/// A message mediad cannot process, sent to the dead-letter topic untouched (same key, value
/// and headers) with headers that say why and where it came from (`docs/operations.md`, "Handling the dead-letter topic").
public struct DeadLetter: Sendable, Equatable {
    public enum Header {
        public static let errorCode = "mediad-error-code"
        public static let errorMessage = "mediad-error-message"
        public static let originalTopic = "mediad-original-topic"
        public static let originalPartition = "mediad-original-partition"
        public static let originalOffset = "mediad-original-offset"
        public static let failedAt = "mediad-failed-at"
        /// How many times `mediad dlq replay` has sent this message back: stops endless loops.
        public static let replayCount = "mediad-replay-count"
        /// On a replayed message: the dead letter (partition:offset) it was replayed from.
        public static let replayedFrom = "mediad-replayed-from"
        public static let all = [errorCode, errorMessage, originalTopic, originalPartition, originalOffset, failedAt]
    }

    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [(String, [UInt8]?)]

    public static func == (lhs: DeadLetter, rhs: DeadLetter) -> Bool {
        lhs.key == rhs.key && lhs.value == rhs.value && lhs.headers.map(\.0) == rhs.headers.map(\.0) && lhs.headers.map(\.1) == rhs.headers.map(\.1)
    }

    /// Wraps the original message; earlier `mediad-*` error headers (from a replay) are replaced.
    public init(
        key: [UInt8]?, value: [UInt8], headers: [(String, [UInt8]?)], code: String, message: String,
        topic: String, partition: Int, offset: Int64, failedAt: String
    ) {
        self.key = key
        self.value = value
        var kept = headers.filter { !Header.all.contains($0.0) }
        kept += [
            (Header.errorCode, Array(code.utf8)),
            (Header.errorMessage, Array(String(message.prefix(2000)).utf8)),
            (Header.originalTopic, Array(topic.utf8)),
            (Header.originalPartition, Array(String(partition).utf8)),
            (Header.originalOffset, Array(String(offset).utf8)),
            (Header.failedAt, Array(failedAt.utf8)),
        ]
        self.headers = kept
    }
}
