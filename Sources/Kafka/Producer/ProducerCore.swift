import CRdKafkaShims
import CRdKafka
import Logging

/// What the producer's polling thread shares with `KafkaProducer`'s callers. The thread
/// holds this, not the `KafkaProducer`, so a dropped producer still flushes and closes.
final class ProducerCore: Sendable {
    let client: RDKafkaClient
    let configuration: KafkaProducerConfiguration
    let logger: Logger
    let deliveries = DeliveryRegistry()
    let executor = BlockingExecutor(label: "mediad.kafka.producer.blocking")
    let lifecycle: PollingLifecycle

    init(configuration: KafkaProducerConfiguration, logger: Logger) throws {
        client = try RDKafkaClient(
            kind: .producer, settings: configuration.librdkafkaSettings, logger: logger, deliveries: deliveries,
            install: DeliveryRegistry.installCallback(on:)
        )
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "kafka.client"] = "\(client.name)"
        self.logger = logger
        lifecycle = PollingLifecycle(threadName: "mediad-kafka-producer", logger: logger)
    }

    func startPolling() throws {
        try lifecycle.start { [self] in runPollLoop() }
    }

    /// Flushes for `closeTimeout`, purges the rest, destroys; bounded by `2 × closeTimeout + 1 s`.
    func close() async {
        await lifecycle.close(maxWait: configuration.closeTimeout * 2 + .seconds(1), wake: {}) { [self] in
            runPollLoop()
        }
    }

    /// Enqueues one record; its continuation resumes from the delivery report.
    ///
    /// - Throws: `KafkaError` when librdkafka refuses the record at once (`.queueFull`,
    ///   `.fatal`, `.closed()`…), or the delivery report's error.
    func produce(topic: String, partition: Int32?, key: [UInt8]?, value: [UInt8]?, headers: KafkaHeaders) async throws -> DeliveryReport {
        try await withCheckedThrowingContinuation { continuation in
            let opaque = deliveries.register(continuation)
            do {
                let err = try client.withHandle { handle in
                    withKafkaBytes(key) { keyPointer, keyCount in
                        withKafkaBytes(value) { valuePointer, valueCount in
                            mediad_rdk_produce(
                                handle, topic, partition ?? -1, keyPointer, keyCount, valuePointer, valueCount,
                                RDKafkaHeaders.make(headers), opaque
                            )
                        }
                    }
                }
                if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    deliveries.complete(opaque, with: .failure(KafkaError.rdKafka(err)))
                }
            } catch let error as KafkaError {
                deliveries.complete(opaque, with: .failure(error))
            } catch {
                deliveries.complete(opaque, with: .failure(KafkaError(code: .invalidArgument, message: "\(error)")))
            }
        }
    }

    /// Serves delivery reports and errors until a close is asked for, then flushes,
    /// purges what is left (failing those sends), and destroys the handle.
    private func runPollLoop() {
        let handle = client.ownerHandle
        let timeout = configuration.pollTimeout.kafkaTimeoutMilliseconds
        while !lifecycle.isStopRequested {
            rd_kafka_poll(handle, timeout)
            logErrors()
        }
        client.beginShutdown()
        let flushed = rd_kafka_flush(handle, configuration.closeTimeout.kafkaTimeoutMilliseconds)
        if flushed != RD_KAFKA_RESP_ERR_NO_ERROR {
            logger.warning("Producer close: \(rd_kafka_outq_len(handle)) records not delivered in time; purging them")
            rd_kafka_purge(handle, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
            let deadline = ContinuousClock.now + .seconds(1)
            while rd_kafka_outq_len(handle) > 0, ContinuousClock.now < deadline {
                rd_kafka_poll(handle, 50)
            }
        }
        logErrors()
        guard client.waitForLeases(until: ContinuousClock.now + configuration.closeTimeout) else {
            logger.error("Blocking Kafka calls still running at close; abandoning the producer handle")
            deliveries.failAll(.closed())
            lifecycle.didClose()
            return
        }
        client.destroy()
        deliveries.failAll(.closed())
        logger.debug("Producer destroyed")
        lifecycle.didClose()
    }

    private func logErrors() {
        for error in client.context.takeErrors() {
            if error.isFatal {
                logger.critical("Kafka producer fatal error", metadata: ["kafka.error": "\(error)"])
            } else {
                logger.warning("Kafka producer error", metadata: ["kafka.error": "\(error)"])
            }
        }
    }
}
