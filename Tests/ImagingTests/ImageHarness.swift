import Foundation
import Logging
import MediaProcessing
import NativeStages
import MediadTestSupport
import PipelineEngine

/// Runs real pipelines on real files through the same processor `mediad process` uses.
struct ImageHarness {
    let pipelines: PipelineSet
    let output: URL

    /// The shipped pipelines, or the given YAML written to a private directory.
    init(yaml: String? = nil) throws {
        if let yaml {
            let directory = try TestPaths.temporaryDirectory("pipeline")
            try yaml.write(to: directory.appendingPathComponent("test.yaml"), atomically: true, encoding: .utf8)
            pipelines = try PipelineLoader.loadDirectory(directory)
        } else {
            pipelines = try PipelineLoader.loadDirectory(TestPaths.pipelines)
        }
        try StandardStages.prepare(for: pipelines)
        output = try TestPaths.temporaryDirectory("out")
    }

    func process(_ file: URL, fileId: String? = nil, declared: String? = nil) async throws -> ProcessedData {
        let processor = MediaProcessor(
            pipelines: pipelines, registry: StandardStages.registry(), pool: Self.pool, logger: Logger.quiet)
        let request = ProcessingRequest(
            file: file, fileId: fileId ?? file.deletingPathExtension().lastPathComponent, declaredContentType: declared)
        return try await processor.process(request, sink: LocalDirectorySink(root: output))
    }

    func process(fixture name: String) async throws -> ProcessedData {
        try await process(TestPaths.image(name), fileId: name.replacingOccurrences(of: ".", with: "_"))
    }

    /// The stored file of a derivative.
    func file(of derivative: Derivative) throws -> URL {
        guard let key = derivative.key else { throw CommandError(description: "\(derivative.name) has no key") }
        return output.appendingPathComponent(key)
    }

    static let pool = WorkerPool(slots: 2)
}

extension ProcessedData {
    func derivative(_ name: String) throws -> Derivative {
        guard let found = derivatives.first(where: { $0.name == name }) else {
            throw CommandError(description: "no derivative '\(name)' in \(derivatives.map(\.name)); errors: \(errors)")
        }
        return found
    }
}
