import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension LocalObjectStore {
    public func get(bucket: String, key: String, to file: URL, expecting: ObjectExpectation?)
        async throws(ObjectStorageError) -> ObjectInfo
    {
        try Self.validate(bucket: bucket, key: key)
        let store = self
        return try await BlockingIO.run("get \(bucket)/\(key)") {
            var info = try store.headSync(bucket: bucket, key: key, hashing: false)
            // A known ETag (the sidecar's, or one already computed) is the MD5 of these bytes
            // while the file stays as it was; without one, the copy computes it and it is
            // checked after.
            let knownETag = info.etag
            if knownETag != nil { try expecting?.check(info, sizeMismatch: .integrity) }
            let path = store.objectPath(bucket, key)
            let temporary = file.deletingLastPathComponent()
                .appendingPathComponent(".\(file.lastPathComponent).\(UUID().uuidString).part").path
            do {
                try FileManager.default.createDirectory(
                    at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                let before = LocalETagMemo.Identity(ofFile: path)
                let copied = try LocalFileIO.copy(from: path, to: temporary, sync: false, knownMD5: knownETag, sha256: true)
                info.sha256 = copied.sha256
                guard let before, copied.size == info.size, LocalETagMemo.Identity(ofFile: path) == before else {
                    throw ObjectStorageError(.integrity, "\(bucket)/\(key) changed while being read", isRetryable: true)
                }
                info.md5 = copied.md5
                if knownETag == nil {
                    info.etag = copied.md5
                    store.etagMemo.remember(copied.md5, ofFile: path, identity: before)
                    try expecting?.check(info, sizeMismatch: .integrity)
                }
                try Self.atomicRename(temporary, to: file.path)
            } catch {
                try? FileManager.default.removeItem(atPath: temporary)
                throw error
            }
            return info
        }
    }

    public func put(bucket: String, key: String, file: URL, options: PutOptions)
        async throws(ObjectStorageError) -> ObjectInfo
    {
        try Self.validate(bucket: bucket, key: key)
        try options.validate()
        let store = self
        return try await BlockingIO.run("put \(bucket)/\(key)") {
            // A file the caller gives up is moved in; should the put fail after that, it is
            // moved back, so that a retry finds it where it was.
            var moved = false
            return try store.store(bucket: bucket, key: key, options: options) { temporary in
                if options.handsOverFile, let taken = try LocalFileIO.move(file.path, to: temporary) {
                    moved = true
                    return (taken.size, taken.md5)
                }
                let copied = try LocalFileIO.copy(from: file.path, to: temporary, sync: true)
                return (copied.size, copied.md5)
            } discard: { temporary in
                if moved, rename(temporary, file.path) == 0 { return }
                try? FileManager.default.removeItem(atPath: temporary)
            }
        }
    }

    public func put(bucket: String, key: String, bytes: [UInt8], options: PutOptions)
        async throws(ObjectStorageError) -> ObjectInfo
    {
        try Self.validate(bucket: bucket, key: key)
        try options.validate()
        let store = self
        return try await BlockingIO.run("put \(bucket)/\(key)") {
            try store.store(bucket: bucket, key: key, options: options) { temporary in
                (Int64(bytes.count), try LocalFileIO.write(bytes, to: temporary))
            }
        }
    }

    /// Writes the bytes to a temporary file, then the sidecar, then renames the
    /// data into place: readers see the old object or the new one, never a mix.
    func store(
        bucket: String, key: String, options: PutOptions, write: (String) throws -> (size: Int64, md5: String),
        discard: (String) -> Void = { try? FileManager.default.removeItem(atPath: $0) }
    ) throws -> ObjectInfo {
        try requireBucket(bucket)
        let manager = FileManager.default
        let destination = objectPath(bucket, key)
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: destination, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ObjectStorageError(.invalidArgument, "key '\(key)' is a prefix of other keys in \(bucket)")
        }
        try manager.createDirectory(atPath: temporaryDirectory, withIntermediateDirectories: true)
        let temporary = temporaryDirectory + "/" + UUID().uuidString
        do {
            let (size, md5) = try write(temporary)
            let modified = (try manager.attributesOfItem(atPath: temporary))[.modificationDate] as? Date
            let sidecar = LocalObjectSidecar(
                size: size, modified: modified, etag: md5, contentType: options.contentType,
                cacheControl: options.cacheControl, metadata: options.normalizedMetadata)
            let attached = try attachSidecar(sidecar, toFile: temporary)
            if !attached { try writeSidecar(sidecar, bucket: bucket, key: key) }
            do {
                try manager.createDirectory(
                    atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            } catch {
                throw ObjectStorageError(.invalidArgument, "key '\(key)' needs a directory where \(bucket) has an object")
            }
            try Self.atomicRename(temporary, to: destination)
            if attached { removeSidecarFile(bucket, key) }
            return ObjectInfo(
                bucket: bucket, key: key, size: size, etag: md5, lastModified: modified,
                contentType: options.contentType, cacheControl: options.cacheControl, metadata: options.normalizedMetadata)
        } catch {
            discard(temporary)
            throw error
        }
    }

    /// rename(2), replacing the destination atomically.
    static func atomicRename(_ source: String, to destination: String) throws {
        guard rename(source, destination) == 0 else {
            throw ObjectStorageError(.fileSystem, "cannot rename \(source) to \(destination)")
        }
    }
}
