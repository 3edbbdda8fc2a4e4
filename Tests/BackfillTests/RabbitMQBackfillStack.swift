import AMQP
import Backfill
import Daemon
import Foundation
import MediadTestSupport
import ObjectStorage

/// The shared test RabbitMQ (`RabbitMQHarness`, a fresh vhost per stack) and a local object
/// store with a bucket of uploads: what `reprocess` and `dlq` work against with
/// `transport=rabbitmq`. Queues are checked with passive declares (exact at once, unlike
/// `rabbitmqctl`'s statistics) and read with pika, a client of its own.
final class RabbitMQBackfillStack: Sendable {
    let broker: RabbitMQHarness
    let vhost: RabbitMQVirtualHost
    let root: URL
    let store: LocalObjectStore
    let configuration: DaemonConfiguration
    static let bucket = BackfillStack.bucket

    init(_ label: String, adjust: (inout DaemonConfiguration) -> Void = { _ in }) async throws {
        broker = try await RabbitMQHarness.shared()
        vhost = try await broker.makeVirtualHost(label)
        root = try TestPaths.temporaryDirectory("rabbitmq-backfill")
        store = LocalObjectStore(root: root)
        try await store.createBucket(Self.bucket)
        var configuration = BackfillStack.baseConfiguration()
        configuration.transport = "rabbitmq"
        configuration.amqpURI = vhost.uri
        configuration.storage = "local"
        configuration.storageRoot = root.path
        adjust(&configuration)
        self.configuration = configuration
    }

    func stop() {
        try? FileManager.default.removeItem(at: root)
    }

    var names: AMQPNames { AMQPNames(configuration) }

    /// The stack's settings as flags for a `mediad` child process.
    var arguments: [String] {
        [
            "--set", "transport=rabbitmq", "--set", "amqpURI=\(vhost.uri)", "--set", "amqpDeliveryLimit=\(configuration.amqpDeliveryLimit)",
            "--set", "storage=local", "--set", "storageRoot=\(root.path)", "--pipelines", TestPaths.pipelines.path, "--set", "instance=test",
            "--set", "retryBaseDelay=20ms",
        ]
    }

    /// Runs `mediad` with the stack's settings after `arguments`.
    func mediad(_ arguments: [String], currentDirectory: URL = TestPaths.root) async throws -> CommandResult {
        try await MediadBinary.run(arguments + self.arguments, currentDirectory: currentDirectory)
    }

    /// `mediad serve` as a child process, started and consuming.
    func serve(_ extra: [String] = []) throws -> ServerProcess {
        let server = ServerProcess(
            name: "mediad serve", executable: MediadBinary.executable.path,
            arguments: ["serve"] + arguments + ["--http-port", "0", "--concurrency", "\(configuration.concurrency)"] + extra,
            logFile: root.appendingPathComponent("serve-\(UUID().uuidString.prefix(6)).log"))
        try server.launch()
        try server.waitUntilReady(timeout: .seconds(120)) { server.log.contains("consuming") }
        return server
    }

    /// A connection to the vhost with mediad's topology declared.
    func connect() async throws -> AMQPConnection {
        let connection = try await AMQPConnection.connect(try AMQPConfiguration(uri: vhost.uri))
        try await connection.declare(names.topology)
        return connection
    }

    /// Ready messages in `queue`, by a passive declare.
    func depth(_ queue: String) async throws -> Int {
        let connection = try await AMQPConnection.connect(try AMQPConfiguration(uri: vhost.uri))
        defer { Task { await connection.close() } }
        return Int(try await connection.queueStatus(queue).messageCount)
    }

