import Foundation
import PipelineEngine

/// The end of a run: what was processed, skipped and why, failed and with which error.
public struct ReprocessSummary: Sendable, Equatable {
    /// Candidates the selection named (after the time range), whatever became of them.
    public var selected: Int
    /// Files with an outcome, by outcome: `succeeded`, `partial`, `failed`, `published`.
    public var outcomes: [String: Int] = [:]
    /// Skipped files by reason category.
    public var skipped: [String: Int] = [:]
    /// Failed files by error code (a file may count under several codes).
    public var failures: [String: Int] = [:]
    /// Files to process that got no outcome (the run was interrupted).
    public var remaining = 0
    public var interrupted = false
    public var elapsed: Duration = .zero

    public init(selected: Int) {
        self.selected = selected
    }

    mutating func count(outcome: String, codes: [String]) {
        outcomes[outcome, default: 0] += 1
        if outcome == "failed" {
            for code in Set(codes.isEmpty ? ["unknown"] : codes) { failures[code, default: 0] += 1 }
        }
    }

    public var failed: Int { outcomes["failed"] ?? 0 }

    /// The table printed at the end of `mediad reprocess`.
    public func table() -> String {
        var rows: [(String, Int)] = [("selected", selected)]
        for outcome in ["succeeded", "partial", "published", "failed"] where outcomes[outcome] != nil {
            rows.append((outcome, outcomes[outcome] ?? 0))
        }
        let skippedTotal = skipped.values.reduce(0, +)
        rows.append(("skipped", skippedTotal))
        for (reason, count) in skipped.sorted(by: { $0.key < $1.key }) { rows.append(("  \(reason)", count)) }
        if !failures.isEmpty {
            rows.append(("failed by error code", failed))
            for (code, count) in failures.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) { rows.append(("  \(code)", count)) }
        }
        if interrupted { rows.append(("not done (interrupted)", remaining)) }
        let width = max(24, rows.map(\.0.count).max() ?? 0)
        var lines = rows.map { label, count in
            label.padding(toLength: width, withPad: " ", startingAt: 0) + String(count).leftPadded(to: 8)
        }
        lines.append("elapsed".padding(toLength: width, withPad: " ", startingAt: 0) + String(format: "%.1f s", elapsed.milliseconds / 1000).leftPadded(to: 8))
        return lines.joined(separator: "\n")
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
