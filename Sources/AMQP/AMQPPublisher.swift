/// A publisher on its own channel in confirm mode: each `publish` returns once the broker
/// confirmed the message (it is stored: for a quorum queue, on a majority), and throws
/// otherwise — never reporting as confirmed what was not.
public final class AMQPPublisher: Sendable {
    public let connection: AMQPConnection
    let channel: UInt16
    let incarnation: UInt64

    init(connection: AMQPConnection, channel: UInt16, incarnation: UInt64) {
        self.connection = connection
        self.channel = channel
        self.incarnation = incarnation
    }

    /// Publishes `message` and waits for its confirm. Many publishes may be outstanding at
    /// once (call from several tasks); each gets its own outcome. Cancelling the task does
    /// not withdraw a message already sent.
    ///
    /// - Parameters:
    ///   - mandatory: a message no queue takes comes back (`basic.return`) and fails with
    ///     `.noRoute`; without it the broker drops it and confirms.
    ///   - timeout: how long to wait for the confirm; default the configuration's `confirmTimeout`.
    /// - Throws: `.nacked` (not stored), `.noRoute`, `.confirmTimedOut` (unknown: it may be
    ///   stored; also when the broker blocked the connection the whole time, in which case
    ///   it was never sent), the channel's or connection's end (unknown as well).
    public func publish(
        _ message: AMQPMessage, exchange: String, routingKey: String, mandatory: Bool = false, timeout: Duration? = nil
    ) async throws(AMQPError) {
        let channel = channel, incarnation = incarnation
        let deadline = ContinuousClock.now + (timeout ?? connection.core.configuration.confirmTimeout)
        try await connection.core.performDeferred { driver, complete in
            driver.publish(
                message, exchange: exchange, routingKey: routingKey, mandatory: mandatory, channel: channel,
                incarnation: incarnation, deadline: deadline, completion: complete
            )
        }
    }

    /// Waits until no publish of this publisher is outstanding.
    ///
    /// - Throws: `.confirmTimedOut` after `timeout`, or the channel's or connection's end.
    public func waitForConfirms(timeout: Duration) async throws(AMQPError) {
        let channel = channel, incarnation = incarnation
        let deadline = ContinuousClock.now + timeout
        try await connection.core.performDeferred { driver, complete in
            driver.waitForConfirms(channel: channel, incarnation: incarnation, deadline: deadline, completion: complete)
        }
    }

    /// Publishes sent and not yet confirmed, plus those held while the broker blocks the connection.
    public func outstandingConfirms() async throws(AMQPError) -> Int {
        let channel = channel
        return try await connection.core.perform { driver in driver.outstandingConfirms(channel: channel) }
    }
}
