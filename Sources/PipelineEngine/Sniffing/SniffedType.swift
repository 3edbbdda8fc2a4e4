/// What a file really is, judged from its first bytes.
public struct SniffedType: Codable, Sendable, Equatable, CustomStringConvertible {
    public var mediaType: MediaType
    public var contentType: String
    /// Short format name used in logs and pipeline `match` lists (`jpeg`, `heic`, `mp4`).
    public var format: String

    public init(mediaType: MediaType, contentType: String, format: String) {
        self.mediaType = mediaType
        self.contentType = contentType
        self.format = format
    }

    public static let unknown = SniffedType(mediaType: .other, contentType: "application/octet-stream", format: "unknown")
    public static let empty = SniffedType(mediaType: .other, contentType: "application/x-empty", format: "empty")

    public var description: String { contentType }
}
