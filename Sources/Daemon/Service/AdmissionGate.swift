import Synchronization

/// Bounds how many messages are being worked on at once (running plus waiting for a worker),
/// so a burst of uploads never turns into unbounded memory. Each consumer loop waits here
/// before taking its next message, and pauses its partitions while it waits.
///
/// Uploads come first. Backfill work (`file.reprocess`) is admitted only into spare capacity:
/// while fewer than `backfillCapacity` messages are admitted (a worker is idle) and no
/// upload is waiting. A freed place always goes to a waiting upload, so a bulk reprocess
/// delays a fresh upload by at most the jobs already running.
final class AdmissionGate: Sendable {
    let capacity: Int
    let backfillCapacity: Int

    private struct State {
        var admitted = 0
        var peak = 0
        var backfillAdmitted = 0
        var backfillPeak = 0
        /// The consumer loops waiting for a place.
        var uploadWaiter: CheckedContinuation<Void, Never>?
        var backfillWaiter: CheckedContinuation<Void, Never>?

        func allows(_ priority: IntakeLane, capacity: Int, backfillCapacity: Int) -> Bool {
            switch priority {
            case .uploads: admitted < capacity
            case .backfill: uploadWaiter == nil && admitted < backfillCapacity
            }
        }

        mutating func take(_ priority: IntakeLane) {
            admitted += 1
            peak = max(peak, admitted)
            if priority == .backfill {
                backfillAdmitted += 1
                backfillPeak = max(backfillPeak, backfillAdmitted)
            }
        }
    }

    private let state = Mutex(State())

    /// - Parameters:
    ///   - capacity: worker slots plus queue depth.
    ///   - backfillCapacity: the admitted count below which backfill may start (the worker slots).
    init(capacity: Int, backfillCapacity: Int? = nil) {
        self.capacity = max(1, capacity)
        self.backfillCapacity = max(1, min(backfillCapacity ?? capacity, self.capacity))
    }

    var admitted: Int { state.withLock { $0.admitted } }

    /// The most messages ever admitted at once: proof that the bound held.
    var peak: Int { state.withLock { $0.peak } }

    /// The most backfill messages ever admitted at once.
    var backfillPeak: Int { state.withLock { $0.backfillPeak } }

    /// True when one more message of this priority would have to wait.
    func isFull(for priority: IntakeLane = .uploads) -> Bool {
        state.withLock { !$0.allows(priority, capacity: capacity, backfillCapacity: backfillCapacity) }
    }

    /// Takes a place, waiting while none is available to this priority. One waiter per
    /// priority: only that priority's consumer loop calls this.
    func admit(_ priority: IntakeLane = .uploads) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let go = state.withLock { state -> Bool in
                if state.allows(priority, capacity: capacity, backfillCapacity: backfillCapacity) {
                    state.take(priority)
                    return true
                }
                switch priority {
                case .uploads: state.uploadWaiter = continuation
                case .backfill: state.backfillWaiter = continuation
                }
                return false
            }
            if go { continuation.resume() }
        }
    }

    /// Gives a place back and hands it to a waiting upload first, then to waiting backfill.
    func release(_ priority: IntakeLane = .uploads) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.admitted -= 1
            if priority == .backfill { state.backfillAdmitted -= 1 }
            if let upload = state.uploadWaiter {
                state.uploadWaiter = nil
                state.take(.uploads)
                return upload
            }
            if let backfill = state.backfillWaiter, state.allows(.backfill, capacity: capacity, backfillCapacity: backfillCapacity) {
                state.backfillWaiter = nil
                state.take(.backfill)
                return backfill
            }
            return nil
        }
        waiter?.resume()
    }
}
