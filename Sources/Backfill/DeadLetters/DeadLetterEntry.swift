import Events
import Foundation
import Kafka

/// One message on the dead-letter topic, with the `mediad-*` headers of BRIEF §2 read back.
public struct DeadLetterEntry: Sendable, Hashable {
    /// Where it sits on the dead-letter topic.
    public var position: DeadLetterPosition
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [KafkaHeader]
    public var code: String
    public var message: String
    public var originalTopic: String?
    public var originalPartition: Int?
    public var originalOffset: Int64?
    public var failedAt: String?
    /// How often `mediad dlq replay` has already sent it back.
    public var replayCount: Int

    /// A Kafka header; a struct so entries can be compared.
    public struct KafkaHeader: Sendable, Hashable {
        public var name: String
        public var value: [UInt8]?
    }

    public init(_ message: KafkaMessage) {
        position = DeadLetterPosition(partition: message.partition, offset: message.offset)
        key = message.key
        value = message.value ?? []
        headers = message.headers.map { KafkaHeader(name: $0.name, value: $0.value) }
        func text(_ name: String) -> String? {
            message.headers.last { $0.name == name }?.value.map { String(decoding: $0, as: UTF8.self) }
        }
        code = text(DeadLetter.Header.errorCode) ?? "unknown"
        self.message = text(DeadLetter.Header.errorMessage) ?? ""
        originalTopic = text(DeadLetter.Header.originalTopic)
        originalPartition = text(DeadLetter.Header.originalPartition).flatMap { Int($0) }
        originalOffset = text(DeadLetter.Header.originalOffset).flatMap { Int64($0) }
        failedAt = text(DeadLetter.Header.failedAt)
        replayCount = text(DeadLetter.Header.replayCount).flatMap { Int($0) } ?? 0
    }

    /// The message as it goes back to its original topic: the original key, value and
    /// headers, without mediad's error headers, with the replay counted.
    public func replayRecord() -> (key: [UInt8]?, value: [UInt8], headers: KafkaHeaders) {
        var kept: KafkaHeaders = headers
            .filter { !DeadLetter.Header.all.contains($0.name) && $0.name != DeadLetter.Header.replayCount && $0.name != DeadLetter.Header.replayedFrom }
            .map { (name: $0.name, value: $0.value) }
        kept.append((name: DeadLetter.Header.replayCount, value: Array(String(replayCount + 1).utf8)))
        kept.append((name: DeadLetter.Header.replayedFrom, value: Array(position.description.utf8)))
        return (key, value, kept)
    }

    /// The value as text when it is UTF-8 (most events are JSON), else nil.
    public var valueText: String? {
        String(validating: value, as: UTF8.self)
    }
}

/// partition:offset on the dead-letter topic, as `mediad dlq` prints and takes it.
public struct DeadLetterPosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var partition: Int32
    public var offset: Int64

    public init(partition: Int32, offset: Int64) {
        self.partition = partition
        self.offset = offset
    }

    /// Parses "PARTITION:OFFSET".
    public init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let partition = Int32(parts[0]), let offset = Int64(parts[1]), partition >= 0, offset >= 0 else { return nil }
        self.init(partition: partition, offset: offset)
    }

    public var description: String { "\(partition):\(offset)" }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.partition, lhs.offset) < (rhs.partition, rhs.offset)
    }
}
