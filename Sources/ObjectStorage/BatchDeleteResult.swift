/// What a batch delete did, key by key, so that a caller can say exactly what was
/// removed and try the rest again.
public struct BatchDeleteResult: Sendable {
    /// A key that is still there, and why.
    public struct Failure: Sendable {
        /// The key, as the caller gave it.
        public var key: String
        /// Why it was not deleted: the server's per-key `Code` and `Message` (in
        /// `serviceCode` and `message`), or the failure of the request that carried it.
        public var error: ObjectStorageError

        /// Creates a failure.
        public init(key: String, error: ObjectStorageError) {
            self.key = key
            self.error = error
        }
    }

    /// Keys that are gone, missing ones included (as on S3).
    public var deleted: [String]
    /// Keys that were not deleted.
    public var failed: [Failure]

    /// Creates a result.
    public init(deleted: [String] = [], failed: [Failure] = []) {
        self.deleted = deleted
        self.failed = failed
    }

    /// The keys to try again.
    public var failedKeys: [String] { failed.map(\.key) }
}
