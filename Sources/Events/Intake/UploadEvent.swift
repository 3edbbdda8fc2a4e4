/// A `file.uploaded` fact, whichever of the accepted encodings it arrived in (`schemas/file.uploaded.data.schema.json`).
public struct UploadEvent: Sendable, Equatable {
    /// The CloudEvent type of backfill work published by `mediad reprocess --publish`.
    public static let reprocessType = "file.reprocess"

    public enum Encoding: String, Sendable {
        case cloudEventStructured = "cloudevents-structured"
        case cloudEventBinary = "cloudevents-binary"
        case s3Notification = "s3-notification"
        case cloudEventS3 = "cloudevents-s3"
    }

    public var fileId: String
    /// Nil when the event names none: the daemon's default source bucket applies.
    public var bucket: String?
    public var key: String
    public var size: Int64?
    /// The uploader's claim; only compared with the sniffed type.
    public var contentType: String?
    public var etag: String?
    /// When present, the downloaded bytes must hash to it.
    public var sha256: String?
    public var ownerId: String?
    public var albumId: String?
    /// A pipeline to use instead of the one the sniffed type selects.
    public var pipeline: String?
    /// Recompute even when a manifest already describes this source (`mediad reprocess --all`).
    public var force: Bool
    public var encoding: Encoding
    /// The CloudEvent id or S3 sequencer, for logs and de-duplication.
    public var eventId: String?
    /// The S3 `sequencer` of the upload: orders it against a removal of the same key.
    public var sequencer: String?

    public init(
        fileId: String, bucket: String?, key: String, size: Int64? = nil, contentType: String? = nil, etag: String? = nil,
        sha256: String? = nil, ownerId: String? = nil, albumId: String? = nil, pipeline: String? = nil,
        force: Bool = false, encoding: Encoding, eventId: String? = nil, sequencer: String? = nil
    ) {
        self.fileId = fileId
        self.bucket = bucket
        self.key = key
        self.size = size
        self.contentType = contentType
        self.etag = etag
        self.sha256 = sha256
        self.ownerId = ownerId
        self.albumId = albumId
        self.pipeline = pipeline
        self.force = force
        self.encoding = encoding
        self.eventId = eventId
        self.sequencer = sequencer
    }
}

/// Why a message cannot be processed. It goes to the dead-letter topic with this code and message.
public struct IntakeError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The body is not JSON (or not UTF-8).
        public static let malformedJSON = Code(rawValue: "malformed_json")
        /// JSON, but none of the accepted encodings.
        public static let unknownFormat = Code(rawValue: "unknown_format")
        /// A CloudEvent or S3 event of a type mediad does not handle.
        public static let unsupportedEventType = Code(rawValue: "unsupported_event_type")
        /// A required field is absent.
        public static let missingField = Code(rawValue: "missing_field")
        /// A field has the wrong JSON type or an invalid value.
        public static let invalidField = Code(rawValue: "invalid_field")
        /// The bucket is not in the allow-list.
        public static let bucketNotAllowed = Code(rawValue: "bucket_not_allowed")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

/// What one Kafka message holds: upload events, deletions, and records deliberately skipped
/// (with why).
public struct IntakeResult: Sendable, Equatable {
    public var events: [UploadEvent]
    public var deletions: [DeleteEvent]
    /// Records that are fine but not for mediad: its own derivatives, S3 test events.
    public var ignored: [String]

    public init(events: [UploadEvent] = [], deletions: [DeleteEvent] = [], ignored: [String] = []) {
        self.events = events
        self.deletions = deletions
        self.ignored = ignored
    }
}

extension UploadEvent {
    /// The id mediad gives an object announced without one (S3 notifications, reprocess by
    /// key): the same bucket and key always get the same id, so its manifest is found again.
    public static func stableFileId(bucket: String, key: String) -> String {
        S3Notification.stableFileId(bucket: bucket, key: key)
    }
}
