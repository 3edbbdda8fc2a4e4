import Synchronization

/// Decides, per partition, how far offsets may be committed: up to (not past) the lowest
/// message that has no outcome yet. Jobs finish out of order; a commit must never skip
/// a message still in flight, or a crash would lose it (delivery is at-least-once).
public final class OffsetTracker: Sendable {
    public struct Partition: Hashable, Sendable, CustomStringConvertible {
        public var topic: String
        public var partition: Int

        public init(topic: String, partition: Int) {
            self.topic = topic
            self.partition = partition
        }

        public var description: String { "\(topic)[\(partition)]" }
    }

    private struct State {
        /// The partitions this member owns: assigned, and not revoked since.
        var owned: Set<Partition> = []
        /// Offsets started but without an outcome, per partition.
        var pending: [Partition: Set<Int64>] = [:]
        /// The highest offset seen (started) per partition.
        var highest: [Partition: Int64] = [:]
        /// What was last committed ("next offset to read"), to skip no-op commits.
        var committed: [Partition: Int64] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// The consumer was given these partitions: their messages may start.
    public func assigned(_ partitions: [Partition]) {
        state.withLock { $0.owned.formUnion(partitions) }
    }

    /// A message was taken from the consumer and has no outcome yet.
    ///
    /// - Returns: false when its partition is not owned: it was revoked after the message
    ///   was fetched and before it started. The message must then be dropped (its next owner
    ///   reads it again): tracked here, it would let this member commit past offsets of
    ///   the revocation that are still unanswered.
    public func started(_ partition: Partition, offset: Int64) -> Bool {
        state.withLock { state in
            guard state.owned.contains(partition) else { return false }
            state.pending[partition, default: []].insert(offset)
            state.highest[partition] = max(state.highest[partition] ?? offset, offset)
            return true
        }
    }

    /// The message's outcome is recorded (event delivered, or dead-lettered, or ignored).
    public func finished(_ partition: Partition, offset: Int64) {
        _ = state.withLock { state in
            state.pending[partition]?.remove(offset)
        }
    }

    /// The "next offset to read" that may be committed for each partition whose position
    /// moved since the last commit: the lowest pending offset, or one past the highest
    /// seen when nothing is pending.
    public func committable() -> [Partition: Int64] {
        state.withLock { Self.committable($0) }
    }

    private static func committable(_ state: State) -> [Partition: Int64] {
        var result: [Partition: Int64] = [:]
        for (partition, highest) in state.highest {
            let next = state.pending[partition].flatMap { $0.min() } ?? (highest + 1)
            if next != state.committed[partition] { result[partition] = next }
        }
        return result
    }

    /// Records a successful commit, so the same position is not committed again.
    public func didCommit(_ offsets: [Partition: Int64]) {
        state.withLock { state in
            for (partition, offset) in offsets where offset > (state.committed[partition] ?? Int64.min) {
                state.committed[partition] = offset
            }
        }
    }

    /// Forgets partitions that were revoked: their unfinished messages will be redelivered
    /// to the next owner, and their late outcomes must not be committed by this member.
    ///
    /// - Returns: how far each of them may still be committed (as `committable()`), taken
    ///   in the same step, so no message can start between the two.
    @discardableResult
    public func revoke(_ partitions: [Partition]) -> [Partition: Int64] {
        state.withLock { state in
            let settled = Self.committable(state).filter { partitions.contains($0.key) }
            for partition in partitions {
                state.owned.remove(partition)
                state.pending[partition] = nil
                state.highest[partition] = nil
                state.committed[partition] = nil
            }
            return settled
        }
    }

    /// Messages without an outcome, over all partitions.
    public var inFlight: Int {
        state.withLock { $0.pending.values.reduce(0) { $0 + $1.count } }
    }

    /// Whether a partition is owned and tracked (revoked ones are not).
    public func isTracking(_ partition: Partition) -> Bool {
        state.withLock { $0.owned.contains(partition) }
    }
}
