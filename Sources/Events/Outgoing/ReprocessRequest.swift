import Foundation

/// The `file.reprocess` CloudEvent that `mediad reprocess --publish` produces: the same `data`
/// as `file.uploaded`, so `serve` handles it like an upload, plus `force` for
/// `--all`. Kafka key = fileId, like every event about a file.
public struct ReprocessRequest: Sendable, Equatable {
    public var fileId: String
    public var bucket: String
    public var key: String
    public var size: Int64?
    public var etag: String?
    public var ownerId: String?
    public var albumId: String?
    public var pipeline: String?
    /// Recompute even when the manifest is current.
    public var force: Bool

    public init(fileId: String, bucket: String, key: String, size: Int64? = nil, etag: String? = nil, ownerId: String? = nil, albumId: String? = nil, pipeline: String? = nil, force: Bool = false) {
        self.fileId = fileId
        self.bucket = bucket
        self.key = key
        self.size = size
        self.etag = etag
        self.ownerId = ownerId
        self.albumId = albumId
        self.pipeline = pipeline
        self.force = force
    }

    /// The Kafka record: key, structured-mode CloudEvent body, content-type header.
    public func record(source: String, time: String) throws -> (key: [UInt8], value: [UInt8], headers: [(String, [UInt8]?)]) {
        var data: [String: Any] = ["fileId": fileId, "bucket": bucket, "key": key]
        if let size { data["size"] = size }
        if let etag { data["etag"] = etag }
        if let ownerId { data["ownerId"] = ownerId }
        if let albumId { data["albumId"] = albumId }
        if let pipeline { data["pipeline"] = pipeline }
        if force { data["force"] = true }
        let event: [String: Any] = [
            "specversion": "1.0", "id": UUID().uuidString.lowercased(), "source": source, "type": UploadEvent.reprocessType,
            "subject": fileId, "time": time, "datacontenttype": "application/json", "data": data,
        ]
        let body = try JSONSerialization.data(withJSONObject: event, options: [.sortedKeys, .withoutEscapingSlashes])
        return (Array(fileId.utf8), Array(body), [("content-type", Array("application/cloudevents+json; charset=utf-8".utf8))])
    }
}
