import ArgumentParser
import Backfill
import Daemon
import Foundation
import Logging
import MediaProcessing
import ObjectStorage
import PipelineEngine

/// `mediad gc`: finds (and with --delete removes) outputs that nothing uses any more.
struct GCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Find derivative folders whose original is gone, manifests of removed pipelines, and derivatives without a manifest.",
        discussion: """
            Walks the derivatives layout (default derived/{fileId}/…) of BUCKET, folder by folder, with a streamed \
            listing: memory does not grow with the bucket. Only keys of that layout are ever candidates; originals \
            and anything else in the bucket are never touched. Reports by default; --delete removes what it reports \
            (a tombstone stays until it is older than --tombstone-retention and its original is gone). Folders \
            with an object younger than --min-age are kept, as a job \
            may be writing them. Progress is saved in a checkpoint: run the same command again after Ctrl-C and it \
            continues where it stopped. Exits 1 when a folder could not be checked or emptied, 130 when interrupted, \
            2 when the layout, PREFIX or bucket cannot be walked.
            """
    )

    @Argument(help: "s3://BUCKET[/PREFIX]: the derivatives bucket; PREFIX narrows the walk and must lie inside the layout (e.g. derived/s3-).")
    var target: String

    @Flag(name: .long, help: "Remove the orphans found (default: only report them).")
    var delete = false

    @Option(name: .long, help: "Keep folders with an object younger than this many seconds (default 3600).")
    var minAge: Int = 3600

    @Option(name: .long, help: "Remove a tombstone alone once it is this many seconds old and its original is gone (default 2592000, 30 days: longer than any event for the deleted file can wait in a topic or queue).")
    var tombstoneRetention: Int = Int(GarbageCollector.Options.defaultTombstoneRetention.components.seconds)

    @Option(name: .long, help: "Checkpoint file (default: ./.mediad-gc-<selection>.checkpoint).")
    var checkpoint: String?

    @OptionGroup var options: ServeOptions

    func validate() throws {
        if minAge < 0 { throw ValidationError("--min-age must not be negative") }
        if tombstoneRetention < 0 { throw ValidationError("--tombstone-retention must not be negative") }
    }

    func run() async throws {
        let configuration = try options.load().configuration
        LoggingBootstrap.once(level: .warning, json: configuration.logFormat == "json")
        let logger = Logger(label: "mediad.gc")
        let layout = DerivativeLayout(template: configuration.keyTemplate)
        let (bucket, prefix) = try parseTarget(layout: layout)
        if let problem = GarbageCollector.problem(with: layout, prefix: prefix) {
            printError("gc: \(problem)")
            throw ExitCode(2)
        }
        let pipelines: PipelineSet
        do {
            pipelines = try PipelineLoader.loadDirectory(URL(fileURLWithPath: configuration.pipelines))
        } catch {
            printError("invalid pipelines: \(error)")
            throw ExitCode(2)
        }
        let gcOptions = GarbageCollector.Options(bucket: bucket, prefix: prefix, delete: delete, minAge: .seconds(minAge), tombstoneRetention: .seconds(tombstoneRetention))
        let url = URL(fileURLWithPath: checkpoint ?? ".mediad-gc-\(gcOptions.fingerprint).checkpoint")
        let start: GCCheckpoint
        do {
            start = try GCCheckpoint.load(url, selection: gcOptions.selection)
        } catch {
            printError("gc: \(error)")
            throw ExitCode(2)
        }
        if start.summary.folders > 0 { printError("resuming from \(url.path): \(start.summary.folders) folder(s) already done") }

        let store = try DaemonApplication.makeStore(configuration)
        defer { if let s3 = store as? S3ObjectStore { Task { try? await s3.shutdown() } } }
        let collector = GarbageCollector(
            store: store, pipelines: pipelines, layout: layout,
            retry: RetryPolicy(maxAttempts: configuration.retryAttempts, baseDelay: configuration.retryBaseDelay, maxDelay: .seconds(30)), logger: logger)
        let display = ProgressDisplay(command: "gc", verb: "folders checked")
        let deleting = delete
        let summary = await untilInterrupted {
            await collector.run(
                gcOptions, checkpoint: start, save: { try? $0.save(to: url) },
                found: { finding in
                    let action = deleting ? (finding.deleted == true ? "deleted" : "FAILED ") : "orphan "
                    print("\(action) \(finding.folder.prefix)  (\(finding.reason): \(finding.detail); \(finding.folder.objects.count) object(s), \(finding.bytes) bytes)")
                },
                progress: display.update)
        }
        display.finish()
        if let s3 = store as? S3ObjectStore { try? await s3.shutdown() }
        if let failure = summary.listingFailure {
            if summary.folders > 0 { print(summary.table(deleting: delete)) }
            let resume = FileManager.default.fileExists(atPath: url.path) ? "; run the same command again to continue (checkpoint \(url.path))" : ""
            printError("gc: cannot list s3://\(bucket)/\(prefix): \(failure)\(resume)")
            throw ExitCode(2)
        }
        print(summary.table(deleting: delete))
        if summary.interrupted {
            printError("interrupted: run the same command again to continue (checkpoint \(url.path))")
            throw ExitCode(130)
        }
        try? FileManager.default.removeItem(at: url)
        if !delete, summary.orphanCount > 0 { print("dry run: nothing was changed; run with --delete to remove the \(summary.orphanCount) orphan(s)") }
        if summary.failures > 0 { throw ExitCode(1) }
    }

    /// BUCKET and the prefix to walk: the layout's, unless PREFIX narrows it.
    private func parseTarget(layout: DerivativeLayout) throws -> (String, String) {
        var location = target
        if location.hasPrefix("s3://") { location.removeFirst(5) }
        guard let bucket = location.split(separator: "/", maxSplits: 1).first.map(String.init), !bucket.isEmpty else {
            throw ValidationError("expected s3://BUCKET[/PREFIX], got '\(target)'")
        }
        let prefix = String(location.dropFirst(bucket.count).drop { $0 == "/" })
        // `s3://BUCKET/derived` names the layout's root as much as `derived/` does.
        if let root = layout.prefix, prefix.isEmpty || prefix + "/" == root { return (bucket, root) }
        return (bucket, prefix)
    }
}
