import Daemon
import Foundation
import Kafka
import MediadTestSupport
import Testing

/// The webhook intake with a real store as the sender: juicefs' S3 gateway (MinIO's
/// notification code) posts to the daemon's endpoint, the daemon reads and writes the
/// gateway over S3, and boto3 plays the uploading client.
@Suite("Webhook intake fed by juicefs' S3 gateway: upload, process, delete", .serialized, .timeLimit(.minutes(3)))
struct WebhookJuiceFSTests {
    @Test("a photo uploaded through the gateway is processed and its deletion answered; mediad's own derivatives do not loop")
    func uploadAndDelete() async throws {
        let token = "juicefs-" + UUID().uuidString
        let port = try LoopbackPorts.free(1)[0]
        // The gateway first: its queue directory keeps what it could not post until the daemon answers.
        let gateway = try await JuiceFSHarness.start(webhook: .init(endpoint: "http://127.0.0.1:\(port)/webhooks/s3", token: token))
        defer { gateway.stop() }
        try await gateway.enableNotifications()
        let daemon = try await DaemonHarness { configuration in
            configuration.httpPort = Int(port)
            configuration.webhookPath = "/webhooks/s3"
            configuration.webhookToken = token
            configuration.useS3(gateway)
            configuration.reprocessTopic = ""
        }
        do {
            try await daemon.run(watching: [daemon.configuration.outputTopic, daemon.configuration.dlqTopic]) { watcher in
                try await Self.uploadAndDelete(through: gateway, daemon: daemon, watcher: watcher)
            }
        } catch {
            print(gateway.log.suffix(4000))
            throw error
        }
    }

    /// The photo through the gateway, then its removal, seen from the result topics.
    static func uploadAndDelete(through gateway: JuiceFSHarness, daemon: DaemonHarness, watcher: OutcomeWatcher) async throws {
        let key = "in/photo one.jpg"
        try await gateway.boto3("""
            s3.upload_file(sys.argv[1], bucket, sys.argv[2], ExtraArgs={"ContentType": "image/jpeg"})
            """, [TestPaths.image("exif-rich.jpg").path, key])

        try await waitUntil("media.processed for the upload", timeout: .seconds(60), state: { "\(watcher.messages.count) records" }) {
            !watcher.outcomes.isEmpty
        }
        let processed = try #require(watcher.outcomes.first)
        #expect(processed.fileId == WebhookTests.fileId(key: key))
        #expect(processed.status == "succeeded", "\(processed.errors)")
        #expect(!processed.derivativeKeys.isEmpty)
        let stored = await Set(try gateway.keys(prefix: "derived/"))
        for derivative in processed.derivativeKeys {
            #expect(stored.contains(derivative), "\(derivative) is in the gateway")
        }

        try await gateway.boto3("s3.delete_object(Bucket=bucket, Key=sys.argv[1])", [key])
        try await waitUntil("media.deleted for the removal", timeout: .seconds(60), state: { "\(watcher.messages.count) records" }) {
            watcher.messages.contains { eventType($0) == "media.deleted" }
        }
        let deleted = try #require(watcher.messages.first { eventType($0) == "media.deleted" })
        #expect(KafkaReader.eventData(deleted)?["fileId"] as? String == processed.fileId)
        try await waitUntil("the derivatives removed from the gateway", timeout: .seconds(30)) {
            await Set(try gateway.keys(prefix: "derived/\(processed.fileId)/")).isDisjoint(with: processed.derivativeKeys)
        }

        // The gateway announced the daemon's own writes and removals under derived/ as
        // well; the intake ignored them: one media.processed, one media.deleted, no dead letter.
        try await waitUntil("the gateway's notifications of derived/ ignored", timeout: .seconds(30)) {
            daemon.metricsText().contains("mediad_ignored_total ")
        }
        try await Task.sleep(for: .seconds(2))
        #expect(watcher.messages.map { eventType($0) ?? "dead letter" }.sorted() == ["media.deleted", "media.processed"])
        // What the gateway posted is on file.uploaded as it sent it, keyed by bucket/key.
        let posted = try await daemon.collect(1000, topics: [daemon.configuration.topic], timeout: .seconds(6))
        let forPhoto = posted.filter { $0.key == Array("uploads/\(key)".utf8) }.compactMap { message in
            message.value.flatMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }?["EventName"] as? String
        }
        #expect(forPhoto.sorted() == ["s3:ObjectCreated:Put", "s3:ObjectRemoved:Delete"], "\(forPhoto)")
        #expect(posted.count > 2, "the gateway announced mediad's own writes too")
        #expect(posted.allSatisfy { KafkaReader.header($0, "content-type") == "application/json" })
        let metrics = daemon.metricsText()
        #expect(metrics.contains(#"mediad_webhook_requests_total{status="published"}"#))
        #expect(!metrics.contains(#"mediad_webhook_requests_total{status="unauthorized"}"#))
    }

    /// The CloudEvent `type` of a result record.
    static func eventType(_ message: KafkaMessage) -> String? {
        guard let value = message.value, let event = try? JSONSerialization.jsonObject(with: Data(value)) as? [String: Any] else { return nil }
        return event["type"] as? String
    }
}

extension DaemonConfiguration {
    /// Reads and writes the juicefs gateway (path-style, its root credentials).
    mutating func useS3(_ gateway: JuiceFSHarness) {
        storage = "s3"
        s3Endpoint = gateway.endpoint
        s3Region = JuiceFSHarness.region
        s3AccessKeyId = gateway.accessKeyId
        s3SecretAccessKey = gateway.secretAccessKey
        s3PathStyle = true
    }
}
