import MediadTestSupport
import Foundation
import Testing
@testable import ObjectStorage

/// Retries proven through the fault-injecting proxy: 5xx, SlowDown, 429, resets and
/// timeouts are retried with backoff; other 4xx never are. The proxy sits in front of
/// moto (unverified) and of SeaweedFS (verifying: a retried request is signed again).
@Suite("S3 retries", .moto(.plain), .seaweedfs)
struct S3RetryTests {
    static let servers: [StoreKind] = [.s3Unverified, .seaweedfs]

    /// A store through the proxy, a fresh bucket, and the proxy's control.
    func withProxiedStore(
        _ kind: StoreKind,
        configure: (inout S3Configuration) -> Void = { _ in },
        _ body: (S3ObjectStore, String, FaultProxy) async throws -> Void
    ) async throws {
        let server = try kind.server()
        let proxy = FaultProxy(endpoint: try #require(server.proxyEndpoint))
        var configuration = server.configuration(throughProxy: true)
        configure(&configuration)
        let store = S3ObjectStore(configuration: configuration)
        let bucket = TestFiles.bucketName("retry")
        do {
            try await store.createBucket(bucket)
            try await body(store, bucket, proxy)
        } catch {
            try? await store.shutdown()
            throw error
        }
        try await store.shutdown()
    }

    @Test("500, 503 SlowDown, 429 and a reset connection are retried on upload", arguments: servers)
    func uploadRetried(kind: StoreKind) async throws {
        try await withProxiedStore(kind) { store, bucket, proxy in
            try await proxy.inject([
                .status(500, "InternalError", method: "PUT", match: [bucket, "/k"]),
                .status(503, "SlowDown", method: "PUT", match: [bucket, "/k"]),
                .status(429, "TooManyRequests", method: "PUT", match: [bucket, "/k"]),
                .reset(method: "PUT", match: [bucket, "/k"]),
            ])
            let put = try await store.put(bucket: bucket, key: "k", bytes: TestFiles.bytes(count: 10_000))
            #expect(put.size == 10_000)
            let stats = try await proxy.stats()
            #expect(stats.count("PUT", matching: bucket, "/k") == 5)
            #expect(try await store.head(bucket: bucket, key: "k").etag == put.etag)
        }
    }

    @Test("head, list and get are retried too", arguments: servers)
    func readsRetried(kind: StoreKind) async throws {
        try await withProxiedStore(kind) { store, bucket, proxy in
            _ = try await store.put(bucket: bucket, key: "r", bytes: [1, 2, 3])
            try await proxy.inject([
                .status(503, "ServiceUnavailable", method: "HEAD", match: [bucket]),
                .reset(method: "GET", match: [bucket, "list-type"]),
                .status(500, "InternalError", method: "GET", match: [bucket, "/r"]),
                .reset(method: "GET", match: [bucket, "/r"]),
            ])
            #expect(try await store.head(bucket: bucket, key: "r").size == 3)
            let page = try await store.listPage(bucket: bucket, prefix: nil, startAfter: nil, continuationToken: nil, maxKeys: nil)
            #expect(page.objects.map(\.key) == ["r"])
            let (_, bytes) = try await store.getBytes(bucket: bucket, key: "r")
            #expect(bytes == [1, 2, 3])
            let stats = try await proxy.stats()
            #expect(stats.count("GET", matching: bucket, "list-type") == 2)
            #expect(stats.count("GET", matching: bucket, "/r") == 3)
        }
    }

    @Test("batch deletes go 1,000 keys a request and retry a failed request", arguments: servers)
    func batchDeleteRetried(kind: StoreKind) async throws {
        try await withProxiedStore(kind) { store, bucket, proxy in
            _ = try await store.put(bucket: bucket, key: "key-00007", bytes: [7])
            try await proxy.inject([
                .status(500, "InternalError", method: "POST", match: [bucket, "delete="]),
                .reset(method: "POST", match: [bucket, "delete="]),
            ])
            // Missing keys delete as well as present ones: 2,001 keys, three requests.
            let keys = (0..<2_001).map { String(format: "key-%05d", $0) }
            let result = try await store.delete(bucket: bucket, keys: keys)
            #expect(result.failed.isEmpty)
            #expect(result.deleted == keys)
            #expect(try await proxy.stats().count("POST", matching: bucket, "delete=") == 3 + 2)
            let head = await #expect(throws: ObjectStorageError.self) { try await store.head(bucket: bucket, key: "key-00007") }
            #expect(head?.code == .notFound)
        }
    }

    @Test("a batch delete refused before anything was deleted throws", arguments: servers)
    func batchDeleteRefused(kind: StoreKind) async throws {
        try await withProxiedStore(kind) { store, bucket, proxy in
            try await proxy.inject([.status(403, "AccessDenied", method: "POST", match: [bucket, "delete="])])
            let error = await #expect(throws: ObjectStorageError.self) {
                try await store.delete(bucket: bucket, keys: ["a", "b"])
            }
            #expect(error?.code == .accessDenied)
            #expect(try await proxy.stats().count("POST", matching: bucket, "delete=") == 1)
        }
    }

