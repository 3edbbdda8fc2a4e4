import ArgumentParser
import Foundation
import Logging
import MediaProcessing
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

    @Argument(help: "Files or directories to process.")
    var sources: [String]

    @Option(name: .long, help: "Output directory.")
    var out: String

    @Option(name: .long, help: "Use this pipeline instead of the one the sniffed type selects.")
    var pipeline: String?

    @Flag(name: .long, help: "Print one manifest per line (JSON Lines) instead of a summary.")
    var json = false

    @Option(name: .long, help: "Worker slots (default: number of cores).")
    var concurrency: Int?

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
        try StandardStages.prepare(for: pipelines)

        let files = try SourceFiles.expand(sources)
        guard !files.isEmpty else { throw ValidationError("no files found in \(sources.joined(separator: " "))") }
        let outDirectory = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: outDirectory, withIntermediateDirectories: true)

        let processor = MediaProcessor(
            pipelines: pipelines, registry: StandardStages.registry(),
            pool: WorkerPool(slots: concurrency), logger: Logger(label: "mediad.process"))
        let sink = LocalDirectorySink(root: outDirectory)
        let report = ProcessReport(json: json, outDirectory: outDirectory)
        let started = ContinuousClock.now
        let pipelineOverride = pipeline

        try await withThrowingTaskGroup(of: (SourceFile, ProcessedData).self) { group in
            for file in files {
                group.addTask {
                    let request = ProcessingRequest(
                        file: file.url, fileId: file.name, sourceKey: file.url.path,
                        declaredContentType: ContentTypeGuess.fromExtension(file.url.pathExtension),
                        pipelineOverride: pipelineOverride)
                    return (file, try await processor.process(request, sink: sink))
                }
            }
            for try await (file, data) in group {
                try report.add(data, for: file)
            }
        }
        report.finish(elapsed: started.duration(to: .now))
        if report.failures > 0 { throw ExitCode(1) }
    }
}

/// A file to process and the unique name its outputs are filed under.
struct SourceFile: Sendable {
    var url: URL
    var name: String
}

enum SourceFiles {
    /// Files named directly, and every visible file under named directories, with unique names.
    static func expand(_ sources: [String]) throws -> [SourceFile] {
        var urls: [URL] = []
        for source in sources {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
                throw ValidationError("no such file or directory: \(source)")
            }
            let url = URL(fileURLWithPath: source)
            if isDirectory.boolValue {
                let enumerator = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
                while let next = enumerator?.nextObject() as? URL {
                    if (try? next.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true { urls.append(next) }
                }
            } else {
                urls.append(url)
            }
        }
        var used: Set<String> = []
        return urls.sorted { $0.path < $1.path }.map { url in
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
            return SourceFile(url: url, name: name)
        }
    }

    /// Keeps names safe as a path component and an object key segment.
    static func sanitise(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" })
    }
}
