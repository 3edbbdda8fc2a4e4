/// Where a supervised connection stands, for readiness checks and logs.
public enum AMQPConnectionState: Sendable, Hashable, CustomStringConvertible {
    /// Connecting, declaring the topology and starting consumers; `attempt` counts from 1
    /// since the last connection that came up.
    case connecting(attempt: Int)
    /// Up, topology declared, consumers started. `generation` counts connections made.
    case connected(generation: Int)
    /// The last attempt failed or the connection was lost; the next attempt comes after `retryIn`.
    case disconnected(AMQPError, retryIn: Duration)
    /// `shutdown()` finished.
    case closed

    /// Connected: what `/readyz` reports as ready.
    public var isReady: Bool {
        if case .connected = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .connecting(let attempt): "connecting (attempt \(attempt))"
        case .connected(let generation): "connected (connection \(generation))"
        case .disconnected(let error, let retryIn): "disconnected (\(error.code.name): \(error.message)); retrying in \(retryIn)"
        case .closed: "closed"
        }
    }
}
