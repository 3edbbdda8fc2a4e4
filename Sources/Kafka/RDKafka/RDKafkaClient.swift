import CRdKafkaShims
import CRdKafka
import Foundation
import Logging
import Synchronization

/// Owns one `rd_kafka_t` and its callback context.
///
/// Other threads reach the handle only through `withHandle`, which takes a lease:
/// `beginShutdown()` refuses new leases, and the owner (the polling thread) waits for the
/// leases in use to end before it calls `destroy`. The callback context is released only
/// with this object, i.e. after `rd_kafka_destroy` returned.
final class RDKafkaClient: @unchecked Sendable {
    // @unchecked: `handle` is an immutable pointer to a thread-safe librdkafka object;
    // its lifetime is guarded by `leases`.
    enum Kind {
        case producer, consumer
    }

    private struct Leases {
        var shuttingDown = false
        var active = 0
        var destroyed = false
    }

    private let handle: OpaquePointer
    /// The consumer queue (`rd_kafka_queue_get_consumer`), held to wake a blocked poll;
    /// destroyed before the handle.
    private let consumerQueue: OpaquePointer?
    let context: RDKafkaCallbackContext
    private let leases = Mutex(Leases())

    /// The client's name (`rdkafka#consumer-1`), for logs.
    let name: String

    /// Creates a handle from `settings`.
    ///
    /// - Parameter install: sets kind-specific callbacks on the conf before `rd_kafka_new`.
    /// - Throws: `KafkaError` for a rejected setting or a failed `rd_kafka_new`; the conf
    ///   is destroyed in both cases.
    init(
        kind: Kind, settings: [(key: String, value: String)], logger: Logger,
        deliveries: DeliveryRegistry? = nil,
        install: (OpaquePointer) -> Void = { _ in }
    ) throws {
        let context = RDKafkaCallbackContext(logger: logger, deliveries: deliveries)
        let conf = try RDKafkaConfig.make(settings)
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(context).toOpaque())
        RDKafkaCallbackContext.installCommonCallbacks(on: conf)
        install(conf)
        var errorText = [CChar](repeating: 0, count: 512)
        let created = errorText.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_new(kind == .producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER, conf, buffer.baseAddress, buffer.count)
        }
        guard let created else {
            rd_kafka_conf_destroy(conf)
            let reason = errorText.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw KafkaError(code: .invalidArgument, message: "rd_kafka_new: \(reason)", isRetriable: false)
        }
        if kind == .consumer {
            // Serve errors, statistics and logs from the consumer queue, so that one
            // rd_kafka_consumer_poll loop handles everything.
            rd_kafka_poll_set_consumer(created)
            self.consumerQueue = rd_kafka_queue_get_consumer(created)
        } else {
            self.consumerQueue = nil
        }
        self.handle = created
        self.context = context
        self.name = String(cString: rd_kafka_name(created))
    }

    deinit {
        // Reached without `destroy` only for a client that never started polling.
        if !leases.withLock({ $0.destroyed }) {
            if let consumerQueue { rd_kafka_queue_destroy(consumerQueue) }
            rd_kafka_destroy(handle)
        }
    }

    /// Calls `body` with the handle while holding a lease; the pointer must not escape.
    ///
    /// - Throws: `KafkaError.closed()` once shutdown began.
    func withHandle<T>(_ body: (OpaquePointer) throws -> T) throws -> T {
        try leases.withLock { state in
            guard !state.shuttingDown else { throw KafkaError.closed() }
            state.active += 1
        }
        defer { leases.withLock { $0.active -= 1 } }
        return try body(handle)
    }

    /// The handle for its owner, the polling thread, which alone destroys it.
    var ownerHandle: OpaquePointer { handle }

    /// The consumer queue, for its owner's `rd_kafka_consumer_close_queue`.
    var ownerConsumerQueue: OpaquePointer? { consumerQueue }

    /// Makes a consumer's `rd_kafka_consumer_poll` return now (to apply a pause or a close).
    func wakeUp() {
        guard let consumerQueue else { return }
        try? withHandle { _ in rd_kafka_queue_yield(consumerQueue) }
    }

    /// Refuses new leases from now on.
    func beginShutdown() {
        leases.withLock { $0.shuttingDown = true }
    }

    var isShuttingDown: Bool { leases.withLock { $0.shuttingDown } }

    /// `rd_kafka_destroy` returned: every librdkafka thread of this handle has ended.
    var isDestroyed: Bool { leases.withLock { $0.destroyed } }

    /// Waits (sleeping in small steps: this runs on the polling thread) until no lease is
    /// held or `deadline` passes. Returns whether all leases ended.
    func waitForLeases(until deadline: ContinuousClock.Instant) -> Bool {
        while leases.withLock({ $0.active > 0 }) {
            if ContinuousClock.now >= deadline { return false }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return true
    }

    /// `rd_kafka_destroy_flags`; call once, from the owner, after `waitForLeases`.
    func destroy(flags: Int32 = 0) {
        if let consumerQueue { rd_kafka_queue_destroy(consumerQueue) }
        rd_kafka_destroy_flags(handle, flags)
        leases.withLock { $0.destroyed = true }
    }
}
