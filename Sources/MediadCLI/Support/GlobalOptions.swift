import ArgumentParser
import Foundation
import Logging

/// Options every subcommand shares.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Directory of pipeline YAML files (default: $MEDIAD_PIPELINES, ./pipelines, /etc/mediad/pipelines).")
    var pipelines: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .warning

    /// The pipelines directory: flag, then environment, then the usual places.
    func pipelinesDirectory() throws -> URL {
        if let pipelines { return URL(fileURLWithPath: pipelines) }
        if let fromEnvironment = ProcessInfo.processInfo.environment["MEDIAD_PIPELINES"], !fromEnvironment.isEmpty {
            return URL(fileURLWithPath: fromEnvironment)
        }
        for candidate in ["pipelines", "/etc/mediad/pipelines"] where FileManager.default.fileExists(atPath: candidate) {
            return URL(fileURLWithPath: candidate)
        }
        throw ValidationError("no pipelines directory found: pass --pipelines DIR or set MEDIAD_PIPELINES")
    }

    func bootstrapLogging() {
        let level = logLevel
        LoggingBootstrap.once(level: level)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// swift-log may be bootstrapped only once per process; tests call commands repeatedly.
enum LoggingBootstrap {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var done = false

    static func once(level: Logger.Level) {
        once(level: level, json: false)
    }

    static func onceWith(_ factory: @escaping @Sendable (String) -> any LogHandler) {
        lock.lock()
        defer { lock.unlock() }
        guard !done else { return }
        done = true
        LoggingSystem.bootstrap(factory)
    }
}
