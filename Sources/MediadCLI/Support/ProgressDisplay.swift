import Backfill
import Foundation
import Synchronization

/// Progress of a long run on standard error: a redrawn bar with rate and ETA on a terminal,
/// a log line every 10 seconds otherwise (CI logs, `kubectl logs`).
final class ProgressDisplay: Sendable {
    private struct State {
        var lastDraw: ContinuousClock.Instant?
        var latest: RunProgress?
        var drewBar = false
    }

    private let command: String
    private let verb: String
    private let isTerminal: Bool
    private let state = Mutex(State())

    init(command: String = "reprocess", verb: String, isTerminal: Bool = isatty(STDERR_FILENO) == 1) {
        self.command = command
        self.verb = verb
        self.isTerminal = isTerminal
    }

    func update(_ progress: RunProgress) {
        let line: String? = state.withLock { state in
            state.latest = progress
            let now = ContinuousClock.now
            let interval: Duration = isTerminal ? .milliseconds(100) : .seconds(10)
            let due = state.lastDraw.map { now - $0 >= interval } ?? true
            guard due || progress.done == progress.total else { return nil }
            state.lastDraw = now
            state.drewBar = isTerminal
            return isTerminal ? "\r" + Self.bar(progress, verb: verb) + "\u{1B}[K" : Self.logLine(progress, command: command, verb: verb) + "\n"
        }
        if let line { FileHandle.standardError.write(Data(line.utf8)) }
    }

    /// Ends the bar's line so the summary starts on its own.
    func finish() {
        if state.withLock({ $0.drewBar }) { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    static func bar(_ progress: RunProgress, verb: String) -> String {
        let failed = progress.failed > 0 ? ", \(progress.failed) failed" : ""
        let rate = String(format: "%.1f", progress.rate)
        guard let total = progress.total else { return "\(progress.done) \(verb)\(failed)  \(rate)/s" }
        let width = 30
        let fraction = total > 0 ? Double(progress.done) / Double(total) : 1
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        return "\(bar) \(progress.done)/\(total) \(verb)\(failed)  \(rate)/s  ETA \(eta(progress.eta))"
    }

    static func logLine(_ progress: RunProgress, command: String = "reprocess", verb: String) -> String {
        let rate = String(format: "%.1f", progress.rate)
        guard let total = progress.total else { return "\(command): \(progress.done) \(verb), \(progress.failed) failed, \(rate)/s" }
        let percent = total > 0 ? 100 * progress.done / total : 100
        return "\(command): \(progress.done)/\(total) \(verb) (\(percent)%), \(progress.failed) failed, \(rate) files/s, ETA \(eta(progress.eta))"
    }

    static func eta(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite else { return "--" }
        let total = Int(seconds.rounded())
        if total >= 3600 { return "\(total / 3600)h\(String(format: "%02d", total % 3600 / 60))m" }
        if total >= 60 { return "\(total / 60)m\(String(format: "%02d", total % 60))s" }
        return "\(total)s"
    }
}
