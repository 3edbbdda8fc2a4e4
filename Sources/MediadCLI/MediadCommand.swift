import ArgumentParser

/// The `mediad` command: the daemon and the tools around it.
public struct MediadCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "mediad",
        abstract: "Media-processing daemon: checksums, metadata, thumbnails, posters and transcodes for uploaded files.",
        version: MediadVersion.current,
        subcommands: [ServeCommand.self, DemoCommand.self, ProcessCommand.self, ReprocessCommand.self, DLQCommand.self, PipelinesCommand.self, StorageCommand.self, ConfigCommand.self, BrokerCommand.self]
    )

    public init() {}
}

public enum MediadVersion {
    public static let current = "0.1.0"
}

/// The executable's entry point, so that `main.swift` stays one line.
public enum Mediad {
    public static func main() async {
        await MediadCommand.main()
    }
}
