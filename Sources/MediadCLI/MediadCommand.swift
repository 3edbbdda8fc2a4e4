import ArgumentParser

/// The `mediad` command: the daemon and the tools around it.
public struct MediadCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "mediad",
        abstract: "Media-processing daemon: checksums, metadata, thumbnails, posters and transcodes for uploaded files.",
        version: MediadVersion.current,
        subcommands: [ServeCommand.self, DemoCommand.self, ProcessCommand.self, ReprocessCommand.self, GCCommand.self, DLQCommand.self, PipelinesCommand.self, StorageCommand.self, ConfigCommand.self, BrokerCommand.self, WorkerCommand.self]
    )

    public init() {}
}

public enum MediadVersion {
    public static let current = "0.1.0"
}

/// The executable's entry point, so that `main.swift` stays short.
public enum Mediad {
    /// Serves as a worker process and exits, when the arguments say `worker`; call it on
    /// the main thread before anything asynchronous (the worker's limits and namespaces
    /// are applied to the calling thread, and its blocking loop must not hold a thread of
    /// the cooperative pool).
    public static func runWorkerIfRequested() {
        WorkerCommand.runIfRequested(CommandLine.arguments)
    }

    public static func main() async {
        await MediadCommand.main()
    }
}
