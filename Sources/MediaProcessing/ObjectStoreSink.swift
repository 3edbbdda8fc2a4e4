import Foundation
import ObjectStorage
import PipelineEngine

/// Stores derivatives in an object store (S3, MinIO, or the local store) under a key
/// template (`DerivativeLayout`), and the manifest beside them.
public struct ObjectStoreSink: DerivativeSink {
    public let store: any ObjectStore
    public let bucket: String
    public let layout: DerivativeLayout

    public init(store: any ObjectStore, bucket: String, layout: DerivativeLayout = DerivativeLayout()) {
        self.store = store
        self.bucket = bucket
        self.layout = layout
    }

    public func key(fileId: String, name: String, fileExtension: String) -> String {
        layout.key(fileId: fileId, name: name, fileExtension: fileExtension)
    }

    /// Derivatives never change under a key (a new pipeline version writes new bytes and a new
    /// manifest), so they may be cached for long.
    static let cacheControl = "public, max-age=31536000, immutable"

    public func store(file: URL, fileId: String, name: String, fileExtension: String, contentType: String) async throws -> StoredLocation {
        let key = key(fileId: fileId, name: name, fileExtension: fileExtension)
        _ = try await store.put(bucket: bucket, key: key, file: file, options: PutOptions(contentType: contentType, cacheControl: Self.cacheControl, handsOverFile: true))
        return StoredLocation(bucket: bucket, key: key)
    }

    public func storeManifest(_ data: Data, fileId: String) async throws -> StoredLocation {
        let key = layout.manifestKey(fileId: fileId)
        _ = try await store.put(bucket: bucket, key: key, bytes: Array(data), options: PutOptions(contentType: "application/json", cacheControl: "no-cache"))
        return StoredLocation(bucket: bucket, key: key)
    }
}
