import AMQP
import ArgumentParser
import Backfill
import Daemon
import Foundation
import Kafka
import Logging
import MediaProcessing
import ObjectStorage
import PipelineEngine

/// `mediad reprocess`: new derivatives for files already stored, after a pipeline changed.
struct ReprocessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reprocess",
        abstract: "Redo the derivatives of stored files: by prefix, key file or time range; only outdated ones by default.",
        discussion: """
            A file is outdated when it has no manifest, its manifest came from an older version of its pipeline \
            (or from another pipeline than --pipeline), its source changed, or its last attempt failed transiently. \
            Direct mode (default) runs the pipelines here on the bounded worker pool and writes derivatives and \
            manifests; --publish instead produces file.reprocess events that `mediad serve` works through with \
            spare capacity only, so fresh uploads go first (Kafka: on reprocessTopic; RabbitMQ, transport=rabbitmq: \
            into amqpReprocessQueue, each with a publisher confirm). Storage, pipelines, brokers and topics come \
            from the daemon's settings (--config, MEDIAD_*, --set). Finished files are recorded in a checkpoint: run the \
            same command again after Ctrl-C or a crash and it continues where it stopped. Exits 1 when any file \
            failed, 130 when interrupted.
            """
    )

    @Argument(help: "s3://BUCKET[/PREFIX] (or BUCKET[/PREFIX]): the originals to consider; with --keys, the default bucket.")
    var target: String

    @Option(name: .long, help: "A file of keys to consider instead of listing: one `key` or `s3://bucket/key` per line.")
    var keys: String?

    @Option(name: .long, help: "Only originals last modified at or after this time (ISO 8601 date or date-time).")
    var since: String?

    @Option(name: .long, help: "Only originals last modified before this time (ISO 8601 date or date-time).")
    var until: String?

    @Flag(name: .long, help: "Redo every selected file, current or not.")
    var all = false

    @Flag(name: .long, help: "Redo only outdated files (the default).")
    var onlyOutdated = false

    @Option(name: .long, help: "Use this pipeline for every file; files made by another pipeline count as outdated.")
    var pipeline: String?

    @Option(name: .long, help: "Redo at most N files (skipped files do not count).")
    var limit: Int?

    @Flag(name: .long, help: "List what would be done and why; change nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Produce file.reprocess events for `mediad serve` instead of processing here.")
    var publish = false

    @Flag(name: .long, help: "Direct mode: also emit media.processed for each file, as the daemon does.")
    var emit = false

    @Option(name: .long, help: "Checkpoint file (default: ./.mediad-reprocess-<selection>.checkpoint).")
    var checkpoint: String?

    @Flag(name: .long, help: "Log each job (info level) instead of warnings only.")
    var verbose = false

    @OptionGroup var options: ServeOptions

    func validate() throws {
        if all && onlyOutdated { throw ValidationError("--all and --only-outdated exclude each other") }
        if publish && emit { throw ValidationError("--emit is for direct mode; in --publish mode the daemon emits") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        _ = try Self.parseDate(since, flag: "--since")
        _ = try Self.parseDate(until, flag: "--until")
    }

    func run() async throws {
        let configuration = try options.load().configuration
        LoggingBootstrap.once(level: verbose ? .info : .warning, json: configuration.logFormat == "json")
        let logger = Logger(label: "mediad.reprocess")
        let selection = try makeSelection()
        if publish, configuration.transport == "rabbitmq", configuration.amqpReprocessQueue.isEmpty {
            printError("--publish on RabbitMQ needs the backfill lane, and amqpReprocessQueue is empty: set it (as for `mediad serve`) or reprocess directly")
            throw ExitCode(2)
        }

        let store = try DaemonApplication.makeStore(configuration)
        do {
            try await execute(selection, configuration: configuration, store: store, logger: logger)
        } catch {
            if let s3 = store as? S3ObjectStore { try? await s3.shutdown() }
            throw error
        }
        if let s3 = store as? S3ObjectStore { try? await s3.shutdown() }
    }

    private func execute(_ selection: ReprocessSelection, configuration: DaemonConfiguration, store: any ObjectStore, logger: Logger) async throws {
        let jobs: JobRunner
        do {
            jobs = try DaemonApplication.makeJobRunner(configuration: configuration, store: store, logger: logger)
        } catch let error as PipelineConfigError {
            printError("invalid pipeline: \(error)")
            throw ExitCode(2)
        }
        do {
            try await execute(selection, jobs: jobs, configuration: configuration, store: store, logger: logger)
        } catch {
            await jobs.processor.executor.shutdown()
            throw error
        }
        await jobs.processor.executor.shutdown()
    }

    private func execute(
        _ selection: ReprocessSelection, jobs: JobRunner, configuration: DaemonConfiguration, store: any ObjectStore, logger: Logger
    ) async throws {
        let publisher = (publish || emit) && !dryRun ? try await makePublisher(configuration, logger: logger) : nil
        let mode: ReprocessRunner.Mode = if publish, let publisher {
            .publishing(to: publisher)
        } else {
            .direct(jobs: jobs, emit: publisher.map { .init(publisher: $0, instance: configuration.instance) })
        }
        let runner = ReprocessRunner(
            store: store, pipelines: jobs.processor.pipelines, keyTemplate: configuration.keyTemplate,
            derivativesBucket: configuration.derivativesBucket, mode: mode,
            parallelism: publish ? 64 : configuration.admissionCapacity,
            videoWeight: configuration.videoJobWeight, pipelineOverride: pipeline, force: all, logger: logger)

        let checkpointURL = URL(fileURLWithPath: checkpoint ?? ".mediad-reprocess-\(selection.fingerprint).checkpoint")
        let summary: ReprocessSummary
        do {
            summary = try await reprocess(selection, runner: runner, checkpointURL: checkpointURL)
        } catch {
            printError("reprocess: \(error)")
            await publisher?.close()
            throw ExitCode(2)
        }
        await publisher?.close()
        if dryRun { return }
        print(summary.table())
        if summary.interrupted {
            printError("interrupted: \(summary.remaining) file(s) not done; run the same command again to continue (checkpoint \(checkpointURL.path))")
            throw ExitCode(130)
        }
        if summary.failed > 0 { throw ExitCode(1) }
    }

    /// Where file.reprocess requests (--publish) or media.processed events (--emit) go, on
    /// the configured transport. A RabbitMQ broker that cannot be reached within 30 s is
    /// reported here (exit 2) rather than as every file failing.
    private func makePublisher(_ configuration: DaemonConfiguration, logger: Logger) async throws -> any ReprocessPublisher {
        guard configuration.transport == "rabbitmq" else {
            let brokers = configuration.brokers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: brokers)
            producerConfiguration.clientID = "mediad-reprocess-\(configuration.instance)"
            producerConfiguration.options = configuration.kafka
            let producer = try KafkaProducer(configuration: producerConfiguration, logger: logger)
            return KafkaReprocessPublisher(producer: producer, topic: publish ? configuration.reprocessTopic : configuration.outputTopic)
        }
        var amqp = try configuration.amqpConfiguration()
        amqp.connectionName = amqp.connectionName ?? "mediad reprocess \(configuration.instance)"
        let names = AMQPNames(configuration)
        let supervisor: AMQPConnectionSupervisor
        do {
            supervisor = try await AMQPReprocessPublisher.connect(amqp, names: names, logger: logger)
        } catch {
            printError("reprocess: cannot use RabbitMQ at \(amqp.redactedURI): \(error)")
            throw ExitCode(2)
        }
        return publish
            ? AMQPReprocessPublisher.reprocessQueue(names, supervisor: supervisor)
            : AMQPReprocessPublisher.results(names, supervisor: supervisor)
    }

    /// Plans, then (unless --dry-run) runs with a progress display; Ctrl-C or SIGTERM stops
    /// the run and leaves the checkpoint.
    private func reprocess(_ selection: ReprocessSelection, runner: ReprocessRunner, checkpointURL: URL) async throws(ReprocessError) -> ReprocessSummary {
        // A dry run reads an existing checkpoint (to show what a resumed run would skip) but
        // never creates one.
        let exists = FileManager.default.fileExists(atPath: checkpointURL.path)
        let checkpoint = dryRun && !exists ? nil : try ReprocessCheckpoint(url: checkpointURL, fingerprint: selection.fingerprint)
        let plan = try await runner.plan(selection, checkpoint: checkpoint)
        for key in plan.unreadableManifests { printError("warning: unreadable manifest \(key): its original counts as never processed") }
        if dryRun {
            printPlan(plan, mode: publish ? "publish" : "process")
            return ReprocessSummary(selected: plan.items.count)
        }
        if let resumed = checkpoint?.finished.count, resumed > 0 {
            printError("resuming from \(checkpointURL.path): \(resumed) file(s) already done")
        }
        let display = ProgressDisplay(verb: publish ? "published" : "processed")
        let summary = await untilInterrupted { await runner.run(plan, checkpoint: checkpoint, progress: display.update) }
        display.finish()
        return summary
    }

    private func printPlan(_ plan: ReprocessPlan, mode: String) {
        for item in plan.items {
            let action = item.decision.isProcess ? mode : "skip"
            let reason: String = switch item.decision {
            case .process(let reason): reason.description
            case .skip(let reason): reason.description
            }
            print("\(action.padding(toLength: 8, withPad: " ", startingAt: 0)) \(item.candidate.id)  (\(reason))")
        }
        for missing in plan.missing { print("missing  \(missing)  (not found)") }
        let skipped = plan.items.count - plan.toProcess
        print("dry run: \(plan.toProcess) to \(mode), \(skipped) to skip, \(plan.missing.count) missing; nothing was changed")
    }

    private func makeSelection() throws -> ReprocessSelection {
        var location = target
        if location.hasPrefix("s3://") { location.removeFirst(5) }
        guard let bucket = location.split(separator: "/", maxSplits: 1).first.map(String.init), !bucket.isEmpty else {
            throw ValidationError("expected s3://BUCKET[/PREFIX], got '\(target)'")
        }
        let prefix = location.dropFirst(bucket.count).drop { $0 == "/" }
        let source: ReprocessSelection.Source
        if let keys {
            guard prefix.isEmpty else { throw ValidationError("--keys takes the bucket alone (s3://BUCKET), not a prefix") }
            source = .keyFile(bucket: bucket, path: keys)
        } else {
            source = .prefix(bucket: bucket, prefix: String(prefix))
        }
        return ReprocessSelection(
            source: source, mode: all ? .all : .outdated, pipeline: pipeline,
            modifiedSince: try Self.parseDate(since, flag: "--since"), modifiedBefore: try Self.parseDate(until, flag: "--until"),
            limit: limit)
    }

    /// ISO 8601: a date (midnight UTC) or a date-time with an offset.
    static func parseDate(_ text: String?, flag: String) throws -> Date? {
        guard let text else { return nil }
        let withTime = ISO8601DateFormatter()
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let dateOnly = ISO8601DateFormatter()
        dateOnly.formatOptions = [.withFullDate]
        for formatter in [withTime, withFraction, dateOnly] {
            if let date = formatter.date(from: text) { return date }
        }
        throw ValidationError("\(flag) takes an ISO 8601 date (2026-01-31) or date-time (2026-01-31T12:00:00Z), got '\(text)'")
    }
}
