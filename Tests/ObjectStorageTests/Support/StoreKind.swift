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
            case .s3, .s3Unverified:
                let server = try MotoServers.server(self == .s3 ? .verifying : .plain)
                var configuration = server.configuration()
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
}
