import CRabbitMQ
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A connection's thread: the only code that touches its librabbitmq handle. It connects,
/// runs the commands callers queue (declares, consumes, publishes, acks), reads every frame
/// the broker sends (deliveries, confirms, returns, cancels, closes), keeps heartbeats
/// (librabbitmq sends one whenever it waited long enough, and fails the read after two
/// silent intervals), and on close or loss fails what is outstanding and frees the handle.
/// It never waits on Swift concurrency, and Swift's cooperative pool never calls into
/// librabbitmq.
final class ConnectionDriver: @unchecked Sendable {
    // @unchecked: everything here is confined to the connection's thread; the driver is
    // handed to that thread once, when it is spawned.

    /// Threads running a connection in this process right now, for leak checks.
    static let liveThreads = Atomic<Int>(0)

    /// How long one poll waits at most: bounds heartbeat jitter and deadline checks.
    static let pollInterval: Duration = .milliseconds(100)
    /// Frames handled before queued commands get their turn again.
    static let framesPerTurn = 256

    let core: ConnectionCore
    let handle: ConnectionHandle
    var logger: Logger { core.logger }
    var configuration: AMQPConfiguration { core.configuration }

    var channels: [UInt16: DriverChannel] = [:]
    var channelMax: UInt16 = 2047
    private var nextIncarnation: UInt64 = 1
    /// Set by `connection.blocked`, cleared by `connection.unblocked`.
    var blockedReason: String?
    /// Publishes waiting for `connection.unblocked` (the broker would not read them).
    var held: [HeldPublish] = []
    /// `basic.get`s waiting for the one in flight to get its content.
    var waitingGets: [(queue: String, complete: DriverChannel.GetCompletion)] = []
    /// The first error that ended the connection.
    private(set) var lostError: AMQPError?
    /// While closing: when outstanding confirms stop being waited for.
    private var drainDeadline: ContinuousClock.Instant?

    init(core: ConnectionCore) throws(AMQPError) {
        self.core = core
        self.handle = try ConnectionHandle()
    }

    /// Spawns the thread; `opened` is called on it once the handshake succeeded or failed.
    static func start(core: ConnectionCore, opened: @escaping @Sendable (Result<NegotiatedParameters, AMQPError>) -> Void) throws(AMQPError) {
        let driver = try ConnectionDriver(core: core)
        liveThreads.add(1, ordering: .relaxed)
        let thread = Thread {
            driver.run(opened: opened)
            liveThreads.subtract(1, ordering: .relaxed)
        }
        thread.name = "mediad-amqp-connection"
        thread.start()
    }

    private func run(opened: @Sendable (Result<NegotiatedParameters, AMQPError>) -> Void) {
        do throws(AMQPError) {
            let negotiated = try open()
            core.didOpen(negotiated)
            opened(.success(negotiated))
        } catch {
            teardown(error)
            opened(.failure(error))
            return
        }
        while lostError == nil {
            for command in core.takeCommands() {
                command.run(self)
                if lostError != nil { break }
            }
            if lostError != nil { break }
            startWaitingGets()
            if core.isCloseRequested {
                if drainStep() { break }
            } else {
                closeFinishedConsumerChannels()
            }
            let more = readFrames()
            if lostError != nil { break }
            expireDeadlines()
            amqp_maybe_release_buffers(handle.state)
            if !more { waitForActivity() }
        }
        teardown(lostError)
    }

    /// Records that the connection is gone (the first reason wins); the loop ends.
    func lose(_ error: AMQPError) {
        guard lostError == nil else { return }
        lostError = error
        logger.warning("AMQP connection lost", metadata: ["amqp.error": "\(error)"])
    }

    // MARK: Channels.

    /// Opens a channel on the lowest free number.
    func openChannel(_ role: DriverChannel.Role) throws(AMQPError) -> DriverChannel {
        guard let number = (1...channelMax).first(where: { channels[$0] == nil }) else {
            throw AMQPError(code: .resourceError, message: "all \(channelMax) channels are in use")
        }
        amqp_channel_open(handle.state, number)
        try checkReply("channel.open", channel: number)
        let channel = DriverChannel(number: number, incarnation: nextIncarnation, role: role)
        nextIncarnation += 1
        channels[number] = channel
        return channel
    }

