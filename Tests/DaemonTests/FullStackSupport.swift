import Foundation
import Kafka
import MediadTestSupport
import Synchronization

/// The real stack on loopback: noida-db (Kafka protocol), SeaweedFS (S3 with SigV4) and
/// replicas of the `mediad serve` binary as child processes. The test talks to it only as
/// the services around mediad would: originals uploaded and outputs downloaded with boto3,
/// events produced and results read with kcat.
final class FullStack: Sendable {
    static let bucket = "uploads"
    /// Partitions of `file.uploaded` (more than replicas, so a rebalance moves several).
    static let uploadPartitions = 4

    let noida: NoidaHarness
    let seaweed: SeaweedFSHarness
    /// Replica logs, the boto3 script and downloads; removed by `stop()`.
    let directory: URL
    private let script: URL

    private init(noida: NoidaHarness, seaweed: SeaweedFSHarness, directory: URL) throws {
        self.noida = noida
        self.seaweed = seaweed
        self.directory = directory
        script = directory.appendingPathComponent("s3.py")
        try Self.boto3Script.write(to: script, atomically: true, encoding: .utf8)
    }

    /// Starts both servers, creates the topics (partitioned as `serve --embedded` does) and the bucket.
    static func start() async throws -> FullStack {
        async let startedNoida = NoidaHarness.start()
        async let startedSeaweed = SeaweedFSHarness.start()
        let (noida, seaweed) = try await (startedNoida, startedSeaweed)
        let stack = try FullStack(noida: noida, seaweed: seaweed, directory: try TestPaths.temporaryDirectory("full-stack"))
        do {
            try await KafkaAdmin.createTopics(
                [
                    .init(name: "file.uploaded", partitions: uploadPartitions), .init(name: "media.processed", partitions: 2),
                    .init(name: "file.uploaded.dlq", partitions: 1), .init(name: "file.reprocess", partitions: 2),
                ], bootstrapServers: [noida.bootstrapServers])
            try await stack.boto3(["create-bucket", bucket])
        } catch {
            stack.stop()
            throw error
        }
        return stack
    }

    /// A replica of `mediad serve` on this stack (not started).
    func replica(_ name: String) -> ServeReplica {
        ServeReplica(name: name, stack: self)
    }

    // MARK: S3, through boto3

    /// One original: a fixture's bytes and a trailer of its own after them, so that no two
    /// uploads share a SHA-256 (identical uploads would be answered by copying outputs).
    struct Original: Sendable {
        var key: String
        var fixture: URL
        var trailer: String
        var contentType: String
    }

    /// Uploads originals with boto3 (`put_object`, SigV4).
    func upload(_ originals: [Original]) async throws {
        let spec = originals.map { ["key": $0.key, "file": $0.fixture.path, "trailer": $0.trailer, "contentType": $0.contentType] }
        try await boto3(["upload", Self.bucket], input: try JSONSerialization.data(withJSONObject: spec))
    }

    /// Downloads every object under `prefix` into `target` (same relative keys); returns the keys.
    func download(prefix: String, to target: URL) async throws -> Set<String> {
        let listed = try await boto3(["download", Self.bucket, prefix, target.path]).text
        return Set(listed.split(separator: "\n").map(String.init))
    }

    @discardableResult
    private func boto3(_ arguments: [String], input: Data? = nil) async throws -> CommandResult {
        let result = try await Command.run([PythonPackages.python, script.path] + arguments, input: input, environment: seaweed.environment)
        guard result.status == 0 else {
            throw CommandError(description: "boto3 \(arguments.prefix(2).joined(separator: " ")) exited \(result.status): \(result.stderr)")
        }
        return result
    }

    private static let boto3Script = """
        import boto3, json, os, sys
        from botocore.config import Config
        s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 10, "mode": "standard"}))
        command, bucket = sys.argv[1], sys.argv[2]
        if command == "create-bucket":
            s3.create_bucket(Bucket=bucket)
        elif command == "upload":
            for item in json.load(sys.stdin):
                with open(item["file"], "rb") as f:
                    body = f.read() + item["trailer"].encode()
                s3.put_object(Bucket=bucket, Key=item["key"], Body=body, ContentType=item["contentType"])
        elif command == "download":
            prefix, target = sys.argv[3], sys.argv[4]
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                for entry in page.get("Contents", []):
                    path = os.path.join(target, entry["Key"])
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    s3.download_file(bucket, entry["Key"], path)
                    print(entry["Key"])
        """

    // MARK: Kafka, through kcat

    /// One record as kcat printed it.
    struct Record: Sendable {
        var partition: Int32
        var offset: Int64
        var key: String
        var value: String
    }

