import AMQP
import Daemon
import Foundation
import Logging
import MediadTestSupport
import ObjectStorage
import Prometheus
import ServiceLifecycle
import Synchronization

/// A real daemon in this process on `transport=rabbitmq`: the shared `rabbitmq-server`
/// with a fresh vhost, a local object store, the shipped pipelines. Tests publish like a
/// file service (this library, or pika) and read the outcomes with pika, an independent
/// client.
final class RabbitMQDaemonHarness: Sendable {
    let broker: RabbitMQHarness
    let vhost: RabbitMQVirtualHost
    let configuration: DaemonConfiguration
    let application: DaemonApplication
    let root: URL
    let registry = PrometheusCollectorRegistry()
    /// The file service's connection: declares the topology up front and publishes uploads.
    let client: AMQPConnection
    let publisher: AMQPPublisher
    private let group: ServiceGroup
    private let running: Mutex<Task<Void, any Error>?>

    /// Whether `broker` is this harness's own (stopped with it).
    private let ownsBroker: Bool

    /// - Parameters:
    ///   - start: false leaves the daemon stopped until `start()`, so that a test can queue
    ///     work (or raise an alarm) first.
    ///   - privateBroker: a broker of its own rather than the process's shared one, for tests
    ///     that stop it or raise its memory alarm: every vhost, and every suite of the test
    ///     process on the shared broker, would feel it.
    init(_ label: String, start: Bool = true, privateBroker: Bool = false, adjust: (inout DaemonConfiguration) -> Void = { _ in }) async throws {
        ownsBroker = privateBroker
        broker = privateBroker ? try await onOwnThread { try RabbitMQHarness.launch() } : try await RabbitMQHarness.shared()
        vhost = try await broker.makeVirtualHost(label)
        root = try TestPaths.temporaryDirectory("daemon-amqp")
        var configuration = DaemonConfiguration.testing(root: root, instance: "amqp-\(label)")
        configuration.transport = "rabbitmq"
        configuration.amqpURI = vhost.uri
        configuration.shutdownTimeout = .seconds(10)
        adjust(&configuration)
        self.configuration = configuration

        var amqp = try configuration.amqpConfiguration()
        amqp.connectionName = "file-service-\(label)"
        client = try await AMQPConnection.connect(amqp)
        _ = try await client.declare(AMQPNames(configuration).topology)
        publisher = try await client.makePublisher()

        var logger = Logger(label: "test.daemon.amqp")
        logger.logLevel = .warning
        application = try DaemonApplication.build(configuration: configuration, registry: registry, logger: logger)
        try await application.store.createBucket("uploads")
        group = ServiceGroup(configuration: .init(services: application.services, logger: logger))
        running = Mutex(nil)
        if start { self.start() }
    }

    func metricsText() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    /// The name the daemon's connection has on the broker (for `close_connection`).
    var daemonConnectionName: String { "mediad \(configuration.instance)" }

    func start() {
        let group = group
        running.withLock { running in
            guard running == nil else { return }
            running = Task { try await group.run() }
        }
    }

    /// Graceful shutdown, as on SIGTERM.
    func stop() async throws {
        await group.triggerGracefulShutdown()
        if let running = running.withLock({ $0 }) { try await running.value }
        await client.close()
        try? FileManager.default.removeItem(at: root)
        if ownsBroker {
            let broker = broker
            _ = try? await onOwnThread { broker.stop() }
        }
    }

    /// Stores a fixture as an upload.
    @discardableResult
    func put(_ fixture: URL, key: String, trailer: String? = nil) async throws -> ObjectInfo {
        var data = try Data(contentsOf: fixture)
        if let trailer { data += Data(trailer.utf8) }
        return try await application.store.put(bucket: "uploads", key: key, data: data, options: PutOptions())
    }

    /// Publishes to the input exchange, confirmed, as the file service would.
    func publish(_ body: [UInt8], routingKey: String = "file.uploaded", contentType: String? = "application/cloudevents+json", headers: AMQPTable = [:]) async throws {
        var properties = AMQPProperties()
        properties.contentType = contentType
        properties.headers = headers
        properties.deliveryMode = .persistent
        try await publisher.publish(AMQPMessage(body: body, properties: properties), exchange: configuration.amqpExchange, routingKey: routingKey, mandatory: true)
    }

