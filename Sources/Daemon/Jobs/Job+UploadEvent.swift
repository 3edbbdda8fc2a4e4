import Events
import MediaProcessing

extension Job {
    /// The job an upload (or `file.reprocess`) event asks for; `bucket` is the event's, or
    /// the daemon's default when it names none.
    public init(_ event: UploadEvent, bucket: String, videoWeight: Int) {
        self.init(
            fileId: event.fileId, bucket: bucket, key: event.key, size: event.size, etag: event.etag, sha256: event.sha256,
            contentType: event.contentType, ownerId: event.ownerId, albumId: event.albumId, pipeline: event.pipeline,
            sequencer: event.sequencer, force: event.force, videoWeight: videoWeight)
    }
}
