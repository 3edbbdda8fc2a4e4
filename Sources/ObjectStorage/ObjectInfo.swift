import Foundation

/// What a store knows about one object, as returned by head, get, put and list
/// (list fills only size, ETag and last-modified, as S3 does).
public struct ObjectInfo: Sendable, Hashable {
    /// The bucket holding the object.
    public var bucket: String
    /// The object's key, exactly as stored.
    public var key: String
    /// Size in bytes.
    public var size: Int64
    /// The entity tag without quotes: the MD5 hex for single-part uploads,
    /// `md5-of-part-md5s-N` for multipart ones.
    public var etag: String?
    /// When the object was last written.
    public var lastModified: Date?
    /// The stored `Content-Type`.
    public var contentType: String?
    /// The stored `Cache-Control`.
    public var cacheControl: String?
    /// User metadata (`x-amz-meta-*`), keys lowercased and without the prefix.
    public var metadata: [String: String]
    /// SHA-256 of the bytes (hex), known after a download that hashed them as they streamed;
    /// nil from head, list and put.
    public var sha256: String?
    /// MD5 of the bytes (hex), known after a download that hashed them; nil otherwise.
    public var md5: String?

    /// Creates a description of an object.
    public init(
        bucket: String,
        key: String,
        size: Int64,
        etag: String? = nil,
        lastModified: Date? = nil,
        contentType: String? = nil,
        cacheControl: String? = nil,
        metadata: [String: String] = [:]
    ) {
        self.bucket = bucket
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
        self.contentType = contentType
        self.cacheControl = cacheControl
        self.metadata = metadata
    }
}

/// What the caller already knows about an object it downloads (from an event,
/// say), so that a changed or truncated object fails instead of being used.
public struct ObjectExpectation: Sendable, Hashable {
    /// The expected size in bytes.
    public var size: Int64?
    /// The expected ETag, with or without quotes.
    public var etag: String?

    /// Creates an expectation; `nil` fields are not checked.
    public init(size: Int64? = nil, etag: String? = nil) {
        self.size = size
        self.etag = etag
    }
}

/// One page of a listing, in UTF-8 binary key order like S3's ListObjectsV2.
public struct ObjectListPage: Sendable, Hashable {
    /// The objects on this page.
    public var objects: [ObjectInfo]
    /// Pass this to the next `listPage` call; `nil` on the last page.
    public var continuationToken: String?

    /// Creates a page.
    public init(objects: [ObjectInfo], continuationToken: String?) {
        self.objects = objects
        self.continuationToken = continuationToken
    }
}

extension ObjectInfo {
    /// Strips the quotes (and a weak `W/` prefix) HTTP puts around entity tags.
    static func normalizedETag(_ raw: String?) -> String? {
        guard var value = raw?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if value.hasPrefix("W/") { value.removeFirst(2) }
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
            value = String(value.dropFirst().dropLast())
        }
        return value
    }

    /// Whether an ETag is a plain MD5 of the content (single-part, not KMS-encrypted).
    static func isPlainMD5(_ etag: String) -> Bool {
        etag.utf8.count == 32 && etag.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}

extension ObjectExpectation {
    /// Throws when `info` is not the object expected: `.preconditionFailed` for
    /// another ETag, `sizeMismatch` (a download: `.integrity`) for another size.
    func check(_ info: ObjectInfo, sizeMismatch: ObjectStorageError.Code) throws(ObjectStorageError) {
        let name = "\(info.bucket)/\(info.key)"
        if let size, size != info.size {
            throw ObjectStorageError(sizeMismatch, "\(name) is \(info.size) bytes, expected \(size)")
        }
        if let expected = ObjectInfo.normalizedETag(etag), expected != info.etag {
            throw ObjectStorageError(.preconditionFailed, "\(name) has ETag \(info.etag ?? "-"), expected \(expected)")
        }
    }
}