    /// Waits until `queue` holds `count` ready messages; returns the last depth seen.
    @discardableResult
    func waitForDepth(_ queue: String, _ count: Int, timeout: Duration = .seconds(30)) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        var seen = try await depth(queue)
        while seen != count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            seen = try await depth(queue)
        }
        return seen
    }

    /// Publishes a `file.uploaded` CloudEvent for `key` to the input exchange, as the file
    /// service would.
    func publishUpload(
        fileId: String, key: String, bucket: String = bucket, on connection: AMQPConnection, headers: [(String, [UInt8]?)] = []
    ) async throws {
        let event: [String: Any] = [
            "specversion": "1.0", "id": UUID().uuidString, "source": "/tests", "type": "file.uploaded",
            "data": ["fileId": fileId, "bucket": bucket, "key": key],
        ]
        let value = Array(try JSONSerialization.data(withJSONObject: event))
        let publisher = try await connection.makePublisher()
        try await publisher.publish(
            AMQPRecords.message(key: Array(fileId.utf8), value: value, headers: headers), exchange: names.exchange,
            routingKey: "file.uploaded", mandatory: true)
    }

    /// Uploads copies of a fixture, as `BackfillStack.upload` does.
    @discardableResult
    func upload(_ count: Int, of fixture: String = "orientation-1.jpg", prefix: String) async throws -> [String] {
        try await BackfillStack.upload(count, of: fixture, prefix: prefix, to: store)
    }

    // MARK: pika

    /// `take URI QUEUE COUNT SECONDS`: consumes and acks up to COUNT messages within SECONDS.
    /// `peek URI QUEUE`: every ready message, returned to the queue when the connection
    /// closes. Both print a JSON array: body (text), exchange, routing key, message id and
    /// headers (text, numbers and booleans as such, tables and arrays as Python's repr).
    static let pikaScript = #"""
        import json, sys, time, pika
        def text(value):
            if isinstance(value, bytes): return value.decode("utf-8", "replace")
            if value is None or isinstance(value, (str, int, bool)): return value
            return repr(value)
        def plain(method, props, body):
            return {"body": body.decode("utf-8", "replace"), "exchange": method.exchange, "routing_key": method.routing_key,
                    "message_id": props.message_id, "headers": {k: text(v) for k, v in (props.headers or {}).items()}}
        mode, uri, queue = sys.argv[1], sys.argv[2], sys.argv[3]
        connection = pika.BlockingConnection(pika.URLParameters(uri))
        channel = connection.channel()
        out = []
        if mode == "take":
            count, deadline = int(sys.argv[4]), time.monotonic() + float(sys.argv[5])
            channel.basic_qos(prefetch_count=count)
            if count > 0:
                for method, props, body in channel.consume(queue, inactivity_timeout=0.5):
                    if method is not None:
                        out.append(plain(method, props, body))
                        channel.basic_ack(method.delivery_tag)
                    if len(out) >= count or time.monotonic() > deadline: break
                channel.cancel()
        elif mode == "peek":
            while True:
                method, props, body = channel.basic_get(queue, auto_ack=False)
                if method is None: break
                out.append(plain(method, props, body))
        print(json.dumps(out))
        connection.close()
        """#

    /// The messages of a pika run, decoded.
    private func pika(_ arguments: [String]) async throws -> [[String: Any]] {
        let result = try await Command.run([PythonPackages.python, "-c", Self.pikaScript] + arguments)
        guard result.status == 0 else {
            throw CommandError(description: "pika \(arguments.first ?? "") exited \(result.status): \(result.stderr)")
        }
        guard let messages = try? JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]] else {
            throw CommandError(description: "pika \(arguments.first ?? "") printed no JSON array: \(result.text)")
        }
        return messages
    }

    /// Consumes up to `count` messages from `queue` within `timeout`.
    func take(_ count: Int, from queue: String, timeout: Duration = .seconds(60)) async throws -> [[String: Any]] {
        let seconds = Double(timeout.components.seconds)
        let arguments = ["take", vhost.uri, queue, "\(count)", "\(seconds)"]
        return try await pika(arguments)
    }

    /// Every ready message of `queue`, left in it.
    func peek(_ queue: String) async throws -> [[String: Any]] {
        try await pika(["peek", vhost.uri, queue])
    }

    /// The `data` of a CloudEvent body pika read.
    static func eventData(_ message: [String: Any]) -> [String: Any]? {
        guard let body = message["body"] as? String,
            let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        else { return nil }
        return object["data"] as? [String: Any]
    }
}
