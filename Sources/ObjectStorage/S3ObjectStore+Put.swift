import Foundation
import NIOHTTP1

extension S3ObjectStore {
    public func put(bucket: String, key: String, file: URL, options: PutOptions)
        async throws(ObjectStorageError) -> ObjectInfo
    {
        try options.validate()
        let size = try await BlockingIO.fileSize(file.path)
        if size > configuration.multipartThreshold {
            return try await putMultipart(bucket: bucket, key: key, file: file.path, size: size, options: options)
        }
        let digest = try await PayloadDigest.ofFile(file.path, offset: 0, length: size)
        return try await putObject(
            bucket: bucket, key: key, body: .file(file.path, offset: 0, length: size, digest: digest), options: options)
    }

    public func put(bucket: String, key: String, bytes: [UInt8], options: PutOptions)
        async throws(ObjectStorageError) -> ObjectInfo
    {
        try options.validate()
        return try await putObject(bucket: bucket, key: key, body: .bytes(bytes), options: options)
    }

    /// A single PUT with `Content-MD5` and a signed SHA-256 payload hash: S3 rejects
    /// the upload if either does not match, and the returned ETag is checked too.
    private func putObject(bucket: String, key: String, body: S3Body, options: PutOptions)
        async throws(ObjectStorageError) -> ObjectInfo
    {
        let operation = "PutObject \(bucket)/\(key)"
        var request = S3Request(method: .PUT, bucket: bucket, key: key)
        request.headers = objectHeaders(options)
        if let digest = body.digest {
            request.headers.add(name: "content-md5", value: digest.md5Base64)
        } else {
            request.headers.add(name: "content-md5", value: "1B2M2Y8AsgTpgAmY7PhCfg==")
        }
        request.body = body
        let response = try await perform(operation, request)
        let etag = ObjectInfo.normalizedETag(response.headers.first(name: "etag"))
        let expected = body.digest?.md5Hex ?? "d41d8cd98f00b204e9800998ecf8427e"
        try checkETag(etag, expected: expected, headers: response.headers, operation: operation)
        return ObjectInfo(
            bucket: bucket, key: key, size: body.length, etag: etag ?? expected, lastModified: Date(),
            contentType: options.contentType, cacheControl: options.cacheControl, metadata: options.normalizedMetadata)
    }

    /// The headers stored with an object.
    func objectHeaders(_ options: PutOptions) -> HTTPHeaders {
        var headers = HTTPHeaders()
        if let contentType = options.contentType { headers.add(name: "content-type", value: contentType) }
        if let cacheControl = options.cacheControl { headers.add(name: "cache-control", value: cacheControl) }
        for (name, value) in options.normalizedMetadata.sorted(by: { $0.key < $1.key }) {
            headers.add(name: "x-amz-meta-\(name)", value: value)
        }
        return headers
    }

    /// Fails when the server's ETag is a plain MD5 that differs from ours: the
    /// server stored other bytes than we sent.
    func checkETag(_ etag: String?, expected: String, headers: HTTPHeaders, operation: String) throws(ObjectStorageError) {
        guard let etag, headers.first(name: "x-amz-server-side-encryption") != "aws:kms",
            !headers.contains(name: "x-amz-server-side-encryption-customer-algorithm"),
            ObjectInfo.isPlainMD5(etag) || etag.contains("-")
        else { return }
        guard etag == expected else {
            throw ObjectStorageError(
                .integrity, "\(operation): server ETag \(etag) does not match \(expected)",
                requestID: headers.s3RequestID)
        }
    }
}
