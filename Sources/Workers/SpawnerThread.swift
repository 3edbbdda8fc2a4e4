import Dispatch
import Foundation
import Synchronization

/// One long-lived thread that starts every worker process of a supervisor.
///
/// The kernel sends `PR_SET_PDEATHSIG` when the *thread* that forked a child ends, not the
/// process: a worker spawned from a pool thread that later retires would be killed in the
/// middle of a job. This thread lives until the supervisor stops.
final class SpawnerThread: Sendable {
    private typealias Request = @Sendable () -> Void

    private let requests = Mutex<(queue: [Request], stopped: Bool)>(([], false))
    private let signal = DispatchSemaphore(value: 0)

    init() {
        Thread { [self] in self.loop() }.start()
    }

    /// Runs `body` on the spawner thread.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = requests.withLock { state -> Bool in
                guard !state.stopped else { return false }
                state.queue.append { continuation.resume(with: Result { try body() }) }
                return true
            }
            if accepted {
                signal.signal()
            } else {
                continuation.resume(throwing: CancellationError())
            }
        }
    }

    /// Ends the thread once the queued requests are done; later requests are refused.
    func stop() {
        requests.withLock { $0.stopped = true }
        signal.signal()
    }

    private func loop() {
        while true {
            signal.wait()
            let (next, stopped) = requests.withLock { state -> (Request?, Bool) in
                state.queue.isEmpty ? (nil, state.stopped) : (state.queue.removeFirst(), false)
            }
            if let next {
                next()
            } else if stopped {
                return
            }
        }
    }
}
