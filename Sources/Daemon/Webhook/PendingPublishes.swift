import Synchronization

/// Publishes the intake waits on, bounded in number and in time.
///
/// The wait ends at the deadline, the publish does not: a record handed to the broker
/// client cannot be taken back, and Kafka's producer holds it until its own message timeout.
/// So a timed-out publish keeps its place in `limit` until it really ends, and the answer
/// after a timeout is "not confirmed", never "not delivered".
final class PendingPublishes: Sendable {
    enum Result: Sendable {
        case confirmed
        case failed(any Error)
        case timedOut
        /// `limit` publishes were already pending; this one was not started.
        case overloaded
    }

    let limit: Int
    private let pending = Mutex(0)

    init(limit: Int) {
        self.limit = limit
    }

    var count: Int { pending.withLock { $0 } }

    /// Starts `publish` in a task of its own and waits for it at most `timeout`.
    func run(timeout: Duration, _ publish: @escaping @Sendable () async throws -> Void) async -> Result {
        let admitted = pending.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
        guard admitted else { return .overloaded }
        return await withCheckedContinuation { continuation in
            let answer = SingleAnswer(continuation)
            let timer = Task {
                try await Task.sleep(for: timeout)
                answer.give(.timedOut)
            }
            Task {
                defer { self.pending.withLock { $0 -= 1 } }
                do {
                    try await publish()
                    answer.give(.confirmed)
                } catch {
                    answer.give(.failed(error))
                }
                timer.cancel()
            }
        }
    }
}

/// A continuation that the publish and the timer race to resume: the first one wins, inside
/// the lock, and the other finds nothing to resume.
private final class SingleAnswer: Sendable {
    private let continuation: Mutex<CheckedContinuation<PendingPublishes.Result, Never>?>

    init(_ continuation: CheckedContinuation<PendingPublishes.Result, Never>) {
        self.continuation = Mutex(continuation)
    }

    func give(_ result: PendingPublishes.Result) {
        continuation.withLock { $0.take() }?.resume(returning: result)
    }
}
