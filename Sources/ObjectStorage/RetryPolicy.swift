/// How transient failures (5xx, throttling, timeouts, resets) are retried:
/// exponential backoff with full jitter, so that many clients that failed together
/// do not retry together. Other 4xx answers are never retried.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts in all, the first included (1 disables retries).
    public var maxAttempts: Int
    /// The backoff ceiling before the second attempt; it doubles with each attempt.
    public var baseDelay: Duration
    /// The largest backoff ceiling.
    public var maxDelay: Duration

    /// Creates a policy.
    public init(maxAttempts: Int = 5, baseDelay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(10)) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// Five attempts, 100 ms doubling up to 10 s.
    public static let `default` = RetryPolicy()

    /// One attempt only.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// A random delay in `0...min(maxDelay, baseDelay * 2^(attempt-1))` before attempt `attempt + 1`.
    public func delay(afterAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let ceiling = min(maxDelay, baseDelay * (1 << exponent))
        let nanoseconds = ceiling.components.seconds * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000
        guard nanoseconds > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...nanoseconds))
    }
}
