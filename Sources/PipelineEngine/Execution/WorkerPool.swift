import Foundation
import Dispatch
import Synchronization

/// A bounded pool of Dispatch workers for blocking native work (libvips, libav*).
///
/// Swift's cooperative pool must never block in C, and a burst of uploads must not start
/// more decoders than there are cores: callers `await` a slot, then the body runs on a
/// dedicated Dispatch queue. Jobs carry a weight (a transcode may take every slot), and
/// `isSaturated` lets a consumer stop fetching before work piles up in memory.
public final class WorkerPool: Sendable {
    /// Total weight that may run at once.
    public let slots: Int
    /// Waiting jobs above which the pool reports itself saturated.
    public let queueDepth: Int

    private let queue: DispatchQueue
    private let state: Mutex<State>

    private struct Waiter {
        let id: UInt64
        let weight: Int
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var available: Int
        var inFlight = 0
        var waiters: [Waiter] = []
        var nextID: UInt64 = 0
        var peakInFlightWeight = 0
    }

    /// - Parameters:
    ///   - slots: concurrent weight; defaults to the number of active cores.
    ///   - queueDepth: how many waiting jobs count as "full"; defaults to `slots`.
    public init(slots: Int? = nil, queueDepth: Int? = nil, label: String = "mediad.workers") {
        let slots = max(1, slots ?? ProcessInfo.processInfo.activeProcessorCount)
        self.slots = slots
        self.queueDepth = max(0, queueDepth ?? slots)
        self.queue = DispatchQueue(label: label, qos: .userInitiated, attributes: .concurrent)
        queue.setSpecific(key: Self.labelKey, value: label)
        self.state = Mutex(State(available: slots))
    }

    private static let labelKey = DispatchSpecificKey<String>()

    /// The label of the pool whose worker runs the caller, or nil off the pool: lets code
    /// assert that blocking native calls never run on Swift's cooperative threads.
    public static var currentPoolLabel: String? {
        DispatchQueue.getSpecific(key: labelKey)
    }

    /// A consistent view of the pool, for metrics and backpressure.
    public struct Snapshot: Sendable, Equatable {
        public var runningJobs: Int
        public var runningWeight: Int
        public var waitingJobs: Int
        /// The most weight that ever ran at once: proof that the bound held.
        public var peakRunningWeight: Int
    }

    public var snapshot: Snapshot {
        state.withLock { state in
            Snapshot(
                runningJobs: state.inFlight, runningWeight: slots - state.available,
                waitingJobs: state.waiters.count, peakRunningWeight: state.peakInFlightWeight)
        }
    }

    /// True when every slot is taken and at least `queueDepth` jobs wait: stop taking more work.
    public var isSaturated: Bool {
        state.withLock { $0.available == 0 && $0.waiters.count >= queueDepth }
    }

    /// Waits for `weight` slots, then runs `body` on a worker thread.
    /// - Throws: `CancellationError` if the task is cancelled while waiting, or what `body` throws.
    public func run<T: Sendable>(weight: Int = 1, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        let weight = min(max(1, weight), slots)
        try await acquire(weight)
        defer { release(weight) }
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    private func acquire(_ weight: Int) async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let granted = state.withLock { state -> Bool in
                    if Task.isCancelled { return false }
                    // FIFO: nobody overtakes a waiting job, so heavy jobs are not starved.
                    if state.waiters.isEmpty && state.available >= weight {
                        state.available -= weight
                        state.inFlight += 1
                        state.peakInFlightWeight = max(state.peakInFlightWeight, slots - state.available)
                        return true
                    }
                    state.waiters.append(Waiter(id: id, weight: weight, continuation: continuation))
                    return false
                }
                if granted {
                    continuation.resume()
                } else if Task.isCancelled, !isWaiting(id) {
                    continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    private func isWaiting(_ id: UInt64) -> Bool {
        state.withLock { $0.waiters.contains { $0.id == id } }
    }

    private func release(_ weight: Int) {
        let ready = state.withLock { state -> [Waiter] in
            state.available += weight
            state.inFlight -= 1
            var ready: [Waiter] = []
            while let first = state.waiters.first, first.weight <= state.available {
                state.waiters.removeFirst()
                state.available -= first.weight
                state.inFlight += 1
                ready.append(first)
            }
            state.peakInFlightWeight = max(state.peakInFlightWeight, slots - state.available)
            return ready
        }
        for waiter in ready { waiter.continuation.resume() }
    }
}
