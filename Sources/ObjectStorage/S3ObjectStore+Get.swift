import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

extension S3ObjectStore {
    public func get(bucket: String, key: String, to file: URL, expecting: ObjectExpectation?)
        async throws(ObjectStorageError) -> ObjectInfo
    {
        let operation = "GetObject \(bucket)/\(key)"
        let temporary = file.deletingLastPathComponent()
            .appendingPathComponent(".\(file.lastPathComponent).\(UUID().uuidString).part").path
        let download = try await Download(path: temporary)
        do {
            let info = try await withRetries(operation) { _ throws(ObjectStorageError) in
                try await getAttempt(bucket: bucket, key: key, expecting: expecting, into: download, operation: operation)
            }
            try await BlockingIO.rename(temporary, to: file.path)
            return info
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    /// One GET: from byte 0, or resuming with `Range` + `If-Match` after a
    /// connection broke mid-body, so that a retry never downloads twice.
    private func getAttempt(
        bucket: String, key: String, expecting: ObjectExpectation?, into download: Download, operation: String
    ) async throws(ObjectStorageError) -> ObjectInfo {
        var request = S3Request(method: .GET, bucket: bucket, key: key)
        let resumeFrom = download.sink.count
        if let etag = download.etag ?? expecting?.etag.flatMap({ ObjectInfo.normalizedETag($0) }) {
            request.headers.add(name: "if-match", value: "\"\(etag)\"")
        }
        if resumeFrom > 0 {
            request.headers.add(name: "range", value: "bytes=\(resumeFrom)-")
        }
        let response = try await send(request, operation: operation)
        var info = objectInfo(bucket: bucket, key: key, headers: response.headers, size: nil)
        if response.status == .partialContent {
            guard let range = Self.contentRange(response.headers.first(name: "content-range")), range.start == resumeFrom
            else {
                throw ObjectStorageError(.unexpectedResponse, "\(operation): unexpected Content-Range when resuming")
            }
            info.size = range.total
        } else if resumeFrom > 0 {
            try await download.restart()
        }
        if let expected = expecting?.size, expected != info.size {
            throw ObjectStorageError(
                .integrity, "\(operation): size is \(info.size) bytes, expected \(expected)",
                requestID: response.headers.s3RequestID)
        }
        download.etag = info.etag

        do {
            for try await buffer in response.body {
                download.md5.update(data: buffer.readableBytesView)
                download.sha256.update(data: buffer.readableBytesView)
                try await download.sink.write(buffer)
            }
            try await download.sink.finish()
        } catch {
            // The bytes received so far stay: the next attempt resumes after them.
            throw .wrap(error, operation)
        }
        try await verify(download, info: info, headers: response.headers, operation: operation)
        info.sha256 = S3Encoding.hex(download.sha256.finalize())
        info.md5 = S3Encoding.hex(download.md5.finalize())
        return info
    }

    private func verify(_ download: Download, info: ObjectInfo, headers: HTTPHeaders, operation: String)
        async throws(ObjectStorageError)
    {
        let requestID = headers.s3RequestID
        guard download.sink.count == info.size else {
            let received = download.sink.count
            try await download.restart()
            throw ObjectStorageError(
                .network, "\(operation): received \(received) of \(info.size) bytes", requestID: requestID,
                isRetryable: true)
        }
        let encrypted = headers.first(name: "x-amz-server-side-encryption") == "aws:kms"
            || headers.contains(name: "x-amz-server-side-encryption-customer-algorithm")
        if let etag = info.etag, ObjectInfo.isPlainMD5(etag), !encrypted {
            let actual = S3Encoding.hex(download.md5.finalize())
            guard actual == etag else {
                try await download.restart()
                throw ObjectStorageError(
                    .integrity, "\(operation): MD5 \(actual) does not match ETag \(etag)", requestID: requestID,
                    isRetryable: true)
            }
        }
    }

    /// Parses `bytes START-END/TOTAL`.
    static func contentRange(_ value: String?) -> (start: Int64, total: Int64)? {
        guard let value, value.hasPrefix("bytes ") else { return nil }
        let parts = value.dropFirst(6).split(separator: "/")
        guard parts.count == 2, let total = Int64(parts[1]),
            let start = parts[0].split(separator: "-").first.flatMap({ Int64($0) })
        else { return nil }
        return (start, total)
    }
}

/// The state one download keeps across retries.
private final class Download {
    let sink: FileSink
    var md5 = Insecure.MD5()
    /// The content digest callers may key on (identical uploads), hashed in the same pass.
    var sha256 = SHA256()
    var etag: String?

    init(path: String) async throws(ObjectStorageError) {
        sink = try await FileSink(path: path)
    }

    func restart() async throws(ObjectStorageError) {
        try await sink.truncate()
        md5 = Insecure.MD5()
        sha256 = SHA256()
    }
}
