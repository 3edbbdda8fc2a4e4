import Events
import Foundation
import Kafka

/// One message on the dead-letter topic (or queue), with mediad's `mediad-*` headers read back.
public struct DeadLetterEntry: Sendable, Hashable {
    /// Where it sits on the dead-letter topic. On RabbitMQ: partition 0 and its place in the
    /// queue when it was read, which changes as the queue does.
    public var position: DeadLetterPosition
    /// How `mediad dlq inspect` and `replay` name it: PARTITION:OFFSET on Kafka; on RabbitMQ,
    /// where a queue has no offsets, its message id or a digest of its content.
    public var id: String
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

    /// A Kafka header, or an AMQP header as text (`AMQPRecords.headers(of:)`); a struct so
    /// entries can be compared.
    public struct KafkaHeader: Sendable, Hashable {
        public var name: String
        public var value: [UInt8]?
    }

    public init(_ message: KafkaMessage) {
        let position = DeadLetterPosition(partition: message.partition, offset: message.offset)
        self.init(
            position: position, id: position.description, key: message.key, value: message.value ?? [],
            headers: message.headers.map { KafkaHeader(name: $0.name, value: $0.value) })
    }

    /// Reads the `mediad-*` headers; without them the code is `unknown`.
    init(position: DeadLetterPosition, id: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader]) {
        self.position = position
        self.id = id
        self.key = key
        self.value = value
        self.headers = headers
        func text(_ name: String) -> String? {
            headers.last { $0.name == name }?.value.map { String(decoding: $0, as: UTF8.self) }
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
        var kept: KafkaHeaders = headers.filter { !Self.isReplacedOnReplay($0.name) }.map { (name: $0.name, value: $0.value) }
        kept.append((name: DeadLetter.Header.replayCount, value: Array(String(replayCount + 1).utf8)))
        kept.append((name: DeadLetter.Header.replayedFrom, value: Array(id.utf8)))
        return (key, value, kept)
    }

    /// Why a replay must not send it back again, or nil: a message replayed `maxReplays`
    /// times keeps failing, and must not loop between the dead letters and its input for ever.
    public func replayLimitRefusal(maxReplays: Int) -> String? {
        guard replayCount >= maxReplays else { return nil }
        return "already replayed \(replayCount) times (limit \(maxReplays)); inspect it and fix the message or its cause"
    }

    /// mediad's error headers and replay marks: a replay drops them and sets the marks anew.
    static func isReplacedOnReplay(_ name: String) -> Bool {
        DeadLetter.Header.all.contains(name) || name == DeadLetter.Header.replayCount || name == DeadLetter.Header.replayedFrom
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
