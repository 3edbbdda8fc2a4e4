import ArgumentParser
import Foundation
import Daemon

/// The daemon's settings as flags: the common ones by name, any other with `--set`.
/// Each is also a `MEDIAD_<NAME>` variable and a config-file key (`mediad config print`).
struct ServeOptions: ParsableArguments {
    @Option(name: .long, help: "YAML file of settings (default: $MEDIAD_CONFIG).")
    var config: String?

    @Option(name: .long, help: "Kafka bootstrap servers (host:port,...).") var brokers: String?
    @Option(name: .long, help: "Consumer group.") var group: String?
    @Option(name: .long, help: "Topic of file.uploaded events.") var topic: String?
    @Option(name: .long, help: "Topic for media.processed events.") var outputTopic: String?
    @Option(name: .long, help: "Dead-letter topic.") var dlqTopic: String?
    @Option(name: .long, help: "Worker slots (default: number of cores).") var concurrency: String?
    @Option(name: .long, help: "Bucket for derivatives (default: the source bucket).") var derivativesBucket: String?
    @Option(name: .long, help: "Buckets events may name, comma-separated.") var allowedBuckets: String?
    @Option(name: .long, help: "Port of /healthz, /readyz, /metrics.") var httpPort: String?
    @Option(name: .long, help: "Directory of pipeline YAML files.") var pipelines: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Any other setting, KEY=VALUE (see `mediad config print`).", valueName: "key=value"))
    var settings: [String] = []

    @Option(name: .customLong("kafka"), help: ArgumentHelp("A librdkafka setting passed through, KEY=VALUE.", valueName: "key=value"))
    var kafka: [String] = []

    func loader(environment: [String: String]) throws -> ConfigurationLoader {
        var flags: [String: String] = [:]
        let named: [(String, String?)] = [
            ("brokers", brokers), ("group", group), ("topic", topic), ("outputTopic", outputTopic), ("dlqTopic", dlqTopic),
            ("concurrency", concurrency), ("derivativesBucket", derivativesBucket), ("allowedBuckets", allowedBuckets),
            ("httpPort", httpPort), ("pipelines", pipelines),
        ]
        for (key, value) in named { if let value { flags[key] = value } }
        for pair in settings { let (key, value) = try split(pair, flag: "--set"); flags[key] = value }
        var kafkaFlags: [String: String] = [:]
        for pair in kafka { let (key, value) = try split(pair, flag: "--kafka"); kafkaFlags[key] = value }
        return ConfigurationLoader(file: config, environment: environment, flags: flags, kafkaFlags: kafkaFlags)
    }

    /// The effective configuration; an invalid one is reported on standard error and the
    /// command exits 2.
    func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ConfigurationLoader.Loaded {
        do {
            return try loader(environment: environment).load()
        } catch let error as ConfigurationError {
            printError("invalid configuration: \(error)")
            throw ExitCode(2)
        }
    }

    private func split(_ pair: String, flag: String) throws -> (String, String) {
        guard let equals = pair.firstIndex(of: "=") else { throw ValidationError("\(flag) takes KEY=VALUE, got '\(pair)'") }
        return (String(pair[..<equals]), String(pair[pair.index(after: equals)...]))
    }
}
