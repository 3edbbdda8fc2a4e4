import Events
import Foundation
import Logging
import MediaProcessing
import PipelineEngine

extension MediaDaemon {
    /// Deletes a file's outputs under its lock (an upload job of the same file runs before or
    /// after, never beside it) and emits `media.deleted`. False when no outcome could be
    /// recorded (shutdown): the message is delivered again.
    func handle(_ event: DeleteEvent, bucket: String, logger: Logger) async -> Bool {
        let request = FileDeletion.Request(
            fileId: event.fileId, bucket: event.bucket ?? configuration.defaultBucket, key: event.key, etag: event.etag,
            sequencer: event.sequencer, originalRemoved: event.encoding == .s3Notification || event.encoding == .cloudEventS3)
        await fileLocks.lock(event.fileId)
        let report = try? await deletion.run(request, defaultBucket: bucket)
        fileLocks.unlock(event.fileId)
        guard let report else { return false }
        let record: (key: [UInt8], value: [UInt8], headers: [(String, [UInt8]?)])
        do {
            record = try DeletedEvent(data: report, instance: configuration.instance, time: ManifestCoding.timestamp(Date()))
                .record(encoder: ManifestCoding.encoder())
        } catch {
            logger.critical("cannot encode media.deleted")
            return false
        }
        guard await deliver(OutboundRecord(key: record.key, value: record.value, headers: record.headers, eventType: DeletedEvent.type), to: .results, logger: logger) else {
            return false
        }
        metrics.deletion(report.status.rawValue, bytesReclaimed: report.bytesReclaimed)
        logger.info("deleted", metadata: [
            "status": "\(report.status.rawValue)", "removed": "\(report.removed.count)", "bytes": "\(report.bytesReclaimed)",
            "errors": "\(report.errors.map(\.code))",
        ])
        return true
    }

    /// Deletions use the jobs' store, layout and retry policy.
    var deletion: FileDeletion {
        FileDeletion(
            store: jobs.store, layout: DerivativeLayout(template: jobs.settings.keyTemplate), derivativesBucket: jobs.settings.derivativesBucket,
            retry: jobs.retryPolicy, instance: configuration.instance, logger: logger)
    }
}
