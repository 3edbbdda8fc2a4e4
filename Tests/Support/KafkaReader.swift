import Foundation
import Kafka
import Logging
import Synchronization

/// Reads what mediad produced, as a notification service would: a fresh consumer group from
/// the beginning of the topics.
public enum KafkaReader {
    /// Reads until `count` records arrived or `timeout` passed; a partial result is a result.
    public static func collect(_ count: Int, topics: [String], bootstrapServers: String, timeout: Duration = .seconds(60)) async throws -> [KafkaMessage] {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: [bootstrapServers], groupID: "reader-\(UUID().uuidString)")
        configuration.sessionTimeout = .seconds(6)
        let consumer = try KafkaConsumer(configuration: configuration)
        try await consumer.subscribe(topics: topics)
        let box = MessageBox()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await event in consumer.events {
                    if case .message(let message) = event, box.append(message) >= count { break }
                }
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
        await consumer.close()
        return box.messages
    }

    /// A group's committed offsets ("next to read") on partitions `0..<partitions` of `topic`,
    /// asked of the coordinator without joining the group; absent where nothing is committed.
    public static func committed(group: String, topic: String, partitions: Int, bootstrapServers: String) async throws -> [Int32: Int64] {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: [bootstrapServers], groupID: group)
        configuration.sessionTimeout = .seconds(6)
        var logger = Logger(label: "test.kafka")
        logger.logLevel = .critical
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        let offsets = try await consumer.committedOffsets(for: (0..<partitions).map { TopicPartition(topic: topic, partition: Int32($0)) })
        await consumer.close()
        return Dictionary(uniqueKeysWithValues: offsets.map { ($0.key.partition, $0.value) })
    }

    /// A header's value as text.
    public static func header(_ message: KafkaMessage, _ name: String) -> String? {
        message.headers.last { $0.name == name }?.value.map { String(decoding: $0, as: UTF8.self) }
    }

    /// The `data` object of a CloudEvent record.
    public static func eventData(_ message: KafkaMessage) -> [String: Any]? {
        guard let value = message.value,
              let object = try? JSONSerialization.jsonObject(with: Data(value)) as? [String: Any]
        else { return nil }
        return object["data"] as? [String: Any]
    }
}

/// Records gathered by concurrent readers.
public final class MessageBox: Sendable {
    private let storage = Mutex<[KafkaMessage]>([])

    public init() {}

    /// Appends and returns the new count.
    public func append(_ message: KafkaMessage) -> Int {
        storage.withLock { $0.append(message); return $0.count }
    }

    public var messages: [KafkaMessage] { storage.withLock { $0 } }
}

/// The `mediad` executable built beside the test bundle, run as a user would run it.
public enum MediadBinary {
    public static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mediad")
    }

    /// `mediad-native`: the same commands with the native stages linked in (what workers run).
    public static var native: URL {
        executable.deletingLastPathComponent().appendingPathComponent("mediad-native")
    }

    /// - Throws: `CommandError` when the binary is not built.
    public static func run(_ arguments: [String], environment: [String: String] = [:], currentDirectory: URL = TestPaths.root) throws -> CommandResult {
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw CommandError(description: "mediad is not built at \(executable.path); run `swift build --build-tests`")
        }
        return try Command.run([executable.path] + arguments, currentDirectory: currentDirectory, environment: environment)
    }

    /// `run`, for async tests: the binary is awaited on a thread of its own (`onOwnThread`).
    public static func run(_ arguments: [String], environment: [String: String] = [:], currentDirectory: URL = TestPaths.root) async throws -> CommandResult {
        try await onOwnThread { try run(arguments, environment: environment, currentDirectory: currentDirectory) }
    }

    /// Starts `mediad` without waiting, its output discarded: for runs a test interrupts
    /// (`interrupt()` sends SIGINT, as Ctrl-C does).
    public static func start(_ arguments: [String], environment: [String: String], currentDirectory: URL) throws -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = currentDirectory
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }
}
