import Foundation
import PipelineEngine

/// Where derivatives and the manifest go once a pipeline has made them.
public protocol DerivativeSink: Sendable {
    /// Stores one derivative file; returns where it now lives. The file is the job's own and
    /// is not needed after, so a store may move it rather than copy it.
    /// - Throws: when the file cannot be stored (the outcome records it as an error).
    func store(file: URL, fileId: String, name: String, fileExtension: String, contentType: String) async throws -> StoredLocation

    /// Stores the manifest (`manifest.json`) beside the derivatives.
    func storeManifest(_ data: Data, fileId: String) async throws -> StoredLocation
}

public struct StoredLocation: Sendable, Equatable {
    public var bucket: String?
    public var key: String

    public init(bucket: String?, key: String) {
        self.bucket = bucket
        self.key = key
    }
}

/// Writes outputs under a local directory, one folder per file: `ROOT/<fileId>/<name>.<ext>`.
/// Writes are atomic (temporary name, then rename), so a reader never sees half a file.
public struct LocalDirectorySink: DerivativeSink {
    public let root: URL

    public init(root: URL) {
        self.root = root
    }

    public func store(file: URL, fileId: String, name: String, fileExtension: String, contentType: String) async throws -> StoredLocation {
        let key = "\(fileId)/\(name).\(fileExtension)"
        try place(file, at: key)
        return StoredLocation(bucket: nil, key: key)
    }

    public func storeManifest(_ data: Data, fileId: String) async throws -> StoredLocation {
        let key = "\(fileId)/manifest.json"
        let destination = root.appendingPathComponent(key)
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: destination, options: .atomic)
        return StoredLocation(bucket: nil, key: key)
    }

    private func place(_ file: URL, at key: String) throws {
        let destination = root.appendingPathComponent(key)
        let manager = FileManager.default
        try manager.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = destination.deletingLastPathComponent().appendingPathComponent(".\(destination.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try manager.copyItem(at: file, to: temporary)
            guard rename(temporary.path, destination.path) == 0 else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: destination.path])
            }
        } catch {
            try? manager.removeItem(at: temporary)
            throw error
        }
    }
}
