import AMQP

extension AMQPNames {
    /// The names of the `amqp*` settings.
    public init(_ configuration: DaemonConfiguration) {
        self.init(
            exchange: configuration.amqpExchange, queue: configuration.amqpQueue, bindingKey: configuration.amqpBindingKey,
            queueType: AMQPQueue.Kind(rawValue: configuration.amqpQueueType), reprocessQueue: configuration.amqpReprocessQueue,
            outputExchange: configuration.amqpOutputExchange, outputQueue: configuration.amqpOutputQueue,
            deadLetterExchange: configuration.amqpDeadLetterExchange, deadLetterQueue: configuration.amqpDeadLetterQueue,
            deliveryLimit: configuration.amqpDeliveryLimit)
    }
}
