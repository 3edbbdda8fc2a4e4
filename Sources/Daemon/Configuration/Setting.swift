import Foundation
import PipelineEngine

/// One configuration setting, described once: its file key, environment variable and flag
/// are derived from the key, and `mediad config print` and the configuration reference
/// are generated from the same list, so they cannot drift.
public struct Setting: Sendable {
    public let key: String
    public let help: String
    public let isSecret: Bool
    let apply: @Sendable (inout DaemonConfiguration, String) throws(ConfigurationError) -> Void
    let read: @Sendable (DaemonConfiguration) -> String?

    /// `MEDIAD_` and the key in upper snake case: `derivativesBucket` → `MEDIAD_DERIVATIVES_BUCKET`.
    /// An acronym stays one word: `amqpURI` → `MEDIAD_AMQP_URI`, `workerRecycleMemoryMB` →
    /// `MEDIAD_WORKER_RECYCLE_MEMORY_MB`.
    public var environmentVariable: String {
        let characters = Array(key)
        var text = "MEDIAD_"
        for (index, character) in characters.enumerated() {
            if character.isUppercase, index > 0 {
                let previous = characters[index - 1]
                let next = index + 1 < characters.count ? characters[index + 1] : nil
                if previous.isLowercase || previous.isNumber || (previous.isUppercase && next?.isLowercase == true) { text += "_" }
            }
            text += character.uppercased()
        }
        return text
    }

    /// The key in kebab case: `derivativesBucket` → `--derivatives-bucket`.
    public var flag: String {
        "--" + key.reduce(into: "") { text, character in
            if character.isUppercase { text += "-" }
            text += character.lowercased()
        }
    }

    public func value(in configuration: DaemonConfiguration) -> String? {
        read(configuration)
    }
}

/// A configuration mistake, named precisely: which setting, from which source, and why.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var setting: String
    public var source: String
    public var message: String

    public init(setting: String, source: String = "", message: String) {
        self.setting = setting
        self.source = source
        self.message = message
    }

    public var description: String {
        source.isEmpty ? "\(setting): \(message)" : "\(setting) (from \(source)): \(message)"
    }
}

extension Setting {
    /// - Parameter allowsEmpty: for settings where empty switches something off.
    static func string(
        _ key: String, _ help: String, secret: Bool = false, allowsEmpty: Bool = false, _ path: any WritableKeyPath<DaemonConfiguration, String> & Sendable
    ) -> Setting {
        Setting(key: key, help: help, isSecret: secret, apply: { configuration, value throws(ConfigurationError) in
            guard allowsEmpty || !value.isEmpty else { throw ConfigurationError(setting: key, message: "must not be empty") }
            configuration[keyPath: path] = value
        }, read: { $0[keyPath: path] })
    }

    static func optional(_ key: String, _ help: String, secret: Bool = false, _ path: any WritableKeyPath<DaemonConfiguration, String?> & Sendable) -> Setting {
        Setting(key: key, help: help, isSecret: secret, apply: { configuration, value throws(ConfigurationError) in
            configuration[keyPath: path] = value.isEmpty ? nil : value
        }, read: { $0[keyPath: path] })
    }

    static func integer(_ key: String, _ help: String, range: ClosedRange<Int>, _ path: any WritableKeyPath<DaemonConfiguration, Int> & Sendable) -> Setting {
        Setting(key: key, help: help, isSecret: false, apply: { configuration, value throws(ConfigurationError) in
            guard let number = Int(value), range.contains(number) else {
                throw ConfigurationError(setting: key, message: "expected a whole number from \(range.lowerBound) to \(range.upperBound), got '\(value)'")
            }
            configuration[keyPath: path] = number
        }, read: { String($0[keyPath: path]) })
    }

    static func boolean(_ key: String, _ help: String, _ path: any WritableKeyPath<DaemonConfiguration, Bool> & Sendable) -> Setting {
        Setting(key: key, help: help, isSecret: false, apply: { configuration, value throws(ConfigurationError) in
            switch value.lowercased() {
            case "true", "yes", "1", "on": configuration[keyPath: path] = true
            case "false", "no", "0", "off": configuration[keyPath: path] = false
            default: throw ConfigurationError(setting: key, message: "expected true or false, got '\(value)'")
            }
        }, read: { String($0[keyPath: path]) })
    }

    static func duration(_ key: String, _ help: String, _ path: any WritableKeyPath<DaemonConfiguration, Duration> & Sendable) -> Setting {
        Setting(key: key, help: help, isSecret: false, apply: { configuration, value throws(ConfigurationError) in
            guard let duration = Quantity.duration(value), duration > .zero else {
                throw ConfigurationError(setting: key, message: "expected a duration such as 30s, 5m or 1h, got '\(value)'")
            }
            configuration[keyPath: path] = duration
        }, read: { formatDuration($0[keyPath: path]) })
    }

    static func choice(_ key: String, _ help: String, _ choices: [String], _ path: any WritableKeyPath<DaemonConfiguration, String> & Sendable) -> Setting {
        Setting(key: key, help: help + " (" + choices.joined(separator: " | ") + ")", isSecret: false, apply: { configuration, value throws(ConfigurationError) in
            guard choices.contains(value) else {
                throw ConfigurationError(setting: key, message: "'\(value)' is not one of: \(choices.joined(separator: ", "))")
            }
            configuration[keyPath: path] = value
        }, read: { $0[keyPath: path] })
    }
}

func formatDuration(_ duration: Duration) -> String {
    let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    if milliseconds % 3_600_000 == 0 { return "\(milliseconds / 3_600_000)h" }
    if milliseconds % 60000 == 0 { return "\(milliseconds / 60000)m" }
    if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
    return "\(milliseconds)ms"
}
