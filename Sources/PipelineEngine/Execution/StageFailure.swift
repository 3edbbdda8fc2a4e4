/// Why a stage (or the whole file) failed, in the terms a consumer of `media.processed` needs:
/// a stable machine-readable code, a message for people, and whether a retry may help.
public struct StageFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable error codes. Not frozen: new codes may appear, consumers should treat unknown ones as permanent.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The file has no bytes.
        public static let emptyFile = Code(rawValue: "empty_file")
        /// No pipeline takes the sniffed type (a text file named `.jpg`, a PDF, an unknown format).
        public static let unsupportedType = Code(rawValue: "unsupported_type")
        /// The file is larger than the pipeline's `maxBytes`.
        public static let tooLarge = Code(rawValue: "too_large")
        /// Declared dimensions exceed `maxPixels`: a decompression bomb or an oversize scan.
        public static let tooManyPixels = Code(rawValue: "too_many_pixels")
        /// The media is longer than `maxDuration`.
        public static let tooLong = Code(rawValue: "too_long")
        /// The file ends early (an interrupted upload).
        public static let truncatedFile = Code(rawValue: "truncated_file")
        /// The decoder rejected the bytes.
        public static let corruptFile = Code(rawValue: "corrupt_file")
        /// The format needs a loader that is disabled for untrusted input.
        public static let loaderDisabled = Code(rawValue: "loader_disabled")
        /// The file has no stream this stage can use (a video stage on an audio-only file).
        public static let noUsableStream = Code(rawValue: "no_usable_stream")
        /// The stage ran past its timeout and was stopped.
        public static let timeout = Code(rawValue: "timeout")
        /// An encoder or writer failed.
        public static let encodeFailed = Code(rawValue: "encode_failed")
        /// A stage this one needs failed or was skipped.
        public static let dependencyFailed = Code(rawValue: "dependency_failed")
        /// The stage kind has no implementation for this media type in this build.
        public static let stageUnavailable = Code(rawValue: "stage_unavailable")
        /// A checksum the event promised did not match the bytes.
        public static let checksumMismatch = Code(rawValue: "checksum_mismatch")
        /// Reading or writing local files failed (disk full, permissions).
        public static let ioError = Code(rawValue: "io_error")
        /// The worker process running the job died (a signal: a decoder crashed).
        public static let workerCrashed = Code(rawValue: "worker_crashed")
        /// The job needed more memory than the pipeline's `maxMemory`.
        public static let memoryLimit = Code(rawValue: "memory_limit")
        /// The file was in flight during `maxCrashes` deaths of the daemon itself; it is
        /// not run again.
        public static let poisonFile = Code(rawValue: "poison_file")
        /// A worker process answered with something that is not the protocol.
        public static let workerProtocol = Code(rawValue: "worker_protocol_error")
        /// The file was deleted (a tombstone covers this version): nothing is made for it.
        public static let fileDeleted = Code(rawValue: "file_deleted")
        /// The whole job (download, process, store) ran past `jobTimeout`.
        public static let jobTimeout = Code(rawValue: "job_timeout")
        /// An output or the manifest could not be stored, after its retries.
        public static let storeFailed = Code(rawValue: "store_failed")
        /// The original does not exist (deleted before the job ran, or a wrong key).
        public static let sourceNotFound = Code(rawValue: "source_not_found")
        /// The original's bucket does not exist.
        public static let sourceBucketNotFound = Code(rawValue: "source_bucket_not_found")
        /// mediad may not read the original.
        public static let sourceAccessDenied = Code(rawValue: "source_access_denied")
        /// The original is not the object the event announced (size, ETag or bytes differ).
        public static let sourceChanged = Code(rawValue: "source_changed")
        /// The store could not be reached, or kept failing, through the retries.
        public static let sourceUnavailable = Code(rawValue: "source_unavailable")

        // Warnings: the file succeeded, with a remark.

        /// A stage's input produced nothing (an image stage after a failed decode).
        public static let skipped = Code(rawValue: "skipped")
        /// The video needed no transcode, or the pipeline's rules left it out.
        public static let transcodeSkipped = Code(rawValue: "transcode_skipped")
        /// HDR content was encoded without tone mapping (the filter is missing in this build).
        public static let toneMappingUnavailable = Code(rawValue: "tone_mapping_unavailable")
        /// The decoder reported errors it recovered from.
        public static let decodeErrors = Code(rawValue: "decode_errors")
        /// An output was written in another format than asked (the encoder is missing).
        public static let formatSubstituted = Code(rawValue: "format_substituted")
        /// The declared content type disagrees with the sniffed one.
        public static let contentTypeMismatch = Code(rawValue: "content_type_mismatch")

        /// Anything else: a bug or an unexpected native error.
        public static let internalError = Code(rawValue: "internal_error")
    }

    public var code: Code
    public var message: String
    public var retryable: Bool

    public init(_ code: Code, _ message: String, retryable: Bool = false) {
        self.code = code
        self.message = message
        self.retryable = retryable
    }

    public var description: String { "\(code): \(message)" }

    public func issue(stage: String) -> ProcessingIssue {
        ProcessingIssue(stage: stage, code: code.rawValue, message: message, retryable: retryable)
    }
}

extension ProcessingIssue {
    /// An issue with one of the stable codes.
    public init(stage: String, code: StageFailure.Code, message: String, retryable: Bool = false) {
        self.init(stage: stage, code: code.rawValue, message: message, retryable: retryable)
    }
}
