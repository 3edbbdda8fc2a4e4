import Synchronization

/// Decides, per partition, how far offsets may be committed: up to (not past) the lowest
/// message that has no outcome yet. Jobs finish out of order; a commit must never skip
/// a message still in flight, or a crash would lose it (BRIEF §5: at-least-once).
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
        /// Offsets started but without an outcome, per partition.
        var pending: [Partition: Set<Int64>] = [:]
        /// The highest offset seen (started) per partition.
        var highest: [Partition: Int64] = [:]
        /// What was last committed ("next offset to read"), to skip no-op commits.
        var committed: [Partition: Int64] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// A message was taken from the consumer and has no outcome yet.
    public func started(_ partition: Partition, offset: Int64) {
        state.withLock { state in
            state.pending[partition, default: []].insert(offset)
            state.highest[partition] = max(state.highest[partition] ?? offset, offset)
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
        state.withLock { state in
            var result: [Partition: Int64] = [:]
            for (partition, highest) in state.highest {
                let next = state.pending[partition].flatMap { $0.min() } ?? (highest + 1)
                if next != state.committed[partition] { result[partition] = next }
            }
            return result
        }
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
    public func revoke(_ partitions: [Partition]) {
        state.withLock { state in
            for partition in partitions {
                state.pending[partition] = nil
                state.highest[partition] = nil
                state.committed[partition] = nil
            }
        }
    }

    /// Messages without an outcome, over all partitions.
    public var inFlight: Int {
        state.withLock { $0.pending.values.reduce(0) { $0 + $1.count } }
    }

    /// Whether a partition is still tracked (revoked ones are not).
    public func isTracking(_ partition: Partition) -> Bool {
        state.withLock { $0.highest[partition] != nil }
    }
}
