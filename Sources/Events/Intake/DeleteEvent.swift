/// A `file.deleted` fact: a file service's CloudEvent, or an S3/MinIO `s3:ObjectRemoved:*`
/// record. Its file's outputs and manifest go, and a tombstone keeps late jobs for the
/// deleted version from bringing them back.
public struct DeleteEvent: Sendable, Equatable {
    /// The CloudEvent `type` of a deletion from a file service.
    public static let deletedType = "file.deleted"

    public var fileId: String
    /// The original's bucket and key, when the event names them.
    public var bucket: String?
    public var key: String?
    /// The deleted version's ETag, when known.
    public var etag: String?
    /// The S3 `sequencer` of the removal: a later upload of the same key has a greater one.
    public var sequencer: String?
    public var encoding: UploadEvent.Encoding
    /// The CloudEvent id, for logs.
    public var eventId: String?

    public init(
        fileId: String, bucket: String?, key: String?, etag: String? = nil, sequencer: String? = nil,
        encoding: UploadEvent.Encoding, eventId: String? = nil
    ) {
        self.fileId = fileId
        self.bucket = bucket
        self.key = key
        self.etag = etag
        self.sequencer = sequencer
        self.encoding = encoding
        self.eventId = eventId
    }
}
