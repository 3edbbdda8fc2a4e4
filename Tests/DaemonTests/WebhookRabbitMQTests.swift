import Daemon
import Foundation
import MediadTestSupport
import Testing

extension RabbitMQDaemonSuite {
    /// The webhook intake of a daemon on `transport=rabbitmq`: notifications go to the input
    /// exchange, mandatory, so one that no binding routes is not a 2xx.
    @Suite("Webhook intake on RabbitMQ: a real rabbitmq-server, curl as the store", .serialized)
    struct WebhookRabbitMQTests {
        @Test("a notification is published to the input exchange, confirmed, and processed")
        func published() async throws {
            let port = try LoopbackPorts.free(1)[0]
            let daemon = try await RabbitMQDaemonHarness("webhook") { Self.webhook(&$0, port: port) }
            do {
                _ = try await daemon.put(TestPaths.image("exif-rich.jpg"), key: "in/photo one.jpg")
                try await Self.waitUntilReady(port)
                let answer = try await WebhookClient(port: Int(port), path: "/webhooks/s3").post(WebhookTests.minioNotification(key: "in/photo one.jpg"))
                #expect(answer.status == 200 && answer.body.contains(daemon.configuration.amqpExchange), "\(answer)")
                let processed = try #require(try await daemon.read(1, from: daemon.configuration.amqpOutputQueue).first)
                #expect(processed.data?["fileId"] as? String == WebhookTests.fileId(key: "in/photo one.jpg"))
                #expect(processed.data?["status"] as? String == "succeeded", "\(processed.body)")
                #expect(daemon.metricsText().contains(#"mediad_webhook_requests_total{status="published"} 1"#))
            } catch {
                try? await daemon.stop()
                throw error
            }
            try await daemon.stop()
        }

        @Test("a binding that does not match file.uploaded: the broker returns the notification, the answer is 503")
        func unroutable() async throws {
            let port = try LoopbackPorts.free(1)[0]
            let daemon = try await RabbitMQDaemonHarness("webhook-unroutable") { configuration in
                Self.webhook(&configuration, port: port)
                configuration.amqpBindingKey = "minio.#"
            }
            do {
                try await Self.waitUntilReady(port)
                let answer = try await WebhookClient(port: Int(port), path: "/webhooks/s3").post(WebhookTests.minioNotification(key: "in/photo.jpg"))
                #expect(answer.status == 503, "\(answer)")
                #expect(daemon.metricsText().contains(#"mediad_webhook_requests_total{status="broker_failed"} 1"#))
                let queues = try await daemon.queues()
                #expect(queues[daemon.configuration.amqpQueue]?.ready == 0)
            } catch {
                try? await daemon.stop()
                throw error
            }
            try await daemon.stop()
        }

        /// Connected, with the topology declared: before that a notification is answered 503
        /// (not connected), which is right but not what these tests look at.
        static func waitUntilReady(_ port: UInt16) async throws {
            try await waitUntil("the daemon connected (/readyz)", timeout: .seconds(60), every: .milliseconds(200)) {
                LoopbackPorts.httpStatus(port, path: "/readyz") == 200
            }
        }

        static func webhook(_ configuration: inout DaemonConfiguration, port: UInt16) {
            configuration.httpPort = Int(port)
            configuration.webhookPath = "/webhooks/s3"
            configuration.webhookToken = WebhookTests.token
        }
    }
}
