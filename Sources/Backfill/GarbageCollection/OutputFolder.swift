import MediaProcessing
import ObjectStorage

/// One file's folder of outputs (`derived/<fileId>/`), as found in a listing.
public struct OutputFolder: Sendable {
    public var fileId: String
    public var prefix: String
    public var objects: [ObjectInfo]

    /// The last key of the folder: where a resumed listing starts after it.
    var lastKey: String { objects.last?.key ?? prefix }
}

/// Turns a sorted listing of the derivatives prefix into folders, one at a time, so a
/// bucket of millions of keys is walked with one folder (and one listing page) in memory.
/// Keys the layout does not own as a file's output are passed over, never collected.
struct OutputFolderGrouper {
    let layout: DerivativeLayout
    private var current: OutputFolder?

    init(layout: DerivativeLayout) {
        self.layout = layout
    }

    /// Adds the next listed object; returns the folder it closed, if any.
    mutating func add(_ object: ObjectInfo) -> OutputFolder? {
        guard let root = layout.prefix, object.key.hasPrefix(root) else { return nil }
        let rest = object.key.dropFirst(root.count)
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        let fileId = String(rest[..<slash])
        guard !fileId.isEmpty, let prefix = layout.filePrefix(fileId: fileId), object.key.hasPrefix(prefix),
              !object.key.dropFirst(prefix.count).contains("/")
        else { return nil }
        if current?.prefix == prefix {
            current?.objects.append(object)
            return nil
        }
        let closed = current
        current = OutputFolder(fileId: fileId, prefix: prefix, objects: [object])
        return closed
    }

    /// The last folder, once the listing ended.
    mutating func finish() -> OutputFolder? {
        defer { current = nil }
        return current
    }
}
