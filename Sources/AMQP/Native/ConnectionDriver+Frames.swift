import CRabbitMQ
import Logging

/// Frames from the broker: methods that arrive unasked (deliveries, confirms, returns,
/// cancels, closes, flow control) and the content frames that follow a delivery.
/// Everything is copied out at once: librabbitmq reuses the memory after
/// `amqp_maybe_release_buffers`.
extension ConnectionDriver {
    func dispatch(_ frame: amqp_frame_t) {
        switch Int32(frame.frame_type) {
        case AMQP_FRAME_METHOD: handleMethod(frame.payload.method, channel: frame.channel)
        case AMQP_FRAME_HEADER: handleHeader(frame, channel: frame.channel)
        case AMQP_FRAME_BODY: handleBody(frame.payload.body_fragment, channel: frame.channel)
        default: break
        }
    }

    private func handleMethod(_ method: amqp_method_t, channel number: UInt16) {
        func decoded<T>(_ type: T.Type) -> T { method.decoded.assumingMemoryBound(to: T.self).pointee }
        switch method.id {
        case AMQPMethodID.connectionClose:
            let close = decoded(amqp_connection_close_t.self)
            var ok = amqp_connection_close_ok_t()
            amqp_send_method(handle.state, 0, AMQPMethodID.connectionCloseOk, &ok)
            lose(AMQPError(
                code: .init(rawValue: Int32(close.reply_code)),
                message: "the broker closed the connection: \(NativeDecoding.string(close.reply_text))", isConnectionLost: true
            ))
        case AMQPMethodID.connectionBlocked:
            let reason = NativeDecoding.string(decoded(amqp_connection_blocked_t.self).reason)
            blockedReason = reason
            core.setBlocked(reason)
            core.events.append(.blocked(reason: reason))
            logger.warning("The broker blocked the connection", metadata: ["amqp.reason": "\(reason)"])
        case AMQPMethodID.connectionUnblocked:
            blockedReason = nil
            core.setBlocked(nil)
            core.events.append(.unblocked)
            logger.info("The broker unblocked the connection")
            sendHeldPublishes()
        case AMQPMethodID.channelClose:
            let close = decoded(amqp_channel_close_t.self)
            var ok = amqp_channel_close_ok_t()
            amqp_send_method(handle.state, number, AMQPMethodID.channelCloseOk, &ok)
            channelClosed(number, channelError(close))
        case AMQPMethodID.basicDeliver:
            let deliver = decoded(amqp_basic_deliver_t.self)
            channels[number]?.content = .init(kind: .deliver(
                consumerTag: NativeDecoding.string(deliver.consumer_tag), deliveryTag: deliver.delivery_tag,
                redelivered: deliver.redelivered != 0, exchange: NativeDecoding.string(deliver.exchange),
                routingKey: NativeDecoding.string(deliver.routing_key)
            ))
        case AMQPMethodID.basicReturn:
            let returned = decoded(amqp_basic_return_t.self)
            channels[number]?.content = .init(kind: .returned(AMQPReturn(
                replyCode: returned.reply_code, replyText: NativeDecoding.string(returned.reply_text),
                exchange: NativeDecoding.string(returned.exchange), routingKey: NativeDecoding.string(returned.routing_key)
            )))
        case AMQPMethodID.basicAck:
            let ack = decoded(amqp_basic_ack_t.self)
            settleConfirms(number, tag: ack.delivery_tag, multiple: ack.multiple != 0, isAck: true)
        case AMQPMethodID.basicNack:
            let nack = decoded(amqp_basic_nack_t.self)
            settleConfirms(number, tag: nack.delivery_tag, multiple: nack.multiple != 0, isAck: false)
        case AMQPMethodID.basicCancel:
            let cancel = decoded(amqp_basic_cancel_t.self)
            guard let channel = channels[number], let sink = channel.consumer else { return }
            logger.warning(
                "The broker cancelled a consumer", metadata: ["amqp.queue": "\(sink.queue)", "amqp.consumer": "\(NativeDecoding.string(cancel.consumer_tag))"]
            )
            if cancel.nowait == 0 {
                var ok = amqp_basic_cancel_ok_t(consumer_tag: cancel.consumer_tag)
                amqp_send_method(handle.state, number, AMQPMethodID.basicCancelOk, &ok)
            }
            sink.buffer.finish(with: .cancelledByBroker)
        default:
            logger.debug("Ignored an AMQP method", metadata: ["amqp.method": "\(String(method.id, radix: 16))", "amqp.channel": "\(number)"])
        }
    }

