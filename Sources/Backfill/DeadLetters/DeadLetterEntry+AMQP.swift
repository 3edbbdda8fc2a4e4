import AMQP
import Crypto
import Events
import Foundation
import MediaProcessing

extension DeadLetterEntry {
    /// What RabbitMQ writes on a message it dead-letters itself (a quorum queue's
    /// `x-delivery-limit`, a reject without requeue, a TTL, a length limit) or redelivers.
    enum BrokerHeader {
        static let firstDeathReason = "x-first-death-reason"
        static let firstDeathQueue = "x-first-death-queue"
        static let death = "x-death"
        /// Set by a quorum queue on every redelivery, so it changes each time the
        /// dead-letter queue is read: never part of an entry's id.
        static let deliveryCount = "x-delivery-count"

        /// The broker's bookkeeping, which a replay drops: the message goes back as it was
        /// first published, and the broker counts afresh.
        static func isBookkeeping(_ name: String) -> Bool {
            name == death || name == deliveryCount || name.hasPrefix("x-first-death-") || name.hasPrefix("x-last-death-")
        }
    }

    /// A message read from the dead-letter queue, `index` messages after its head. A mediad
    /// dead letter says why in its `mediad-*` headers; one the broker dead-lettered says it in
    /// `x-first-death-reason` (the code: `delivery_limit`, `rejected`, `expired`, `maxlen`)
    /// and `x-first-death-queue` (where it came from).
    init(_ delivery: AMQPDelivery, index: Int) {
        let headers = AMQPRecords.headers(of: delivery).map { KafkaHeader(name: $0.0, value: $0.1) }
        self.init(
            position: DeadLetterPosition(partition: 0, offset: Int64(index)), id: Self.id(of: delivery, headers: headers),
            key: AMQPRecords.key(of: delivery), value: delivery.body, headers: headers)
        guard !headers.contains(where: { $0.name == DeadLetter.Header.errorCode }),
            let reason = delivery.header(BrokerHeader.firstDeathReason)?.stringValue
        else { return }
        let queue = delivery.header(BrokerHeader.firstDeathQueue)?.stringValue
        let death = delivery.header(BrokerHeader.death)?.arrayValue?.first?.tableValue
        code = reason
        message = "RabbitMQ dead-lettered it from \(queue ?? "?"): \(Self.explanation(of: reason))"
        originalTopic = queue
        if case .timestamp(let seconds)? = death?["time"] {
            failedAt = ManifestCoding.timestamp(Date(timeIntervalSince1970: TimeInterval(seconds)))
        }
    }

    private static func explanation(of reason: String) -> String {
        switch reason {
        case "delivery_limit": "delivered more often than the queue's x-delivery-limit (consumers kept failing or crashing on it)"
        case "rejected": "a consumer rejected it without requeueing it"
        case "expired": "its time to live ran out"
        case "maxlen": "the queue was at its length limit"
        default: reason
        }
    }

    /// The message id its publisher gave it; else the first 12 hex digits of a SHA-256 of
    /// its body, headers (without the redelivery count) and timestamp, which stay the same
    /// for as long as it sits in the queue.
    static func id(of delivery: AMQPDelivery, headers: [KafkaHeader]) -> String {
        if let messageID = delivery.properties.messageID, !messageID.isEmpty { return messageID }
        var hash = SHA256()
        func add(_ bytes: [UInt8]) {
            let length = UInt64(bytes.count).bigEndian
            let prefix: [UInt8] = withUnsafeBytes(of: length) { Array($0) }
            hash.update(data: prefix)
            hash.update(data: bytes)
        }
        add(delivery.body)
        for header in headers where header.name != BrokerHeader.deliveryCount {
            add(Array(header.name.utf8))
            add(header.value ?? [])
        }
        add(Array(String(delivery.properties.timestamp?.timeIntervalSince1970 ?? 0).utf8))
        let digest: [UInt8] = Array(hash.finalize())
        return digest.prefix(6).map { (byte: UInt8) -> String in String(format: "%02x", byte) }.joined()
    }

    /// The message as it goes back to the queue it came from: the original body and
    /// properties (content type, message id, typed headers), without mediad's error headers
    /// and the broker's dead-letter bookkeeping, with the replay counted.
    func replayMessage(of delivery: AMQPDelivery) -> AMQPMessage {
        var properties = delivery.properties
        var headers = AMQPTable(properties.headers.entries.filter { !Self.isReplacedOnReplay($0.key) && !BrokerHeader.isBookkeeping($0.key) })
        headers[DeadLetter.Header.replayCount] = .string(String(replayCount + 1))
        headers[DeadLetter.Header.replayedFrom] = .string(id)
        properties.headers = headers
        return AMQPMessage(body: delivery.body, properties: properties)
    }
}
