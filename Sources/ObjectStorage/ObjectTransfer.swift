import Foundation

/// Copies between local files and a store with `aws s3 cp` semantics: the entry
/// point of `mediad storage cp SRC DST`.
public struct ObjectTransfer: Sendable {
    /// The store `s3://` locations refer to.
    public let store: any ObjectStore

    /// Creates a transfer over a store.
    public init(store: any ObjectStore) {
        self.store = store
    }

    /// Copies `source` to `destination`. A destination key that is empty or ends
    /// with `/`, or a destination that is an existing directory (or ends with `/`),
    /// receives the source's last path component, as with `aws s3 cp`. Object to
    /// object copies go through a temporary file.
    /// - Returns: the object uploaded or downloaded.
    /// - Throws: `.invalidArgument` for two local paths.
    @discardableResult
    public func copy(from source: ObjectLocation, to destination: ObjectLocation, options: PutOptions = PutOptions())
        async throws(ObjectStorageError) -> ObjectInfo
    {
        switch (source, destination) {
        case (.file(let file), .object(let bucket, let key)):
            let target = Self.key(key, appending: file.lastPathComponent)
            return try await store.put(bucket: bucket, key: target, file: file, options: options)

        case (.object(let bucket, let key), .file(let file)):
            return try await store.get(bucket: bucket, key: key, to: Self.file(file, appending: key), expecting: nil)

        case (.object(let bucket, let key), .object(let targetBucket, let targetKey)):
            let temporary = FileManager.default.temporaryDirectory
                .appendingPathComponent("mediad-copy-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: temporary) }
            let info = try await store.get(bucket: bucket, key: key, to: temporary, expecting: nil)
            var options = options
            if options.contentType == nil { options.contentType = info.contentType }
            if options.cacheControl == nil { options.cacheControl = info.cacheControl }
            if options.metadata.isEmpty { options.metadata = info.metadata }
            let name = key.split(separator: "/").last.map(String.init) ?? key
            return try await store.put(
                bucket: targetBucket, key: Self.key(targetKey, appending: name), file: temporary, options: options)

        case (.file, .file):
            throw ObjectStorageError(.invalidArgument, "one side of a copy must be an s3:// location")
        }
    }

    static func key(_ key: String, appending name: String) -> String {
        key.isEmpty || key.hasSuffix("/") ? key + name : key
    }

    static func file(_ file: URL, appending key: String) -> URL {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: file.path, isDirectory: &isDirectory)
        guard (exists && isDirectory.boolValue) || file.hasDirectoryPath else { return file }
        let name = key.split(separator: "/").last.map(String.init) ?? key
        return file.appendingPathComponent(name)
    }
}
