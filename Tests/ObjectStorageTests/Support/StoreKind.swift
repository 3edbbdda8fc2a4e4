import Foundation
import Testing
@testable import ObjectStorage

/// The stores the behavioural suite runs against: one suite, every store.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// `LocalObjectStore` in a temporary directory.
    case local
    /// `S3ObjectStore` against moto with SigV4 verification.
    case s3
    /// `S3ObjectStore` against moto without verification (keys moto cannot verify).
    case s3Unverified
    /// `S3ObjectStore` against SeaweedFS, a production S3 server, with SigV4 verification.
    case seaweedfs

    var testDescription: String { rawValue }

    /// Runs `body` with a store of this kind and a fresh bucket in it.
    func withStore(
        configure: (inout S3Configuration) -> Void = { _ in },
        _ body: (any ObjectStore, String) async throws -> Void
    ) async throws {
        try await TestFiles.withDirectory { directory in
            let bucket = TestFiles.bucketName(rawValue.lowercased())
            switch self {
            case .local:
                let store = LocalObjectStore(root: directory.appendingPathComponent("store"))
                try await store.createBucket(bucket)
                try await body(store, bucket)
            case .s3, .s3Unverified, .seaweedfs:
                var configuration = try server().configuration(throughProxy: false)
                configure(&configuration)
                let store = S3ObjectStore(configuration: configuration)
                do {
                    try await store.createBucket(bucket)
                    try await body(store, bucket)
                } catch {
                    try? await store.shutdown()
                    throw error
                }
                try await store.shutdown()
            }
        }
    }

    /// The S3 server behind an S3 kind; fails the test when the suite did not start it.
    func server() throws -> any S3TestServer {
        switch self {
        case .local: throw ObjectStorageError(.invalidConfiguration, "the local store has no server")
        case .s3: try MotoServers.server(.verifying)
        case .s3Unverified: try MotoServers.server(.plain)
        case .seaweedfs: try SeaweedFSServers.server()
        }
    }
}
