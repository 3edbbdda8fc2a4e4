/// The lifecycle of a connection served by its thread, as a state machine: transitions
/// happen under the core's lock and return what to do; their effects (waking the thread,
/// resuming `close()` callers) happen outside it.
///
/// `opening` (the thread connects and logs in) → `open` → `closing` (`close()`, `deinit`)
/// → `closed` (the thread destroyed the handle). A lost connection goes from `open`
/// (or `closing`) straight to `closed` with its error.
struct ConnectionLifecycle {
    enum Phase: Equatable {
        case opening
        case open
        case closing
        case closed(AMQPError?)
    }

    enum CloseAction: Equatable {
        /// Wake the thread: it runs the close sequence and resumes the waiter when done.
        case wake
        /// Already closed: resume the waiter now.
        case resume
    }

    private(set) var phase = Phase.opening
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// Whether a new command may be queued: everything while opening or open, while closing
    /// only settlements of deliveries already handed out (acks, nacks, rejects).
    func accepts(isSettlement: Bool) -> Bool {
        switch phase {
        case .opening, .open: true
        case .closing: isSettlement
        case .closed: false
        }
    }

    var isCloseRequested: Bool {
        switch phase {
        case .opening, .open: false
        case .closing, .closed: true
        }
    }

    /// The error a refused command gets.
    var refusal: AMQPError {
        if case .closed(let error?) = phase { return error }
        return .closed()
    }

    mutating func didOpen() {
        if phase == .opening { phase = .open }
    }

    /// `close()` (with a waiter) or `deinit` (without).
    mutating func requestClose(_ waiter: CheckedContinuation<Void, Never>?) -> CloseAction {
        switch phase {
        case .closed:
            return .resume
        case .opening, .open, .closing:
            phase = .closing
            if let waiter { waiters.append(waiter) }
            return .wake
        }
    }

    /// The thread is done: returns the waiters to resume.
    mutating func didClose(_ error: AMQPError?) -> [CheckedContinuation<Void, Never>] {
        phase = .closed(error)
        defer { waiters.removeAll() }
        return waiters
    }
}
