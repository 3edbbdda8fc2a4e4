import CRabbitMQ

/// Consumers, `basic.get`, and settling what they handed out.
extension ConnectionDriver {
    /// Opens a channel for the consumer, sets its prefetch (`basic.qos`, per consumer) and
    /// starts it (`basic.consume` with manual acks). Returns the channel and the tag.
    func startConsumer(_ sink: ConsumerSink, prefetch: UInt16, tag: String, exclusive: Bool, arguments: AMQPTable) throws(AMQPError) -> (DriverChannel, String) {
        let channel = try openChannel(.consumer(sink))
        do throws(AMQPError) {
            amqp_basic_qos(handle.state, channel.number, 0, prefetch, 0)
            try checkReply("basic.qos \(prefetch)", channel: channel.number)
            let pool = NativePool()
            let ok = amqp_basic_consume(
                handle.state, channel.number, pool.bytes(sink.queue), pool.bytes(tag), 0, 0, exclusive ? 1 : 0, pool.table(arguments)
            )
            try checkReply("basic.consume \(sink.queue)", channel: channel.number)
            let consumerTag = ok.map { NativeDecoding.string($0.pointee.consumer_tag) } ?? tag
            channel.consumerTag = consumerTag
            return (channel, consumerTag)
        } catch {
            if channels[channel.number] === channel { closeChannel(channel) }
            throw error
        }
    }

    /// `basic.cancel`: no more deliveries; the channel stays open so the ones received can
    /// still be settled. The consumer's events finish after those already delivered.
    func cancelConsumer(_ channel: DriverChannel, _ sink: ConsumerSink) {
        guard !sink.buffer.isFinished else { return }
        if let tag = channel.consumerTag {
            let pool = NativePool()
            amqp_basic_cancel(handle.state, channel.number, pool.bytes(tag))
            try? checkReply("basic.cancel \(tag)", channel: channel.number)
        }
        sink.buffer.finish()
    }

    /// Closes a channel (`channel.close`); unsettled deliveries go back to their queues.
    func closeChannel(_ channel: DriverChannel) {
        guard channels[channel.number] === channel else { return }
        channels[channel.number] = nil
        amqp_channel_close(handle.state, channel.number, AMQP_REPLY_SUCCESS)
        let reply = amqp_get_rpc_reply(handle.state)
        if reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION {
            lose(.library(reply.library_error, "channel.close"))
        }
        let error = AMQPError.closed("the channel was closed")
        for (completion, result) in channel.confirms.failAll(error) { completion(result) }
        channel.pendingGet?(.failure(error))
        channel.consumer?.buffer.finish()
    }

    /// `basic.get` on the getter channel: the next ready message (the content frames are
    /// read by the loop, which then calls `complete`), or `nil` when the queue is empty.
    /// One get is in flight at a time: the others wait their turn (`startWaitingGets`).
    func get(from queue: String, complete: @escaping DriverChannel.GetCompletion) {
        if isGetInFlight {
            waitingGets.append((queue, complete))
            return
        }
        do throws(AMQPError) {
            let channel = try getterChannel()
            let pool = NativePool()
            let reply = amqp_basic_get(handle.state, channel.number, pool.bytes(queue), 0)
            if reply.reply_type == AMQP_RESPONSE_NORMAL, reply.reply.id == AMQPMethodID.basicGetEmpty {
                complete(.success(nil))
                return
            }
            try checkReply("basic.get \(queue)", channel: channel.number)
            guard reply.reply.id == AMQPMethodID.basicGetOk else {
                throw AMQPError(code: .unexpectedState, message: "basic.get \(queue): unexpected reply \(String(reply.reply.id, radix: 16))")
            }
            let ok = reply.reply.decoded.assumingMemoryBound(to: amqp_basic_get_ok_t.self).pointee
            channel.pendingGet = complete
            channel.content = .init(kind: .get(
                deliveryTag: ok.delivery_tag, redelivered: ok.redelivered != 0, exchange: NativeDecoding.string(ok.exchange),
                routingKey: NativeDecoding.string(ok.routing_key), messageCount: ok.message_count
            ))
        } catch {
            complete(.failure(error))
        }
    }

    private var isGetInFlight: Bool {
        channels.values.contains { if case .getter = $0.role { $0.pendingGet != nil } else { false } }
    }

    /// Starts the gets that waited for the one in flight (called by the loop).
    func startWaitingGets() {
        while !isGetInFlight, !waitingGets.isEmpty, lostError == nil {
            let (queue, complete) = waitingGets.removeFirst()
            get(from: queue, complete: complete)
        }
    }

    private func getterChannel() throws(AMQPError) -> DriverChannel {
        if let channel = channels.values.first(where: { if case .getter = $0.role { true } else { false } }) { return channel }
        return try openChannel(.getter)
    }

    /// Acks, nacks or rejects a delivery on the channel it came from. Refuses (without
    /// sending anything) a delivery of another connection or of a closed channel
    /// (`.staleDelivery`) and one settled already (`.unknownDeliveryTag`).
    func settle(_ token: AMQPDeliveryToken, _ settlement: AMQPSettlement, multiple: Bool) throws(AMQPError) {
        let channel = try channel(for: token)
        let tag = token.deliveryTag
        guard channel.unacked.contains(tag) else {
            throw AMQPError(code: .unknownDeliveryTag, message: "delivery #\(tag) was settled already")
        }
        let status: Int32
        switch settlement {
        case .ack: status = amqp_basic_ack(handle.state, channel.number, tag, multiple ? 1 : 0)
        case .nack(let requeue): status = amqp_basic_nack(handle.state, channel.number, tag, multiple ? 1 : 0, requeue ? 1 : 0)
        case .reject(let requeue): status = amqp_basic_reject(handle.state, channel.number, tag, requeue ? 1 : 0)
        }
        try checkStatus(status, "settling delivery #\(tag)")
        if multiple {
            channel.unacked = channel.unacked.filter { $0 > tag }
        } else {
            channel.unacked.remove(tag)
        }
    }
}
