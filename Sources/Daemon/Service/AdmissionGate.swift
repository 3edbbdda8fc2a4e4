import Synchronization

/// Bounds how many messages are being worked on at once (running plus waiting for a worker),
/// so a burst of uploads never turns into unbounded memory. The consumer loop waits here
/// before taking the next message, and pauses its partitions while it waits.
final class AdmissionGate: Sendable {
    let capacity: Int

    private struct State {
        var admitted = 0
        var peak = 0
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var admitted: Int { state.withLock { $0.admitted } }

    /// The most messages ever admitted at once: proof that the bound held.
    var peak: Int { state.withLock { $0.peak } }

    /// True when one more message would have to wait.
    var isFull: Bool { state.withLock { $0.admitted >= capacity } }

    /// Takes a place, waiting while all are taken. Only the consumer loop calls this.
    func admit() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let go = state.withLock { state -> Bool in
                if state.admitted < capacity {
                    state.admitted += 1
                    state.peak = max(state.peak, state.admitted)
                    return true
                }
                state.waiter = continuation
                return false
            }
            if go { continuation.resume() }
        }
    }

    /// Gives a place back, waking the consumer loop if it waits.
    func release() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter   // the place passes straight to the waiter
            }
            state.admitted -= 1
            return nil
        }
        waiter?.resume()
    }
}
