import Daemon
import Foundation
import Kafka
import Logging
import MediadTestSupport
import Prometheus
import Testing

/// The webhook intake of a real daemon (mock Kafka cluster over TCP, local store), spoken to
/// by curl over loopback: what it refuses produces nothing, what it accepts is on
/// `file.uploaded` byte for byte before the 2xx, and a broker that does not confirm gets 503.
@Suite("Webhook intake over HTTP: a daemon on the mock cluster, curl as the store", .serialized, .timeLimit(.minutes(3)))
struct WebhookTests {
    static let token = "webhook-test-token-0123456789"

    @Test("token missing or wrong 401, oversized 413, not a notification 400, HEAD 200: nothing produced; a notification goes through unchanged")
    func refusalsAndOneNotification() async throws {
        let daemon = try await Self.daemon { $0.webhookMaxBytes = 64 * 1024 }
        try await daemon.run(watching: [daemon.configuration.topic, daemon.configuration.outputTopic]) { watcher in
            _ = try await daemon.put(TestPaths.image("exif-rich.jpg"), key: "in/photo one.jpg")
            let client = WebhookClient(port: daemon.configuration.httpPort, path: "/webhooks/s3")
            let notification = Self.minioNotification(key: "in/photo one.jpg")

            await #expect(try client.post(notification, authorization: nil).status == 401)
            await #expect(try client.post(notification, authorization: "Bearer not-the-token-at-all-000").status == 401)
            await #expect(try client.post(notification, authorization: "Basic \(Self.token)").status == 401)
            await #expect(try client.post(notification, authorization: "Bearer \(Self.token)x").status == 401)
            let oversized = Data(repeating: UInt8(ascii: " "), count: 200 * 1024) + notification
            await #expect(try client.post(oversized).status == 413, "declared Content-Length over the limit")
            await #expect(try client.post(oversized, chunked: true).status == 413, "chunked, so only counting tells")
            let notJSON = try await client.post(Data("{\"Records\": [".utf8))
            #expect(notJSON.status == 400 && notJSON.body.contains("not JSON"), "\(notJSON)")
            await #expect(try client.post(Data("[1, 2]".utf8)).status == 400)
            let noRecords = try await client.post(Data(#"{"EventName": "s3:ObjectCreated:Put", "Key": "uploads/x.jpg"}"#.utf8))
            #expect(noRecords.status == 400 && noRecords.body.contains("Records"), "\(noRecords)")
            await #expect(try client.post(Data()).status == 400)
            await #expect(try client.head(authorization: nil) == 200, "MinIO's reachability check, which older MinIO sends without the token")
            let testEvent = try await client.post(Data(#"{"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "uploads"}"#.utf8))
            #expect(testEvent.status == 200)

            let accepted = try await client.post(notification)
            #expect(accepted.status == 200 && accepted.body.contains("file.uploaded"), "\(accepted)")
            // The 2xx came after the broker's confirmation: the record is there, once, unchanged.
            let uploaded = try await daemon.collect(2, topics: [daemon.configuration.topic], timeout: .seconds(15))
            #expect(uploaded.count == 1, "only the accepted notification was produced")
            let record = try #require(uploaded.first)
            #expect(record.value == Array(notification))
            #expect(record.key == Array("uploads/in/photo one.jpg".utf8), "MinIO's Key: one object's notifications share a partition")
            #expect(KafkaReader.header(record, "content-type") == "application/json")

            try await waitUntil("media.processed for the notified photo", timeout: .seconds(60)) {
                watcher.outcomes.contains { $0.fileId.hasPrefix("s3-") }
            }
            let outcome = try #require(watcher.outcomes.first)
            #expect(outcome.status == "succeeded", "\(outcome.errors)")
            #expect(!outcome.derivativeKeys.isEmpty)

            let metrics = daemon.metricsText()
            for (status, count) in [("unauthorized", 4), ("too_large", 2), ("invalid", 4), ("probe", 1), ("test_event", 1), ("published", 1)] {
                #expect(metrics.contains(#"mediad_webhook_requests_total{status="\#(status)"} \#(count)"#), "\(status) \(count)")
            }
            #expect(metrics.contains("mediad_webhook_confirm_seconds_count 1"))
        }
    }

    @Test("the only broker is down: 503 within webhookTimeout, no 2xx; the store's retry after it is back is published and processed")
    func brokerDown() async throws {
        // librdkafka reports the broker's absence loudly: record, don't print.
        let logs = LogRecorder(printLevel: .critical)
        let daemon = try await Self.daemon(logs: logs) { $0.webhookTimeout = .seconds(2) }
        try await daemon.run(watching: [daemon.configuration.outputTopic]) { watcher in
            _ = try await daemon.put(TestPaths.image("orientation-6.jpg"), key: "in/rotated.jpg")
            let client = WebhookClient(port: daemon.configuration.httpPort, path: "/webhooks/s3")
            let notification = Self.minioNotification(key: "in/rotated.jpg")
            // One notification through first: the daemon and the watcher have their partitions
            // (librdkafka 2.0.2 aborts when a cooperative-sticky member that never had an
            // assignment is torn down, as an outage before the first one can do).
            await #expect(try client.post(Self.minioNotification(key: "in/absent.jpg")).status == 200)
            try await waitUntil("the first notification's outcome", timeout: .seconds(60)) {
                watcher.outcomes.contains { $0.fileId == Self.fileId(key: "in/absent.jpg") }
            }

            try daemon.cluster.setBrokerDown(1)
            let started = ContinuousClock.now
            let refused = try await client.post(notification)
            let waited = ContinuousClock.now - started
            #expect(refused.status == 503, "\(refused)")
            #expect(waited >= .seconds(2) && waited < .seconds(10), "bounded by webhookTimeout: \(waited)")
            #expect(daemon.metricsText().contains(#"mediad_webhook_requests_total{status="broker_timeout"} 1"#))
            #expect(logs.count("broker did not confirm a webhook notification in time; answered 503") == 1)

            try daemon.cluster.setBrokerUp(1)
            // The store sends it again until it gets a 2xx.
            var answer = try await client.post(notification)
            let deadline = ContinuousClock.now + .seconds(30)
            while answer.status != 200, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(500))
                answer = try await client.post(notification)
            }
            #expect(answer.status == 200, "\(answer)")
            try await waitUntil("media.processed for the retried notification", timeout: .seconds(60)) {
                watcher.outcomes.contains { $0.fileId == Self.fileId(key: "in/rotated.jpg") && $0.status == "succeeded" }
            }
        }
    }

    @Test("a path without a token, a short token, or a path of the endpoint's own refuses to start")
    func configuration() throws {
        func load(_ flags: [String: String]) throws(ConfigurationError) -> DaemonConfiguration {
            try ConfigurationLoader(environment: [:], flags: flags).load().configuration
        }
        let missing = #expect(throws: ConfigurationError.self) { try load(["webhookPath": "/webhooks/s3"]) }
        #expect(missing?.setting == "webhookToken")
        #expect(missing?.message.contains("token is required") == true)
        #expect(throws: ConfigurationError.self) { try load(["webhookPath": "/webhooks/s3", "webhookToken": "short"]) }
        #expect(throws: ConfigurationError.self) { try load(["webhookPath": "/webhooks/s3", "webhookToken": "sixteen chars with spaces"]) }
        #expect(throws: ConfigurationError.self) { try load(["webhookPath": "/metrics", "webhookToken": Self.token]) }
        #expect(throws: ConfigurationError.self) { try load(["webhookPath": "webhooks", "webhookToken": Self.token]) }
        #expect(throws: ConfigurationError.self) { try load(["webhookPath": "/webhooks/{id}", "webhookToken": Self.token]) }

        let off = try load([:])
        #expect(off.webhookPath == nil && off.webhookMaxBytes == 512 * 1024 && off.webhookTimeout == .seconds(10))
        #expect(try WebhookConfiguration.from(off) == nil, "off by default")
        let on = try load(["webhookPath": "/webhooks/s3", "webhookToken": Self.token, "webhookMaxBytes": "4096", "webhookTimeout": "3s"])
        let webhook = try #require(try WebhookConfiguration.from(on))
        #expect(webhook.path == "/webhooks/s3" && webhook.maxBytes == 4096 && webhook.timeout == .seconds(3))
        #expect(!on.printed(sources: [:]).contains(Self.token), "the token is a secret")

        // A configuration built in code is checked when the application is assembled.
        var configuration = DaemonConfiguration()
        configuration.webhookPath = "/webhooks/s3"
        #expect(throws: ConfigurationError.self) {
            _ = try DaemonApplication.build(configuration: configuration, registry: .init(), logger: .init(label: "test"))
        }
    }

    /// A harness daemon with the intake on a free port (the harness does not report the port
    /// it binds, so the test picks it), and no backfill lane (not under test: one consumer fewer).
    static func daemon(logs: LogRecorder? = nil, adjust: (inout DaemonConfiguration) -> Void = { _ in }) async throws -> DaemonHarness {
        let port = try LoopbackPorts.free(1)[0]
        let daemon = try await DaemonHarness(logs: logs) { configuration in
            configuration.httpPort = Int(port)
            configuration.webhookPath = "/webhooks/s3"
            configuration.webhookToken = token
            configuration.reprocessTopic = ""
            adjust(&configuration)
        }
        // The endpoint binds once the service group runs it, a moment after the harness returns.
        do {
            try await waitUntil("the operations endpoint listening", timeout: .seconds(30), every: .milliseconds(100)) {
                LoopbackPorts.httpStatus(port, path: "/healthz") == 200
            }
        } catch {
            try? await daemon.stop()
            throw error
        }
        return daemon
    }

    /// What MinIO POSTs for one upload of `uploads/<key>`.
    static func minioNotification(key: String) -> Data {
        let encoded = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_.~")))!
            .replacingOccurrences(of: "%20", with: "+")
        let record: [String: Any] = [
            "eventVersion": "2.0", "eventSource": "minio:s3", "awsRegion": "", "eventTime": "2026-12-01T15:50:22.667Z",
            "eventName": "s3:ObjectCreated:Put", "userIdentity": ["principalId": "minio"],
            "s3": [
                "s3SchemaVersion": "1.0", "configurationId": "Config",
                "bucket": ["name": "uploads", "ownerIdentity": ["principalId": "minio"], "arn": "arn:aws:s3:::uploads"],
                "object": ["key": encoded, "contentType": "image/jpeg", "sequencer": "18ED2C0422E643A2"],
            ],
        ]
        let body: [String: Any] = ["EventName": "s3:ObjectCreated:Put", "Key": "uploads/\(key)", "Records": [record]]
        return try! JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
    }

    /// The daemon's file id of an object announced by notification.
    static func fileId(key: String) -> String {
        "s3-" + (try! Command.check(["sh", "-c", "printf %s \"$0\" | sha256sum", "uploads/\(key)"]).text.prefix(32))
    }
}

extension DaemonHarness {
    /// Runs `body` with a watcher of `topics` (a fresh group from the start), then stops the
    /// watcher and the daemon, whether `body` threw or not; a failed test may have left the
    /// broker down, so it is brought up first.
    func run(watching topics: [String], _ body: (OutcomeWatcher) async throws -> Void) async throws {
        let watcher: OutcomeWatcher
        do {
            watcher = try await OutcomeWatcher(cluster: cluster, topics: topics)
        } catch {
            try? await stop()
            throw error
        }
        do {
            try await body(watcher)
        } catch {
            try? cluster.setBrokerUp(1)
            await watcher.stop()
            try? await stop()
            throw error
        }
        await watcher.stop()
        try await stop()
    }
}

/// curl against the intake: an HTTP client that is not the server's own stack.
struct WebhookClient {
    let url: String