    /// The control channel, opened again if the broker closed it.
    func controlChannel() throws(AMQPError) -> DriverChannel {
        if let channel = channels.values.first(where: { if case .control = $0.role { true } else { false } }) { return channel }
        return try openChannel(.control)
    }

    /// The channel `token` came from, if it is still the same one.
    func channel(for token: AMQPDeliveryToken) throws(AMQPError) -> DriverChannel {
        guard token.connectionID == core.id else {
            throw AMQPError(code: .staleDelivery, message: "delivery #\(token.deliveryTag) came from another connection: not settled here (the broker redelivers it)")
        }
        guard let channel = channels[token.channel], channel.incarnation == token.channelIncarnation else {
            throw AMQPError(code: .staleDelivery, message: "delivery #\(token.deliveryTag) came from a channel that is closed: not settled (the broker redelivers it)")
        }
        return channel
    }

    /// The broker closed `channel` (or the close we asked for completed): fails what waits on it.
    func channelClosed(_ number: UInt16, _ error: AMQPError) {
        guard let channel = channels.removeValue(forKey: number) else { return }
        fail(channel, error, lost: true)
        held.removeAll { publish in
            guard publish.channel == number else { return false }
            publish.completion(.failure(error))
            return true
        }
    }

    private func fail(_ channel: DriverChannel, _ error: AMQPError, lost: Bool) {
        for (completion, result) in channel.confirms.failAll(error) { completion(result) }
        for waiter in channel.confirmWaiters { waiter.completion(.failure(error)) }
        channel.confirmWaiters.removeAll()
        channel.pendingGet?(.failure(error))
        channel.pendingGet = nil
        if let sink = channel.consumer {
            if lost { sink.buffer.finish(with: .closed(error)) } else { sink.buffer.finish() }
        }
    }

    /// Closes the channels of consumers that were cancelled (by the broker or `cancel()`)
    /// once nothing they delivered is left to settle, so re-consuming does not pile up channels.
    private func closeFinishedConsumerChannels() {
        for channel in channels.values {
            guard let sink = channel.consumer, sink.buffer.isFinished, channel.unacked.isEmpty, channel.content == nil else { continue }
            closeChannel(channel)
            if lostError != nil { return }
        }
    }

    // MARK: The loop's steps.

    /// Reads the frames librabbitmq has or can read without waiting, and dispatches them.
    /// Returns whether more may be waiting (the turn's budget ran out).
    private func readFrames() -> Bool {
        var frame = amqp_frame_t()
        var zero = timeval(tv_sec: 0, tv_usec: 0)
        for _ in 0..<Self.framesPerTurn {
            let status = amqp_simple_wait_frame_noblock(handle.state, &frame, &zero)
            if status == AMQP_STATUS_TIMEOUT.rawValue { return false }
            guard status == AMQP_STATUS_OK.rawValue else {
                lose(.library(status, "reading from the broker"))
                return false
            }
            dispatch(frame)
            if lostError != nil { return false }
        }
        return true
    }

    /// Sleeps until the socket is readable, a command is queued, or the poll interval (or
    /// the next confirm deadline) passed.
    private func waitForActivity() {
        if amqp_frames_enqueued(handle.state) != 0 || amqp_data_in_buffer(handle.state) != 0 { return }
        let socket = handle.socketDescriptor
        guard socket >= 0 else {
            lose(AMQPError(code: .socketClosed, message: "the socket is closed", isConnectionLost: true))
            return
        }
        var wait = Self.pollInterval
        if let deadline = nextDeadline() { wait = max(.zero, min(wait, deadline - .now)) }
        var descriptors = [
            pollfd(fd: socket, events: Int16(POLLIN), revents: 0),
            pollfd(fd: core.wake.descriptor, events: Int16(POLLIN), revents: 0),
        ]
        let milliseconds = Int32(wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000)
        _ = poll(&descriptors, nfds_t(descriptors.count), milliseconds)
        if descriptors[1].revents != 0 { core.wake.drain() }
    }

    private func nextDeadline() -> ContinuousClock.Instant? {
        var deadlines = channels.values.compactMap { $0.confirms.nextDeadline }
        deadlines += channels.values.flatMap { $0.confirmWaiters.map(\.deadline) }
        deadlines += held.map(\.deadline)
        if let drainDeadline { deadlines.append(drainDeadline) }
        return deadlines.min()
    }

