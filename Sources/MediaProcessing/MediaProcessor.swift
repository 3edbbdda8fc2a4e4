import Foundation
import Logging
import PipelineEngine

/// Runs the right pipeline on a local file and stores what it made: the one code path
/// behind `mediad process`, `reprocess` and the daemon.
public struct MediaProcessor: Sendable {
    public let pipelines: PipelineSet
    public let runner: PipelineRunner
    public let pool: WorkerPool
    public var logger: Logger
    /// Where each job's private scratch directory is made.
    public var scratchDirectory: URL

    public init(pipelines: PipelineSet, registry: StageRegistry, pool: WorkerPool, logger: Logger, scratchDirectory: URL? = nil) {
        self.pipelines = pipelines
        self.runner = PipelineRunner(registry: registry)
        self.pool = pool
        self.logger = logger
        self.scratchDirectory = scratchDirectory ?? FileManager.default.temporaryDirectory
    }

    /// Processes one file and stores its derivatives and manifest in `sink`.
    ///
    /// Never throws for bad input: every failure ends up in the returned data's `errors`.
    /// - Throws: `CancellationError` only, when the task is cancelled while waiting for a worker.
    public func process(_ request: ProcessingRequest, sink: any DerivativeSink) async throws -> ProcessedData {
        let queued = ContinuousClock.now
        let work = scratchDirectory.appendingPathComponent("mediad-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }

        var logger = logger
        logger[metadataKey: "fileId"] = "\(request.fileId)"
        let pipelines = pipelines
        let runner = runner
        let jobLogger = logger
        let (prepared, started) = try await pool.run(weight: request.weight) { () -> (Prepared, ContinuousClock.Instant) in
            let started = ContinuousClock.now
            return (Self.prepare(request, pipelines: pipelines, runner: runner, work: work, logger: jobLogger), started)
        }
        var data = prepared.data
        // Time spent waiting for a worker is reported apart from the work itself.
        data.timings["queued"] = queued.duration(to: started).milliseconds
        for output in prepared.outputs {
            var derivative = output.derivative
            if let file = output.file {
                do {
                    let location = try await sink.store(
                        file: file, fileId: request.fileId, name: derivative.name,
                        fileExtension: file.pathExtension, contentType: derivative.contentType)
                    derivative.bucket = location.bucket
                    derivative.key = location.key
                } catch {
                    data.errors.append(ProcessingIssue(stage: derivative.name, code: "store_failed", message: "\(error)", retryable: true))
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
            _ = try await sink.storeManifest(try ManifestCoding.encoder(pretty: true).encode(data), fileId: request.fileId)
        } catch {
            data.errors.append(ProcessingIssue(stage: "manifest", code: "store_failed", message: "\(error)", retryable: true))
            if data.status == .succeeded { data.status = .partial }
        }
        logger.info("processed", metadata: ["status": "\(data.status.rawValue)", "pipeline": "\(data.pipeline.name)", "ms": "\(data.timings["total"] ?? 0)"])
        return data
    }

    private struct Prepared: Sendable {
        var data: ProcessedData
        var outputs: [ProducedOutput]
    }

    /// Everything that touches the file's bytes, on a worker thread: sniff, choose, run.
    private static func prepare(_ request: ProcessingRequest, pipelines: PipelineSet, runner: PipelineRunner, work: URL, logger: Logger) -> Prepared {
        let size = (try? FileManager.default.attributesOfItem(atPath: request.file.path)[.size] as? NSNumber)?.int64Value ?? 0
        var source = SourceInfo(
            bucket: request.sourceBucket, key: request.sourceKey, size: size, mediaType: .other,
            contentType: "application/octet-stream", declaredContentType: request.declaredContentType, etag: request.etag)
        func rejected(_ failure: StageFailure, pipeline: PipelineReference = PipelineReference(name: "none", version: 0)) -> Prepared {
            Prepared(
                data: ProcessedData(
                    fileId: request.fileId, ownerId: request.ownerId, albumId: request.albumId, status: .failed,
                    source: source, pipeline: pipeline, errors: [failure.issue(stage: "intake")], attempt: request.attempt),
                outputs: [])
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
                stage: "intake", code: "content_type_mismatch",
                message: "declared \(declared) but the bytes are \(sniffed.contentType)"))
        }
        if sniffed == .empty {
            var prepared = rejected(StageFailure(.emptyFile, "the file is empty (0 bytes)"))
            prepared.data.warnings = warnings
            return prepared
        }
        let chosen: PipelineDefinition
        if let name = request.pipelineOverride {
            guard let pipeline = pipelines.named(name) else {
                return rejected(StageFailure(.unsupportedType, "no pipeline is named '\(name)'"))
            }
            chosen = pipeline
        } else {
            guard let pipeline = pipelines.matching(sniffed) else {
                var prepared = rejected(StageFailure(.unsupportedType, "no pipeline takes \(sniffed.contentType) (format '\(sniffed.format)')"))
                prepared.data.warnings = warnings
                return prepared
            }
            chosen = pipeline
        }

        do {
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        } catch {
            return rejected(StageFailure(.ioError, "cannot create a scratch directory: \(error.localizedDescription)", retryable: true), pipeline: chosen.reference)
        }
        let job = JobContext(file: request.file, size: size, sniffed: sniffed, pipeline: chosen, workDirectory: work, logger: logger)
        job.warnings = warnings
        let outcome = runner.run(job)
        source.sha256 = outcome.sha256
        source.md5 = outcome.md5
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
            source: source, pipeline: chosen.reference, metadata: outcome.metadata, errors: errors,
            warnings: outcome.warnings, timings: outcome.timings, attempt: request.attempt)
        return Prepared(data: data, outputs: outputs)
    }
}
