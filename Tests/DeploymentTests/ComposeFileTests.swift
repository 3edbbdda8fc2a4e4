import Daemon
import Foundation
import MediadTestSupport
import Testing

/// docker/compose.yaml cannot be run here (no Docker): it is kept correct by what can be
/// checked without a daemon. `docker-compose config` (Debian's docker-compose 1.29) parses,
/// validates and interpolates it offline; the result is compared with mediad's own defaults.
@Suite("docker/compose.yaml")
struct ComposeFileTests {
    /// The stack as `docker-compose config` resolves it (interpolated, normalised).
    static func resolved() throws -> [String: Any] {
        let result = try Deployment.run(["docker-compose", "-f", "docker/compose.yaml", "config"], hint: "from Debian's docker-compose package")
        #expect(!result.stderr.contains("WARN"), "docker-compose config warns: \(result.stderr)")
        return try Deployment.yaml(result.text)
    }

    static func service(_ name: String, in stack: [String: Any]) throws -> [String: Any] {
        try #require(stack[map: "services"][name] as? [String: Any], "no service \(name)")
    }

    /// Listener name → host:port, from a Kafka listener list (`INTERNAL://kafka:19092,...`).
    static func listeners(_ text: String) -> [String: String] {
        Dictionary(text.split(separator: ",").compactMap { item -> (String, String)? in
            let parts = item.components(separatedBy: "://")
            return parts.count == 2 ? (parts[0], parts[1]) : nil
        }, uniquingKeysWith: { $1 })
    }

    /// The address containers of the stack use to reach Kafka.
    static func internalBootstrap(_ stack: [String: Any]) throws -> String {
        let kafka = try service("kafka", in: stack).environment
        let name = try #require(kafka["KAFKA_INTER_BROKER_LISTENER_NAME"])
        return try #require(listeners(kafka["KAFKA_ADVERTISED_LISTENERS"] ?? "")[name])
    }

    @Test("parses and validates offline with docker-compose config, without warnings")
    func parses() throws {
        let stack = try Self.resolved()
        #expect(Set(stack[map: "services"].keys) == ["kafka", "kafka-init", "minio", "minio-init", "mediad"])
    }

    @Test("kafka-init creates exactly mediad's four default topics; nothing starts before them")
    func topics() throws {
        let stack = try Self.resolved()
        let initEnvironment = try Self.service("kafka-init", in: stack).environment
        let specs = (initEnvironment["TOPICS"] ?? "").split(separator: " ").map { $0.split(separator: ":").map(String.init) }
        #expect(Set(specs.compactMap(\.first)) == Deployment.defaultTopics)
        for spec in specs {
            #expect(spec.count == 2 && (Int(spec[1]) ?? 0) >= 1, "topic:partitions, got \(spec)")
        }
        #expect(initEnvironment["BOOTSTRAP"] == (try Self.internalBootstrap(stack)))
        #expect(try Self.service("kafka", in: stack).environment["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false")
        for name in ["minio", "mediad"] {
            let dependsOn = try Self.service(name, in: stack)[map: "depends_on"]
            #expect((dependsOn["kafka-init"] as? [String: Any])?["condition"] as? String == "service_completed_successfully", "\(name) waits for the topics")
        }
    }

    @Test("MinIO publishes bucket events to the upload topic, for the bucket mediad is told about")
    func minioNotification() throws {
        let stack = try Self.resolved()
        let minio = try Self.service("minio", in: stack).environment
        let enabled = minio.filter { $0.key.hasPrefix("MINIO_NOTIFY_KAFKA_ENABLE_") && $0.value == "on" }
        let target = try #require(enabled.keys.first.map { String($0.dropFirst("MINIO_NOTIFY_KAFKA_ENABLE_".count)) })
        #expect(enabled.count == 1)
        #expect(minio["MINIO_NOTIFY_KAFKA_TOPIC_\(target)"] == Deployment.defaults.topic)
        #expect(minio["MINIO_NOTIFY_KAFKA_BROKERS_\(target)"] == (try Self.internalBootstrap(stack)))

        let minioInit = try Self.service("minio-init", in: stack)
        let initEnvironment = minioInit.environment
        #expect(initEnvironment["TARGET_ARN"] == "arn:minio:sqs::\(target):kafka", "the ARN names the configured target")
        let script = minioInit[list: "command"].compactMap { $0 as? String }.joined(separator: "\n")
        #expect(script.contains("mc mb --ignore-existing \"local/$$BUCKET\""))
        #expect(script.contains("mc event add \"local/$$BUCKET\" \"$$TARGET_ARN\" --event put"))
        #expect(initEnvironment["S3_ACCESS_KEY"] == minio["MINIO_ROOT_USER"])
        #expect(initEnvironment["S3_SECRET_KEY"] == minio["MINIO_ROOT_PASSWORD"])

        let mediad = try Self.service("mediad", in: stack).environment
        let bucket = try #require(initEnvironment["BUCKET"])
        #expect(mediad["MEDIAD_ALLOWED_BUCKETS"] == bucket)
        #expect(mediad["MEDIAD_DEFAULT_BUCKET"] == bucket)
    }

