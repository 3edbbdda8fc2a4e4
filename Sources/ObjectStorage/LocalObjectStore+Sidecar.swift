import Foundation

/// What S3 would keep beside an object's bytes, stored as JSON next to the data tree.
struct LocalObjectSidecar: Codable, Sendable {
    var size: Int64
    /// The data file's modification time when the sidecar was written: a sidecar
    /// whose size or time no longer match describes other bytes and is ignored.
    var modified: Date?
    var etag: String
    var contentType: String?
    var cacheControl: String?
    var metadata: [String: String]
}

extension LocalObjectStore {
    func readSidecar(_ bucket: String, _ key: String) -> LocalObjectSidecar? {
        guard let data = FileManager.default.contents(atPath: metadataPath(bucket, key)) else { return nil }
        return try? JSONDecoder().decode(LocalObjectSidecar.self, from: data)
    }

    func writeSidecar(_ sidecar: LocalObjectSidecar, bucket: String, key: String) throws {
        let path = metadataPath(bucket, key)
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try JSONEncoder().encode(sidecar).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
