import Foundation

/// Exponential backoff between reconnection attempts: `initial × multiplier^attempt`,
/// at most `maximum`, each spread by ±`jitter` (a fraction) so that many clients of one
/// broker do not reconnect in step.
public struct AMQPBackoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration
    public var multiplier: Double
    /// 0…1; default 0.2 (±20 %).
    public var jitter: Double

    public init(initial: Duration = .milliseconds(500), maximum: Duration = .seconds(30), multiplier: Double = 2, jitter: Double = 0.2) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The wait before attempt `attempt + 1` (attempt 0 is the first retry).
    public func delay(attempt: Int, random: Double = Double.random(in: -1...1)) -> Duration {
        let base = min(initial.seconds * pow(multiplier, Double(max(0, attempt))), maximum.seconds)
        let spread = base * (1 + max(0, min(1, jitter)) * max(-1, min(1, random)))
        return .milliseconds(Int64(max(0, min(spread, maximum.seconds)) * 1000))
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
