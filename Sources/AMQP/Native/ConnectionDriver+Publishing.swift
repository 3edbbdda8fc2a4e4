import CRabbitMQ

/// Publishing in confirm mode.
extension ConnectionDriver {
    /// Opens a channel in confirm mode (`confirm.select`).
    func startPublisher() throws(AMQPError) -> DriverChannel {
        let channel = try openChannel(.publisher)
        amqp_confirm_select(handle.state, channel.number)
        try checkReply("confirm.select", channel: channel.number)
        return channel
    }

    /// Sends one message on the publisher channel `number` (incarnation `incarnation`);
    /// `completion` gets its confirm, a `.noRoute` return, a nack, a timeout, or the
    /// channel's or connection's end. While the broker blocks the connection the message is
    /// held back (not written) until it unblocks or the deadline passes.
    func publish(
        _ message: AMQPMessage, exchange: String, routingKey: String, mandatory: Bool, channel number: UInt16,
        incarnation: UInt64, deadline: ContinuousClock.Instant, completion: @escaping ConfirmTracker.Completion
    ) {
        guard let channel = channels[number], channel.incarnation == incarnation, channel.isPublisher else {
            completion(.failure(AMQPError(code: .closed, message: "the publisher's channel is closed", isChannelClosed: true)))
            return
        }
        if blockedReason != nil || !held.isEmpty {
            held.append(HeldPublish(
                channel: number, incarnation: incarnation, message: message, exchange: exchange, routingKey: routingKey,
                mandatory: mandatory, deadline: deadline, completion: completion
            ))
            return
        }
        send(message, exchange: exchange, routingKey: routingKey, mandatory: mandatory, on: channel, deadline: deadline, completion: completion)
    }

    private func send(
        _ message: AMQPMessage, exchange: String, routingKey: String, mandatory: Bool, on channel: DriverChannel,
        deadline: ContinuousClock.Instant, completion: @escaping ConfirmTracker.Completion
    ) {
        let fingerprint = ConfirmTracker.Fingerprint(
            exchange: exchange, routingKey: routingKey, bodySize: message.body.count, messageID: message.properties.messageID
        )
        let sequence = channel.confirms.register(fingerprint, deadline: deadline, completion: completion)
        let pool = NativePool()
        var properties = pool.properties(message.properties)
        let status = message.body.withUnsafeBytes { body in
            amqp_basic_publish(
                handle.state, channel.number, pool.bytes(exchange), pool.bytes(routingKey), mandatory ? 1 : 0, 0, &properties,
                amqp_bytes_t(len: body.count, bytes: UnsafeMutableRawPointer(mutating: body.baseAddress))
            )
        }
        do throws(AMQPError) {
            try checkStatus(status, "publishing #\(sequence) to \(exchange)/\(routingKey)")
        } catch {
            // lose() ran: the teardown fails this publish with every other outstanding one.
        }
    }

    /// After `connection.unblocked`: sends what was held, in order, until blocked again.
    func sendHeldPublishes() {
        while blockedReason == nil, lostError == nil, !held.isEmpty {
            let publish = held.removeFirst()
            guard let channel = channels[publish.channel], channel.incarnation == publish.incarnation else {
                publish.completion(.failure(AMQPError(code: .closed, message: "the publisher's channel is closed", isChannelClosed: true)))
                continue
            }
            send(
                publish.message, exchange: publish.exchange, routingKey: publish.routingKey, mandatory: publish.mandatory,
                on: channel, deadline: publish.deadline, completion: publish.completion
            )
        }
    }

    /// Calls `completion` once channel `number` has no publish outstanding, or with
    /// `.confirmTimedOut` at `deadline`.
    func waitForConfirms(channel number: UInt16, incarnation: UInt64, deadline: ContinuousClock.Instant, completion: @escaping @Sendable (Result<Void, AMQPError>) -> Void) {
        guard let channel = channels[number], channel.incarnation == incarnation else {
            completion(.failure(AMQPError(code: .closed, message: "the publisher's channel is closed", isChannelClosed: true)))
            return
        }
        channel.confirmWaiters.append((deadline, completion))
        settleConfirmWaiters()
    }

    /// Outstanding publishes of channel `number` (sent and unconfirmed, or held back).
    func outstandingConfirms(channel number: UInt16) -> Int {
        (channels[number]?.confirms.count ?? 0) + held.filter { $0.channel == number }.count
    }
}
