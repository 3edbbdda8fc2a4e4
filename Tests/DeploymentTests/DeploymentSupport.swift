import Daemon
import Foundation
import MediadTestSupport
import Testing
import Yams

/// Files and tools the deployment checks share. Tools that are missing fail the test (see
/// `scripts/setup.sh --test`), they never skip it.
enum Deployment {
    static let root = TestPaths.root
    static let docker = root.appendingPathComponent("docker")
    static let docs = root.appendingPathComponent("docs")
    static let defaults = DaemonConfiguration()

    /// mediad's four topics, as the daemon names them by default.
    static var defaultTopics: Set<String> {
        [defaults.topic, defaults.reprocessTopic, defaults.outputTopic, defaults.dlqTopic]
    }

    /// The `mediad` executable of this test build (beside the test bundle).
    static var mediadBinary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mediad")
    }

    /// `mediad-native`, the same commands with the native stages (what workers run).
    static var nativeBinary: URL {
        mediadBinary.deletingLastPathComponent().appendingPathComponent("mediad-native")
    }

    static func text(_ url: URL) throws -> String {
        try String(contentsOf: url, encoding: .utf8)
    }

    /// Runs a tool from the repository root and requires exit status 0.
    /// - Throws: `CommandError` with the tool's output when it fails or cannot start.
    @discardableResult
    static func run(_ arguments: [String], hint: String = "") throws -> CommandResult {
        let result = try Command.run(arguments, currentDirectory: root)
        guard result.status == 0 else {
            throw CommandError(description: "\(arguments.joined(separator: " ")) exited \(result.status)\(hint.isEmpty ? "" : " (\(hint))"):\n\(result.text)\(result.stderr)")
        }
        return result
    }

    /// A YAML document as plain dictionaries, arrays and scalars.
    static func yaml(_ text: String) throws -> [String: Any] {
        guard let object = try Yams.load(yaml: text) as? [String: Any] else {
            throw CommandError(description: "expected a YAML mapping")
        }
        return object
    }

    /// A scalar as text, whatever type the YAML loader gave it.
    static func string(_ value: Any?) -> String? {
        switch value {
        case let text as String: text
        case let flag as Bool: flag ? "true" : "false"
        case let number as Int: String(number)
        case let number as Double: String(number)
        default: nil
        }
    }

    /// `10s`, `1m30s`, `45s` (Compose durations) as a `Duration`.
    static func composeDuration(_ text: String) -> Duration? {
        var total = Duration.zero
        var number = ""
        var rest = Substring(text)
        while let character = rest.first {
            rest = rest.dropFirst()
            if character.isNumber || character == "." {
                number.append(character)
                continue
            }
            var unit = String(character)
            if character == "m", rest.first == "s" { unit = "ms"; rest = rest.dropFirst() }
            guard let value = Double(number) else { return nil }
            switch unit {
            case "h": total += .seconds(value * 3600)
            case "m": total += .seconds(value * 60)
            case "s": total += .seconds(value)
            case "ms": total += .milliseconds(value)
            default: return nil
            }
            number = ""
        }
        return number.isEmpty ? total : nil
    }
}

extension Dictionary where Key == String, Value == Any {
    subscript(map key: String) -> [String: Any] { self[key] as? [String: Any] ?? [:] }
    subscript(list key: String) -> [Any] { self[key] as? [Any] ?? [] }

    /// A Compose `environment` block (mapping or `KEY=value` list) as text values.
    var environment: [String: String] {
        if let list = self["environment"] as? [Any] {
            return [String: String](list.compactMap { item -> (String, String)? in
                guard let entry = item as? String, let equals = entry.firstIndex(of: "=") else { return nil }
                return (String(entry[..<equals]), String(entry[entry.index(after: equals)...]))
            }, uniquingKeysWith: { $1 })
        }
        return (self["environment"] as? [String: Any] ?? [:]).compactMapValues { Deployment.string($0) }
    }
}
