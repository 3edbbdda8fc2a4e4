import Foundation

/// Where an interrupted `mediad gc` stopped and the summary so far, rewritten atomically after
/// each batch of folders. The listing is sorted, so a resumed run lists after `startAfter`
/// and judges each folder once: a folder that closed before the save (all its keys up to
/// `listedThrough`, and not among `openFolders`) was judged already and is passed over.
public struct GCCheckpoint: Codable, Sendable, Equatable {
    /// The run it belongs to (bucket, prefix, whether it deletes).
    public var selection: String
    /// Where the listing resumes: before the outermost folder still open at the save.
    public var startAfter: String?
    /// The last key listed before the save.
    public var listedThrough: String?
    /// The folders still open at the save (a file's folder with nested ones inside it).
    public var openFolders: [String]?
    public var summary: GCSummary

    /// Whether a folder the resumed listing closes was judged before the save.
    func judged(_ folder: OutputFolder) -> Bool {
        guard let listedThrough, folder.lastKey <= listedThrough else { return false }
        return !(openFolders ?? []).contains(folder.prefix)
    }

    public init(selection: String, startAfter: String? = nil, listedThrough: String? = nil, openFolders: [String]? = nil, summary: GCSummary = GCSummary()) {
        self.selection = selection
        self.startAfter = startAfter
        self.listedThrough = listedThrough
        self.openFolders = openFolders
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