    @Test("a copy is retried", arguments: servers)
    func copyRetried(kind: StoreKind) async throws {
        try await withProxiedStore(kind) { store, bucket, proxy in
            let put = try await store.put(bucket: bucket, key: "copy-source", bytes: TestFiles.bytes(count: 1_000))
            try await proxy.inject([
                .status(503, "SlowDown", method: "PUT", match: [bucket, "/copy-target"]),
                .reset(method: "PUT", match: [bucket, "/copy-target"]),
            ])
            let copy = try await store.copy(from: ObjectAddress(bucket: bucket, key: "copy-source"), to: bucket, key: "copy-target")
            #expect(copy.etag == put.etag)
            #expect(try await proxy.stats().count("PUT", matching: bucket, "/copy-target") == 3)
            #expect(try await store.head(bucket: bucket, key: "copy-target").etag == put.etag)
        }
    }

    @Test("other 4xx answers are never retried", arguments: servers, [
        (403, "AccessDenied", ObjectStorageError.Code.accessDenied),
        (400, "InvalidArgument", .invalidArgument),
        (404, "NoSuchKey", .notFound),
        (409, "OperationAborted", .requestRejected),
    ])
    func clientErrorsNotRetried(kind: StoreKind, answer: (Int, String, ObjectStorageError.Code)) async throws {
        let (status, code, expected) = answer
        try await withProxiedStore(kind) { store, bucket, proxy in
            try await proxy.inject([.status(status, code, method: "PUT", match: [bucket, "/k4"])])
            let error = await #expect(throws: ObjectStorageError.self) {
                try await store.put(bucket: bucket, key: "k4", bytes: [1])
            }
            #expect(error?.code == expected)
            #expect(error?.serviceCode == code)
            #expect(error?.httpStatus == status)
            #expect(error?.isRetryable == false)
            #expect(error?.requestID?.hasPrefix("FAULT") == true, "the error carries the request id")
            #expect(try await proxy.stats().count("PUT", matching: bucket, "/k4") == 1)
        }
    }

    @Test("retries stop after the configured attempts with a retryable error", arguments: servers)
    func attemptsExhausted(kind: StoreKind) async throws {
        try await withProxiedStore(kind, configure: { $0.retry.maxAttempts = 3 }) { store, bucket, proxy in
            try await proxy.inject([.status(503, "SlowDown", method: "PUT", match: [bucket, "/x"], times: 5)])
            let error = await #expect(throws: ObjectStorageError.self) {
                try await store.put(bucket: bucket, key: "x", bytes: [1])
            }
            #expect(error?.code == .throttled)
            #expect(error?.isRetryable == true)
            #expect(try await proxy.stats().count("PUT", matching: bucket, "/x") == 3)
        }
    }

    @Test("a read timeout is retried", arguments: servers)
    func timeoutRetried(kind: StoreKind) async throws {
        try await withProxiedStore(kind, configure: { $0.readTimeout = .seconds(1) }) { store, bucket, proxy in
            _ = try await store.put(bucket: bucket, key: "slow", bytes: [9])
            try await proxy.inject([.delay(3, method: "HEAD", match: [bucket, "/slow"])])
            #expect(try await store.head(bucket: bucket, key: "slow").size == 1)
            // A second HEAD reached the proxy: the first was abandoned at the read timeout
            // (had the client waited for the slow answer, one request would have succeeded).
            #expect(try await proxy.stats().count("HEAD", matching: bucket, "/slow") >= 2)
        }
    }

    @Test("a download cut mid-body resumes with a range request and stays intact", arguments: servers)
    func downloadResumes(kind: StoreKind) async throws {
        try await withProxiedStore(kind) { store, bucket, proxy in
            let bytes = TestFiles.bytes(count: 3 << 20, seed: 5)
            let put = try await store.put(bucket: bucket, key: "cut", bytes: bytes)
            try await proxy.inject([.resetMidBody(method: "GET", match: [bucket, "/cut"])])
            try await TestFiles.withDirectory { directory in
                let target = directory.appendingPathComponent("cut")
                let info = try await store.get(bucket: bucket, key: "cut", to: target, expecting: nil)
                #expect(info.etag == put.etag)
                #expect([UInt8](try Data(contentsOf: target)) == bytes)
            }
            let gets = try await proxy.stats().requests("GET", matching: [bucket, "/cut"])
            #expect(gets.count == 2)
            #expect(gets.last?[2].hasPrefix("bytes=") == true && gets.last?[2] != "bytes=0-", "resumed after the bytes received")
        }
    }
}
