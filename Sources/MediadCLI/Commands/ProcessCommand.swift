import ArgumentParser
import Events
import Foundation
import Logging
import MediaProcessing
import ObjectStorage
import PipelineEngine

/// `mediad process`: run pipelines on local files, without Kafka or S3.
struct ProcessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "process",
        abstract: "Run the matching pipeline on local files and write derivatives and a manifest.json per file.",
        discussion: """
            Each SOURCE (a file, or a directory searched recursively) gets a folder OUT/<name>/ holding its \
            derivatives and manifest.json. Files run in parallel on the worker pool. Exits 1 if any file failed.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Files, directories, s3://bucket/key objects or s3://bucket/prefix/ listings to process.")
    var sources: [String]

    @Option(name: .long, help: "Output: a directory, or s3://bucket/prefix.")
    var out: String

    @OptionGroup var storage: StorageOptions

    @Option(name: .long, help: "Use this pipeline instead of the one the sniffed type selects.")
    var pipeline: String?

    @Flag(name: .long, help: "Print one manifest per line (JSON Lines) instead of a summary.")
    var json = false

    @Option(name: .long, help: "Worker slots (default: number of cores).")
    var concurrency: Int?

    @Option(name: .long, help: "Where native work runs: process (supervised worker processes) or none (threads of this process).")
    var isolation: Isolation = .process

    func validate() throws {
        if let concurrency, concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
    }

    func run() async throws {
        global.bootstrapLogging()
        let pipelines: PipelineSet
        do {
            pipelines = try PipelineLoader.loadDirectory(global.pipelinesDirectory())
        } catch let error as PipelineConfigError {
            printError("invalid pipeline: \(error)")
            throw ExitCode(2)
        }
        if let pipeline, pipelines.named(pipeline) == nil {
            throw ValidationError("no pipeline named '\(pipeline)'; known: \(pipelines.definitions.map(\.name).joined(separator: ", "))")
        }
        // Native libraries start where the work runs: in the workers, or here.
        if isolation == .none { try LinkedStages.requireOrHandOver().prepare(pipelines) }

        let locations = try sources.map { try ObjectLocation.parse($0) }
        let destination = try ObjectLocation.parse(out)
        let needsS3 = locations.contains { if case .object = $0 { true } else { false } } || { if case .object = destination { true } else { false } }()
        if needsS3 {
            try await storage.withStore { store in try await process(locations, into: destination, pipelines: pipelines, store: store) }
        } else {
            try await process(locations, into: destination, pipelines: pipelines, store: nil)
        }
    }

    private func process(_ locations: [ObjectLocation], into destination: ObjectLocation, pipelines: PipelineSet, store: S3ObjectStore?) async throws {
        var destinationLayouts: [DerivativeLayout] = []
        if case .object(_, let prefix) = destination {
            destinationLayouts.append(DerivativeLayout(template: (prefix.isEmpty || prefix.hasSuffix("/") ? prefix : prefix + "/") + "{fileId}/{name}.{ext}"))
        }
        let files = try await SourceFiles.expand(locations, store: store, skipping: destinationLayouts)
        guard !files.isEmpty else { throw ValidationError("no files found in \(sources.joined(separator: " "))") }
        let sink: any DerivativeSink
        let shownOut: String
        switch destination {
        case .file(let directory):
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            sink = LocalDirectorySink(root: directory)
            shownOut = directory.path
        case .object(let bucket, let prefix):
            guard let store else { throw ValidationError("an s3:// destination needs S3 settings") }
            let base = prefix.isEmpty || prefix.hasSuffix("/") ? prefix : prefix + "/"
            sink = ObjectStoreSink(store: store, bucket: bucket, layout: DerivativeLayout(template: base + "{fileId}/{name}.{ext}"))
            shownOut = "s3://\(bucket)/\(base.isEmpty ? "" : String(base.dropLast()))"
        }

        let logger = Logger(label: "mediad.process")
        let pool = WorkerPool(slots: concurrency)
        let executor: any PipelineExecutor = switch isolation {
        case .process: try ProcessExecutor(pool: pool, pipelines: pipelines, logger: logger)
        case .none: InProcessExecutor(pool: pool, registry: try LinkedStages.requireOrHandOver().registry())
        }
        let processor = MediaProcessor(pipelines: pipelines, executor: executor, logger: logger)
        let report = ProcessReport(json: json, outDescription: shownOut)
        let started = ContinuousClock.now
        let pipelineOverride = pipeline

        do {
            try await withThrowingTaskGroup(of: (SourceFile, ProcessedData).self) { group in
                for file in files {
                    group.addTask {
                        (file, try await Self.process(file, processor: processor, sink: sink, store: store, pipelineOverride: pipelineOverride))
                    }
                }
                for try await (file, data) in group {
                    try report.add(data, for: file)
                }
            }
        } catch {
            await executor.shutdown()
            throw error
        }
        await executor.shutdown()
        report.finish(elapsed: started.duration(to: .now))
        if report.failures > 0 { throw ExitCode(1) }
    }

    /// One file: objects are downloaded to a temporary file first, and a failed download is
    /// reported like any other failure, not thrown.
    private static func process(
        _ file: SourceFile, processor: MediaProcessor, sink: any DerivativeSink, store: S3ObjectStore?, pipelineOverride: String?
    ) async throws -> ProcessedData {
        switch file.location {
        case .file(let url):
            let request = ProcessingRequest(
                file: url, fileId: file.name, sourceKey: url.path,
                declaredContentType: ContentTypeGuess.fromExtension(url.pathExtension), pipelineOverride: pipelineOverride)
            return try await processor.process(request, sink: sink)
        case .object(let bucket, let key):
            guard let store else { throw ValidationError("s3:// sources need S3 settings") }
            let job = Job(fileId: file.name, bucket: bucket, key: key, pipeline: pipelineOverride)
            let source = SourceDownload(store: store, retry: RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(500)), logger: processor.logger)
            let downloaded: SourceDownload.Downloaded
            do {
                downloaded = try await source.fetch(job)
            } catch {
                switch error {
                case .cancelled: throw CancellationError()
                case .unreadable(let issue): return job.failed(issue)
                }
            }
            defer { downloaded.discard() }
            return try await processor.process(ProcessingRequest(job, file: downloaded.file, info: downloaded.info), sink: sink)
        }
    }
}

/// A file to process and the unique name its outputs are filed under.
struct SourceFile: Sendable {
    var location: ObjectLocation
    var name: String

    var displayName: String {
        switch location {
        case .file(let url): url.lastPathComponent
        case .object(_, let key): key
        }
    }
}

enum SourceFiles {
    /// Files named directly, and every visible file under named directories, with unique names.
    /// Listings skip mediad's own outputs (the default layout's, and `skipping`'s): they are
    /// derivatives and manifests, not originals.
    static func expand(_ sources: [ObjectLocation], store: (any ObjectStore)?, skipping outputs: [DerivativeLayout] = []) async throws -> [SourceFile] {
        let layouts = [DerivativeLayout()] + outputs
        var locations: [ObjectLocation] = []
        for source in sources {
            switch source {
            case .file(let url):
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
                    throw ValidationError("no such file or directory: \(url.path)")
                }
                locations += isDirectory.boolValue ? regularFiles(under: url).map { .file($0) } : [.file(url)]
            case .object(let bucket, let key):
                guard let store else { throw ValidationError("s3:// sources need S3 settings") }
                if key.isEmpty || key.hasSuffix("/") {
                    for try await object in store.list(bucket: bucket, prefix: key.isEmpty ? nil : key) where !layouts.contains(where: { $0.isOutput(object.key) }) {
                        locations.append(.object(bucket: bucket, key: object.key))
                    }
                } else {
                    locations.append(source)
                }
            }
        }
        var used: Set<String> = []
        return locations.map { location in
            // An object's id depends on its bucket and key alone, never on the other arguments.
            if case .object(let bucket, let key) = location {
                return SourceFile(location: location, name: UploadEvent.stableFileId(bucket: bucket, key: key))
            }
            let url: URL = switch location {
            case .file(let url): url
            case .object(_, let key): URL(fileURLWithPath: "/" + key)
            }
            let stem = sanitise(url.deletingPathExtension().lastPathComponent)
            var name = stem.isEmpty ? "file" : stem
            if used.contains(name) { name = sanitise(url.lastPathComponent) }
            var counter = 2
            let base = name
            while used.contains(name) {
                name = "\(base)-\(counter)"
                counter += 1
            }
            used.insert(name)
            return SourceFile(location: location, name: name)
        }
    }

    /// Every visible regular file below a directory.
    static func regularFiles(under directory: URL) -> [URL] {
        var files: [URL] = []
        let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
        while let next = enumerator?.nextObject() as? URL {
            if (try? next.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true { files.append(next) }
        }
        return files.sorted { $0.path < $1.path }
    }

    /// Keeps names safe as a path component and an object key segment.
    static func sanitise(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" })
    }
}

extension Isolation: ExpressibleByArgument {}
