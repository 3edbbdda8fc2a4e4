import Foundation
import Logging
import MediaProcessing
import MediadTestSupport
import PipelineEngine
import Workers

/// Worker processes as the daemon runs them (`mediad worker` children of this test
/// process), with the shipped pipelines or variants of them.
struct IsolationHarness {
    let executor: ProcessExecutor
    let processor: MediaProcessor
    let out: URL

    var supervisor: WorkerSupervisor { executor.supervisor }

    /// - Parameter adjust: edits the YAML of each shipped pipeline before it is loaded.
    init(slots: Int = 1, maxCrashes: Int = 2, maxJobsPerWorker: Int = 500, adjust: (String) -> String = { $0 }) throws {
        var definitions: [PipelineDefinition] = []
        for name in ["image.yaml", "video.yaml"] {
            let text = try String(contentsOf: TestPaths.pipelines.appendingPathComponent(name), encoding: .utf8)
            definitions.append(try PipelineLoader.parse(adjust(text), file: name))
        }
        let pipelines = PipelineSet(definitions)
        var logger = Logger(label: "test.isolation")
        logger.logLevel = .critical
        executor = try ProcessExecutor(
            pool: WorkerPool(slots: slots), pipelines: pipelines, executable: MediadBinary.native.path,
            maxJobsPerWorker: maxJobsPerWorker, maxCrashes: maxCrashes, logger: logger)
        out = try TestPaths.temporaryDirectory("isolation")
        processor = MediaProcessor(pipelines: pipelines, executor: executor, logger: logger)
    }

    func process(_ file: URL, fileId: String = UUID().uuidString) async throws -> ProcessedData {
        try await processor.process(ProcessingRequest(file: file, fileId: fileId), sink: LocalDirectorySink(root: out))
    }

    /// Waits until a worker runs `stage`; returns its pid.
    func worker(in stage: String, timeout: Duration = .seconds(60), otherThan excluded: Int32? = nil) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let pid = supervisor.runningStages.first(where: { $0.value == stage && $0.key != excluded })?.key { return pid }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw WaitTimeout(description: "no worker reached stage '\(stage)' within \(timeout)")
    }

    /// For `defer`: the workers are stopped in the background.
    func stop() {
        let executor = self.executor
        Task { await executor.shutdown() }
        try? FileManager.default.removeItem(at: out)
    }
}
