/// What the consumer's polling thread reports, in the order it happened.
public enum KafkaConsumerEvent: Sendable {
    /// A record from an assigned partition.
    case message(KafkaMessage)
    /// Partitions were added to this member's assignment (for the eager protocols: the
    /// whole new assignment). Reading starts at the group's committed offset.
    case partitionsAssigned([TopicPartition])
    /// Partitions were taken away, after the revoke hook ran and its offsets were
    /// committed. Records of these partitions still buffered were dropped: the next owner
    /// reads them again from the committed offset. `lost` means the member had already
    /// been dropped from the group (nothing was committed).
    case partitionsRevoked([TopicPartition], lost: Bool)
    /// A consumer error (broker connection, fetch, fatal…). Most are transient and
    /// librdkafka recovers; on `error.isFatal` the consumer must be closed.
    case error(KafkaError)
}

/// The partitions being revoked, as the revoke hook sees them.
public struct KafkaRevocation: Sendable {
    /// The partitions leaving this member.
    public var partitions: [TopicPartition]
    /// The assignment was lost (session timed out, member fenced): other members may
    /// already own these partitions, so whatever the hook returns is **not** committed.
    public var isLost: Bool

    public init(partitions: [TopicPartition], isLost: Bool) {
        self.partitions = partitions
        self.isLost = isLost
    }
}

/// Called synchronously on the polling thread when partitions are revoked (rebalance or
/// close), before they are unassigned. Return the offsets to commit for them — the next
/// offset to read per partition, as in `TopicPartitionOffset` — or `[]` for none; they are
/// committed before the partitions go, unless the revocation `isLost`.
///
/// It runs while the group waits for this member: return quickly, and don't wait for
/// anything that needs the consumer's events to be read.
public typealias KafkaRevokeHook = @Sendable (KafkaRevocation) -> [TopicPartitionOffset]
