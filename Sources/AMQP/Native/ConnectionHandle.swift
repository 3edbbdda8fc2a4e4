import CRabbitMQ
import Synchronization

/// Owns one `amqp_connection_state_t` and the socket librabbitmq attached to it, and frees
/// both (`amqp_destroy_connection`) in `destroy()` or `deinit`.
///
/// librabbitmq connections are not thread-safe: a handle is used by its connection's thread
/// only (`ConnectionDriver`), so it is not `Sendable`.
final class ConnectionHandle {
    let state: amqp_connection_state_t
    private(set) var isDestroyed = false

    /// Handles created and not yet destroyed in this process, for leak checks.
    static let live = Atomic<Int>(0)

    init() throws(AMQPError) {
        guard let state = amqp_new_connection() else {
            throw AMQPError(code: Code.noMemory, message: "amqp_new_connection failed")
        }
        self.state = state
        Self.live.add(1, ordering: .relaxed)
    }

    /// The socket's file descriptor, -1 when there is none (not opened, or closed).
    var socketDescriptor: Int32 { isDestroyed ? -1 : amqp_get_sockfd(state) }

    /// Closes the socket (if open) and frees every buffer and pool. Idempotent.
    func destroy() {
        guard !isDestroyed else { return }
        isDestroyed = true
        amqp_destroy_connection(state)
        Self.live.subtract(1, ordering: .relaxed)
    }

    deinit {
        destroy()
    }

    private enum Code {
        static let noMemory = AMQPError.Code(rawValue: AMQP_STATUS_NO_MEMORY.rawValue)
    }
}
