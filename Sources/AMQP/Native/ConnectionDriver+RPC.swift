import CRabbitMQ

/// Synchronous methods: librabbitmq sends the request and reads until the reply, queueing
/// every other frame that arrives meanwhile (deliveries, confirms) for `readFrames`.
extension ConnectionDriver {
    /// Checks the reply of the last synchronous method on `channel`.
    ///
    /// - Throws: the broker's `channel.close` (the channel is closed-ok'd and forgotten; the
    ///   connection lives on), its `connection.close`, or a library error (both end the
    ///   connection: librabbitmq closed the socket for a timeout).
    func checkReply(_ what: String, channel number: UInt16) throws(AMQPError) {
        let reply = amqp_get_rpc_reply(handle.state)
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_SERVER_EXCEPTION where reply.reply.id == AMQPMethodID.channelClose:
            let close = reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            var ok = amqp_channel_close_ok_t()
            amqp_send_method(handle.state, number, AMQPMethodID.channelCloseOk, &ok)
            let base = channelError(close)
            let error = AMQPError(code: base.code, message: "\(what): \(base.message)", isChannelClosed: true)
            channelClosed(number, error)
            throw error
        case AMQP_RESPONSE_SERVER_EXCEPTION where reply.reply.id == AMQPMethodID.connectionClose:
            let close = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            var ok = amqp_connection_close_ok_t()
            amqp_send_method(handle.state, 0, AMQPMethodID.connectionCloseOk, &ok)
            let error = AMQPError(
                code: .init(rawValue: Int32(close.reply_code)),
                message: "\(what): the broker closed the connection: \(NativeDecoding.string(close.reply_text))", isConnectionLost: true
            )
            lose(error)
            throw error
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            let error = AMQPError.library(reply.library_error, what)
            lose(error)
            throw error
        default:
            let error = AMQPError(code: .connectionClosed, message: "\(what): the broker closed the socket", isConnectionLost: true)
            lose(error)
            throw error
        }
    }

    /// Sends a librabbitmq status-returning request (ack, nack, reject, publish); a failure
    /// there is a broken socket, which ends the connection.
    func checkStatus(_ status: Int32, _ what: String) throws(AMQPError) {
        guard status == AMQP_STATUS_OK.rawValue else {
            let error = AMQPError.library(status, what)
            lose(error)
            throw error
        }
    }
}
