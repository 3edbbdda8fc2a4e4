import ArgumentParser
import Daemon
import Foundation

/// `mediad config print`: the effective configuration, secrets masked, with each value's source.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Show the daemon's effective configuration.", subcommands: [Print.self, Reference.self])

    struct Print: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print every setting, where it came from, secrets masked.")

        @OptionGroup var options: ServeOptions

        func run() async throws {
            let loaded = try options.load()
            print(loaded.configuration.printed(sources: loaded.sources))
        }
    }

    struct Reference: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the configuration reference (Markdown) generated from the settings table.")

        func run() async throws {
            print(ConfigurationReference.markdown())
        }
    }
}
