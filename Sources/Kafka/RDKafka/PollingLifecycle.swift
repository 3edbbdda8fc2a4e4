import Dispatch
import Foundation
import Logging
import Synchronization

/// The lifecycle of a librdkafka handle served by one dedicated polling thread, as a small
/// state machine: transitions happen under the lock, their effects (spawning the thread,
/// waking it, resuming `close()` callers) outside it.
///
/// `idle` → `running` (first use) → `closing` (`close()` or `deinit`) → `closed` (the thread
/// destroyed the handle and called `didClose`). A close that never reaches `closed` (a
/// librdkafka hang) releases its caller after its deadline anyway.
final class PollingLifecycle: Sendable {
    private enum State {
        case idle
        case running
        case closing(waiters: [Int: CheckedContinuation<Void, Never>])
        case closed
    }

    private let state = Mutex(State.idle)
    private let nextWaiterID = Atomic<Int>(0)
    private let threadName: String
    private let logger: Logger

    init(threadName: String, logger: Logger) {
        self.threadName = threadName
        self.logger = logger
    }

    /// Starts the polling thread running `loop` unless it runs already.
    ///
    /// - Throws: `KafkaError.closed()` once closing.
    func start(_ loop: @escaping @Sendable () -> Void) throws {
        let spawn: Bool = try state.withLock { state in
            switch state {
            case .idle:
                state = .running
                return true
            case .running:
                return false
            case .closing, .closed:
                throw KafkaError.closed()
            }
        }
        if spawn { spawnThread(loop) }
    }

    /// Whether the loop should stop and run its close sequence.
    var isStopRequested: Bool {
        state.withLock { state in
            if case .running = state { return false }
            return true
        }
    }

    /// Asks the thread to close the handle and waits for `didClose`, or at most `maxWait`.
    /// An idle handle gets a thread just to run the close sequence, so every handle closes
    /// the same way.
    func close(maxWait: Duration, wake: @Sendable () -> Void, loop: @escaping @Sendable () -> Void) async {
        let id = nextWaiterID.wrappingAdd(1, ordering: .relaxed).oldValue
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            enum Action { case resume, spawn, wake }
            let action: Action = state.withLock { state in
                switch state {
                case .idle:
                    state = .closing(waiters: [id: continuation])
                    return .spawn
                case .running:
                    state = .closing(waiters: [id: continuation])
                    return .wake
                case .closing(var waiters):
                    waiters[id] = continuation
                    state = .closing(waiters: waiters)
                    return .wake
                case .closed:
                    return .resume
                }
            }
            switch action {
            case .resume:
                continuation.resume()
                return
            case .spawn:
                spawnThread(loop)
            case .wake:
                wake()
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(maxWait.kafkaMilliseconds))) { [self] in
                timedOut(waiter: id)
            }
        }
    }

    /// Asks for a close without waiting (from `deinit`). Returns `false` when the handle
    /// was never polled: there is no thread, and the handle's own `deinit` destroys it.
    @discardableResult
    func closeInBackground(wake: () -> Void) -> Bool {
        enum Action { case none, wake, noThread }
        let action: Action = state.withLock { state in
            switch state {
            case .idle:
                state = .closed
                return .noThread
            case .running:
                state = .closing(waiters: [:])
                return .wake
            case .closing, .closed:
                return .none
            }
        }
        if case .wake = action { wake() }
        if case .noThread = action { return false }
        return true
    }

    /// Called by the thread once the handle is destroyed: releases every `close()` caller.
    func didClose() {
        let waiters: [CheckedContinuation<Void, Never>] = state.withLock { state in
            defer { state = .closed }
            if case .closing(let waiters) = state { return Array(waiters.values) }
            return []
        }
        for waiter in waiters { waiter.resume() }
    }

    private func timedOut(waiter id: Int) {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            guard case .closing(var waiters) = state, let waiter = waiters.removeValue(forKey: id) else { return nil }
            state = .closing(waiters: waiters)
            return waiter
        }
        guard let waiter else { return }
        logger.error(
            "librdkafka did not finish closing in time; abandoning its handle and thread",
            metadata: ["kafka.known-issue": "librdkafka 2.0.2 can hang destroying a consumer after a lost partition"]
        )
        waiter.resume()
    }

    private func spawnThread(_ loop: @escaping @Sendable () -> Void) {
        let thread = Thread(block: loop)
        thread.name = threadName
        thread.start()
    }
}
