import Foundation
import Logging
import ObjectStorage
import PipelineEngine

/// Runs the right pipeline on a local file and stores what it made: the one code path
/// behind `mediad process`, `reprocess` and the daemon.
///
/// This process only looks at the file's first bytes (to choose a pipeline) and stores
/// results; the decoding runs on the executor (worker processes by default).
public struct MediaProcessor: Sendable {
    public let pipelines: PipelineSet
    public let executor: any PipelineExecutor
    public var logger: Logger
    /// Where each job's private scratch directory is made.
    public var scratchDirectory: URL
    /// How storing each output is retried: a store that fails is tried again, the decoding
    /// is never redone for it.
    public var storeRetry: RetryPolicy = .none

    public var pool: WorkerPool { executor.pool }

    public init(pipelines: PipelineSet, executor: any PipelineExecutor, logger: Logger, scratchDirectory: URL? = nil) {
        self.pipelines = pipelines
        self.executor = executor
        self.logger = logger
        self.scratchDirectory = scratchDirectory ?? FileManager.default.temporaryDirectory
    }

    /// In-process execution on `pool`: for tests and `isolation: none`.
    public init(pipelines: PipelineSet, registry: StageRegistry, pool: WorkerPool, logger: Logger, scratchDirectory: URL? = nil) {
        self.init(pipelines: pipelines, executor: InProcessExecutor(pool: pool, registry: registry), logger: logger, scratchDirectory: scratchDirectory)
    }