    /// Produces `key<TAB>value` lines to one partition with `kcat -P`.
    func produce(_ records: [(key: String, value: [UInt8])], partition: Int32, topic: String = "file.uploaded") async throws {
        var lines = Data()
        for record in records {
            lines += Data("\(record.key)\t".utf8) + Data(record.value) + Data("\n".utf8)
        }
        let result = try await Command.run(["kcat", "-P", "-b", noida.bootstrapServers, "-t", topic, "-p", "\(partition)", "-K", "\t", "-q"], input: lines)
        guard result.status == 0 else { throw CommandError(description: "kcat -P exited \(result.status): \(result.stderr)") }
    }

    /// Everything in `topic` now: `kcat -C -o beginning -e` (exits at the end of every partition).
    func read(_ topic: String) async throws -> [Record] {
        let result = try await Command.run(["timeout", "30", "kcat", "-C", "-b", noida.bootstrapServers, "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%p\t%o\t%k\t%s\n"])
        guard result.status == 0 else { throw CommandError(description: "kcat -C \(topic) exited \(result.status): \(result.stderr)") }
        return result.text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: "\t", maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count == 4, let partition = Int32(fields[0]), let offset = Int64(fields[1]) else { return nil }
            return Record(partition: partition, offset: offset, key: String(fields[2]), value: String(fields[3]))
        }
    }

    /// The daemons' group's committed offsets on `file.uploaded`.
    func committed() async throws -> [Int32: Int64] {
        try await KafkaReader.committed(group: "mediad", topic: "file.uploaded", partitions: Self.uploadPartitions, bootstrapServers: noida.bootstrapServers)
    }

    /// Stops both servers (replicas are stopped by their owners) and removes the directory,
    /// unless it is kept (with the replicas' logs, after a failure).
    func stop(keepingDirectory: Bool = false) {
        seaweed.stop()
        noida.stop()
        if !keepingDirectory { try? FileManager.default.removeItem(at: directory) }
    }
}

/// One `mediad serve` replica: the real binary as a child process (`ServerProcess`, so a
/// crashed test leaves none behind), JSON log lines at info level in its own log file.
final class ServeReplica: Sendable {
    let name: String
    let server: ServerProcess

    fileprivate init(name: String, stack: FullStack) {
        self.name = name
        let arguments = [
            "serve", "--brokers", stack.noida.bootstrapServers, "--pipelines", TestPaths.pipelines.path, "--http-port", "0", "--concurrency", "1",
            "--set", "storage=s3", "--set", "s3Endpoint=\(stack.seaweed.endpoint)", "--set", "s3PathStyle=true",
            "--set", "s3Region=\(SeaweedFSHarness.region)", "--set", "defaultBucket=\(FullStack.bucket)", "--set", "instance=\(name)",
            "--set", "httpHost=127.0.0.1", "--set", "logLevel=info", "--set", "logFormat=json",
            // Backoff that outlasts a SeaweedFS restart on a loaded machine (~32 s in all).
            "--set", "retryAttempts=8", "--set", "retryBaseDelay=250ms",
            "--kafka", "session.timeout.ms=6000", "--kafka", "heartbeat.interval.ms=500",
            // noida-db does not settle cooperative-sticky groups when a member joins (see NoidaDaemonTests).
            "--kafka", "partition.assignment.strategy=range",
        ]
        // Credentials as the standard AWS variables.
        server = ServerProcess(
            name: "mediad serve (\(name))", executable: MediadBinary.executable.path, arguments: arguments,
            logFile: stack.directory.appendingPathComponent("mediad-\(name).log"), environment: stack.seaweed.environment)
    }

    /// Launches the replica and waits until `/readyz` answers 200 (in the group, store reachable).
    /// - Throws: `CommandError` with its log when it exits or is not ready in time.
    func start(timeout: Duration = .seconds(90)) async throws {
        guard FileManager.default.isExecutableFile(atPath: MediadBinary.executable.path) else {
            throw CommandError(description: "mediad is not built at \(MediadBinary.executable.path); run `swift build --build-tests`")
        }
        try server.launch()
        let server = server
        try await onOwnThread { try server.waitUntilReady(timeout: timeout) { self.isReady } }
    }

    /// The JSON log lines with this message.
    func logLines(_ message: String) -> [[String: String]] {
        server.log.split(separator: "\n").compactMap { line in
            guard line.contains(message),
                  let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String],
                  object["message"] == message
            else { return nil }
            return object
        }
    }

    /// The health and metrics port it logged (it binds port 0).
    var httpPort: UInt16? {
        logLines("health and metrics endpoint").last?["port"].flatMap { UInt16($0) }
    }

    var isReady: Bool {
        guard let httpPort else { return false }
        return LoopbackPorts.httpStatus(httpPort, path: "/readyz") == 200
    }

    /// SIGKILL: a crashed replica (its worker processes go with it).
    func kill() { server.kill() }

    /// SIGTERM, as an orchestrator stops a pod.
    func stop() { server.stop(grace: .seconds(30)) }
}