    @Test("mediad's variables are real settings; they load, keep the default topics and port, and reach MinIO and Kafka")
    func mediadSettings() throws {
        let stack = try Self.resolved()
        let environment = try Self.service("mediad", in: stack).environment
        let known = Set(Settings.all.map(\.environmentVariable)).union(["MEDIAD_CONFIG"])
        for name in environment.keys where name.hasPrefix("MEDIAD_") {
            #expect(known.contains(name) || name.hasPrefix("MEDIAD_KAFKA_"), "\(name) is not a mediad setting")
        }
        let configuration = try ConfigurationLoader(environment: environment).load().configuration
        let defaults = Deployment.defaults
        #expect(configuration.topic == defaults.topic)
        #expect(configuration.reprocessTopic == defaults.reprocessTopic)
        #expect(configuration.outputTopic == defaults.outputTopic)
        #expect(configuration.dlqTopic == defaults.dlqTopic)
        #expect(configuration.group == defaults.group)
        #expect(configuration.httpPort == defaults.httpPort)
        #expect(configuration.brokers == (try Self.internalBootstrap(stack)))

        let minio = try Self.service("minio", in: stack)
        #expect(configuration.storage == "s3")
        #expect(configuration.s3PathStyle, "MinIO needs path-style addressing")
        let endpoint = try #require(URLComponents(string: configuration.s3Endpoint ?? ""))
        #expect(endpoint.host == "minio")
        #expect(endpoint.port == 9000, "MinIO serves S3 on 9000 (its command sets no --address)")
        #expect(!(minio[list: "command"].compactMap { $0 as? String }).contains("--address"))
        #expect(configuration.s3AccessKeyId == minio.environment["MINIO_ROOT_USER"])
        #expect(configuration.s3SecretAccessKey == minio.environment["MINIO_ROOT_PASSWORD"])
        #expect((minio.environment["MINIO_ROOT_PASSWORD"] ?? "").count >= 8, "MinIO refuses shorter root passwords")
    }

    @Test("published ports and health checks agree with the listeners and mediad's httpPort")
    func portsAndHealth() throws {
        let stack = try Self.resolved()
        func targets(_ name: String) throws -> Set<Int> {
            Set(try Self.service(name, in: stack)[list: "ports"].compactMap { ($0 as? [String: Any])?["target"] as? Int })
        }
        let port = Deployment.defaults.httpPort
        #expect(try targets("mediad") == [port])
        let health = try Self.service("mediad", in: stack)[map: "healthcheck"][list: "test"].compactMap { $0 as? String }
        #expect(health.contains("http://127.0.0.1:\(port)/healthz"))

        let kafka = try Self.service("kafka", in: stack).environment
        let external = try #require(Self.listeners(kafka["KAFKA_ADVERTISED_LISTENERS"] ?? "")["EXTERNAL"])
        #expect(try targets("kafka") == [Int(external.split(separator: ":").last ?? "") ?? -1], "kcat on the host reaches the EXTERNAL listener")
        #expect(try targets("minio").contains(9000))
    }

    @Test("images are pinned; mediad is built from docker/Dockerfile and stops after its shutdown deadline")
    func imagesAndShutdown() throws {
        let stack = try Self.resolved()
        for (name, value) in stack[map: "services"] {
            let image = try #require((value as? [String: Any])?["image"] as? String, "\(name) has an image")
            let tag = image.split(separator: ":").dropFirst().last.map(String.init) ?? ""
            #expect(!tag.isEmpty && tag != "latest", "\(name): \(image) is not pinned")
        }
        let mediad = try Self.service("mediad", in: stack)
        #expect(mediad[map: "build"]["dockerfile"] as? String == "docker/Dockerfile")
        #expect(URL(fileURLWithPath: mediad[map: "build"]["context"] as? String ?? "").standardizedFileURL.path == Deployment.root.standardizedFileURL.path)
        let grace = try #require(Deployment.composeDuration(mediad["stop_grace_period"] as? String ?? ""))
        #expect(grace > Deployment.defaults.shutdownTimeout, "docker stop must not kill mediad while it drains")
    }
}
