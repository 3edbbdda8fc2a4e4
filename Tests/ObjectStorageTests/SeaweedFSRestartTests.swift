import Foundation
import MediadTestSupport
import Testing
@testable import ObjectStorage

/// The harness later kill tests use: SeaweedFS crashed and started again on the same ports
/// and data directory (a server of its own, not the suites' shared one).
@Suite("SeaweedFS killed and restarted")
struct SeaweedFSRestartTests {
    @Test("SIGKILL, then a restart on the same ports and data: the bucket and objects are back, signatures still verified")
    func killAndRestart() async throws {
        let harness = try await SeaweedFSHarness.start()
        defer { harness.stop() }
        print("SeaweedFS: ready in \(harness.lastStartSeconds) s, \((harness.residentBytes ?? 0) >> 20) MiB resident")
        var configuration = S3Configuration(
            region: SeaweedFSHarness.region, endpoint: URL(string: harness.endpoint),
            credentials: S3Credentials(accessKeyID: harness.accessKeyId, secretAccessKey: harness.secretAccessKey))
        configuration.retry = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10), maxDelay: .milliseconds(100))
        let store = S3ObjectStore(configuration: configuration)
        let bucket = TestFiles.bucketName("restart")
        try await store.createBucket(bucket)
        let bytes = TestFiles.bytes(count: 300_000, seed: 9)
        let put = try await store.put(bucket: bucket, key: "originals/kept.jpg", bytes: bytes)

        let pid = try #require(harness.pid)
        await harness.kill()
        #expect(harness.pid == nil)
        let down = await #expect(throws: ObjectStorageError.self) { try await store.head(bucket: bucket, key: "originals/kept.jpg") }
        #expect(down?.isRetryable == true, "a refused connection is transient")
        try await harness.restart()
        #expect(harness.pid != pid)
        print("SeaweedFS: restarted in \(harness.lastStartSeconds) s")

        let head = try await store.head(bucket: bucket, key: "originals/kept.jpg")
        #expect(head.etag == put.etag)
        #expect(try await store.getBytes(bucket: bucket, key: "originals/kept.jpg").bytes == bytes)
        try await store.shutdown()
    }
}
