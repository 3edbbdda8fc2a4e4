import Foundation
import ObjectStorage
import PipelineEngine

/// Reads mediad's own small JSON records beside a file's outputs: the manifest, the attempt
/// marker, the tombstone. A record that is missing or unreadable reads as nil: each caller
/// then acts as if there were none (process again, count from zero, no tombstone).
public struct RecordReader: Sendable {
    public let store: any ObjectStore
    public let bucket: String

    public init(store: any ObjectStore, bucket: String) {
        self.store = store
        self.bucket = bucket
    }

    /// Records are small; anything larger is not one of them.
    static let maxSize: Int64 = 8 << 20

    public func decode<T: Decodable>(_ type: T.Type, key: String) async -> T? {
        try? await decodeIfStored(type, key: key)
    }

    /// The record, nil when none is stored (or what is stored is not one).
    /// - Throws: the store's error when it cannot tell (unreachable, refused): for a
    ///   tombstone, "cannot tell" must not be read as "not deleted".
    public func decodeIfStored<T: Decodable>(_ type: T.Type, key: String) async throws(ObjectStorageError) -> T? {
        let bytes: [UInt8]
        do {
            bytes = try await store.getBytes(bucket: bucket, key: key, maxSize: Self.maxSize).bytes
        } catch where error.code == .notFound {
            return nil
        }
        return try? ManifestCoding.decoder().decode(T.self, from: Data(bytes))
    }

    public func manifest(_ key: String) async -> ProcessedData? {
        await decode(ProcessedData.self, key: key)
    }
}
