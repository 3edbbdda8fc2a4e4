import ArgumentParser
import Foundation
import Logging
import MediaProcessing
import PipelineEngine
import Workers

/// `mediad-native worker`: the child process that runs native media work for a parent mediad
/// (`mediad worker` hands itself over to `mediad-native`).
/// Not for people: the parent starts it with a channel on fd 3.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run pipeline stages for a parent mediad over fd 3 (started by mediad itself).",
        shouldDisplay: false
    )

    @Option(name: .long, help: "The hard memory limit (RLIMIT_DATA), in bytes.")
    var memoryCeiling: Int64 = PipelineLimits.defaultMaxMemory

    @Option(name: .long, help: "Log level of the worker's own lines (on its stderr, read by the parent).")
    var logLevel: Logger.Level = .warning

    func run() throws {
        throw ExitCode(Self.serve(memoryCeiling: memoryCeiling, logLevel: logLevel))
    }

    /// Runs the worker loop on this (the main) thread; returns the exit status.
    static func serve(memoryCeiling: Int64, logLevel: Logger.Level) -> Int32 {
        LoggingBootstrap.once(level: logLevel)
        var logger = Logger(label: "mediad.worker")
        logger.logLevel = logLevel
        let stages: LinkedStages.Stages
        do {
            stages = try LinkedStages.requireOrHandOver()
        } catch {
            logger.critical("cannot run native stages", metadata: ["error": "\(error)"])
            return 70
        }
        let runner = PipelineRunner(registry: stages.registry())
        let host = WorkerHost(
            memoryCeiling: memoryCeiling, logger: logger,
            prepare: { pipeline in try stages.prepare(PipelineSet([pipeline])) },
            execute: { job, pipeline, onStage in
                let context = JobContext(
                    file: URL(fileURLWithPath: job.file), size: job.size, sniffed: job.sniffed, pipeline: pipeline,
                    workDirectory: URL(fileURLWithPath: job.outputDirectory), logger: logger)
                context.warnings = job.warnings
                context.knownDigests = job.knownDigests ?? KnownDigests()
                return runner.run(context, onStage: onStage)
            })
        return host.run()
    }

    /// `mediad worker ...` is handled before the async entry point: the worker runs its
    /// blocking loop on the main thread, with no cooperative pool started at all.
    static func runIfRequested(_ arguments: [String]) {
        guard arguments.dropFirst().first == "worker" else { return }
        do {
            let command = try parseAsRoot(Array(arguments.dropFirst(2)))
            guard let worker = command as? WorkerCommand else { Foundation.exit(2) }
            Foundation.exit(serve(memoryCeiling: worker.memoryCeiling, logLevel: worker.logLevel))
        } catch {
            Foundation.exit(WorkerCommand.exitCode(for: error).rawValue)
        }
    }
}
