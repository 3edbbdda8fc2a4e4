extension RetryPolicy {
    /// Transient storage failures (5xx, throttling, timeouts, refused or reset connections).
    public static func isTransient(_ error: any Error) -> Bool {
        (error as? ObjectStorageError)?.isRetryable ?? false
    }

    /// Runs `body` until it succeeds, throws an error `shouldRetry` rejects, or all attempts
    /// are used, sleeping the policy's backoff in between: the one retry loop of mediad's
    /// jobs (reading the source, storing each output).
    /// - Throws: the last error, or `CancellationError` when cancelled while waiting.
    public func retrying<T: Sendable>(
        shouldRetry: (any Error) -> Bool = RetryPolicy.isTransient, onRetry: (_ attempt: Int, _ error: any Error) -> Void = { _, _ in },
        _ body: () async throws -> T
    ) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await body()
            } catch {
                attempt += 1
                guard attempt < maxAttempts, shouldRetry(error), !Task.isCancelled else { throw error }
                onRetry(attempt, error)
                try await Task.sleep(for: delay(afterAttempt: attempt))
            }
        }
    }
}