    /// Processes one file and stores its derivatives and manifest in `sink`.
    ///
    /// Never throws for bad input: every failure ends up in the returned data's `errors`.
    /// - Throws: `CancellationError` only, when the task is cancelled before the work ended.
    public func process(_ request: ProcessingRequest, sink: any DerivativeSink) async throws -> ProcessedData {
        let queued = ContinuousClock.now
        let work = scratchDirectory.appendingPathComponent("mediad-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }

        var logger = logger
        logger[metadataKey: "fileId"] = "\(request.fileId)"
        let prepared: Prepared
        let started: ContinuousClock.Instant
        switch Self.plan(request, pipelines: pipelines, work: work) {
        case .rejected(let data):
            prepared = Prepared(data: data, outputs: [])
            started = .now
        case .run(let pipelineWork):
            do {
                try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
                let (outcome, began) = try await executor.execute(pipelineWork, weight: request.weight, logger: logger, willStart: request.willStart ?? {})
                prepared = Self.prepared(request, work: pipelineWork, outcome: outcome)
                started = began
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                let issue = StageFailure(.ioError, "cannot create a scratch directory: \(error.localizedDescription)", retryable: true).issue(stage: "intake")
                var outcome = PipelineOutcome()
                outcome.status = .failed
                outcome.errors = [issue]
                prepared = Prepared(data: Self.prepared(request, work: pipelineWork, outcome: outcome).data, outputs: [])
                started = .now
            }
        }
        var data = prepared.data
        // Time spent waiting for a worker is reported apart from the work itself.
        data.timings["queued"] = queued.duration(to: started).milliseconds
        for output in prepared.outputs {
            var derivative = output.derivative
            if let file = output.file {
                do {
                    let location = try await storeRetry.retrying(onRetry: { attempt, error in
                        logger.notice("storing failed, retrying", metadata: ["derivative": "\(derivative.name)", "try": "\(attempt)", "error": "\(error)"])
                    }) {
                        try await sink.store(
                            file: file, fileId: request.fileId, name: derivative.name,
                            fileExtension: file.pathExtension, contentType: derivative.contentType)
                    }
                    derivative.bucket = location.bucket
                    derivative.key = location.key
                } catch {
                    if Task.isCancelled { throw CancellationError() }
                    data.errors.append(ProcessingIssue(stage: derivative.name, code: .storeFailed, message: "\(error)", retryable: true))
                    continue
                }
            }
            data.derivatives.append(derivative)
        }
        if data.status != .failed, !data.errors.isEmpty {
            // Storage failures count like stage failures: nothing stored means nothing usable.
            data.status = data.derivatives.isEmpty && !prepared.outputs.isEmpty ? .failed : .partial
        }
        data.timings["total"] = started.duration(to: .now).milliseconds
        data.processedAt = Date()
        do {
            let manifest = try ManifestCoding.encoder(pretty: true).encode(data)
            _ = try await storeRetry.retrying(onRetry: { attempt, error in
                logger.notice("storing the manifest failed, retrying", metadata: ["try": "\(attempt)", "error": "\(error)"])
            }) { try await sink.storeManifest(manifest, fileId: request.fileId) }
        } catch {
            if Task.isCancelled { throw CancellationError() }
            data.errors.append(ProcessingIssue(stage: "manifest", code: .storeFailed, message: "\(error)", retryable: true))
            if data.status == .succeeded { data.status = .partial }
        }
        logger.info("processed", metadata: ["status": "\(data.status.rawValue)", "pipeline": "\(data.pipeline.name)", "ms": "\(data.timings["total"] ?? 0)"])
        return data
    }

    /// The pipeline the file's bytes (or the request's override) select, decided as
    /// `process` decides it; nil when the file would be rejected before any pipeline runs.
    public func selectedPipeline(for request: ProcessingRequest) -> PipelineDefinition? {
        guard case .run(let work) = Self.plan(request, pipelines: pipelines, work: scratchDirectory) else { return nil }
        return work.pipeline
    }

    private struct Prepared: Sendable {
        var data: ProcessedData
        var outputs: [ProducedOutput]
    }

    private enum Plan {
        case rejected(ProcessedData)
        case run(PipelineWork)
    }

    /// What can be decided from the file's size and first bytes: which pipeline, or why none.
    private static func plan(_ request: ProcessingRequest, pipelines: PipelineSet, work: URL) -> Plan {
        let size = (try? FileManager.default.attributesOfItem(atPath: request.file.path)[.size] as? NSNumber)?.int64Value ?? 0
        var source = SourceInfo(
            bucket: request.sourceBucket, key: request.sourceKey, size: size, mediaType: .other,
            contentType: "application/octet-stream", declaredContentType: request.declaredContentType, etag: request.etag)
        func rejected(_ failure: StageFailure, pipeline: PipelineReference = .none, warnings: [ProcessingIssue] = []) -> Plan {
            var data = ProcessedData.failed(
                fileId: request.fileId, ownerId: request.ownerId, albumId: request.albumId, source: source, pipeline: pipeline,
                failure.issue(stage: "intake"), attempt: request.attempt)
            data.warnings = warnings
            return .rejected(data)
        }

        let sniffed: SniffedType
        do {
            sniffed = try MediaSniffer.sniff(file: request.file)
        } catch {
            return rejected(StageFailure(.ioError, "cannot read the file: \(error.localizedDescription)", retryable: true))
        }
        source.mediaType = sniffed.mediaType
        source.contentType = sniffed.contentType
        var warnings: [ProcessingIssue] = []
        if let declared = request.declaredContentType, !ContentTypes.agree(declared: declared, sniffed: sniffed) {
            warnings.append(ProcessingIssue(
                stage: "intake", code: .contentTypeMismatch,
                message: "declared \(declared) but the bytes are \(sniffed.contentType)"))
        }
        if sniffed == .empty {
            return rejected(StageFailure(.emptyFile, "the file is empty (0 bytes)"), warnings: warnings)
        }
        let chosen: PipelineDefinition
        if let name = request.pipelineOverride {
            guard let pipeline = pipelines.named(name) else {
                return rejected(StageFailure(.unsupportedType, "no pipeline is named '\(name)'"))
            }
            chosen = pipeline
        } else {
            guard let pipeline = pipelines.matching(sniffed) else {
                return rejected(StageFailure(.unsupportedType, "no pipeline takes \(sniffed.contentType) (format '\(sniffed.format)')"), warnings: warnings)
            }
            chosen = pipeline
        }
        return .run(PipelineWork(file: request.file, size: size, sniffed: sniffed, pipeline: chosen, workDirectory: work, warnings: warnings, knownDigests: request.knownDigests))
    }

    /// The processed data of a run, with the uploader's checksum held against the bytes.
    private static func prepared(_ request: ProcessingRequest, work: PipelineWork, outcome: PipelineOutcome) -> Prepared {
        let source = SourceInfo(
            bucket: request.sourceBucket, key: request.sourceKey, size: work.size, mediaType: work.sniffed.mediaType,
            contentType: work.sniffed.contentType, declaredContentType: request.declaredContentType, etag: request.etag,
            sha256: outcome.sha256, md5: outcome.md5)
        var errors = outcome.errors
        var status = outcome.status
        var outputs = outcome.outputs
        if let expected = request.expectedSHA256?.lowercased(), let actual = outcome.sha256, expected != actual {
            // The bytes are not the ones the uploader sent: publish nothing made from them.
            errors.insert(StageFailure(.checksumMismatch, "the event promised sha256 \(expected) but the bytes hash to \(actual)").issue(stage: "checksum"), at: 0)
            status = .failed
            outputs = []
        }
        let data = ProcessedData(
            fileId: request.fileId, ownerId: request.ownerId, albumId: request.albumId, status: status,
            source: source, pipeline: work.pipeline.reference, metadata: outcome.metadata, errors: errors,
            warnings: outcome.warnings, timings: outcome.timings, attempt: request.attempt)
        return Prepared(data: data, outputs: outputs)
    }
}
