/// How an object is stored: the HTTP headers S3 keeps with it.
public struct PutOptions: Sendable, Hashable {
    /// `Content-Type` served with the object; S3 stores `binary/octet-stream` when absent.
    public var contentType: String?
    /// `Cache-Control` served with the object (derivatives are immutable: cache them long).
    public var cacheControl: String?
    /// User metadata, sent as `x-amz-meta-<key>`. Keys are lowercased; keys and values
    /// must be printable ASCII, as S3 only round-trips those unchanged.
    public var metadata: [String: String]
    /// The caller gives the file it puts up (a job's own output, deleted after): a local store
    /// on the same file system moves it into place instead of writing a copy, so the file is
    /// gone once the put succeeds (a failed put leaves it). S3 stores upload it either way.
    public var handsOverFile: Bool

    /// Creates put options; all fields are optional.
    public init(contentType: String? = nil, cacheControl: String? = nil, metadata: [String: String] = [:], handsOverFile: Bool = false) {
        self.contentType = contentType
        self.cacheControl = cacheControl
        self.metadata = metadata
        self.handsOverFile = handsOverFile
    }

    /// Throws when a metadata key or value cannot travel in an HTTP header unchanged.
    func validate() throws(ObjectStorageError) {
        for (key, value) in metadata {
            let keyOK =
                !key.isEmpty
                && key.utf8.allSatisfy { byte in
                    (0x21...0x7E).contains(byte) && !"()<>@,;:\\\"/[]?={}".utf8.contains(byte)
                }
            guard keyOK else {
                throw ObjectStorageError(.invalidArgument, "metadata key '\(key)' must be an HTTP token")
            }
            guard value.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) else {
                throw ObjectStorageError(.invalidArgument, "metadata value for '\(key)' must be printable ASCII")
            }
        }
        for (name, value) in [("content type", contentType), ("cache control", cacheControl)] {
            if let value, !value.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) {
                throw ObjectStorageError(.invalidArgument, "\(name) must be printable ASCII")
            }
        }
    }

    /// Metadata with lowercased keys, as S3 returns it.
    var normalizedMetadata: [String: String] {
        Dictionary(metadata.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { _, last in last })
    }
}
