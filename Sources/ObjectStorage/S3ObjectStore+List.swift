import NIOHTTP1
import Foundation

extension S3ObjectStore {
    /// ListObjectsV2, asking for URL-encoded keys so that any key (control
    /// characters included) survives the XML.
    public func listPage(
        bucket: String, prefix: String?, startAfter: String?, continuationToken: String?, maxKeys: Int?
    ) async throws(ObjectStorageError) -> ObjectListPage {
        var query: [SigV4Signer.QueryItem] = [.init("list-type", "2"), .init("encoding-type", "url")]
        if let prefix, !prefix.isEmpty { query.append(.init("prefix", prefix)) }
        if let startAfter, !startAfter.isEmpty { query.append(.init("start-after", startAfter)) }
        if let continuationToken { query.append(.init("continuation-token", continuationToken)) }
        if let maxKeys { query.append(.init("max-keys", String(maxKeys))) }
        let operation = "ListObjectsV2 \(bucket)"
        let response = try await perform(operation, S3Request(method: .GET, bucket: bucket, query: query))
        let root = try S3XMLElement.parse(response.body)
        guard root.name == "ListBucketResult" else {
            throw ObjectStorageError(.unexpectedResponse, "\(operation): got <\(root.name)>", requestID: response.requestID)
        }
        let urlEncoded = root.value("EncodingType") == "url"
        let objects = try root.children("Contents").map { entry throws(ObjectStorageError) in
            guard let rawKey = entry.value("Key") else {
                throw ObjectStorageError(.unexpectedResponse, "\(operation): entry without Key", requestID: response.requestID)
            }
            return ObjectInfo(
                bucket: bucket,
                key: urlEncoded ? S3Encoding.percentDecode(rawKey, plusIsSpace: true) : rawKey,
                size: entry.value("Size").flatMap { Int64($0) } ?? 0,
                etag: ObjectInfo.normalizedETag(entry.value("ETag")),
                lastModified: entry.value("LastModified").flatMap(HTTPDate.parseISO8601))
        }
        let truncated = root.value("IsTruncated") == "true"
        let token = root.value("NextContinuationToken").flatMap { $0.isEmpty ? nil : $0 }
        if truncated && token == nil {
            throw ObjectStorageError(
                .unexpectedResponse, "\(operation): truncated listing without a continuation token",
                requestID: response.requestID)
        }
        return ObjectListPage(objects: objects, continuationToken: truncated ? token : nil)
    }
}