    /// Fails publishes whose confirm did not come in time, and confirm waits that ran out.
    private func expireDeadlines() {
        let now = ContinuousClock.now
        for channel in channels.values {
            for (completion, result) in channel.confirms.expire(now: now) { completion(result) }
            channel.confirmWaiters.removeAll { waiter in
                guard waiter.deadline <= now else { return false }
                waiter.completion(.failure(AMQPError(code: .confirmTimedOut, message: "\(channel.confirms.count) publishes still unconfirmed")))
                return true
            }
        }
        held.removeAll { publish in
            guard publish.deadline <= now else { return false }
            let reason = blockedReason ?? "blocked"
            publish.completion(.failure(AMQPError(
                code: .confirmTimedOut, message: "the broker blocked the connection (\(reason)); the message was not sent"
            )))
            return true
        }
        settleConfirmWaiters()
    }

    /// Resolves `waitForConfirms` callers whose channel has nothing outstanding.
    func settleConfirmWaiters() {
        for channel in channels.values where !channel.confirmWaiters.isEmpty {
            guard channel.confirms.isEmpty, !held.contains(where: { $0.channel == channel.number }) else { continue }
            for waiter in channel.confirmWaiters { waiter.completion(.success(())) }
            channel.confirmWaiters.removeAll()
        }
    }

    /// One step of a requested close: the first cancels every consumer; then it waits (the
    /// loop keeps reading confirms) until no publish is outstanding or `closeTimeout`
    /// passed, and then closes channels and connection. Returns true when done.
    private func drainStep() -> Bool {
        if drainDeadline == nil {
            drainDeadline = .now + configuration.closeTimeout
            setRPCTimeout(min(configuration.rpcTimeout, .seconds(5)))
            for channel in channels.values {
                guard let sink = channel.consumer else { continue }
                cancelConsumer(channel, sink)
                if lostError != nil { return true }
            }
        }
        let outstanding = channels.values.reduce(0) { $0 + $1.confirms.count } + held.count
        guard outstanding == 0 || ContinuousClock.now >= drainDeadline! else { return false }
        if outstanding > 0 {
            logger.warning("Closing the AMQP connection with \(outstanding) publishes unconfirmed; they fail")
        }
        let error = AMQPError.closed("the connection was closed before the broker confirmed the publish")
        for channel in channels.values.sorted(by: { $0.number > $1.number }) {
            fail(channel, error, lost: false)
            amqp_channel_close(handle.state, channel.number, AMQP_REPLY_SUCCESS)
            channels[channel.number] = nil
        }
        for publish in held { publish.completion(.failure(error)) }
        held.removeAll()
        for (_, complete) in waitingGets { complete(.failure(error)) }
        waitingGets.removeAll()
        let reply = amqp_connection_close(handle.state, AMQP_REPLY_SUCCESS)
        if reply.reply_type != AMQP_RESPONSE_NORMAL {
            logger.debug("connection.close was not answered cleanly", metadata: ["amqp.reply": "\(reply.reply_type)"])
        }
        return true
    }

    /// Fails whatever is still outstanding, frees the handle, ends the event sequences.
    private func teardown(_ error: AMQPError?) {
        let failure = error ?? .closed()
        for channel in channels.values { fail(channel, failure, lost: error != nil) }
        channels.removeAll()
        for publish in held { publish.completion(.failure(failure)) }
        held.removeAll()
        for (_, complete) in waitingGets { complete(.failure(failure)) }
        waitingGets.removeAll()
        handle.destroy()
        core.setBlocked(nil)
        core.events.finish(with: .closed(error))
        core.didClose(error)
        logger.debug("AMQP connection closed", metadata: ["amqp.error": "\(error.map { "\($0)" } ?? "none")"])
    }

    func setRPCTimeout(_ timeout: Duration) {
        var value = timeval(timeout)
        amqp_set_rpc_timeout(handle.state, &value)
    }
}

/// A publish held back while the broker blocks the connection.
struct HeldPublish {
    var channel: UInt16
    var incarnation: UInt64
    var message: AMQPMessage
    var exchange: String
    var routingKey: String
    var mandatory: Bool
    var deadline: ContinuousClock.Instant
    var completion: ConfirmTracker.Completion
}

extension timeval {
    init(_ duration: Duration) {
        let microseconds = duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000
        self.init(tv_sec: Int(microseconds / 1_000_000), tv_usec: Int(microseconds % 1_000_000))
    }
}
