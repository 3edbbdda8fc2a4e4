import Logging
import Synchronization

/// A unit of work for the connection's thread: `run` there, or `reject` (on the caller's
/// thread) when the connection no longer takes work.
struct Command: Sendable {
    /// An ack, nack or reject of a delivery already handed out: still taken while closing.
    var isSettlement = false
    var run: @Sendable (ConnectionDriver) -> Void
    var reject: @Sendable (AMQPError) -> Void
}

/// What the handshake settled.
struct NegotiatedParameters: Sendable {
    var heartbeatSeconds: Int
    var channelMax: Int
    var frameMax: Int
    var serverProperties: AMQPTable
}

/// Everything a connection's thread shares with the `AMQPConnection`, its consumers and
/// publishers. The thread holds this (not the `AMQPConnection`), so a dropped connection
/// still closes cleanly.
final class ConnectionCore: Sendable {
    private struct State {
        var lifecycle = ConnectionLifecycle()
        var commands: [Command] = []
        var negotiated: NegotiatedParameters?
        var blockedReason: String?
    }

    private static let nextID = Atomic<UInt64>(1)

    /// Unique in this process: tells deliveries of this connection from any other's.
    let id: UInt64
    let configuration: AMQPConfiguration
    let logger: Logger
    let wake = WakeSignal()
    let events = EventBuffer<AMQPConnectionEvent>()
    private let state = Mutex(State())

    init(configuration: AMQPConfiguration, logger: Logger) {
        id = Self.nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "amqp.connection"] = "\(id)"
        self.logger = logger
    }

    // MARK: Callers' side.

    /// Queues `command` for the thread, or rejects it at once when the connection is closed
    /// (or closing, for anything but a settlement).
    func submit(_ command: Command) {
        let refusal: AMQPError? = state.withLock { state in
            guard state.lifecycle.accepts(isSettlement: command.isSettlement) else { return state.lifecycle.refusal }
            state.commands.append(command)
            return nil
        }
        if let refusal {
            command.reject(refusal)
        } else {
            wake.signal()
        }
    }

    /// Runs `body` on the connection's thread and returns its result.
    func perform<T: Sendable>(
        isSettlement: Bool = false, _ body: @escaping @Sendable (ConnectionDriver) throws(AMQPError) -> T
    ) async throws(AMQPError) -> T {
        try await performDeferred(isSettlement: isSettlement) { driver, complete in
            complete(Result { () throws(AMQPError) -> T in try body(driver) })
        }
    }

    /// Runs `body` on the connection's thread, which calls `complete` once, now or later
    /// (a publish's confirm, a `basic.get`'s content).
    func performDeferred<T: Sendable>(
        isSettlement: Bool = false,
        _ body: @escaping @Sendable (ConnectionDriver, @escaping @Sendable (Result<T, AMQPError>) -> Void) -> Void
    ) async throws(AMQPError) -> T {
        let result: Result<T, AMQPError> = await withCheckedContinuation { continuation in
            let once = ResumeOnce(continuation)
            submit(Command(
                isSettlement: isSettlement,
                run: { driver in body(driver) { once.resume($0) } },
                reject: { once.resume(.failure($0)) }
            ))
        }
        return try result.get()
    }

    /// Asks the thread to close; waits for it when `wait`.
    func close(wait: Bool) async {
        if wait {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let action = state.withLock { $0.lifecycle.requestClose(continuation) }
                switch action {
                case .wake: wake.signal()
                case .resume: continuation.resume()
                }
            }
        } else {
            closeInBackground()
        }
    }

    func closeInBackground() {
        if state.withLock({ $0.lifecycle.requestClose(nil) }) == .wake { wake.signal() }
    }

    var phase: ConnectionLifecycle.Phase { state.withLock { $0.lifecycle.phase } }
    var negotiated: NegotiatedParameters? { state.withLock { $0.negotiated } }
    var blockedReason: String? { state.withLock { $0.blockedReason } }

    // MARK: The thread's side.

    var isCloseRequested: Bool { state.withLock { $0.lifecycle.isCloseRequested } }

    func didOpen(_ negotiated: NegotiatedParameters) {
        state.withLock { state in
            state.negotiated = negotiated
            state.lifecycle.didOpen()
        }
    }

    func setBlocked(_ reason: String?) {
        state.withLock { $0.blockedReason = reason }
    }

    func takeCommands() -> [Command] {
        state.withLock { state in
            defer { state.commands.removeAll() }
            return state.commands
        }
    }

    /// The thread is done: no command is taken from now on; the ones still queued are
    /// rejected and every `close()` caller resumed.
    func didClose(_ error: AMQPError?) {
        let (waiters, commands) = state.withLock { state in
            let waiters = state.lifecycle.didClose(error)
            defer { state.commands.removeAll() }
            return (waiters, state.commands)
        }
        let refusal = error ?? .closed()
        for command in commands { command.reject(refusal) }
        for waiter in waiters { waiter.resume() }
    }
}

/// Resumes a continuation at most once, whichever of the thread or a rejection gets there first.
final class ResumeOnce<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, Never>?>

    init(_ continuation: CheckedContinuation<T, Never>) {
        self.continuation = Mutex(continuation)
    }

    func resume(_ value: T) {
        let continuation = continuation.withLock { stored in
            defer { stored = nil }
            return stored
        }
        continuation?.resume(returning: value)
    }
}
