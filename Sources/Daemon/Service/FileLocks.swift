import Synchronization

/// One job per file at a time. A redelivered event (or a duplicate notification) for a file
/// still being processed waits for that job, then finds its manifest instead of doing the
/// work twice and racing it to the same derivative keys.
final class FileLocks: Sendable {
    /// Present key = locked; its array = the jobs waiting for it, in order.
    private let state = Mutex<[String: [CheckedContinuation<Void, Never>]]>([:])

    func lock(_ key: String) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquired = state.withLock { locks -> Bool in
                if locks[key] == nil {
                    locks[key] = []
                    return true
                }
                locks[key]?.append(continuation)
                return false
            }
            if acquired { continuation.resume() }
        }
    }

    /// Hands the lock to the next waiter, or frees it.
    func unlock(_ key: String) {
        let next = state.withLock { locks -> CheckedContinuation<Void, Never>? in
            guard var waiters = locks[key] else { return nil }
            if waiters.isEmpty {
                locks[key] = nil
                return nil
            }
            let first = waiters.removeFirst()
            locks[key] = waiters
            return first
        }
        next?.resume()
    }
}
