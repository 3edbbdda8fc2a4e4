import CFileShims
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What S3 would keep beside an object's bytes: an extended attribute of the data file
/// where the file system has them, else a JSON file under `root/.mediad/meta`.
struct LocalObjectSidecar: Codable, Sendable {
    var size: Int64
    /// The data file's modification time when the sidecar was written: a sidecar
    /// whose size or time no longer match describes other bytes and is ignored.
    var modified: Date?
    var etag: String
    var contentType: String?
    var cacheControl: String?
    var metadata: [String: String]

    /// Whether the sidecar still describes a data file of this size and time.
    func describes(size: Int64, modified: Date?) -> Bool {
        self.size == size && self.modified == modified
    }
}

extension LocalObjectStore {
    /// The extended attribute holding an object's sidecar. It is written on the temporary
    /// file before the rename, so the headers arrive with the bytes in one step, and it costs
    /// no file of its own: creating files is most of a put's cost on some file systems.
    static let sidecarAttribute = "user.mediad.object"

    /// The sidecar that describes the object's current bytes (`size`, `modified`): a sidecar
    /// file first (a copy that shares its data file with another object has one, and an
    /// older version or a file system without user attributes wrote them), then the data
    /// file's attribute.
    func readSidecar(_ bucket: String, _ key: String, size: Int64, modified: Date?) -> LocalObjectSidecar? {
        let candidates: [() -> Data?] = [
            { FileManager.default.contents(atPath: self.metadataPath(bucket, key)) },
            { Self.attribute(Self.sidecarAttribute, ofFile: self.objectPath(bucket, key)) },
        ]
        for candidate in candidates {
            if let data = candidate(), let sidecar = try? JSONDecoder().decode(LocalObjectSidecar.self, from: data),
               sidecar.describes(size: size, modified: modified)
            {
                return sidecar
            }
        }
        return nil
    }

    /// Attaches the sidecar to the temporary data file when the file system allows it and the
    /// file is the object's alone (not a link to another object's data, whose attribute it
    /// would change).
    /// - Returns: false when it must go to a sidecar file instead (`writeSidecar`).
    func attachSidecar(_ sidecar: LocalObjectSidecar, toFile temporary: String) throws -> Bool {
        var status = stat()
        guard stat(temporary, &status) == 0, status.st_nlink == 1 else { return false }
        let value = try JSONEncoder().encode(sidecar)
        return value.withUnsafeBytes { bytes in
            mediad_set_attribute(temporary, Self.sidecarAttribute, bytes.baseAddress, bytes.count) == 0
        }
    }

    func writeSidecar(_ sidecar: LocalObjectSidecar, bucket: String, key: String) throws {
        let path = metadataPath(bucket, key)
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try JSONEncoder().encode(sidecar).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Removes a sidecar file an earlier put left, once the object's attribute replaces it.
    func removeSidecarFile(_ bucket: String, _ key: String) {
        unlink(metadataPath(bucket, key))
    }

    /// The value of an extended attribute, or nil when the file has none by that name (or
    /// the file system keeps none).
    static func attribute(_ name: String, ofFile path: String) -> Data? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var length = buffer.withUnsafeMutableBytes { mediad_get_attribute(path, name, $0.baseAddress, $0.count) }
        if length < 0, errno == ERANGE {
            let needed = mediad_get_attribute(path, name, nil, 0)
            guard needed > 0 else { return nil }
            buffer = [UInt8](repeating: 0, count: needed)
            length = buffer.withUnsafeMutableBytes { mediad_get_attribute(path, name, $0.baseAddress, $0.count) }
        }
        guard length >= 0 else { return nil }
        return Data(buffer[0..<length])
    }
}
