import Daemon
import Foundation
import MediadTestSupport
import Testing

@Suite("Daemon configuration: file, environment and flags")
struct ConfigurationTests {
    @Test("defaults from the brief: only the brokers need saying")
    func defaults() throws {
        let loaded = try ConfigurationLoader(environment: [:], flags: ["brokers": "kafka:9092"]).load()
        let configuration = loaded.configuration
        #expect(configuration.brokers == "kafka:9092")
        #expect(configuration.group == "mediad")
        #expect(configuration.topic == "file.uploaded")
        #expect(configuration.outputTopic == "media.processed")
        #expect(configuration.dlqTopic == "file.uploaded.dlq")
        #expect(configuration.keyTemplate == "derived/{fileId}/{name}.{ext}")
        #expect(configuration.effectiveQueueDepth == 3 * configuration.concurrency)
        #expect(loaded.sources["brokers"] == "flag --brokers")
    }

    @Test("later sources win: file < environment < flags; kafka settings pass through")
    func layering() throws {
        let directory = try TestPaths.temporaryDirectory("config")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("mediad.yaml")
        try """
            brokers: file-host:9092
            group: from-file
            concurrency: 3
            allowedBuckets: [uploads, avatars]
            jobTimeout: 2m
            kafka:
              security.protocol: SASL_SSL
              sasl.password: hunter2
            """.write(to: file, atomically: true, encoding: .utf8)
        let loaded = try ConfigurationLoader(
            file: file.path,
            environment: ["MEDIAD_GROUP": "from-env", "MEDIAD_CONCURRENCY": "5", "MEDIAD_KAFKA_CLIENT_ID": "mediad-1", "MEDIAD_S3_SECRET_ACCESS_KEY": "s3cr3t"],
            flags: ["concurrency": "7"], kafkaFlags: ["linger.ms": "5"]
        ).load()
        let configuration = loaded.configuration
        #expect(configuration.brokers == "file-host:9092")
        #expect(configuration.group == "from-env")
        #expect(configuration.concurrency == 7)
        #expect(configuration.allowedBuckets == ["uploads", "avatars"])
        #expect(configuration.jobTimeout == .seconds(120))
        #expect(configuration.kafka == ["security.protocol": "SASL_SSL", "sasl.password": "hunter2", "client.id": "mediad-1", "linger.ms": "5"])
        #expect(loaded.sources["group"] == "env MEDIAD_GROUP")
        #expect(loaded.sources["concurrency"] == "flag --concurrency")

        let printed = configuration.printed(sources: loaded.sources)
        #expect(printed.contains("s3SecretAccessKey = ********"))
        #expect(printed.contains("kafka.sasl.password = ********"))
        #expect(!printed.contains("s3cr3t") && !printed.contains("hunter2"))
        #expect(printed.contains("group = from-env  # env MEDIAD_GROUP"))
    }

    @Test(
        "bad values are rejected at start with the setting and its source",
        arguments: [
            (["MEDIAD_CONCURRENCY": "lots"], [String: String](), "concurrency (from env MEDIAD_CONCURRENCY): expected a whole number"),
            ([:], ["jobTimeout": "soon"], "jobTimeout (from flag --job-timeout): expected a duration"),
            ([:], ["brokers": "no-port"], "brokers: 'no-port' is not host:port"),
            ([:], ["outputTopic": "file.uploaded"], "must all differ"),
            ([:], ["keyTemplate": "derived/{name}"], "must contain {fileId}"),
            ([:], ["logFormat": "xml"], "'xml' is not one of: text, json"),
            (["MEDIAD_STORAGE": "ftp"], [:], "storage (from env MEDIAD_STORAGE)"),
        ] as [([String: String], [String: String], String)]
    )
    func errors(environment: [String: String], flags: [String: String], message: String) {
        let error = #expect(throws: ConfigurationError.self) { try ConfigurationLoader(environment: environment, flags: flags).load() }
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
    }

    @Test("an unknown key in the file is an error with a suggestion")
    func unknownKey() throws {
        let directory = try TestPaths.temporaryDirectory("config")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("mediad.yaml")
        try "brokers: a:1\nconcurency: 4\n".write(to: file, atomically: true, encoding: .utf8)
        let error = #expect(throws: ConfigurationError.self) { try ConfigurationLoader(file: file.path, environment: [:]).load() }
        #expect(error?.description.contains("did you mean 'concurrency'?") == true)
    }

    @Test("every setting has a distinct environment variable and flag")
    func naming() {
        #expect(Set(Settings.all.map(\.environmentVariable)).count == Settings.all.count)
        #expect(Settings.named("derivativesBucket")?.environmentVariable == "MEDIAD_DERIVATIVES_BUCKET")
        #expect(Settings.named("derivativesBucket")?.flag == "--derivatives-bucket")
        #expect(Settings.named("s3SecretAccessKey")?.isSecret == true)
    }
}
