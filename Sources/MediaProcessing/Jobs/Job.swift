import Foundation
import PipelineEngine

/// One original to process, whoever asked for it: the daemon maps each upload event to a
/// job, `reprocess` each selected object, `mediad process` each `s3://` argument. Everything
/// after that (download, the poison-file guard, the pipeline, the manifest) is the same code.
public struct Job: Sendable, Hashable {
    /// The id the derivatives and manifest are filed under.
    public var fileId: String
    public var bucket: String
    public var key: String
    /// What the caller announced; a download that disagrees fails with `source_changed`.
    public var size: Int64?
    /// The announced ETag, without quotes.
    public var etag: String?
    /// A SHA-256 the uploader promised; a mismatch fails the file.
    public var sha256: String?
    /// The uploader's claim; only compared with the sniffed type, never trusted.
    public var contentType: String?
    public var ownerId: String?
    public var albumId: String?
    /// A pipeline to use instead of the one the sniffed type selects.
    public var pipeline: String?
    /// The upload's S3 `sequencer`, when a bucket notification announced it: orders it
    /// against a removal of the same key.
    public var sequencer: String?
    /// Recompute even when a current manifest exists.
    public var force: Bool
    public var attempt: Int
    /// Worker slots the job takes.
    public var weight: Int

    /// - Parameter videoWeight: the slots a job takes when it looks like a video.
    public init(
        fileId: String, bucket: String, key: String, size: Int64? = nil, etag: String? = nil, sha256: String? = nil,
        contentType: String? = nil, ownerId: String? = nil, albumId: String? = nil, pipeline: String? = nil,
        sequencer: String? = nil, force: Bool = false, attempt: Int = 1, videoWeight: Int = 1
    ) {
        self.fileId = fileId
        self.bucket = bucket
        self.key = key
        self.size = size
        self.etag = etag.map { $0.trimmingCharacters(in: ["\""]) }
        self.sha256 = sha256
        self.contentType = contentType
        self.ownerId = ownerId
        self.albumId = albumId
        self.pipeline = pipeline
        self.sequencer = sequencer
        self.force = force
        self.attempt = attempt
        self.weight = 1
        self.weight = looksLikeVideo ? max(1, videoWeight) : 1
    }

    /// A video by its declared type or its key's extension: how many slots the job takes is
    /// known before anything is downloaded (the real type is sniffed later).
    public var looksLikeVideo: Bool {
        let name = key.split(separator: "/").last.map(String.init) ?? key
        let ext = name.contains(".") ? String(name.split(separator: ".").last ?? "").lowercased() : ""
        return contentType?.hasPrefix("video/") == true || Self.videoExtensions.contains(ext)
    }

    static let videoExtensions: Set<String> = ["mp4", "mov", "m4v", "webm", "mkv", "avi", "3gp", "mts", "ts"]

    /// The result of a job that failed before its pipeline ran.
    public func failed(_ issue: ProcessingIssue) -> ProcessedData {
        .failed(
            fileId: fileId, ownerId: ownerId, albumId: albumId,
            source: SourceInfo(
                bucket: bucket, key: key, size: size ?? 0, mediaType: .other, contentType: "application/octet-stream",
                declaredContentType: contentType, etag: etag),
            pipeline: PipelineReference(name: pipeline ?? PipelineReference.none.name, version: 0), issue, attempt: attempt)
    }
}
