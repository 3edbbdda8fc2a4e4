import ObjectStorage
import PipelineEngine

/// The one mapping from a failure to read an original to the code a result carries, for
/// the daemon, `reprocess` and `mediad process s3://` alike.
public enum SourceFailure {
    public static func code(for error: ObjectStorageError) -> StageFailure.Code {
        switch error.code {
        case .notFound: .sourceNotFound
        case .noSuchBucket: .sourceBucketNotFound
        case .accessDenied, .signatureMismatch: .sourceAccessDenied
        case .integrity, .preconditionFailed: .sourceChanged
        default: .sourceUnavailable
        }
    }

    public static func issue(for error: ObjectStorageError, stage: String = "download") -> ProcessingIssue {
        ProcessingIssue(stage: stage, code: code(for: error), message: error.description, retryable: error.isRetryable)
    }
}
