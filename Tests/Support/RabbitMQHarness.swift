import Foundation
import Synchronization

/// RabbitMQ (Debian's `rabbitmq-server`, 3.10 on Debian 12), run once per test process as a
/// real broker on loopback, and driven with `rabbitmqctl` for fault tests.
///
/// - One node per process (`shared()`), named `mediad-test-<pid>-<random>@localhost`, on a
///   free port bound to 127.0.0.1 (`RABBITMQ_NODE_PORT`), with its distribution port free
///   and bound to loopback too; mnesia, logs, config, the enabled-plugins file (none) and
///   the Erlang cookie (`HOME`) live in a fresh temporary directory.
/// - Started in the foreground as a child process (`RUNNING_UNDER_SYSTEMD=true` makes
///   Debian's script `exec` the Erlang VM instead of wrapping it), so `ProcessReaper` kills
///   the VM when the test process dies. Debian's `/usr/sbin` wrappers switch to the
///   `rabbitmq` user with `su` (losing the environment); the harness calls the scripts in
///   `/usr/lib/rabbitmq/bin` as root instead. Erlang starts `epmd` itself when none runs
///   (no systemd needed).
/// - A TLS listener too (`tlsPort`), with a certificate for `localhost` (DNS name only)
///   signed by a CA made for this run with `openssl` (`caCertificateFile`).
/// - Each suite gets a fresh vhost (`makeVirtualHost`: `add_vhost`, `set_permissions` for
///   the harness user, which `default_user` creates at first boot).
/// - Fails loudly (`CommandError` with the broker's output), never skips, when the server is
///   not installed or does not start.
///
/// Every `rabbitmqctl` call boots an Elixir VM: about a second on an idle machine, several
/// under load. Suites keep them few.
public final class RabbitMQHarness: Sendable {
    public static let binaries = "/usr/lib/rabbitmq/bin"

    public let nodeName: String
    /// The AMQP port on 127.0.0.1.
    public let port: UInt16
    /// The AMQPS port on 127.0.0.1; its certificate names `localhost` only.
    public let tlsPort: UInt16
    /// The PEM file of the CA that signed the broker's certificate.
    public var caCertificateFile: String { directory.appendingPathComponent("ca.pem").path }
    /// Holds mnesia/, log/, rabbitmq.conf, the certificates and the Erlang cookie; removed by
    /// `stop()`, or by a later run once this broker is gone.
    public let directory: URL
    public let username: String
    public let password: String
    private let server: ServerProcess
    private let environment: [String: String]
    private let vhostCounter = Atomic<Int>(0)

    private static let sharedInstance = Mutex<Task<RabbitMQHarness, any Error>?>(nil)

    /// The process's broker, started by the first caller (about 5 s on an idle machine).
    /// - Throws: `CommandError` when it cannot start (every caller gets the same error).
    public static func shared() async throws -> RabbitMQHarness {
        let task = sharedInstance.withLock { task in
            if let task { return task }
            let started = Task.detached {
                try await onOwnThread { try launch() }
            }
            task = started
            return started
        }
        return try await task.value
    }

    private init(nodeName: String, port: UInt16, tlsPort: UInt16, directory: URL, username: String, password: String, server: ServerProcess, environment: [String: String]) {
        self.nodeName = nodeName
        self.port = port
        self.tlsPort = tlsPort
        self.directory = directory
        self.username = username
        self.password = password
        self.server = server
        self.environment = environment
    }

