import CRabbitMQ

/// Declares and deletes, on the control channel.
extension ConnectionDriver {
    func declare(_ topology: AMQPTopology) throws(AMQPError) -> [AMQPQueueStatus] {
        for queue in topology.queues { try queue.validate() }
        for exchange in topology.exchanges {
            let channel = try controlChannel()
            let pool = NativePool()
            amqp_exchange_declare(
                handle.state, channel.number, pool.bytes(exchange.name), pool.bytes(exchange.kind.rawValue), 0,
                exchange.durable ? 1 : 0, exchange.autoDelete ? 1 : 0, exchange.isInternal ? 1 : 0, pool.table(exchange.arguments)
            )
            try checkReply("exchange.declare \(exchange.name) (\(exchange.kind.rawValue))", channel: channel.number)
        }
        var statuses: [AMQPQueueStatus] = []
        for queue in topology.queues {
            statuses.append(try declareQueue(queue, passive: false))
        }
        for binding in topology.bindings {
            let channel = try controlChannel()
            let pool = NativePool()
            amqp_queue_bind(
                handle.state, channel.number, pool.bytes(binding.queue), pool.bytes(binding.exchange),
                pool.bytes(binding.routingKey), pool.table(binding.arguments)
            )
            try checkReply("queue.bind \(binding.queue) to \(binding.exchange) (\(binding.routingKey))", channel: channel.number)
        }
        return statuses
    }

    /// `queue.declare`; passive only checks that the queue exists (404 NOT_FOUND if not).
    func declareQueue(_ queue: AMQPQueue, passive: Bool) throws(AMQPError) -> AMQPQueueStatus {
        let channel = try controlChannel()
        let pool = NativePool()
        let ok = amqp_queue_declare(
            handle.state, channel.number, pool.bytes(queue.name), passive ? 1 : 0, queue.durable ? 1 : 0,
            queue.exclusive ? 1 : 0, queue.autoDelete ? 1 : 0, passive ? amqp_table_t() : pool.table(queue.declarationArguments)
        )
        try checkReply("queue.declare \(queue.name)", channel: channel.number)
        guard let ok else { throw AMQPError(code: .unexpectedState, message: "queue.declare \(queue.name): no declare-ok") }
        return AMQPQueueStatus(
            name: NativeDecoding.string(ok.pointee.queue), messageCount: ok.pointee.message_count,
            consumerCount: ok.pointee.consumer_count
        )
    }

    /// `queue.delete`; returns how many messages it held.
    func deleteQueue(_ name: String, ifUnused: Bool, ifEmpty: Bool) throws(AMQPError) -> UInt32 {
        let channel = try controlChannel()
        let pool = NativePool()
        let ok = amqp_queue_delete(handle.state, channel.number, pool.bytes(name), ifUnused ? 1 : 0, ifEmpty ? 1 : 0)
        try checkReply("queue.delete \(name)", channel: channel.number)
        return ok?.pointee.message_count ?? 0
    }

    /// `queue.purge`; returns how many ready messages were dropped.
    func purgeQueue(_ name: String) throws(AMQPError) -> UInt32 {
        let channel = try controlChannel()
        let pool = NativePool()
        let ok = amqp_queue_purge(handle.state, channel.number, pool.bytes(name))
        try checkReply("queue.purge \(name)", channel: channel.number)
        return ok?.pointee.message_count ?? 0
    }

    func deleteExchange(_ name: String, ifUnused: Bool) throws(AMQPError) {
        let channel = try controlChannel()
        let pool = NativePool()
        amqp_exchange_delete(handle.state, channel.number, pool.bytes(name), ifUnused ? 1 : 0)
        try checkReply("exchange.delete \(name)", channel: channel.number)
    }
}
