import Backfill
import Foundation
import Synchronization

/// Progress of a long run on standard error: a redrawn bar with rate and ETA on a terminal,
/// a log line every 10 seconds otherwise (CI logs, `kubectl logs`).
final class ProgressDisplay: Sendable {
    private struct State {
        var lastDraw: ContinuousClock.Instant?
        var latest: ReprocessProgress?
        var drewBar = false
    }

    private let verb: String
    private let isTerminal: Bool
    private let state = Mutex(State())

    init(verb: String, isTerminal: Bool = isatty(STDERR_FILENO) == 1) {
        self.verb = verb
        self.isTerminal = isTerminal
    }

    func update(_ progress: ReprocessProgress) {
        let line: String? = state.withLock { state in
            state.latest = progress
            let now = ContinuousClock.now
            let interval: Duration = isTerminal ? .milliseconds(100) : .seconds(10)
            let due = state.lastDraw.map { now - $0 >= interval } ?? true
            guard due || progress.done == progress.total else { return nil }
            state.lastDraw = now
            state.drewBar = isTerminal
            return isTerminal ? "\r" + Self.bar(progress, verb: verb) + "\u{1B}[K" : Self.logLine(progress, verb: verb) + "\n"
        }
        if let line { FileHandle.standardError.write(Data(line.utf8)) }
    }

    /// Ends the bar's line so the summary starts on its own.
    func finish() {
        if state.withLock({ $0.drewBar }) { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    static func bar(_ progress: ReprocessProgress, verb: String) -> String {
        let width = 30
        let fraction = progress.total > 0 ? Double(progress.done) / Double(progress.total) : 1
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let failed = progress.failed > 0 ? ", \(progress.failed) failed" : ""
        return "\(bar) \(progress.done)/\(progress.total) \(verb)\(failed)  \(String(format: "%.1f", progress.rate))/s  ETA \(eta(progress.eta))"
    }

    static func logLine(_ progress: ReprocessProgress, verb: String) -> String {
        let percent = progress.total > 0 ? 100 * progress.done / progress.total : 100
        return "reprocess: \(progress.done)/\(progress.total) \(verb) (\(percent)%), \(progress.failed) failed, \(String(format: "%.1f", progress.rate)) files/s, ETA \(eta(progress.eta))"
    }

    static func eta(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite else { return "--" }
        let total = Int(seconds.rounded())
        if total >= 3600 { return "\(total / 3600)h\(String(format: "%02d", total % 3600 / 60))m" }
        if total >= 60 { return "\(total / 60)m\(String(format: "%02d", total % 60))s" }
        return "\(total)s"
    }
}
