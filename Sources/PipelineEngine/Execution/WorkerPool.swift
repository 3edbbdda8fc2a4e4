import Dispatch
import Foundation
import Synchronization

/// The bound on concurrent native work: weighted slots, a FIFO queue of waiting jobs, and
/// a Dispatch queue for work that runs in this process.
///
/// Swift's cooperative pool must never block in C, and a burst of uploads must not start
/// more decoders than there are cores: callers `await` slots, then either run a body on the
/// pool's own threads (`run`) or hand the work to a worker process while they hold the
/// slots (`withSlots`). Jobs carry a weight (a transcode may take every slot), and
/// `isSaturated` lets a consumer stop fetching before work piles up in memory.
public final class WorkerPool: Sendable {
    /// Total weight that may run at once.
    public let slots: Int
    /// Waiting jobs above which the pool reports itself saturated.
    public let queueDepth: Int

    private let queue: DispatchQueue
    private let state: Mutex<State>

    /// Where one `acquire` call stands. Granting, cancelling and waiting are decided under
    /// the same lock, so each continuation is resumed exactly once.
    private enum Phase {
        /// Registered; the continuation is not installed yet.
        case pending
        /// Queued for slots.
        case waiting(weight: Int, continuation: CheckedContinuation<Void, any Error>)
        /// Cancelled before the continuation was installed: the installer throws.
        case cancelled
        /// Holds its slots; nothing may resume it any more.
        case granted
    }

    private struct State {
        var available: Int
        var inFlight = 0
        var phases: [UInt64: Phase] = [:]
        /// Waiting ids in arrival order.
        var queue: [UInt64] = []
        var nextID: UInt64 = 0
        var peakInFlightWeight = 0

        mutating func grant(_ weight: Int, slots: Int) {
            available -= weight
            inFlight += 1
            peakInFlightWeight = max(peakInFlightWeight, slots - available)
        }
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
                waitingJobs: state.queue.count, peakRunningWeight: state.peakInFlightWeight)
        }
    }

    /// True when every slot is taken and at least `queueDepth` jobs wait: stop taking more work.
    public var isSaturated: Bool {
        state.withLock { $0.available == 0 && $0.queue.count >= queueDepth }
    }

    /// Waits for `weight` slots, then runs `body` on one of the pool's threads.
    /// - Parameter before: runs once the slots are held, before `body` starts.
    /// - Throws: `CancellationError` if the task is cancelled while waiting, or what `body` throws.
    public func run<T: Sendable>(weight: Int = 1, before: () async -> Void = {}, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withSlots(weight: weight) {
            await before()
            return try await withCheckedThrowingContinuation { continuation in
                queue.async {
                    continuation.resume(with: Result { try body() })
                }
            }
        }
    }

    /// Waits for `weight` slots and holds them while `body` runs (for work done elsewhere,
    /// such as in a worker process).
    /// - Throws: `CancellationError` if the task is cancelled while waiting, or what `body` throws.
    public func withSlots<T: Sendable>(weight: Int = 1, _ body: () async throws -> T) async throws -> T {
        let weight = min(max(1, weight), slots)
        try await acquire(weight)
        defer { release(weight) }
        return try await body()
    }

    private func acquire(_ weight: Int) async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            state.phases[state.nextID] = .pending
            return state.nextID
        }
        defer { _ = state.withLock { $0.phases.removeValue(forKey: id) } }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let granted = state.withLock { state -> Bool? in
                    if case .cancelled = state.phases[id] { return nil }
                    // FIFO: nobody overtakes a waiting job, so heavy jobs are not starved.
                    if state.queue.isEmpty && state.available >= weight {
                        state.grant(weight, slots: slots)
                        state.phases[id] = .granted
                        return true
                    }
                    state.phases[id] = .waiting(weight: weight, continuation: continuation)
                    state.queue.append(id)
                    return false
                }
                switch granted {
                case true?: continuation.resume()
                case nil: continuation.resume(throwing: CancellationError())
                case false?: break
                }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                switch state.phases[id] {
                case .pending?:
                    state.phases[id] = .cancelled
                    return nil
                case .waiting(_, let continuation)?:
                    state.phases[id] = .cancelled
                    state.queue.removeAll { $0 == id }
                    return continuation
                case .cancelled?, .granted?, nil:
                    return nil
                }
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    private func release(_ weight: Int) {
        let ready = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.available += weight
            state.inFlight -= 1
            var ready: [CheckedContinuation<Void, any Error>] = []
            while let first = state.queue.first, case .waiting(let needed, let continuation)? = state.phases[first], needed <= state.available {
                state.queue.removeFirst()
                state.grant(needed, slots: slots)
                state.phases[first] = .granted
                ready.append(continuation)
            }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }
}