    private func handleHeader(_ frame: amqp_frame_t, channel number: UInt16) {
        guard let channel = channels[number], channel.content != nil else { return }
        let header = frame.payload.properties
        channel.content!.properties = NativeDecoding.properties(header.decoded.assumingMemoryBound(to: amqp_basic_properties_t.self).pointee)
        channel.content!.bodySize = header.body_size
        channel.content!.body.reserveCapacity(Int(min(header.body_size, 64 << 20)))
        if channel.content!.isComplete { completeContent(channel) }
    }

    private func handleBody(_ fragment: amqp_bytes_t, channel number: UInt16) {
        guard let channel = channels[number], channel.content?.bodySize != nil else { return }
        if let bytes = fragment.bytes, fragment.len > 0 {
            channel.content!.body.append(contentsOf: UnsafeRawBufferPointer(start: bytes, count: fragment.len))
        }
        if channel.content!.isComplete { completeContent(channel) }
    }

    private func completeContent(_ channel: DriverChannel) {
        guard let content = channel.content else { return }
        channel.content = nil
        switch content.kind {
        case .deliver(let consumerTag, let tag, let redelivered, let exchange, let routingKey):
            guard let sink = channel.consumer else { return }
            channel.unacked.insert(tag)
            sink.buffer.append(.delivery(AMQPDelivery(
                body: content.body, properties: content.properties, redelivered: redelivered, exchange: exchange,
                routingKey: routingKey, consumerTag: consumerTag, messageCount: nil, token: token(channel, tag)
            )))
        case .get(let tag, let redelivered, let exchange, let routingKey, let messageCount):
            channel.unacked.insert(tag)
            let delivery = AMQPDelivery(
                body: content.body, properties: content.properties, redelivered: redelivered, exchange: exchange,
                routingKey: routingKey, consumerTag: nil, messageCount: messageCount, token: token(channel, tag)
            )
            channel.pendingGet?(.success(delivery))
            channel.pendingGet = nil
        case .returned(let returned):
            let fingerprint = ConfirmTracker.Fingerprint(
                exchange: returned.exchange, routingKey: returned.routingKey, bodySize: content.body.count,
                messageID: content.properties.messageID
            )
            if !channel.confirms.markReturned(fingerprint, returned) {
                logger.warning("A returned message matched no outstanding publish", metadata: ["amqp.routing-key": "\(returned.routingKey)"])
            }
        }
    }

    private func token(_ channel: DriverChannel, _ tag: UInt64) -> AMQPDeliveryToken {
        AMQPDeliveryToken(connectionID: core.id, channel: channel.number, channelIncarnation: channel.incarnation, deliveryTag: tag)
    }

    private func settleConfirms(_ number: UInt16, tag: UInt64, multiple: Bool, isAck: Bool) {
        guard let channel = channels[number] else { return }
        for (completion, result) in channel.confirms.settle(tag: tag, multiple: multiple, isAck: isAck) { completion(result) }
        settleConfirmWaiters()
    }

    func channelError(_ close: amqp_channel_close_t) -> AMQPError {
        AMQPError(
            code: .init(rawValue: Int32(close.reply_code)),
            message: "the broker closed the channel: \(NativeDecoding.string(close.reply_text))", isChannelClosed: true
        )
    }
}
