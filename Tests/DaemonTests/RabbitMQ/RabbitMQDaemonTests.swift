import AMQP
import Daemon
import Events
import Foundation
import MediadTestSupport
import Testing

extension RabbitMQDaemonSuite {
    @Suite("mediad serve on RabbitMQ: a real rabbitmq-server, outcomes read by pika", .serialized)
    struct RabbitMQDaemonTests {
        @Test("every intake form yields media.processed on the output exchange; poison goes to the dead-letter queue with its headers; a duplicate is answered from the manifest; every delivery is acked")
        func intakeForms() async throws {
            let daemon = try await RabbitMQDaemonHarness("intake")
            do {
                try await daemon.put(TestPaths.image("exif-rich.jpg"), key: "in/photo one.jpg")
                try await daemon.put(TestPaths.image("orientation-6.jpg"), key: "in/rotated.jpg")
                try await daemon.put(TestPaths.image("gps-south-west.jpg"), key: "in/minio upload.jpg")

                // 1. structured mode, twice: the second is answered from the manifest.
                let structured = try RabbitMQDaemonHarness.cloudEvent(fileId: "f-structured", key: "in/photo one.jpg", extra: ["ownerId": "u1"])
                try await daemon.publish(structured)
                // 2. binary mode, as an AMQP 0-9-1 client (pika) writes the CloudEvents AMQP binding.
                do {
                    try await PikaClient.publish(
                        uri: daemon.vhost.uri, exchange: daemon.configuration.amqpExchange, routingKey: "file.uploaded",
                        body: Array(#"{"fileId":"f-binary","bucket":"uploads","key":"in/rotated.jpg"}"#.utf8),
                        headers: [
                            "content_type": "application/json", "cloudEvents_specversion": "1.0", "cloudEvents_type": "file.uploaded",
                            "cloudEvents_id": "b1", "cloudEvents_source": "/pika",
                        ])
                }
                // 3. a MinIO bucket notification, as MinIO's AMQP target publishes it.
                let minio = #"{"EventName":"s3:ObjectCreated:Put","Key":"uploads/in/minio+upload.jpg","Records":[{"eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":"uploads"},"object":{"key":"in/minio+upload.jpg","size":22199}}}]}"#
                try await daemon.publish(Array(minio.utf8), routingKey: "uploads", contentType: "application/json")
                // 4. poison, with a header of its own that must survive into the dead letter.
                try await daemon.publish(Array("{definitely not json".utf8), contentType: "application/json", headers: ["trace-id": "t-1"])

                let processed = try await daemon.read(3, from: daemon.configuration.amqpOutputQueue)
                #expect(processed.count == 3)
                var byFile: [String: PikaMessage] = [:]
                for message in processed {
                    let fileId = try #require(message.data?["fileId"] as? String)
                    byFile[fileId] = message
                    #expect(message.routingKey == "media.processed")
                    #expect(message.exchange == daemon.configuration.amqpOutputExchange)
                    #expect(message.contentType?.hasPrefix("application/cloudevents+json") == true)
                    #expect(message.deliveryMode == 2, "persistent")
                    #expect(message.headers[AMQPRecords.keyHeader] == fileId, "keyed by fileId")
                    #expect(message.data?["status"] as? String == "succeeded", "\(message.body)")
                }
                #expect(byFile["f-structured"]?.data?["ownerId"] as? String == "u1")
                #expect(byFile["f-binary"] != nil)
                let minioId = try #require(byFile.keys.first { $0.hasPrefix("s3-") })
                #expect(((byFile[minioId]?.data?["metadata"] as? [String: Any])?["model"] as? String) == "iPhone 15 Pro")

                let dead = try await daemon.read(1, from: daemon.configuration.amqpDeadLetterQueue)
                let letter = try #require(dead.first)
                #expect(letter.body == "{definitely not json", "the original body, untouched")
                #expect(letter.headers["trace-id"] == "t-1")
                #expect(letter.headers[DeadLetter.Header.errorCode] == "malformed_json")
                #expect(letter.headers[DeadLetter.Header.originalTopic] == daemon.configuration.amqpQueue)
                #expect(letter.exchange == daemon.configuration.amqpDeadLetterExchange)

                // The duplicate, after the first is done: answered from the manifest.
                try await daemon.publish(structured)
                let again = try await daemon.read(1, from: daemon.configuration.amqpOutputQueue)
                #expect(again.first?.data?["fileId"] as? String == "f-structured")
                #expect(NSDictionary(dictionary: again.first?.data?["timings"] as? [String: Any] ?? [:]) == NSDictionary(dictionary: byFile["f-structured"]?.data?["timings"] as? [String: Any] ?? [:]), "same result, not recomputed")
                #expect(daemon.metricsText().contains("mediad_answered_from_manifest_total 1"))

                // Every delivery has its outcome, so none is left ready or unacked.
                let drained = try await daemon.waitForQueues { $0[daemon.configuration.amqpQueue].map { $0.ready == 0 && $0.unacked == 0 } ?? false }
                let snapshot = try await daemon.queues()
                #expect(drained, "\(snapshot)")
                #expect(daemon.application.daemon.transport.readiness == ["broker connection": true])
                try await daemon.stop()
            } catch {
                try? await daemon.stop()
                throw error
            }
        }

        @Test("close_connection mid-stream, then stop_app/start_app with work in flight: every file gets an outcome, nothing stays unacked")
        func brokerFaults() async throws {
            let daemon = try await RabbitMQDaemonHarness("faults", privateBroker: true)
            do {
                let count = 24
                for index in 0..<count {
                    // Distinct bytes per file, so every job decodes rather than copies another's outputs.
                    try await daemon.put(TestPaths.image("panorama.jpg"), key: "in/p-\(index).jpg", trailer: "copy \(index)")
                }
                for index in 0..<count {
                    try await daemon.publish(try RabbitMQDaemonHarness.cloudEvent(fileId: "p-\(index)", key: "in/p-\(index).jpg"))
                }
                // Some results are out: cut the daemon's connection (its unacked deliveries go back).
                let someOut = try await daemon.waitForQueues { ($0[daemon.configuration.amqpOutputQueue]?.ready ?? 0) >= 3 }
                #expect(someOut)
                let closed = try await daemon.broker.closeConnections(named: daemon.daemonConnectionName)
                #expect(closed == 1)
                // It reconnects and goes on; then the whole broker app goes away and comes back.
                let moreOut = try await daemon.waitForQueues { ($0[daemon.configuration.amqpOutputQueue]?.ready ?? 0) >= 8 }
                #expect(moreOut)
                try await daemon.broker.stopApp()
                try await Task.sleep(for: .seconds(2))
                try await daemon.broker.startApp()

                let done = try await daemon.waitForQueues(timeout: .seconds(180)) { queues in
                    queues[daemon.configuration.amqpQueue].map { $0.ready == 0 && $0.unacked == 0 && $0.consumers >= 1 } ?? false
                }
                let snapshot = try await daemon.queues()
                #expect(done, "\(snapshot)")
                // Redelivered work is answered again (from the manifest): at least one outcome each.
                let outcomes = try await daemon.read(3 * count, from: daemon.configuration.amqpOutputQueue, timeout: .seconds(10))
                let files = Set(outcomes.compactMap { $0.data?["fileId"] as? String })
                #expect(files == Set((0..<count).map { "p-\($0)" }), "every file has an outcome")
                #expect(outcomes.allSatisfy { $0.data?["status"] as? String == "succeeded" })
                #expect(daemon.application.daemon.transport.readiness == ["broker connection": true])
                try await daemon.stop()
            } catch {
                try? await daemon.stop()
                throw error
            }
        }

        @Test("the broker cancels the consumer (its queue deleted): the daemon declares the topology again, consumes again and answers what comes next")
        func consumerCancelled() async throws {
            let daemon = try await RabbitMQDaemonHarness("cancel")
            do {
                try await daemon.put(TestPaths.image("exif-rich.jpg"), key: "in/a.jpg")
                try await daemon.put(TestPaths.image("gps-south-west.jpg"), key: "in/b.jpg")
                try await daemon.publish(try RabbitMQDaemonHarness.cloudEvent(fileId: "before", key: "in/a.jpg"))
                #expect(try await daemon.read(1, from: daemon.configuration.amqpOutputQueue).count == 1)
                try await daemon.broker.rabbitmqctl(["delete_queue", "-p", daemon.vhost.name, daemon.configuration.amqpQueue])
                let back = try await daemon.waitForQueues { $0[daemon.configuration.amqpQueue].map { $0.consumers == 1 } ?? false }
                let snapshot = try await daemon.queues()
                #expect(back, "declared and consumed again: \(snapshot)")
                try await daemon.publish(try RabbitMQDaemonHarness.cloudEvent(fileId: "after", key: "in/b.jpg"))
                let after = try await daemon.read(1, from: daemon.configuration.amqpOutputQueue)
                #expect(after.first?.data?["fileId"] as? String == "after")
                #expect(daemon.application.daemon.transport.readiness == ["broker connection": true])
                try await daemon.stop()
            } catch {
                try? await daemon.stop()
                throw error
            }
        }

        @Test("a publish whose confirm never comes (the broker's memory alarm blocks it) leaves the delivery unacked; once it is confirmed, the delivery is acked")
        func unconfirmedIsNotAcked() async throws {
            let daemon = try await RabbitMQDaemonHarness("alarm", start: false, privateBroker: true)
            do {
                try await daemon.put(TestPaths.image("exif-rich.jpg"), key: "in/a.jpg")
                try await daemon.put(TestPaths.image("gps-south-west.jpg"), key: "in/b.jpg")
                try await daemon.publish(try RabbitMQDaemonHarness.cloudEvent(fileId: "a", key: "in/a.jpg"))
                try await daemon.publish(try RabbitMQDaemonHarness.cloudEvent(fileId: "b", key: "in/b.jpg"))
                try await daemon.broker.setMemoryHighWatermark(0)
                daemon.start()
                // Both are taken and processed; their outcomes cannot be confirmed.
                let held = try await daemon.waitForQueues { $0[daemon.configuration.amqpQueue].map { $0.ready == 0 && $0.unacked == 2 } ?? false }
                let snapshot = try await daemon.queues()
                #expect(held, "\(snapshot)")
                try await Task.sleep(for: .seconds(5))
                let during = try await daemon.queues()
                #expect(during[daemon.configuration.amqpQueue]?.unacked == 2, "not acked without a confirmed outcome: \(during)")
                #expect(during[daemon.configuration.amqpOutputQueue]?.ready == 0)

                try await daemon.broker.setMemoryHighWatermark(0.4)
                let acked = try await daemon.waitForQueues { $0[daemon.configuration.amqpQueue].map { $0.ready == 0 && $0.unacked == 0 } ?? false }
                let after = try await daemon.queues()
                #expect(acked, "\(after)")
                let outcomes = try await daemon.read(2, from: daemon.configuration.amqpOutputQueue)
                #expect(Set(outcomes.compactMap { $0.data?["fileId"] as? String }) == ["a", "b"])
                try await daemon.stop()
            } catch {
                try? await daemon.broker.setMemoryHighWatermark(0.4)
                try? await daemon.stop()
                throw error
            }
        }

        @Test("the declared topology dead-letters a message redelivered past the delivery limit on its own")
        func deliveryLimit() async throws {
            let daemon = try await RabbitMQDaemonHarness("limit", start: false) { $0.amqpDeliveryLimit = 2 }
            do {
                try await daemon.publish(Array(#"{"poison":true}"#.utf8), contentType: "application/json")
                // A consumer that dies on it each time, as a crashing daemon would: back to the queue.
                let consumer = try await daemon.client.consume(queue: daemon.configuration.amqpQueue, prefetch: 1)
                var deliveries = 0
                for await event in consumer.events {
                    guard case .delivery(let delivery) = event else { break }
                    deliveries += 1
                    try await consumer.nack(delivery, requeue: true)
                    if deliveries == 3 { break }
                }
                try await consumer.cancel()
                #expect(deliveries == 3, "delivered once, then redelivered up to the limit of 2")
                let dead = try await daemon.read(1, from: daemon.configuration.amqpDeadLetterQueue, timeout: .seconds(30))
                let letter = try #require(dead.first, "past the limit it is in the dead-letter queue")
                #expect(letter.body == #"{"poison":true}"#)
                #expect(letter.headers["x-first-death-reason"] == "delivery_limit", "\(letter.headers)")
                #expect(letter.headers["x-first-death-queue"] == daemon.configuration.amqpQueue)
                try await daemon.stop()
            } catch {
                try? await daemon.stop()
                throw error
            }
        }
    }
}
