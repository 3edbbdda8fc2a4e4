import Events
import Foundation
import Logging
import MediaProcessing
import PipelineEngine

extension MediaDaemon {
    /// Records an outcome for one message: `media.processed` for each upload it holds,
    /// `media.deleted` for each deletion, or the message itself as a dead letter. Returns
    /// false only when no outcome could be recorded (shutdown cut it short): the message is
    /// then not settled, and is delivered again.
    func handle(_ message: InboundMessage) async -> Bool {
        var logger = logger
        logger[metadataKey: "topic"] = "\(message.source)"
        logger[metadataKey: "partition"] = "\(message.partition)"
        logger[metadataKey: "offset"] = "\(message.position)"

        let result: IntakeResult
        do {
            result = try intake.decode(value: message.value, headers: message.headers)
        } catch {
            return await deadLetter(message, code: error.code.rawValue, reason: error.message, logger: logger)
        }
        for reason in result.ignored {
            metrics.ignored()
            logger.debug("ignored", metadata: ["reason": "\(reason)"])
        }
        for event in result.events {
            guard let bucket = event.bucket ?? configuration.defaultBucket else {
                return await deadLetter(message, code: IntakeError.Code.missingField.rawValue, reason: "the event names no bucket and no defaultBucket is configured", logger: logger)
            }
            var jobLogger = logger
            jobLogger[metadataKey: "fileId"] = "\(event.fileId)"
            await fileLocks.lock(event.fileId)
            let started = ContinuousClock.now
            let finished = await runWithDeadline(Job(event, bucket: bucket, videoWeight: configuration.videoJobWeight), logger: jobLogger)
            let elapsed = started.duration(to: .now)
            fileLocks.unlock(event.fileId)
            guard let outcome = finished else { return false }
            guard await emit(outcome.data, logger: jobLogger) else {
                await jobs.abandoned(outcome)
                return false
            }
            await jobs.recorded(outcome)
            if outcome.reused { metrics.reused() }
            if outcome.reusedContent { metrics.contentReused() }
            let path = outcome.reused ? "manifest" : !outcome.reusedContent ? "processed" : outcome.bytesIn > 0 ? "content" : "content_promised"
            metrics.job(path, duration: elapsed)
            metrics.outcome(outcome.data.status.rawValue)
            metrics.bytes(in: outcome.bytesIn, out: outcome.bytesOut)
            if !outcome.reused {
                for (stage, milliseconds) in outcome.data.timings where stage != "total" && stage != "queued" {
                    metrics.stage(stage, milliseconds: milliseconds)
                }
            }
            jobLogger.info("processed", metadata: [
                "status": "\(outcome.data.status.rawValue)", "reused": "\(outcome.reused)",
                "errors": "\(outcome.data.errors.map(\.code))", "ms": "\(Int(outcome.data.timings["total"] ?? 0))",
            ])
        }
        for deletion in result.deletions {
            guard let bucket = configuration.derivativesBucket ?? deletion.bucket ?? configuration.defaultBucket else {
                return await deadLetter(message, code: IntakeError.Code.missingField.rawValue, reason: "the deletion names no bucket and no defaultBucket is configured", logger: logger)
            }
            var deletionLogger = logger
            deletionLogger[metadataKey: "fileId"] = "\(deletion.fileId)"
            guard await handle(deletion, bucket: bucket, logger: deletionLogger) else { return false }
        }
        return true
    }

    /// Runs a job under the per-job deadline. A job past it is reported failed (retryable),
    /// so one stuck file never holds its partition forever. Nil when cancelled by shutdown.
    private func runWithDeadline(_ job: Job, logger: Logger) async -> JobRunner.Outcome? {
        let jobs = jobs
        let timeout = configuration.jobTimeout
        return await withTaskGroup(of: JobRunner.Outcome?.self) { group in
            group.addTask {
                var jobs = jobs
                jobs.logger = logger
                return try? await jobs.run(job)
            }
            group.addTask {
                guard (try? await Task.sleep(for: timeout)) != nil else { return nil }
                let issue = StageFailure(.jobTimeout, "the job ran longer than \(timeout)", retryable: true).issue(stage: "job")
                return .failed(job, issue)
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// Produces `media.processed` and waits for the broker's acknowledgement, retrying while
    /// the broker is unreachable (nothing is committed before it is delivered).
    private func emit(_ data: ProcessedData, logger: Logger) async -> Bool {
        let event = ProcessedEvent(data: data, instance: configuration.instance, time: ManifestCoding.timestamp(Date()))
        guard let record = try? event.record(encoder: ManifestCoding.encoder()) else {
            logger.critical("cannot encode media.processed")
            return false
        }
        let outbound = OutboundRecord(key: record.key, value: record.value, headers: record.headers, eventType: event.type)
        return await deliver(outbound, to: .results, logger: logger)
    }

    private func deadLetter(_ message: InboundMessage, code: String, reason: String, logger: Logger) async -> Bool {
        let letter = DeadLetter(
            key: message.key, value: message.value, headers: message.headers, code: code,
            message: reason, topic: message.source, partition: message.partition, offset: message.position,
            failedAt: ManifestCoding.timestamp(Date()))
        logger.warning("dead-lettered", metadata: ["code": "\(code)", "reason": "\(reason)"])
        metrics.deadLettered(code: code)
        return await deliver(OutboundRecord(key: letter.key, value: letter.value, headers: letter.headers, eventType: nil), to: .deadLetters, logger: logger)
    }

    /// Publishes and waits for the broker's confirmation, retrying while the broker is
    /// unreachable: nothing is settled before its outcome is delivered.
    func deliver(_ record: OutboundRecord, to destination: OutboundDestination, logger: Logger) async -> Bool {
        var delay = Duration.milliseconds(200)
        while !Task.isCancelled {
            do {
                try await transport.publish(record, to: destination)
                return true
            } catch {
                // Not "topic": on a job's logger that names the message being answered.
                logger.warning("delivery failed; retrying", metadata: ["deliveringTo": "\(transport.address(of: destination))", "error": "\(error)"])
                guard (try? await Task.sleep(for: delay)) != nil else { return false }
                delay = min(delay * 2, .seconds(10))
            }
        }
        return false
    }
}
