import Foundation

/// Where bytes are: an object (`s3://bucket/key`) or a local file, as given on a
/// command line (`mediad storage cp SRC DST`).
public enum ObjectLocation: Sendable, Hashable, CustomStringConvertible {
    /// An object in a bucket; the key may be empty or end with `/` (a "directory").
    case object(bucket: String, key: String)
    /// A local file or directory.
    case file(URL)

    /// Parses `s3://bucket/key` (the key taken literally, not percent-decoded, as
    /// `aws s3` does), `file:///path`, or a local path (relative to `directory`,
    /// by default the current one).
    /// - Throws: `.invalidArgument` for an `s3://` URL without a bucket.
    public static func parse(_ text: String, relativeTo directory: URL? = nil) throws(ObjectStorageError)
        -> ObjectLocation
    {
        if text.lowercased().hasPrefix("s3://") {
            let rest = text.dropFirst(5)
            let bucket = rest.prefix { $0 != "/" }
            guard !bucket.isEmpty else {
                throw ObjectStorageError(.invalidArgument, "'\(text)' names no bucket")
            }
            return .object(bucket: String(bucket), key: String(rest.dropFirst(bucket.count + 1)))
        }
        if text.hasPrefix("file://"), let url = URL(string: text), url.isFileURL {
            return .file(url.standardizedFileURL)
        }
        guard !text.isEmpty else {
            throw ObjectStorageError(.invalidArgument, "empty location")
        }
        let base = directory ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        let url = text.hasPrefix("/") ? URL(fileURLWithPath: text) : base.appendingPathComponent(text)
        return .file(url.standardizedFileURL)
    }

    public var description: String {
        switch self {
        case .object(let bucket, let key): return "s3://\(bucket)/\(key)"
        case .file(let url): return url.path
        }
    }
}
