import Crypto
import Foundation

/// Which stored originals a `mediad reprocess` run considers, and which of them it redoes.
public struct ReprocessSelection: Sendable, Hashable {
    /// Where the originals are listed from.
    public enum Source: Sendable, Hashable {
        /// Every object under a prefix (ListObjectsV2), mediad's own outputs excepted.
        case prefix(bucket: String, prefix: String)
        /// The keys of a file, one per line: `key` (in `bucket`) or `s3://bucket/key`.
        case keyFile(bucket: String, path: String)
    }

    /// Which of the listed files are redone.
    public enum Mode: String, Sendable, Hashable {
        /// Files without a manifest, with an older pipeline version, a changed source, or a
        /// previous attempt that failed transiently.
        case outdated
        /// Every file.
        case all
    }

    public var source: Source
    public var mode: Mode
    /// A pipeline to use instead of the one each file's type selects; files whose manifest
    /// came from another pipeline count as outdated.
    public var pipeline: String?
    /// Only originals last modified at or after this instant.
    public var modifiedSince: Date?
    /// Only originals last modified before this instant.
    public var modifiedBefore: Date?
    /// At most this many files are redone (skipped files do not count).
    public var limit: Int?

    public init(source: Source, mode: Mode = .outdated, pipeline: String? = nil, modifiedSince: Date? = nil, modifiedBefore: Date? = nil, limit: Int? = nil) {
        self.source = source
        self.mode = mode
        self.pipeline = pipeline
        self.modifiedSince = modifiedSince
        self.modifiedBefore = modifiedBefore
        self.limit = limit
    }

    /// The bucket originals are read from (keys of a key file may name others).
    public var bucket: String {
        switch source {
        case .prefix(let bucket, _), .keyFile(let bucket, _): bucket
        }
    }

    func admits(lastModified: Date?) -> Bool {
        guard let lastModified else { return modifiedSince == nil && modifiedBefore == nil }
        if let modifiedSince, lastModified < modifiedSince { return false }
        if let modifiedBefore, lastModified >= modifiedBefore { return false }
        return true
    }

    /// Names this selection in its checkpoint, so a checkpoint is only resumed by the same run.
    /// The limit is left out: raising it continues the same work.
    public var fingerprint: String {
        let source = switch source {
        case .prefix(let bucket, let prefix): "prefix|\(bucket)|\(prefix)"
        case .keyFile(let bucket, let path): "keys|\(bucket)|\(URL(fileURLWithPath: path).standardizedFileURL.path)"
        }
        let text = [
            source, mode.rawValue, pipeline ?? "-",
            modifiedSince.map { String($0.timeIntervalSince1970) } ?? "-",
            modifiedBefore.map { String($0.timeIntervalSince1970) } ?? "-",
        ].joined(separator: "|")
        return SHA256.hash(data: Data(text.utf8)).prefix(6).map { String(format: "%02x", $0) }.joined()
    }
}
