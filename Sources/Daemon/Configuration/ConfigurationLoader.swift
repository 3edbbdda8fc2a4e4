import Foundation
import PipelineEngine
import Yams

/// Builds a `DaemonConfiguration` from defaults, then a YAML file, then `MEDIAD_*`
/// environment variables, then flags: later sources win. Remembers where each value came
/// from for `mediad config print`.
public struct ConfigurationLoader: Sendable {
    public var file: String?
    public var environment: [String: String]
    /// Flag values by setting key (`brokers`), as the command line gave them.
    public var flags: [String: String]
    /// librdkafka settings from repeated `--kafka key=value` flags.
    public var kafkaFlags: [String: String]

    public init(file: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment, flags: [String: String] = [:], kafkaFlags: [String: String] = [:]) {
        self.file = file
        self.environment = environment
        self.flags = flags
        self.kafkaFlags = kafkaFlags
    }

    /// The configuration and, per setting key, where its value came from.
    public struct Loaded: Sendable {
        public var configuration: DaemonConfiguration
        public var sources: [String: String]
    }

    /// - Throws: `ConfigurationError` naming the setting and source of the first bad value.
    public func load() throws(ConfigurationError) -> Loaded {
        var configuration = DaemonConfiguration()
        var sources: [String: String] = [:]
        let configFile = file ?? environment["MEDIAD_CONFIG"]
        if let configFile {
            let values = try Self.readFile(configFile)
            for (key, value) in values.settings {
                try apply(key, value, to: &configuration, source: "file \(configFile)", sources: &sources)
            }
            configuration.kafka.merge(values.kafka) { $1 }
        }
        for setting in Settings.all {
            if let value = environment[setting.environmentVariable] {
                try apply(setting.key, value, to: &configuration, source: "env \(setting.environmentVariable)", sources: &sources)
            }
        }
        for (name, value) in environment where name.hasPrefix("MEDIAD_KAFKA_") && name.count > 13 {
            configuration.kafka[name.dropFirst(13).lowercased().replacingOccurrences(of: "_", with: ".")] = value
        }
        for (key, value) in flags.sorted(by: { $0.key < $1.key }) {
            try apply(key, value, to: &configuration, source: "flag \(Settings.named(key)?.flag ?? key)", sources: &sources)
        }
        configuration.kafka.merge(kafkaFlags) { $1 }
        try Self.validate(configuration)
        return Loaded(configuration: configuration, sources: sources)
    }

    private func apply(_ key: String, _ value: String, to configuration: inout DaemonConfiguration, source: String, sources: inout [String: String]) throws(ConfigurationError) {
        guard let setting = Settings.named(key) else {
            let known = Settings.all.map(\.key)
            let hint = known.min { editDistance($0, key) < editDistance($1, key) }.map { " (did you mean '\($0)'?)" } ?? ""
            throw ConfigurationError(setting: key, source: source, message: "unknown setting\(hint)")
        }
        do throws(ConfigurationError) {
            try setting.apply(&configuration, value)
        } catch {
            throw ConfigurationError(setting: key, source: source, message: error.message)
        }
        sources[key] = source
    }

    /// Checks that settings agree with each other.
    static func validate(_ configuration: DaemonConfiguration) throws(ConfigurationError) {
        let topics = [configuration.topic, configuration.outputTopic, configuration.dlqTopic, configuration.reprocessTopic]
        guard Set(topics).count == topics.count else {
            throw ConfigurationError(setting: "topic", message: "topic, reprocessTopic, outputTopic and dlqTopic must all differ (got \(topics.joined(separator: ", ")))")
        }
        if configuration.transport == "rabbitmq" {
            let names = [configuration.amqpQueue, configuration.amqpReprocessQueue, configuration.amqpOutputQueue, configuration.amqpDeadLetterQueue].filter { !$0.isEmpty }
            guard Set(names).count == names.count else {
                throw ConfigurationError(setting: "amqpQueue", message: "amqpQueue, amqpReprocessQueue, amqpOutputQueue and amqpDeadLetterQueue must all differ (got \(names.joined(separator: ", ")))")
            }
            guard !configuration.amqpQueue.isEmpty, !configuration.amqpDeadLetterQueue.isEmpty else {
                throw ConfigurationError(setting: "amqpQueue", message: "amqpQueue and amqpDeadLetterQueue cannot be empty")
            }
            _ = try configuration.amqpConfiguration()
        }
        for broker in configuration.brokers.split(separator: ",") {
            let parts = broker.trimmingCharacters(in: .whitespaces).split(separator: ":")
            guard parts.count >= 2, let port = Int(parts.last ?? ""), (1...65535).contains(port) else {
                throw ConfigurationError(setting: "brokers", message: "'\(broker)' is not host:port")
            }
        }
        guard configuration.keyTemplate.contains("{fileId}"), configuration.keyTemplate.contains("{name}") else {
            throw ConfigurationError(setting: "keyTemplate", message: "must contain {fileId} and {name}, got '\(configuration.keyTemplate)'")
        }
        if configuration.storage == "local", configuration.storageRoot.isEmpty {
            throw ConfigurationError(setting: "storageRoot", message: "local storage needs a directory")
        }
        _ = try WebhookConfiguration.from(configuration)
    }

    /// A YAML file of `key: value` settings, plus a `kafka:` map passed to librdkafka.
    static func readFile(_ path: String) throws(ConfigurationError) -> (settings: [(String, String)], kafka: [String: String]) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(setting: "config", source: path, message: "cannot read: \(error.localizedDescription)")
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ConfigurationError(setting: "config", source: path, message: "not valid YAML: \(error)")
        }
        guard let node else { return ([], [:]) }
        guard case .mapping(let mapping) = node else {
            throw ConfigurationError(setting: "config", source: path, message: "expected a mapping of settings")
        }
        var settings: [(String, String)] = []
        var kafka: [String: String] = [:]
        for (keyNode, valueNode) in mapping {
            let key = keyNode.string ?? ""
            let line = keyNode.mark.map { ":\($0.line)" } ?? ""
            if key == "kafka" {
                guard case .mapping(let entries) = valueNode else {
                    throw ConfigurationError(setting: "kafka", source: "\(path)\(line)", message: "expected a mapping of librdkafka settings")
                }
                for (name, value) in entries { kafka[name.string ?? ""] = value.string ?? "" }
                continue
            }
            switch valueNode {
            case .scalar(let scalar):
                settings.append((key, scalar.string))
            case .sequence(let items):
                settings.append((key, items.compactMap(\.string).joined(separator: ",")))
            default:
                throw ConfigurationError(setting: key, source: "\(path)\(line)", message: "expected a single value or a list")
            }
        }
        return (settings, kafka)
    }
}

extension DaemonConfiguration {
    /// `key = value  (source)` lines with secrets masked, for `mediad config print`.
    public func printed(sources: [String: String]) -> String {
        var lines = Settings.all.map { setting -> String in
            let raw = setting.value(in: self)
            let value = setting.isSecret && raw != nil ? "********" : (raw ?? "(unset)")
            return "\(setting.key) = \(value)  # \(sources[setting.key] ?? "default")"
        }
        for (key, value) in kafka.sorted(by: { $0.key < $1.key }) {
            let secret = key.contains("password") || key.contains("secret") || key.contains("sasl.oauthbearer.config")
            lines.append("kafka.\(key) = \(secret ? "********" : value)")
        }
        return lines.joined(separator: "\n")
    }
}
