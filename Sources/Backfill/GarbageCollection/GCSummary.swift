import Foundation

/// Why a folder of outputs is garbage.
public enum OrphanReason: String, Codable, Sendable, CaseIterable, CustomStringConvertible {
    /// Its manifest names an original that no longer exists (deleted while mediad was not
    /// listening).
    case originalMissing = "original_missing"
    /// Its manifest was made by a pipeline that no longer exists.
    case pipelineRemoved = "pipeline_removed"
    /// Derivatives without a manifest, older than the minimum age (a job that died halfway).
    case noManifest = "no_manifest"
    /// A tombstone alone, older than the tombstone retention, whose original is gone: no event
    /// for the deleted version can still arrive, so nothing is left for it to stop.
    case tombstoneExpired = "tombstone_expired"

    public var description: String { rawValue }
}

/// What `mediad gc` found and did; saved in the checkpoint, so a resumed run reports the
/// whole run.
public struct GCSummary: Codable, Sendable, Equatable {
    public var folders = 0
    public var orphans: [String: Int] = [:]
    /// Folders kept, by reason (`live`, `recent`, `tombstone`, `in_flight`, `unreadable_manifest`).
    public var kept: [String: Int] = [:]
    public var deletedObjects = 0
    public var deletedBytes: Int64 = 0
    /// Folders that could not be judged or emptied.
    public var failures = 0
    public var interrupted = false
    /// Why the listing stopped before its end, when it was not an interruption.
    public var listingFailure: String?
    public var elapsedSeconds: Double = 0

    public init() {}

    public var orphanCount: Int { orphans.values.reduce(0, +) }

    /// The table printed at the end of `mediad gc`.
    public func table(deleting: Bool) -> String {
        var rows: [(String, String)] = [("folders scanned", "\(folders)")]
        rows.append(("orphans", "\(orphanCount)"))
        for reason in OrphanReason.allCases where orphans[reason.rawValue] != nil {
            rows.append(("  \(reason)", "\(orphans[reason.rawValue] ?? 0)"))
        }
        rows.append(("kept", "\(kept.values.reduce(0, +))"))
        for (reason, count) in kept.sorted(by: { $0.key < $1.key }) { rows.append(("  \(reason)", "\(count)")) }
        if deleting {
            rows.append(("objects deleted", "\(deletedObjects)"))
            rows.append(("bytes reclaimed", "\(deletedBytes)"))
        }
        if failures > 0 { rows.append(("failed", "\(failures)")) }
        if interrupted { rows.append(("interrupted", "yes")) }
        rows.append(("elapsed", String(format: "%.1f s", elapsedSeconds)))
        let width = max(24, rows.map(\.0.count).max() ?? 0)
        return rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + $0.1.leftPadded(to: 10) }.joined(separator: "\n")
    }
}
