import PipelineEngine

/// Where a long run (`reprocess`, `gc`) is, for the progress bar and periodic log lines.
public struct RunProgress: Sendable {
    /// Nil when the run streams a listing and cannot know its size in advance.
    public var total: Int?
    public var done = 0
    public var failed = 0
    public var started: ContinuousClock.Instant
    public var last: String?

    public init(total: Int?, started: ContinuousClock.Instant = .now) {
        self.total = total
        self.started = started
    }

    /// Items per second so far.
    public var rate: Double {
        let seconds = (ContinuousClock.now - started).milliseconds / 1000
        return seconds > 0 ? Double(done) / seconds : 0
    }

    /// Seconds left at the current rate; nil before the first item or without a total.
    public var eta: Double? {
        guard let total, done > 0, rate > 0 else { return nil }
        return Double(total - done) / rate
    }
}
