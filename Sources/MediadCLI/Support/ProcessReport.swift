import Foundation
import MediaProcessing
import PipelineEngine

/// Prints results as they arrive: JSON Lines on stdout, or a readable summary.
final class ProcessReport: @unchecked Sendable {
    private let json: Bool
    private let outDescription: String
    private let lock = NSLock()
    private var counts: [ProcessingStatus: Int] = [:]

    init(json: Bool, outDescription: String) {
        self.json = json
        self.outDescription = outDescription
    }

    var failures: Int { lock.withLock { counts[.failed, default: 0] } }

    func add(_ data: ProcessedData, for file: SourceFile) throws {
        let text = json ? String(decoding: try ManifestCoding.encoder().encode(data), as: UTF8.self) : summary(data, file: file)
        lock.withLock {
            counts[data.status, default: 0] += 1
            FileHandle.standardOutput.write(Data((text + "\n").utf8))
        }
    }

    func finish(elapsed: Duration) {
        guard !json else { return }
        let total = counts.values.reduce(0, +)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        emit("\(total) file(s) in \(String(format: "%.2f", seconds)) s: \(counts[.succeeded, default: 0]) succeeded, \(counts[.partial, default: 0]) partial, \(counts[.failed, default: 0]) failed")
    }

    private func emit(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    private func summary(_ data: ProcessedData, file: SourceFile) -> String {
        let mark = switch data.status {
        case .succeeded: "✓"
        case .partial: "!"
        case .failed: "✗"
        }
        let metadata = data.metadata
        var size = ""
        if let width = metadata.displayWidth ?? metadata.width, let height = metadata.displayHeight ?? metadata.height {
            size = " \(width)x\(height)"
        }
        var lines = ["\(mark) \(file.displayName): \(data.status.rawValue) — \(data.source.contentType)\(size), pipeline \(data.pipeline.name) v\(data.pipeline.version), \(Int(data.timings["total"] ?? 0)) ms → \(outDescription)/\(file.name)/"]
        for derivative in data.derivatives {
            if let value = derivative.data {
                lines.append("    \(derivative.name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(derivative.kind.rawValue) \(value)")
            } else {
                let dims = derivative.width.map { "\($0)x\(derivative.height ?? 0)" } ?? ""
                let bytes = derivative.bytes.map { ByteCountFormatter.string(fromByteCount: $0, countStyle: .file) } ?? ""
                let note = derivative.note.map { " (\($0))" } ?? ""
                lines.append("    \(derivative.name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(derivative.contentType) \(dims) \(bytes)\(note)")
            }
        }
        var facts: [String] = []
        if let takenAt = metadata.takenAt { facts.append("taken \(takenAt)") }
        let camera = [metadata.make, metadata.model].compactMap { $0 }.joined(separator: " ")
        if !camera.isEmpty { facts.append(camera) }
        if let gps = metadata.gps { facts.append("at \(gps.latitude), \(gps.longitude)") }
        if let duration = metadata.duration { facts.append(String(format: "%.2f s", duration)) }
        if !facts.isEmpty { lines.append("    " + facts.joined(separator: " · ")) }
        for issue in data.errors {
            lines.append("    error in \(issue.stage): \(issue.code) — \(issue.message)")
        }
        for issue in data.warnings {
            lines.append("    warning: \(issue.code) — \(issue.message)")
        }
        return lines.joined(separator: "\n")
    }
}
