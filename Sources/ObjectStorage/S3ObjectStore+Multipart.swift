import Foundation
import Logging
import NIOHTTP1

extension S3ObjectStore {
    /// One uploaded part, as CompleteMultipartUpload wants it.
    struct UploadedPart: Sendable {
        var number: Int
        var etag: String
        /// The part's MD5, for the ETag check; `nil` when unknown (a copied part
        /// whose ETag is no plain MD5).
        var md5: [UInt8]?
    }

    /// Uploads a file in parts, several at once; any failure (or cancellation)
    /// aborts the upload so that no partial object and no orphaned parts remain.
    func putMultipart(bucket: String, key: String, file: String, size: Int64, options: PutOptions)
        async throws(ObjectStorageError) -> ObjectInfo
    {
        let uploadID = try await createMultipartUpload(bucket: bucket, key: key, options: options)
        do {
            let parts = try await transferParts(of: "\(bucket)/\(key)", size: size) {
                number, offset, length throws(ObjectStorageError) in
                try await self.uploadPart(
                    bucket: bucket, key: key, uploadID: uploadID, number: number, file: file, offset: offset,
                    length: length)
            }
            let etag = try await complete(bucket: bucket, key: key, uploadID: uploadID, parts: parts)
            return ObjectInfo(
                bucket: bucket, key: key, size: size, etag: etag, lastModified: Date(), contentType: options.contentType,
                cacheControl: options.cacheControl, metadata: options.normalizedMetadata)
        } catch {
            await abort(bucket: bucket, key: key, uploadID: uploadID)
            throw error
        }
    }

    /// Starts a multipart upload of an object with these headers.
    func createMultipartUpload(bucket: String, key: String, options: PutOptions) async throws(ObjectStorageError)
        -> String
    {
        let operation = "CreateMultipartUpload \(bucket)/\(key)"
        var create = S3Request(method: .POST, bucket: bucket, key: key, query: [.init("uploads", "")])
        create.headers = objectHeaders(options)
        let created = try await perform(operation, create)
        guard let uploadID = try S3XMLElement.parse(created.body).value("UploadId"), !uploadID.isEmpty else {
            throw ObjectStorageError(.unexpectedResponse, "\(operation): no UploadId", requestID: created.requestID)
        }
        return uploadID
    }

    /// Runs `transfer` for every part of an object of `size` bytes, several at once:
    /// `configuration.partSize`, raised so that no object needs more than 10,000.
    func transferParts(
        of object: String, size: Int64,
        _ transfer: @escaping @Sendable (_ number: Int, _ offset: Int64, _ length: Int64) async throws(ObjectStorageError)
            -> UploadedPart
    ) async throws(ObjectStorageError) -> [UploadedPart] {
        let partSize = max(configuration.partSize, (size + 9_999) / 10_000, 1)
        let partCount = Int((size + partSize - 1) / partSize)
        let concurrency = max(1, configuration.multipartConcurrency)
        do {
            return try await withThrowingTaskGroup(of: UploadedPart.self) { group in
                var next = 1
                func addPart(_ number: Int) {
                    let offset = Int64(number - 1) * partSize
                    let length = min(partSize, size - offset)
                    group.addTask { try await transfer(number, offset, length) }
                }
                while next <= min(concurrency, partCount) {
                    addPart(next)
                    next += 1
                }
                var parts: [UploadedPart] = []
                while let part = try await group.next() {
                    parts.append(part)
                    if next <= partCount {
                        addPart(next)
                        next += 1
                    }
                }
                return parts.sorted { $0.number < $1.number }
            }
        } catch {
            throw .wrap(error, "parts of \(object)")
        }
    }

    private func uploadPart(
        bucket: String, key: String, uploadID: String, number: Int, file: String, offset: Int64, length: Int64
    ) async throws(ObjectStorageError) -> UploadedPart {
        let operation = "UploadPart \(number) of \(bucket)/\(key)"
        let digest = try await PayloadDigest.ofFile(file, offset: offset, length: length)
        var request = S3Request(
            method: .PUT, bucket: bucket, key: key,
            query: [.init("partNumber", String(number)), .init("uploadId", uploadID)])
        request.headers.add(name: "content-md5", value: digest.md5Base64)
        request.body = .file(file, offset: offset, length: length, digest: digest)
        let response = try await perform(operation, request)
        guard let etag = ObjectInfo.normalizedETag(response.headers.first(name: "etag")) else {
            throw ObjectStorageError(.unexpectedResponse, "\(operation): no ETag", requestID: response.requestID)
        }
        try checkETag(etag, expected: digest.md5Hex, headers: response.headers, operation: operation)
        return UploadedPart(number: number, etag: etag, md5: digest.md5)
    }

    func complete(bucket: String, key: String, uploadID: String, parts: [UploadedPart])
        async throws(ObjectStorageError) -> String
    {
        let operation = "CompleteMultipartUpload \(bucket)/\(key)"
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for part in parts {
            xml += "<Part><PartNumber>\(part.number)</PartNumber><ETag>\"\(S3Encoding.xmlEscape(part.etag))\"</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        var request = S3Request(method: .POST, bucket: bucket, key: key, query: [.init("uploadId", uploadID)])
        request.headers.add(name: "content-type", value: "application/xml")
        request.body = .bytes(Array(xml.utf8))
        let (response, root) = try await performXML(operation, request)
        let etag = ObjectInfo.normalizedETag(root.value("ETag")) ?? ""
        let md5s = parts.compactMap(\.md5)
        guard md5s.count == parts.count else {
            guard !etag.isEmpty else {
                throw ObjectStorageError(.unexpectedResponse, "\(operation): no ETag", requestID: response.requestID)
            }
            return etag
        }
        let expected = PayloadDigest.multipartETag(partMD5s: md5s)
        try checkETag(etag, expected: expected, headers: response.headers, operation: operation)
        return etag.isEmpty ? expected : etag
    }

    /// Best effort, in its own task so that it also runs when ours was cancelled.
    func abort(bucket: String, key: String, uploadID: String) async {
        let request = S3Request(method: .DELETE, bucket: bucket, key: key, query: [.init("uploadId", uploadID)])
        let task = Task {
            do {
                try await self.perform("AbortMultipartUpload \(bucket)/\(key)", request)
            } catch {
                self.logger.warning(
                    "could not abort multipart upload",
                    metadata: ["bucket": "\(bucket)", "key": "\(key)", "uploadId": "\(uploadID)", "error": "\(error)"])
            }
        }
        await task.value
    }

    /// Multipart uploads started and neither completed nor aborted (for tests and cleanup).
    func pendingUploads(bucket: String) async throws(ObjectStorageError) -> [(key: String, uploadID: String)] {
        let response = try await perform(
            "ListMultipartUploads \(bucket)", S3Request(method: .GET, bucket: bucket, query: [.init("uploads", "")]))
        return try S3XMLElement.parse(response.body).children("Upload").compactMap { upload in
            guard let key = upload.value("Key"), let id = upload.value("UploadId") else { return nil }
            return (key, id)
        }
    }
}
