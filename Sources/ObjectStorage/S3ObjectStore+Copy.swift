import Foundation
import NIOHTTP1

extension S3ObjectStore {
    /// CopyObject, or a multipart upload of UploadPartCopy parts above
    /// `configuration.copyMultipartThreshold` (CopyObject stops at 5 GiB).
    ///
    /// A HEAD of the source comes first: CopyObject's answer has no size, and its ETag
    /// pins the copy (`x-amz-copy-source-if-match`) to the version that HEAD described.
    /// When the source changes in between, and the caller expected no ETag, the copy
    /// starts again from a new HEAD.
    public func copy(
        from source: ObjectAddress, to bucket: String, key: String, options: PutOptions?, expecting: ObjectExpectation?
    ) async throws(ObjectStorageError) -> ObjectInfo {
        try options?.validate()
        var attempt = 1
        while true {
            do {
                return try await copyOnce(from: source, to: bucket, key: key, options: options, expecting: expecting)
            } catch where error.httpStatus == 412 && expecting?.etag == nil && attempt < 3 {
                attempt += 1
            }
        }
    }

    private func copyOnce(
        from source: ObjectAddress, to bucket: String, key: String, options: PutOptions?, expecting: ObjectExpectation?
    ) async throws(ObjectStorageError) -> ObjectInfo {
        let head = try await head(bucket: source.bucket, key: source.key)
        try expecting?.check(head, sizeMismatch: .preconditionFailed)
        let stored = options ?? PutOptions(
            contentType: head.contentType, cacheControl: head.cacheControl, metadata: head.metadata)
        var copySource = HTTPHeaders()
        copySource.add(name: "x-amz-copy-source", value: S3Encoding.copySource(bucket: source.bucket, key: source.key))
        if let etag = head.etag {
            copySource.add(name: "x-amz-copy-source-if-match", value: "\"\(etag)\"")
        }

        let etag: String
        let lastModified: Date?
        if head.size > configuration.copyMultipartThreshold {
            etag = try await copyMultipart(
                copySource, size: head.size, from: source, to: bucket, key: key, options: stored)
            lastModified = Date()
        } else {
            // S3 refuses to copy an object onto itself unchanged: rewriting its own
            // headers (REPLACE) makes that the no-op it is on the local store.
            let replace = options != nil || (source.bucket == bucket && source.key == key)
            var request = S3Request(method: .PUT, bucket: bucket, key: key)
            request.headers = replace ? objectHeaders(stored) : HTTPHeaders()
            request.headers.add(contentsOf: copySource)
            request.headers.add(name: "x-amz-metadata-directive", value: replace ? "REPLACE" : "COPY")
            let operation = "CopyObject \(source) to \(bucket)/\(key)"
            let (response, root) = try await performXML(operation, request)
            guard root.name == "CopyObjectResult", let copied = ObjectInfo.normalizedETag(root.value("ETag")) else {
                throw ObjectStorageError(
                    .unexpectedResponse, "\(operation): got <\(root.name)> without an ETag", requestID: response.requestID)
            }
            etag = copied
            lastModified = root.value("LastModified").flatMap(HTTPDate.parseISO8601) ?? Date()
        }
        return ObjectInfo(
            bucket: bucket, key: key, size: head.size, etag: etag, lastModified: lastModified,
            contentType: stored.contentType, cacheControl: stored.cacheControl, metadata: stored.normalizedMetadata)
    }

    /// A multipart upload whose parts are byte ranges of the source, copied
    /// server-side; aborted on any failure, like an upload.
    private func copyMultipart(
        _ copySource: HTTPHeaders, size: Int64, from source: ObjectAddress, to bucket: String, key: String,
        options: PutOptions
    ) async throws(ObjectStorageError) -> String {
        let uploadID = try await createMultipartUpload(bucket: bucket, key: key, options: options)
        do {
            let parts = try await transferParts(of: "\(bucket)/\(key)", size: size) {
                number, offset, length throws(ObjectStorageError) in
                let operation = "UploadPartCopy \(number) of \(source) to \(bucket)/\(key)"
                var request = S3Request(
                    method: .PUT, bucket: bucket, key: key,
                    query: [.init("partNumber", String(number)), .init("uploadId", uploadID)])
                request.headers = copySource
                request.headers.add(name: "x-amz-copy-source-range", value: "bytes=\(offset)-\(offset + length - 1)")
                let (response, root) = try await self.performXML(operation, request)
                guard root.name == "CopyPartResult", let etag = ObjectInfo.normalizedETag(root.value("ETag")) else {
                    throw ObjectStorageError(
                        .unexpectedResponse, "\(operation): got <\(root.name)> without an ETag",
                        requestID: response.requestID)
                }
                let md5 = ObjectInfo.isPlainMD5(etag) ? S3Encoding.bytes(hex: etag) : nil
                return UploadedPart(number: number, etag: etag, md5: md5)
            }
            return try await complete(bucket: bucket, key: key, uploadID: uploadID, parts: parts)
        } catch {
            await abort(bucket: bucket, key: key, uploadID: uploadID)
            throw error
        }
    }
}
