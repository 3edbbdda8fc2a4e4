import Foundation
import ObjectStorage
import PipelineEngine

/// One file to process, with what the uploader told us about it.
public struct ProcessingRequest: Sendable {
    /// The original, already on local disk.
    public var file: URL
    public var fileId: String
    public var ownerId: String?
    public var albumId: String?
    /// Where the original lives, reported back in `source`.
    public var sourceBucket: String?
    public var sourceKey: String
    public var etag: String?
    /// The uploader's claim; only compared with the sniffed type, never trusted.
    public var declaredContentType: String?
    /// A pipeline to use instead of the one the sniffed type selects.
    public var pipelineOverride: String?
    /// A SHA-256 the uploader promised; a mismatch fails the file.
    public var expectedSHA256: String?
    public var attempt: Int
    /// Worker slots the job takes (a video transcode may take more than a photo).
    public var weight: Int
    /// Digests computed over the file while it was downloaded.
    public var knownDigests = KnownDigests()
    /// Called once the job holds its slots, right before decoding starts (the daemon counts
    /// the start against the file there, not while the job waits in the queue).
    public var willStart: (@Sendable () async -> Void)?

    public init(
        file: URL, fileId: String, ownerId: String? = nil, albumId: String? = nil, sourceBucket: String? = nil,
        sourceKey: String? = nil, etag: String? = nil, declaredContentType: String? = nil,
        pipelineOverride: String? = nil, expectedSHA256: String? = nil, attempt: Int = 1, weight: Int = 1
    ) {
        self.file = file
        self.fileId = fileId
        self.ownerId = ownerId
        self.albumId = albumId
        self.sourceBucket = sourceBucket
        self.sourceKey = sourceKey ?? file.lastPathComponent
        self.etag = etag
        self.declaredContentType = declaredContentType
        self.pipelineOverride = pipelineOverride
        self.expectedSHA256 = expectedSHA256
        self.attempt = attempt
        self.weight = weight
    }
}

extension ProcessingRequest {
    /// The request for a job whose original was downloaded to `file`.
    public init(_ job: Job, file: URL, info: ObjectInfo) {
        self.init(
            file: file, fileId: job.fileId, ownerId: job.ownerId, albumId: job.albumId, sourceBucket: job.bucket,
            sourceKey: job.key, etag: info.etag, declaredContentType: job.contentType ?? info.contentType,
            pipelineOverride: job.pipeline, expectedSHA256: job.sha256, attempt: job.attempt, weight: job.weight)
        knownDigests = KnownDigests(sha256: info.sha256, md5: info.md5)
    }
}
