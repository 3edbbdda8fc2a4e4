import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// An `ObjectStore` on S3 or any S3-compatible server (MinIO, Ceph, moto), over
/// async-http-client with hand-written SigV4.
///
/// The store owns its HTTP client: call `shutdown()` once done with it.
public final class S3ObjectStore: ObjectStore {
    /// The configuration the store was made with.
    public let configuration: S3Configuration
    let httpClient: HTTPClient
    let endpoint: S3Endpoint
    let signer: SigV4Signer?
    let logger: Logger

    /// Creates a store and its HTTP client (connections open lazily).
    public init(configuration: S3Configuration, logger: Logger = Logger(label: "mediad.storage.s3")) {
        self.configuration = configuration
        self.endpoint = S3Endpoint(configuration: configuration)
        self.signer = configuration.credentials.map { SigV4Signer(credentials: $0, region: configuration.region) }
        self.logger = logger
        var http = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(
                connect: TimeAmount(configuration.connectTimeout),
                read: TimeAmount(configuration.readTimeout)),
            decompression: .disabled)
        http.connectionPool = .init(
            idleTimeout: .seconds(30),
            concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, configuration.maxConnectionsPerHost))
        // A refused connection fails the request at once, so that `configuration.retry` (and
        // the caller's retries above it) decide how long an unreachable endpoint is retried.
        // With async-http-client's own connection retry, every attempt instead waited the
        // whole connect timeout, invisibly: a job against an S3 that was down took
        // attempts × connectTimeout per request, whatever the retry settings said.
        http.connectionPool.retryConnectionEstablishment = false
        http.httpVersion = .http1Only
        self.httpClient = HTTPClient(eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton), configuration: http)
    }

    /// Closes the connections; the store cannot be used afterwards.
    public func shutdown() async throws {
        try await httpClient.shutdown()
    }

    public func createBucket(_ bucket: String) async throws(ObjectStorageError) {
        var request = S3Request(method: .PUT, bucket: bucket)
        if configuration.region != "us-east-1" {
            let xml = "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                + "<LocationConstraint>\(S3Encoding.xmlEscape(configuration.region))</LocationConstraint>"
                + "</CreateBucketConfiguration>"
            request.body = .bytes(Array(xml.utf8))
        }
        do {
            try await perform("CreateBucket \(bucket)", request)
        } catch where error.serviceCode == "BucketAlreadyOwnedByYou" {
            return
        }
    }

    public func head(bucket: String, key: String) async throws(ObjectStorageError) -> ObjectInfo {
        let head = try await perform("HeadObject \(bucket)/\(key)", S3Request(method: .HEAD, bucket: bucket, key: key))
        return objectInfo(bucket: bucket, key: key, headers: head.headers, size: head.contentLength)
    }

    /// A URL anyone can use until it expires to `GET` (or `PUT`) one object, signed
    /// with the store's credentials (SigV4 query authentication).
    public func presignedURL(
        bucket: String, key: String, method: HTTPMethod = .GET, expires: Duration = .seconds(3600), date: Date = Date()
    ) throws(ObjectStorageError) -> URL {
        let target = endpoint.target(bucket: bucket, key: key)
        guard let signer else {
            throw ObjectStorageError(.invalidConfiguration, "presigning needs credentials")
        }
        var headers = HTTPHeaders()
        headers.add(name: "host", value: target.hostHeader)
        let request = SigV4Signer.Request(
            method: method.rawValue, path: target.path, headers: headers, payloadHash: SigV4Signer.unsignedPayload)
        let (query, _) = signer.presignedQuery(request, date: date, expires: expires)
        guard let url = URL(string: target.origin + target.path + "?" + query) else {
            throw ObjectStorageError(.invalidArgument, "cannot form a URL for \(bucket)/\(key)")
        }
        return url
    }

    /// The object described by response headers.
    func objectInfo(bucket: String, key: String, headers: HTTPHeaders, size: Int64?) -> ObjectInfo {
        var metadata: [String: String] = [:]
        for (name, value) in headers where name.lowercased().hasPrefix("x-amz-meta-") {
            metadata[String(name.lowercased().dropFirst("x-amz-meta-".count))] = value
        }
        return ObjectInfo(
            bucket: bucket, key: key,
            size: size ?? headers.first(name: "content-length").flatMap { Int64($0) } ?? 0,
            etag: ObjectInfo.normalizedETag(headers.first(name: "etag")),
            lastModified: headers.first(name: "last-modified").flatMap(HTTPDate.parseRFC1123),
            contentType: headers.first(name: "content-type"),
            cacheControl: headers.first(name: "cache-control"),
            metadata: metadata)
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
