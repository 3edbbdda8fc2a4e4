import Foundation

/// What deleting a file removed: the `data` of `media.deleted`. A repeated deletion, or one
/// of a file never processed, is answered the same way with nothing in `removed`.
public struct DeletionReport: Codable, Sendable, Equatable {
    public var fileId: String
    /// The original's bucket and key, when the deletion named them.
    public var bucket: String?
    public var key: String?
    /// `deleted` when every output is gone (also when there was none); `superseded` when a
    /// bucket notification's removal is older than the object now under its key (nothing
    /// removed: the new upload's outputs stay); `failed` when some outputs could not be
    /// removed (`errors` says which; a retry may succeed).
    public var status: Status
    /// Where the outputs were.
    public var derivativesBucket: String
    /// Every key removed: derivatives, the manifest, an attempt marker.
    public var removed: [String]
    public var bytesReclaimed: Int64
    /// The tombstone that stops a late job for the deleted version from recreating outputs.
    public var tombstone: String
    public var errors: [ProcessingIssue]
    public var deletedAt: Date

    public enum Status: String, Codable, Sendable {
        case deleted
        case superseded
        case failed
    }

    public init(
        fileId: String, bucket: String?, key: String?, status: Status, derivativesBucket: String, removed: [String],
        bytesReclaimed: Int64, tombstone: String, errors: [ProcessingIssue], deletedAt: Date
    ) {
        self.fileId = fileId
        self.bucket = bucket
        self.key = key
        self.status = status
        self.derivativesBucket = derivativesBucket
        self.removed = removed
        self.bytesReclaimed = bytesReclaimed
        self.tombstone = tombstone
        self.errors = errors
        self.deletedAt = deletedAt
    }
}
