import Foundation

/// Where an interrupted `mediad gc` stopped: the last key of the last folder it finished and
/// the summary so far, rewritten atomically after each batch of folders. The listing is
/// sorted, so a resumed run lists after that key and judges each folder once.
public struct GCCheckpoint: Codable, Sendable, Equatable {
    /// The run it belongs to (bucket, prefix, whether it deletes).
    public var selection: String
    public var startAfter: String?
    public var summary: GCSummary

    public init(selection: String, startAfter: String? = nil, summary: GCSummary = GCSummary()) {
        self.selection = selection
        self.startAfter = startAfter
        self.summary = summary
    }

    /// The checkpoint at `url` for this selection, or a fresh one.
    /// - Throws: `ReprocessError.checkpoint` when the file belongs to another run or is not one.
    public static func load(_ url: URL, selection: String) throws(ReprocessError) -> GCCheckpoint {
        guard let data = FileManager.default.contents(atPath: url.path), !data.isEmpty else { return GCCheckpoint(selection: selection) }
        guard let checkpoint = try? JSONDecoder().decode(GCCheckpoint.self, from: data) else {
            throw .checkpoint("\(url.path) is not a mediad gc checkpoint")
        }
        guard checkpoint.selection == selection else {
            throw .checkpoint("\(url.path) belongs to another run (\(checkpoint.selection)): remove it or pass another --checkpoint")
        }
        return checkpoint
    }

    public func save(to url: URL) throws(ReprocessError) {
        do {
            try JSONEncoder().encode(self).write(to: url, options: .atomic)
        } catch {
            throw .checkpoint("cannot write \(url.path): \(error.localizedDescription)")
        }
    }
}
