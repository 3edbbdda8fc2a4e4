import AMQP
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
            Brokers and topics come from the daemon's settings (--config, MEDIAD_*, --brokers, --dlq-topic); with \
            transport=rabbitmq, amqpURI and amqpDeadLetterQueue. A replay sends the original key, value and headers \
            back to the topic (or queue) the message came from, with mediad-replay-count incremented; messages \
            replayed --max-replays times are refused. On RabbitMQ the queue is read with basic.get and every \
            message not replayed is returned to it; dead letters are named by an ID (their message id, or a digest) \
            instead of PARTITION:OFFSET.
            """,
        subcommands: [List.self, Inspect.self, Replay.self]
    )

    /// The dead letters of the effective configuration's transport.
    enum Source {
        case kafka(DeadLetterQueue)
        case rabbitmq(AMQPDeadLetterQueue)

        var isRabbitMQ: Bool { if case .rabbitmq = self { true } else { false } }

        /// Every dead letter, and whether a replay run already considered it (Kafka's replay
        /// mark; a RabbitMQ queue holds only what no replay sent back).
        func list() async throws -> (entries: [DeadLetterEntry], isPassed: (DeadLetterEntry) -> Bool) {
            switch self {
            case .kafka(let queue):
                let listing = try await queue.list()
                return (listing.entries, listing.isPassed)
            case .rabbitmq(let queue):
                return (try await queue.list(), { _ in false })
            }
        }
    }

    /// The queue of the effective configuration.
    static func queue(_ options: ServeOptions) throws -> (Source, DaemonConfiguration) {
        let configuration = try options.load().configuration
        LoggingBootstrap.once(level: .warning, json: configuration.logFormat == "json")
        let logger = Logger(label: "mediad.dlq")
        if configuration.transport == "rabbitmq" {
            var amqp = try configuration.amqpConfiguration()
            amqp.connectionName = amqp.connectionName ?? "mediad dlq \(configuration.instance)"
            return (.rabbitmq(AMQPDeadLetterQueue(configuration: amqp, queue: configuration.amqpDeadLetterQueue, logger: logger)), configuration)
        }
        let queue = DeadLetterQueue(
            brokers: configuration.brokers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
            topic: configuration.dlqTopic, replayGroup: "\(configuration.group)-dlq-replay", kafkaOptions: configuration.kafka,
            logger: logger)
        return (.kafka(queue), configuration)
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead letters: position, error code, origin, replays.")

        @Option(name: .long, help: "Only this error code (repeatable).") var code: [String] = []
        @Option(name: .long, help: "At most N entries, newest last.") var limit: Int?
        @Flag(name: .long, help: "One JSON object per line.") var json = false
        @OptionGroup var options: ServeOptions

        func run() async throws {
            let (source, _) = try DLQCommand.queue(options)
            let listing = try await source.list()
            var entries = listing.entries.filter { code.isEmpty || code.contains($0.code) }
            if let limit { entries = Array(entries.suffix(limit)) }
            if json {
                for entry in entries { print(DLQCommand.json(entry, passed: listing.isPassed(entry), rabbitmq: source.isRabbitMQ)) }
                return
            }
            let width = max(9, entries.map(\.id.count).max() ?? 0)
            let origins = entries.map { DLQCommand.origin($0, rabbitmq: source.isRabbitMQ) }
            print([
                (source.isRabbitMQ ? "ID" : "POSITION").padding(toLength: width, withPad: " ", startingAt: 0),
                "CODE                      FROM                       REPLAYS  STATE    FAILED AT                 MESSAGE",
            ].joined(separator: " "))
            for (entry, origin) in zip(entries, origins) {
                print([
                    entry.id.padding(toLength: width, withPad: " ", startingAt: 0),
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

        @Argument(help: "PARTITION:OFFSET on the dead-letter topic; on RabbitMQ the ID `dlq list` shows.") var position: String
        @OptionGroup var options: ServeOptions

        func run() async throws {
            let (source, configuration) = try DLQCommand.queue(options)
            let wanted: String
            if source.isRabbitMQ {
                wanted = position
            } else {
                guard let parsed = DeadLetterPosition(position) else { throw ValidationError("expected PARTITION:OFFSET, got '\(position)'") }
                wanted = parsed.description
            }
            let place = source.isRabbitMQ ? configuration.amqpDeadLetterQueue : configuration.dlqTopic
            guard let entry = try await source.list().entries.first(where: { $0.id == wanted }) else {
                printError("no dead letter at \(wanted) on \(place)")
                throw ExitCode(1)
            }
            print("\(source.isRabbitMQ ? "id:       " : "position: ") \(place) \(entry.id)")
            print("code:      \(entry.code)")
            print("message:   \(entry.message)")
            if source.isRabbitMQ {
                print("from:      queue \(entry.originalTopic ?? "?")\(entry.originalOffset.map { " delivery \($0)" } ?? "")")
            } else {
                let partition = entry.originalPartition.map(String.init) ?? "?", offset = entry.originalOffset.map(String.init) ?? "?"
                print("from:      \(entry.originalTopic ?? "?") partition \(partition) offset \(offset)")
            }
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
                those positions, wherever they are; the mark stays. On RabbitMQ (transport=rabbitmq) the queue \
                itself is the mark: a replayed message is acked only once the queue it came from confirmed the \
                copy, everything else goes back to the dead-letter queue; --id picks messages by the ID `dlq list` shows.
                """
        )

        @Option(name: .long, help: "Replay pending dead letters with this error code (repeatable).") var code: [String] = []
        @Flag(name: .long, help: "Replay every pending dead letter.") var all = false
        @Option(name: .long, help: "Replay the dead letter at PARTITION:OFFSET (repeatable).") var offset: [String] = []
        @Option(name: .long, help: "RabbitMQ: replay the dead letter with this ID (repeatable).") var id: [String] = []
        @Option(name: .long, help: "Refuse messages already replayed this many times.") var maxReplays = 3
        @Flag(name: .long, help: "Show what would be replayed; send nothing, move no mark.") var dryRun = false
        @OptionGroup var options: ServeOptions

        func validate() throws {
            let ways = [!code.isEmpty, all, !offset.isEmpty, !id.isEmpty].filter { $0 }.count
            guard ways == 1 else {
                throw ValidationError("choose what to replay: --code CODE, --all, --offset PARTITION:OFFSET or (RabbitMQ) --id ID (one of them)")
            }
            for text in offset where DeadLetterPosition(text) == nil { throw ValidationError("--offset takes PARTITION:OFFSET, got '\(text)'") }
            if maxReplays < 1 { throw ValidationError("--max-replays must be at least 1") }
        }

        func run() async throws {
            let (source, configuration) = try DLQCommand.queue(options)
            let report: DeadLetterReplayReport
            switch source {
            case .kafka(let queue):
                guard id.isEmpty else { throw ValidationError("--id names RabbitMQ dead letters; on Kafka use --offset PARTITION:OFFSET") }
                report = try await replay(queue, configuration: configuration)
            case .rabbitmq(let queue):
                guard offset.isEmpty else {
                    throw ValidationError("RabbitMQ dead letters have no offsets: use --id ID, as `mediad dlq list` shows it")
                }
                report = try await queue.replay(id.isEmpty ? .codes(Set(code)) : .ids(Set(id)), maxReplays: maxReplays, dryRun: dryRun)
            }
            let verb = dryRun ? "would replay" : "replayed"
            for entry in report.replayed {
                print("\(verb) \(entry.id) (\(entry.code)) -> \(entry.originalTopic ?? "?") [replay \(entry.replayCount + 1)]")
            }
            for (entry, reason) in report.refused { print("refused \(entry.id) (\(entry.code)): \(reason)") }
            for position in report.notFound { print("not found \(position)") }
            let counts = "\(report.replayed.count) \(verb), \(report.refused.count) refused, \(report.passedOver) passed over"
            print(counts + (dryRun ? " (dry run: nothing sent)" : ""))
            if !report.refused.isEmpty || !report.notFound.isEmpty { throw ExitCode(1) }
        }

        private func replay(_ queue: DeadLetterQueue, configuration: DaemonConfiguration) async throws -> DeadLetterReplayReport {
            let selection: DeadLetterQueue.Selection = offset.isEmpty
                ? .pending(codes: Set(code))
                : .positions(Set(offset.compactMap(DeadLetterPosition.init)))
            var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: queue.brokers)
            producerConfiguration.clientID = "mediad-dlq-\(configuration.instance)"
            producerConfiguration.options = configuration.kafka
            let producer = try KafkaProducer(configuration: producerConfiguration, logger: queue.logger)
            do {
                let report = try await queue.replay(selection, producer: producer, maxReplays: maxReplays, dryRun: dryRun)
                try await producer.flush(timeout: .seconds(10))
                await producer.close()
                return report
            } catch {
                await producer.close()
                throw error
            }
        }
    }

    /// Where a dead letter came from: topic:partition:offset, or on RabbitMQ the queue (and
    /// the delivery tag mediad recorded).
    static func origin(_ entry: DeadLetterEntry, rabbitmq: Bool) -> String {
        guard rabbitmq else {
            return "\(entry.originalTopic ?? "?"):\(entry.originalPartition.map(String.init) ?? "?"):\(entry.originalOffset.map(String.init) ?? "?")"
        }
        return "\(entry.originalTopic ?? "?")\(entry.originalOffset.map { "#\($0)" } ?? "")"
    }

    static func json(_ entry: DeadLetterEntry, passed: Bool, rabbitmq: Bool) -> String {
        var object: [String: Any] = [
            "code": entry.code, "message": entry.message, "replayCount": entry.replayCount, "state": passed ? "passed" : "pending",
        ]
        if rabbitmq {
            object["id"] = entry.id
        } else {
            object["partition"] = entry.position.partition
            object["offset"] = entry.position.offset
        }
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