    /// Starts a broker in a fresh directory, blocking the calling thread until it is ready.
    public static func launch(timeout: Duration = .seconds(120)) throws -> RabbitMQHarness {
        let script = "\(binaries)/rabbitmq-server"
        guard FileManager.default.isExecutableFile(atPath: script) else {
            throw CommandError(description: "rabbitmq-server is not installed (\(script)): run `scripts/setup.sh --test`")
        }
        removeStaleDirectories()
        let directory = try TestPaths.temporaryDirectory("rabbitmq")
        let ports = try LoopbackPorts.free(3)
        try makeCertificates(in: directory)
        let node = "mediad-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))@localhost"
        let username = "mediad-test"
        let password = UUID().uuidString
        let config = directory.appendingPathComponent("rabbitmq.conf")
        try """
            listeners.tcp.default = 127.0.0.1:\(ports[0])
            listeners.ssl.default = 127.0.0.1:\(ports[2])
            ssl_options.cacertfile = \(directory.appendingPathComponent("ca.pem").path)
            ssl_options.certfile = \(directory.appendingPathComponent("server.pem").path)
            ssl_options.keyfile = \(directory.appendingPathComponent("server.key").path)
            ssl_options.verify = verify_none
            ssl_options.fail_if_no_peer_cert = false
            default_user = \(username)
            default_pass = \(password)
            default_permissions.configure = .*
            default_permissions.read = .*
            default_permissions.write = .*
            default_user_tags.administrator = true
            collect_statistics_interval = 500
            log.console = false
            log.file.level = info
            """.write(to: config, atomically: true, encoding: .utf8)
        let plugins = directory.appendingPathComponent("enabled_plugins")
        try "[].\n".write(to: plugins, atomically: true, encoding: .utf8)
        let envFile = directory.appendingPathComponent("rabbitmq-env.conf")
        try "".write(to: envFile, atomically: true, encoding: .utf8)
        let environment = [
            "HOME": directory.path,
            "RABBITMQ_NODENAME": node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": "\(ports[0])",
            "RABBITMQ_DIST_PORT": "\(ports[1])",
            "RABBITMQ_CONFIG_FILE": config.path,
            "RABBITMQ_CONF_ENV_FILE": envFile.path,
            "RABBITMQ_ENABLED_PLUGINS_FILE": plugins.path,
            "RABBITMQ_MNESIA_BASE": directory.appendingPathComponent("mnesia").path,
            "RABBITMQ_LOG_BASE": directory.appendingPathComponent("log").path,
            "RABBITMQ_PID_FILE": directory.appendingPathComponent("rabbitmq.pid").path,
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "RUNNING_UNDER_SYSTEMD": "true",
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        ]
        let server = ServerProcess(
            name: "rabbitmq-server", executable: script, arguments: [],
            logFile: directory.appendingPathComponent("stdout.log"), environment: environment)
        let harness = RabbitMQHarness(
            nodeName: node, port: ports[0], tlsPort: ports[2], directory: directory, username: username, password: password,
            server: server, environment: environment)
        do {
            try server.launch()
            let port = ports[0]
            let tlsPort = ports[2]
            try server.waitUntilReady(timeout: timeout) {
                server.log.contains("completed with") && LoopbackPorts.isListening(port) && LoopbackPorts.isListening(tlsPort)
            }
            _ = try harness.rabbitmqctlBlocking(["await_startup", "--timeout", "60"])
        } catch {
            let log = (try? String(contentsOf: directory.appendingPathComponent("log/\(node).log"), encoding: .utf8)) ?? ""
            server.stop(signal: SIGKILL)
            throw CommandError(description: "RabbitMQ did not start: \(error)\n--- \(node).log ---\n\(log.suffix(4000))")
        }
        return harness
    }

    /// The shared broker outlives no test process (`ProcessReaper` kills it) but its
    /// directory stays: remove those of earlier runs whose broker is gone (no PID file an hour
    /// after it was made, or a PID file naming a process that no longer exists).
    private static func removeStaleDirectories() {
        let temporary = FileManager.default.temporaryDirectory
        let names = (try? FileManager.default.contentsOfDirectory(atPath: temporary.path)) ?? []
        for name in names where name.hasPrefix("mediad-rabbitmq-") {
            let directory = temporary.appendingPathComponent(name)
            let pidFile = directory.appendingPathComponent("rabbitmq.pid").path
            if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
                let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                guard kill(pid, 0) != 0, errno == ESRCH else { continue }
            } else {
                let created = (try? FileManager.default.attributesOfItem(atPath: directory.path))?[.creationDate] as? Date
                    ?? (try? FileManager.default.attributesOfItem(atPath: directory.path))?[.modificationDate] as? Date
                guard let created, created < Date(timeIntervalSinceNow: -3600) else { continue }
            }
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// A CA, and a server certificate for `localhost` it signed (`openssl`).
    private static func makeCertificates(in directory: URL) throws {
        func file(_ name: String) -> String { directory.appendingPathComponent(name).path }
        try "subjectAltName=DNS:localhost\n".write(toFile: file("server.ext"), atomically: true, encoding: .utf8)
        for arguments in [
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", file("ca.key"), "-out", file("ca.pem"), "-days", "3", "-subj", "/CN=mediad test CA"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", file("server.key"), "-out", file("server.csr"), "-subj", "/CN=localhost"],
            [
                "x509", "-req", "-in", file("server.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"), "-CAcreateserial",
                "-out", file("server.pem"), "-days", "3", "-extfile", file("server.ext"),
            ],
        ] {
            let result = try Command.run(["openssl"] + arguments)
            guard result.status == 0 else { throw CommandError(description: "openssl \(arguments[0]) failed: \(result.stderr)") }
        }
    }

    public var pid: Int32? { server.pid }

    /// The broker's own log file.
    public var log: String {
        (try? String(contentsOf: directory.appendingPathComponent("log/\(nodeName).log"), encoding: .utf8)) ?? ""
    }

