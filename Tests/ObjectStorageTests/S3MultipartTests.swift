import MediadTestSupport
import Foundation
import Testing
@testable import ObjectStorage

/// Multipart uploads: parts in parallel, verified ETag, and no trace after a failure, on
/// moto and on SeaweedFS (both verifying signatures; faults through each one's proxy).
@Suite("S3 multipart", .moto(.verifying, .plain), .seaweedfs)
struct S3MultipartTests {
    /// Verifying servers, for uploads that must succeed.
    static let verifying: [StoreKind] = [.s3, .seaweedfs]
    /// Servers with the fault-injecting proxy in front.
    static let proxied: [StoreKind] = [.s3Unverified, .seaweedfs]

    static func multipart(_ configuration: inout S3Configuration) {
        configuration.multipartThreshold = 8 << 20
        configuration.partSize = 5 << 20
        configuration.multipartConcurrency = 3
    }

    @Test("an object of more than 3 parts uploads in parallel and downloads intact", arguments: verifying)
    func largeObject(kind: StoreKind) async throws {
        try await kind.withStore(configure: Self.multipart) { store, bucket in
            try await TestFiles.withDirectory { directory in
                let size = (16 << 20) + 12_345
                let source = try TestFiles.file(in: directory, name: "video.mp4", size: size, seed: 42)
                let put = try await store.put(
                    bucket: bucket, key: "originals/big video.mp4", file: source,
                    options: PutOptions(contentType: "video/mp4", metadata: ["file-id": "big"]))
                #expect(put.size == Int64(size))
                #expect(put.etag?.hasSuffix("-4") == true, "4 parts: 5+5+5+1 MiB")

                let head = try await store.head(bucket: bucket, key: "originals/big video.mp4")
                #expect(head.size == Int64(size))
                #expect(head.etag == put.etag)
                #expect(head.contentType == "video/mp4")
                #expect(head.metadata["file-id"] == "big")

                let target = directory.appendingPathComponent("back.mp4")
                _ = try await store.get(
                    bucket: bucket, key: "originals/big video.mp4", to: target, expecting: ObjectExpectation(etag: put.etag))
                #expect(try TestFiles.md5(of: target) == (try TestFiles.md5(of: source)))
                let s3 = try #require(store as? S3ObjectStore)
                #expect(try await s3.pendingUploads(bucket: bucket).isEmpty)
            }
        }
    }

    @Test("above the default 64 MiB threshold: 16 MiB parts, intact, ETag of the parts", arguments: verifying)
    func defaultThreshold(kind: StoreKind) async throws {
        try await kind.withStore { store, bucket in
            try await TestFiles.withDirectory { directory in
                let size = (64 << 20) + 777
                let source = try TestFiles.file(in: directory, name: "long.mov", size: size, seed: 64)
                let put = try await store.put(bucket: bucket, key: "originals/long clip 1.mov", file: source)
                #expect(put.size == Int64(size))
                #expect(put.etag?.hasSuffix("-5") == true, "5 parts: 4 × 16 MiB + 777 bytes: \(put.etag ?? "nil")")
                let head = try await store.head(bucket: bucket, key: "originals/long clip 1.mov")
                #expect(head.size == Int64(size))
                #expect(head.etag == put.etag)
                let target = directory.appendingPathComponent("back.mov")
                _ = try await store.get(
                    bucket: bucket, key: "originals/long clip 1.mov", to: target,
                    expecting: ObjectExpectation(size: Int64(size), etag: put.etag))
                #expect(try TestFiles.md5(of: target) == (try TestFiles.md5(of: source)))
                let s3 = try #require(store as? S3ObjectStore)
                #expect(try await s3.pendingUploads(bucket: bucket).isEmpty)
            }
        }
    }

    @Test("a failed part aborts the upload: no object, no pending upload", arguments: proxied)
    func failedPartAborts(kind: StoreKind) async throws {
        let server = try kind.server()
        let proxy = FaultProxy(endpoint: try #require(server.proxyEndpoint))
        var configuration = server.configuration(throughProxy: true)
        Self.multipart(&configuration)
        let store = S3ObjectStore(configuration: configuration)
        let bucket = TestFiles.bucketName("abort")
        try await store.createBucket(bucket)
        try await TestFiles.withDirectory { directory in
            let source = try TestFiles.file(in: directory, name: "big.bin", size: 16 << 20)
            try await proxy.inject([.status(403, "AccessDenied", method: "PUT", match: [bucket, "partNumber=3"])])
            let error = await #expect(throws: ObjectStorageError.self) {
                try await store.put(bucket: bucket, key: "interrupted", file: source)
            }
            #expect(error?.code == .accessDenied)
            #expect(error?.requestID?.hasPrefix("FAULT") == true)
            let stats = try await proxy.stats()
            #expect(stats.count("DELETE", matching: bucket, "uploadId=") == 1, "the upload was aborted")
            #expect(stats.count("POST", matching: bucket, "uploadId=") == 0, "never completed")
        }
        let head = await #expect(throws: ObjectStorageError.self) { try await store.head(bucket: bucket, key: "interrupted") }
        #expect(head?.code == .notFound)
        #expect(try await store.pendingUploads(bucket: bucket).isEmpty)
        try await store.shutdown()
    }

    @Test("cancelling the task aborts the upload", arguments: proxied)
    func cancellationAborts(kind: StoreKind) async throws {
        let server = try kind.server()
        let proxy = FaultProxy(endpoint: try #require(server.proxyEndpoint))
        var configuration = server.configuration(throughProxy: true)
        Self.multipart(&configuration)
        let store = S3ObjectStore(configuration: configuration)
        let bucket = TestFiles.bucketName("cancel")
        try await store.createBucket(bucket)
        try await TestFiles.withDirectory { directory in
            let source = try TestFiles.file(in: directory, name: "big.bin", size: 16 << 20)
            try await proxy.inject([.delay(3, method: "PUT", match: [bucket, "partNumber=2"])])
            let upload = Task { try await store.put(bucket: bucket, key: "cancelled", file: source) }
            while try await proxy.stats().count("PUT", matching: bucket, "partNumber=2") == 0 {
                try await Task.sleep(for: .milliseconds(20))
            }
            upload.cancel()
            let result = await upload.result
            #expect(throws: ObjectStorageError.self) { try result.get() }
            #expect(try await proxy.stats().count("DELETE", matching: bucket, "uploadId=") == 1)
        }
        #expect(try await store.pendingUploads(bucket: bucket).isEmpty)
        let head = await #expect(throws: ObjectStorageError.self) { try await store.head(bucket: bucket, key: "cancelled") }
        #expect(head?.code == .notFound)
        try await store.shutdown()
    }
}