    init(port: Int, path: String) {
        url = "http://127.0.0.1:\(port)\(path)"
    }

    struct Answer: CustomStringConvertible {
        var status: Int
        var body: String
        var description: String { "\(status) \(body)" }
    }

    /// POSTs `body` as application/json; `authorization` defaults to the right token.
    func post(_ body: Data, authorization: String? = "Bearer \(WebhookTests.token)", chunked: Bool = false) async throws -> Answer {
        let file = try TestPaths.temporaryDirectory("webhook-body").appendingPathComponent("body.json")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        try body.write(to: file)
        var arguments = ["curl", "-sS", "--max-time", "30", "-X", "POST", "-H", "Content-Type: application/json", "-w", "\n%{http_code}"]
        arguments += ["--data-binary", "@\(file.path)"]
        if let authorization { arguments += ["-H", "Authorization: \(authorization)"] }
        if chunked { arguments += ["-H", "Transfer-Encoding: chunked"] }
        let result = try await Command.run(arguments + [url])
        let lines = result.text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let status = lines.last.flatMap({ Int($0) }) else {
            throw CommandError(description: "curl \(url): \(result.stderr)")
        }
        return Answer(status: status, body: lines.dropLast().joined(separator: "\n"))
    }

    func head(authorization: String?) async throws -> Int {
        var arguments = ["curl", "-sS", "--max-time", "10", "-I", "-o", "/dev/null", "-w", "%{http_code}"]
        if let authorization { arguments += ["-H", "Authorization: \(authorization)"] }
        let result = try await Command.run(arguments + [url])
        guard let status = Int(result.text) else { throw CommandError(description: "curl -I \(url): \(result.stderr)") }
        return status
    }
}