    /// Stops the broker (SIGTERM: a clean shutdown) and removes its directory.
    public func stop() {
        server.stop(grace: .seconds(30))
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: rabbitmqctl

    /// Runs `rabbitmqctl -n <node> arguments…` off the cooperative pool; returns its stdout.
    /// - Throws: `CommandError` with its output when it exits non-zero.
    @discardableResult
    public func rabbitmqctl(_ arguments: [String]) async throws -> String {
        try await onOwnThread { try self.rabbitmqctlBlocking(arguments) }
    }

    func rabbitmqctlBlocking(_ arguments: [String]) throws -> String {
        let result = try Command.run(["\(Self.binaries)/rabbitmqctl", "-n", nodeName] + arguments, environment: environment)
        guard result.status == 0 else {
            throw CommandError(description: "rabbitmqctl \(arguments.joined(separator: " ")) exited \(result.status): \(result.text)\(result.stderr)")
        }
        return result.text
    }

    /// A fresh vhost the harness user may use fully.
    public func makeVirtualHost(_ label: String) async throws -> RabbitMQVirtualHost {
        let name = "\(label)-\(vhostCounter.wrappingAdd(1, ordering: .relaxed).oldValue)-\(UInt16.random(in: 0...UInt16.max))"
        try await rabbitmqctl(["add_vhost", name])
        try await rabbitmqctl(["set_permissions", "-p", name, username, ".*", ".*", ".*"])
        return RabbitMQVirtualHost(name: name, username: username, password: password, port: port)
    }

    /// Closes (`rabbitmqctl close_connection`) every client connection whose
    /// `connection_name` client property is `name`; returns how many.
    @discardableResult
    public func closeConnections(named name: String, reason: String = "closed by a fault test") async throws -> Int {
        let listing = try await rabbitmqctl(["list_connections", "-q", "--no-table-headers", "pid", "client_properties"])
        let pids = listing.split(separator: "\n").filter { $0.contains("{\"connection_name\",\"\(name)\"}") }.compactMap { line in
            line.split(separator: "\t").first.map(String.init)
        }
        for pid in pids { try await rabbitmqctl(["close_connection", pid, reason]) }
        return pids.count
    }

    /// `connection_name`s of the client connections open now.
    public func connectionNames() async throws -> [String] {
        let listing = try await rabbitmqctl(["list_connections", "-q", "--no-table-headers", "client_properties"])
        return listing.split(separator: "\n").compactMap { line in
            guard let range = line.range(of: "{\"connection_name\",\"") else { return nil }
            return line[range.upperBound...].split(separator: "\"").first.map(String.init)
        }
    }

    /// `stop_app`: the broker closes every connection and stops serving; the node stays up.
    public func stopApp() async throws { try await rabbitmqctl(["stop_app"]) }

    /// `start_app`, then `await_startup`.
    public func startApp() async throws {
        try await rabbitmqctl(["start_app"])
        try await rabbitmqctl(["await_startup", "--timeout", "60"])
    }

    /// `set_vm_memory_high_watermark`: 0 raises the memory alarm (publishers are blocked).
    public func setMemoryHighWatermark(_ fraction: Double) async throws {
        try await rabbitmqctl(["set_vm_memory_high_watermark", "\(fraction)"])
    }

    /// Per queue of `vhost`: ready and unacked messages, and consumers. These are the
    /// broker's statistics, emitted every `collect_statistics_interval` (500 ms here): wait
    /// for a count rather than expect it at once.
    public func queues(in vhost: String) async throws -> [String: (ready: Int, unacked: Int, consumers: Int)] {
        let listing = try await rabbitmqctl([
            "list_queues", "-p", vhost, "-q", "--no-table-headers", "name", "messages_ready", "messages_unacknowledged", "consumers",
        ])
        var result: [String: (ready: Int, unacked: Int, consumers: Int)] = [:]
        for line in listing.split(separator: "\n") {
            let fields = line.split(separator: "\t").map(String.init)
            guard fields.count == 4 else { continue }
            result[fields[0]] = (Int(fields[1]) ?? -1, Int(fields[2]) ?? -1, Int(fields[3]) ?? -1)
        }
        return result
    }
}

/// A vhost of the shared broker, with the credentials to use it.
public struct RabbitMQVirtualHost: Sendable {
    public let name: String
    public let username: String
    public let password: String
    public let port: UInt16

    /// `amqp://user:pass@127.0.0.1:port/vhost` (vhost percent-encoded).
    public var uri: String {
        let vhost = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? name
        return "amqp://\(username):\(password)@127.0.0.1:\(port)/\(vhost)"
    }

    /// Runs an amqp-tools command (`amqp-publish`, `amqp-consume`, `amqp-get`…) against this vhost.
    public func amqpTool(_ tool: String, _ arguments: [String], input: Data? = nil) async throws -> CommandResult {
        try await Command.run([tool, "--url", uri] + arguments, input: input)
    }
}
