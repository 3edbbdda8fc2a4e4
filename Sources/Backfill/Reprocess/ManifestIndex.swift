import Foundation
import MediaProcessing
import ObjectStorage
import PipelineEngine

/// What the stored manifests say about each original: which file id it was processed under,
/// by which pipeline version, from which bytes. Built by listing the manifests under the key
/// template's fixed prefix, because an original processed from a file service's event is
/// stored under that service's file id, which nothing else maps back from its key.
public struct ManifestIndex: Sendable {
    /// One manifest, reduced to what reprocessing decides on.
    public struct Entry: Sendable, Hashable {
        public var fileId: String
        public var ownerId: String?
        public var albumId: String?
        public var pipeline: String
        public var version: Int
        public var etag: String?
        public var status: ProcessingStatus
        /// The manifest records a transient failure (S3 outage, timeout): worth redoing.
        public var failedTransiently: Bool
        public var processedAt: Date
    }

    /// Keyed by "bucket/key" of the original.
    public private(set) var entries: [String: Entry] = [:]
    /// Manifests that could not be read or decoded, by key (reported, never fatal).
    public private(set) var unreadable: [String] = []

    public init() {}

    public func entry(bucket: String, key: String) -> Entry? {
        entries["\(bucket)/\(key)"]
    }

    /// Reads every manifest in `bucket` written under `keyTemplate`, `parallelism` at a time.
    public static func load(store: any ObjectStore, bucket: String, keyTemplate: String, parallelism: Int = 8) async throws(ObjectStorageError) -> ManifestIndex {
        let layout = DerivativeLayout(template: keyTemplate)
        var keys: [String] = []
        for try await object in store.list(bucket: bucket, prefix: layout.prefix) where layout.isManifest(object.key) {
            keys.append(object.key)
        }
        var index = ManifestIndex()
        let decoder = ManifestCoding.decoder()
        await withTaskGroup(of: (String, ProcessedData?).self) { group in
            var next = keys.makeIterator()
            func startOne() -> Bool {
                guard let key = next.next() else { return false }
                group.addTask {
                    guard let (_, bytes) = try? await store.getBytes(bucket: bucket, key: key, maxSize: 8 << 20) else { return (key, nil) }
                    return (key, try? decoder.decode(ProcessedData.self, from: Data(bytes)))
                }
                return true
            }
            for _ in 0..<max(1, parallelism) where !startOne() { break }
            while let (key, manifest) = await group.next() {
                if let manifest { index.add(manifest, sourceBucket: bucket) } else { index.unreadable.append(key) }
                _ = startOne()
            }
        }
        return index
    }

    mutating func add(_ manifest: ProcessedData, sourceBucket: String) {
        let bucket = manifest.source.bucket ?? sourceBucket
        let entry = Entry(
            fileId: manifest.fileId, ownerId: manifest.ownerId, albumId: manifest.albumId,
            pipeline: manifest.pipeline.name, version: manifest.pipeline.version, etag: manifest.source.etag.map(Self.bareETag),
            status: manifest.status, failedTransiently: manifest.errors.contains { $0.retryable }, processedAt: manifest.processedAt)
        let id = "\(bucket)/\(manifest.source.key)"
        // Several manifests for one original (processed under two file ids): the newest wins.
        if let existing = entries[id], existing.processedAt > entry.processedAt { return }
        entries[id] = entry
    }

    static func bareETag(_ etag: String) -> String {
        etag.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }
}
