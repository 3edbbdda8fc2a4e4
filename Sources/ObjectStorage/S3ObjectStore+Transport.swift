import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// One S3 call before signing: which resource, which sub-resource, which body.
struct S3Request: Sendable {
    var method: HTTPMethod
    var bucket: String?
    var key: String?
    var query: [SigV4Signer.QueryItem] = []
    var headers = HTTPHeaders()
    var body = S3Body.empty

    init(method: HTTPMethod, bucket: String?, key: String? = nil, query: [SigV4Signer.QueryItem] = []) {
        self.method = method
        self.bucket = bucket
        self.key = key
        self.query = query
    }
}

/// A request body that can be sent again on every retry.
struct S3Body: Sendable {
    enum Source: Sendable {
        case none
        case buffer(ByteBuffer)
        case file(path: String, offset: Int64)
    }

    var source: Source
    var length: Int64
    var digest: PayloadDigest?

    static let empty = S3Body(source: .none, length: 0, digest: nil)

    static func bytes(_ bytes: [UInt8]) -> S3Body {
        S3Body(source: .buffer(ByteBuffer(bytes: bytes)), length: Int64(bytes.count), digest: PayloadDigest(of: bytes))
    }

    static func file(_ path: String, offset: Int64, length: Int64, digest: PayloadDigest) -> S3Body {
        S3Body(source: .file(path: path, offset: offset), length: length, digest: digest)
    }

    var payloadHash: String { digest?.sha256Hex ?? PayloadDigest.emptySHA256Hex }

    func httpBody() -> HTTPClientRequest.Body? {
        switch source {
        case .none: return nil
        case .buffer(let buffer): return .bytes(buffer)
        case .file(let path, let offset):
            return .stream(FileChunks(path: path, offset: offset, length: length), length: .known(length))
        }
    }
}

/// A complete (small) answer: listings, multipart results, heads.
struct S3Response: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: Data

    var contentLength: Int64? { headers.first(name: "content-length").flatMap { Int64($0) } }
    var requestID: String? { headers.s3RequestID }
}

extension S3ObjectStore {
    /// Sends one attempt: resolves the URL, signs, and turns error statuses into
    /// errors. On success the response body is left for the caller to stream.
    func send(_ request: S3Request, operation: String) async throws(ObjectStorageError) -> HTTPClientResponse {
        let target = endpoint.target(bucket: request.bucket, key: request.key)
        var headers = request.headers
        headers.replaceOrAdd(name: "host", value: target.hostHeader)
        if let signer {
            var signable = SigV4Signer.Request(
                method: request.method.rawValue, path: target.path, query: request.query, headers: headers,
                payloadHash: request.body.payloadHash)
            signer.sign(&signable, date: Date())
            headers = signable.headers
        }
        let query = request.query.isEmpty ? "" : "?" + Self.encodedQuery(request.query)
        var httpRequest = HTTPClientRequest(url: target.origin + target.path + query)
        httpRequest.method = request.method
        httpRequest.headers = headers
        httpRequest.body = request.body.httpBody()
        if request.body.length == 0, request.method == .PUT || request.method == .POST {
            httpRequest.body = .bytes(ByteBuffer())
        }

        let response: HTTPClientResponse
        do {
            response = try await httpClient.execute(httpRequest, deadline: .distantFuture, logger: logger)
        } catch {
            throw .wrap(error, operation)
        }
        guard !(200..<300).contains(response.status.code) else { return response }
        let body = (try? await response.body.collect(upTo: 1 << 20)) ?? ByteBuffer()
        var plainHeaders: [String: String] = [:]
        for (name, value) in response.headers { plainHeaders[name.lowercased()] = value }
        throw S3ErrorMapping.error(
            status: Int(response.status.code), body: Data(buffer: body),
            requestID: response.headers.s3RequestID, operation: operation, headers: plainHeaders)
    }

    /// Runs `body` until it succeeds, fails for good, or runs out of attempts,
    /// sleeping with backoff and jitter between attempts.
    func withRetries<T>(
        _ operation: String, _ body: (_ attempt: Int) async throws(ObjectStorageError) -> T
    ) async throws(ObjectStorageError) -> T {
        var attempt = 1
        while true {
            do {
                return try await body(attempt)
            } catch {
                guard error.isRetryable, attempt < configuration.retry.maxAttempts, !Task.isCancelled else {
                    throw error
                }
                let delay = configuration.retry.delay(afterAttempt: attempt)
                logger.debug(
                    "retrying S3 request",
                    metadata: [
                        "operation": "\(operation)", "attempt": "\(attempt)", "error": "\(error)",
                        "delay": "\(delay)",
                    ])
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    throw ObjectStorageError(.cancelled, "\(operation): cancelled while waiting to retry")
                }
                attempt += 1
            }
        }
    }

    /// Sends a request with retries and reads its whole (small) answer.
    @discardableResult
    func perform(_ operation: String, _ request: S3Request) async throws(ObjectStorageError) -> S3Response {
        try await withRetries(operation) { _ throws(ObjectStorageError) in
            try await performOnce(operation, request)
        }
    }

    /// One attempt of a request whose XML answer may be an `<Error>` despite a 200:
    /// CopyObject, UploadPartCopy and CompleteMultipartUpload answer before they are
    /// done, so a failure can only come in the body. It is mapped (and retried) like
    /// a 500 with that body.
    func performXMLOnce(_ operation: String, _ request: S3Request) async throws(ObjectStorageError)
        -> (response: S3Response, root: S3XMLElement)
    {
        let response = try await performOnce(operation, request)
        let root = try S3XMLElement.parse(response.body)
        if root.name == "Error" {
            throw S3ErrorMapping.error(status: 500, body: response.body, requestID: response.requestID, operation: operation)
        }
        return (response, root)
    }

    /// `performXMLOnce` with retries.
    func performXML(_ operation: String, _ request: S3Request) async throws(ObjectStorageError)
        -> (response: S3Response, root: S3XMLElement)
    {
        try await withRetries(operation) { _ throws(ObjectStorageError) in
            try await performXMLOnce(operation, request)
        }
    }

    /// One attempt of `perform`.
    func performOnce(_ operation: String, _ request: S3Request) async throws(ObjectStorageError) -> S3Response {
        let response = try await send(request, operation: operation)
        do {
            let body = try await response.body.collect(upTo: 64 << 20)
            return S3Response(status: Int(response.status.code), headers: response.headers, body: Data(buffer: body))
        } catch {
            throw .wrap(error, operation)
        }
    }

    /// The query string as sent: encoded the same way it is signed.
    static func encodedQuery(_ items: [SigV4Signer.QueryItem]) -> String {
        items.map { S3Encoding.uriEncode($0.name, keepSlash: false) + "=" + S3Encoding.uriEncode($0.value, keepSlash: false) }
            .joined(separator: "&")
    }
}

extension HTTPHeaders {
    /// The request id S3 sends (`x-amz-request-id`; some compatible servers only
    /// send `x-amzn-requestid`).
    var s3RequestID: String? {
        first(name: "x-amz-request-id") ?? first(name: "x-amzn-requestid")
    }
}
