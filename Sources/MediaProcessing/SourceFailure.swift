import ObjectStorage
import PipelineEngine

/// The one mapping from a failure to read an original to the code a result carries, for
/// the daemon, `reprocess` and `mediad process s3://` alike.
public enum SourceFailure {
    public static func code(for error: ObjectStorageError) -> String {
        switch error.code {
        case .notFound: "source_not_found"
        case .noSuchBucket: "source_bucket_not_found"
        case .accessDenied, .signatureMismatch: "source_access_denied"
        case .integrity, .preconditionFailed: "source_changed"
        default: "source_unavailable"
        }
    }

    public static func issue(for error: ObjectStorageError, stage: String = "download") -> ProcessingIssue {
        ProcessingIssue(stage: stage, code: code(for: error), message: error.description, retryable: error.isRetryable)
    }
}
