import Foundation

extension LocalObjectStore {
    /// Lists keys in UTF-8 binary order like S3. The continuation token is the last
    /// key returned, so a listing survives concurrent writes as S3's does.
    public func listPage(
        bucket: String, prefix: String?, startAfter: String?, continuationToken: String?, maxKeys: Int?
    ) async throws(ObjectStorageError) -> ObjectListPage {
        try Self.validate(bucket: bucket)
        let store = self
        let limit = max(0, min(maxKeys ?? 1_000, 1_000))
        let after = continuationToken ?? startAfter
        return try await BlockingIO.run("list \(bucket)") {
            try store.requireBucket(bucket)
            let prefix = prefix ?? ""
            var keys = store.keys(bucket: bucket, prefix: prefix).filter { key in
                guard key.hasPrefix(prefix) else { return false }
                guard let after else { return true }
                return after.utf8.lexicographicallyPrecedes(key.utf8)
            }
            keys.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            let page = keys.prefix(limit)
            let objects = try page.map { key in try store.listedInfo(bucket: bucket, key: key) }
            let token = keys.count > page.count ? page.last : nil
            return ObjectListPage(objects: objects, continuationToken: token)
        }
    }

    /// Every key under the deepest directory the prefix names (not yet filtered).
    private func keys(bucket: String, prefix: String) -> [String] {
        let base = bucketPath(bucket)
        var directory = ""
        if let slash = prefix.lastIndex(of: "/") {
            directory = String(prefix[..<slash])
        }
        let start = directory.isEmpty ? base : base + "/" + directory
        guard let enumerator = FileManager.default.enumerator(atPath: start) else { return [] }
        var keys: [String] = []
        while let relative = enumerator.nextObject() as? String {
            if (enumerator.fileAttributes?[.type] as? FileAttributeType) == .typeRegular {
                keys.append(directory.isEmpty ? relative : directory + "/" + relative)
            }
        }
        return keys
    }

    /// Size, time and (from a valid sidecar) ETag, as S3 lists them.
    private func listedInfo(bucket: String, key: String) throws -> ObjectInfo {
        let attributes = try FileManager.default.attributesOfItem(atPath: objectPath(bucket, key))
        let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
        let modified = attributes[.modificationDate] as? Date
        var info = ObjectInfo(bucket: bucket, key: key, size: size, lastModified: modified)
        if let sidecar = readSidecar(bucket, key, size: size, modified: modified) {
            info.etag = sidecar.etag
        }
        return info
    }
}