    /// A structured-mode file.uploaded CloudEvent.
    static func cloudEvent(fileId: String, key: String, extra: [String: Any] = [:]) throws -> [UInt8] {
        var data: [String: Any] = ["fileId": fileId, "bucket": "uploads", "key": key]
        data.merge(extra) { $1 }
        let event: [String: Any] = ["specversion": "1.0", "id": UUID().uuidString, "source": "/tests", "type": "file.uploaded", "data": data]
        return Array(try JSONSerialization.data(withJSONObject: event))
    }

    /// Ready/unacked counts of this vhost's queues (the broker's statistics: wait for them).
    func queues() async throws -> [String: (ready: Int, unacked: Int, consumers: Int)] {
        try await broker.queues(in: vhost.name)
    }

    /// Waits until `condition` holds for the vhost's queues, at most `timeout`.
    func waitForQueues(timeout: Duration = .seconds(60), _ condition: ([String: (ready: Int, unacked: Int, consumers: Int)]) -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(try await queues()) { return true }
            try await Task.sleep(for: .milliseconds(500))
        }
        return false
    }

    /// Reads (and acks) up to `count` messages of `queue` with pika, waiting at most `timeout`.
    func read(_ count: Int, from queue: String, timeout: Duration = .seconds(60)) async throws -> [PikaMessage] {
        let uri = vhost.uri
        return try await PikaClient.read(count, uri: uri, queue: queue, timeout: timeout)
    }
}

/// A message as pika saw it.
struct PikaMessage: Sendable {
    var body: String
    var routingKey: String
    var exchange: String
    var contentType: String?
    var deliveryMode: Int?
    var headers: [String: String]

    /// The CloudEvent's `data` object.
    var data: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["data"] as? [String: Any]
    }
}

/// pika (pure Python, its own AMQP codec) as the notification service and as a file
/// service that writes CloudEvents binary mode the way AMQP 0-9-1 clients do.
enum PikaClient {
    static let script = #"""
        import json, sys, time, pika
        mode, uri = sys.argv[1], sys.argv[2]
        connection = pika.BlockingConnection(pika.URLParameters(uri))
        channel = connection.channel()
        def text(value):
            if isinstance(value, bytes): return value.decode("utf-8", "replace")
            if isinstance(value, (str, int, bool)): return str(value)
            return repr(value)
        if mode == "read":
            queue, count, deadline = sys.argv[3], int(sys.argv[4]), time.time() + float(sys.argv[5])
            out = []
            while len(out) < count and time.time() < deadline:
                method, props, body = channel.basic_get(queue, auto_ack=False)
                if method is None:
                    time.sleep(0.2)
                    continue
                out.append({"body": body.decode("utf-8", "replace"), "routing_key": method.routing_key, "exchange": method.exchange,
                            "content_type": props.content_type, "delivery_mode": props.delivery_mode,
                            "headers": {k: text(v) for k, v in (props.headers or {}).items()}})
                channel.basic_ack(method.delivery_tag)
            print(json.dumps(out))
        elif mode == "publish":
            exchange, key, headers = sys.argv[3], sys.argv[4], json.loads(sys.argv[5])
            channel.confirm_delivery()
            channel.basic_publish(exchange, key, sys.stdin.buffer.read(), pika.BasicProperties(
                content_type=headers.pop("content_type", None), delivery_mode=2, headers=headers), mandatory=True)
            print("ok")
        connection.close()
        """#

    static func read(_ count: Int, uri: String, queue: String, timeout: Duration) async throws -> [PikaMessage] {
        let seconds = Double(timeout.components.seconds)
        let result = try await Command.run([PythonPackages.python, "-c", script, "read", uri, queue, String(count), String(seconds)])
        guard result.status == 0, let list = try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]] else {
            throw CommandError(description: "pika read exited \(result.status): \(result.stderr)")
        }
        return list.map { item in
            PikaMessage(
                body: item["body"] as? String ?? "", routingKey: item["routing_key"] as? String ?? "", exchange: item["exchange"] as? String ?? "",
                contentType: item["content_type"] as? String, deliveryMode: item["delivery_mode"] as? Int,
                headers: item["headers"] as? [String: String] ?? [:])
        }
    }

    /// Publishes `body` with `headers` (`content_type` becomes the property), confirmed.
    static func publish(uri: String, exchange: String, routingKey: String, body: [UInt8], headers: [String: String]) async throws {
        let encoded = String(decoding: try JSONSerialization.data(withJSONObject: headers), as: UTF8.self)
        let result = try await Command.run([PythonPackages.python, "-c", script, "publish", uri, exchange, routingKey, encoded], input: Data(body))
        guard result.status == 0 else { throw CommandError(description: "pika publish exited \(result.status): \(result.stderr)") }
    }
}
