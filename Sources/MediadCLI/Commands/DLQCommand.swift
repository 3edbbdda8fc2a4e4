import ArgumentParser
import Backfill
import Daemon
import Foundation
import Kafka
import Logging

/// `mediad dlq`: look at the dead-letter topic and send messages back once their cause is fixed.
struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "List, inspect and replay dead-lettered messages.",
        discussion: """
            Brokers and topics come from the daemon's settings (--config, MEDIAD_*, --brokers, --dlq-topic). \
            A replay sends the original key, value and headers back to the topic the message came from, with \
            mediad-replay-count incremented; messages replayed --max-replays times are refused.
            """,
        subcommands: [List.self, Inspect.self, Replay.self]
    )

    /// The queue of the effective configuration.
    static func queue(_ options: ServeOptions) throws -> (DeadLetterQueue, DaemonConfiguration) {
        let configuration = try options.load().configuration
        LoggingBootstrap.once(level: .warning, json: configuration.logFormat == "json")
        let queue = DeadLetterQueue(
            brokers: configuration.brokers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
            topic: configuration.dlqTopic, replayGroup: "\(configuration.group)-dlq-replay", kafkaOptions: configuration.kafka,
            logger: Logger(label: "mediad.dlq"))
        return (queue, configuration)
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead letters: position, error code, origin, replays.")

        @Option(name: .long, help: "Only this error code (repeatable).") var code: [String] = []
        @Option(name: .long, help: "At most N entries, newest last.") var limit: Int?
        @Flag(name: .long, help: "One JSON object per line.") var json = false
        @OptionGroup var options: ServeOptions

        func run() async throws {
            let (queue, _) = try DLQCommand.queue(options)
            let listing = try await queue.list()
            var entries = listing.entries.filter { code.isEmpty || code.contains($0.code) }
            if let limit { entries = Array(entries.suffix(limit)) }
            if json {
                for entry in entries { print(DLQCommand.json(entry, passed: listing.isPassed(entry))) }
                return
            }
            print("POSITION  CODE                      FROM                       REPLAYS  STATE    FAILED AT                 MESSAGE")
            for entry in entries {
                let origin = "\(entry.originalTopic ?? "?"):\(entry.originalPartition.map(String.init) ?? "?"):\(entry.originalOffset.map(String.init) ?? "?")"
                print([
                    entry.position.description.padding(toLength: 9, withPad: " ", startingAt: 0),
                    entry.code.padding(toLength: 25, withPad: " ", startingAt: 0),
                    origin.padding(toLength: 26, withPad: " ", startingAt: 0),
                    String(entry.replayCount).padding(toLength: 8, withPad: " ", startingAt: 0),
                    (listing.isPassed(entry) ? "passed" : "pending").padding(toLength: 8, withPad: " ", startingAt: 0),
                    (entry.failedAt ?? "").padding(toLength: 25, withPad: " ", startingAt: 0),
                    String(entry.message.prefix(80)),
                ].joined(separator: " "))
            }
            let codes = Dictionary(grouping: entries, by: \.code).map { "\($0.key) \($0.value.count)" }.sorted()
            print("\(entries.count) dead letter(s)\(codes.isEmpty ? "" : ": " + codes.joined(separator: ", ")); pending = not yet considered by a replay")
        }
    }

    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one dead letter whole: headers, key and value.")

        @Argument(help: "PARTITION:OFFSET on the dead-letter topic.") var position: String
        @OptionGroup var options: ServeOptions

        func run() async throws {
            guard let wanted = DeadLetterPosition(position) else { throw ValidationError("expected PARTITION:OFFSET, got '\(position)'") }
            let (queue, configuration) = try DLQCommand.queue(options)
            guard let entry = try await queue.list().entries.first(where: { $0.position == wanted }) else {
                printError("no dead letter at \(wanted) on \(configuration.dlqTopic)")
                throw ExitCode(1)
            }
            print("position:  \(configuration.dlqTopic) \(entry.position)")
            print("code:      \(entry.code)")
            print("message:   \(entry.message)")
            print("from:      \(entry.originalTopic ?? "?") partition \(entry.originalPartition.map(String.init) ?? "?") offset \(entry.originalOffset.map(String.init) ?? "?")")
            print("failed at: \(entry.failedAt ?? "?")")
            print("replays:   \(entry.replayCount)")
            print("key:       \(entry.key.map { String(decoding: $0, as: UTF8.self) } ?? "(none)")")
            print("headers:")
            for header in entry.headers {
                print("  \(header.name): \(header.value.map { String(decoding: $0, as: UTF8.self) } ?? "(null)")")
            }
            print("value (\(entry.value.count) bytes):")
            print(DLQCommand.pretty(entry.value))
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send dead letters back to their original topic.",
            discussion: """
                With --code or --all: the dead letters no earlier replay considered (the mark is the committed \
                offset of the group <group>-dlq-replay), then the mark moves to the end. With --offset: exactly \
                those positions, wherever they are; the mark stays.
                """
        )

        @Option(name: .long, help: "Replay pending dead letters with this error code (repeatable).") var code: [String] = []
        @Flag(name: .long, help: "Replay every pending dead letter.") var all = false
        @Option(name: .long, help: "Replay the dead letter at PARTITION:OFFSET (repeatable).") var offset: [String] = []
        @Option(name: .long, help: "Refuse messages already replayed this many times.") var maxReplays = 3
        @Flag(name: .long, help: "Show what would be replayed; send nothing, move no mark.") var dryRun = false
        @OptionGroup var options: ServeOptions

        func validate() throws {
            let ways = [!code.isEmpty, all, !offset.isEmpty].filter { $0 }.count
            guard ways == 1 else { throw ValidationError("choose what to replay: --code CODE, --all or --offset PARTITION:OFFSET (one of them)") }
            for text in offset where DeadLetterPosition(text) == nil { throw ValidationError("--offset takes PARTITION:OFFSET, got '\(text)'") }
            if maxReplays < 1 { throw ValidationError("--max-replays must be at least 1") }
        }

        func run() async throws {
            let (queue, configuration) = try DLQCommand.queue(options)
            let selection: DeadLetterQueue.Selection = offset.isEmpty
                ? .pending(codes: Set(code))
                : .positions(Set(offset.compactMap(DeadLetterPosition.init)))
            var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: queue.brokers)
            producerConfiguration.clientID = "mediad-dlq-\(configuration.instance)"
            producerConfiguration.options = configuration.kafka
            let producer = try KafkaProducer(configuration: producerConfiguration, logger: queue.logger)
            let report: DeadLetterQueue.ReplayReport
            do {
                report = try await queue.replay(selection, producer: producer, maxReplays: maxReplays, dryRun: dryRun)
                try await producer.flush(timeout: .seconds(10))
                await producer.close()
            } catch {
                await producer.close()
                throw error
            }
            let verb = dryRun ? "would replay" : "replayed"
            for entry in report.replayed {
                print("\(verb) \(entry.position) (\(entry.code)) -> \(entry.originalTopic ?? "?") [replay \(entry.replayCount + 1)]")
            }
            for (entry, reason) in report.refused { print("refused \(entry.position) (\(entry.code)): \(reason)") }
            for position in report.notFound { print("not found \(position)") }
            print("\(report.replayed.count) \(verb), \(report.refused.count) refused, \(report.passedOver) passed over\(dryRun ? " (dry run: nothing sent)" : "")")
            if !report.refused.isEmpty || !report.notFound.isEmpty { throw ExitCode(1) }
        }
    }

    static func json(_ entry: DeadLetterEntry, passed: Bool) -> String {
        var object: [String: Any] = [
            "partition": entry.position.partition, "offset": entry.position.offset, "code": entry.code, "message": entry.message,
            "replayCount": entry.replayCount, "state": passed ? "passed" : "pending",
        ]
        object["originalTopic"] = entry.originalTopic
        object["originalPartition"] = entry.originalPartition
        object["originalOffset"] = entry.originalOffset
        object["failedAt"] = entry.failedAt
        object["key"] = entry.key.map { String(decoding: $0, as: UTF8.self) }
        object["value"] = entry.valueText ?? Data(entry.value).base64EncodedString()
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// JSON pretty-printed, other UTF-8 as is, anything else as base64.
    static func pretty(_ value: [UInt8]) -> String {
        if let object = try? JSONSerialization.jsonObject(with: Data(value), options: [.fragmentsAllowed]),
           let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
        {
            return String(decoding: data, as: UTF8.self)
        }
        if let text = String(validating: value, as: UTF8.self) { return text }
        return "base64: " + Data(value).base64EncodedString()
    }
}
