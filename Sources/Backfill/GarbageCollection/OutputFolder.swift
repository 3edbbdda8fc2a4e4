import MediaProcessing
import ObjectStorage

/// One file's folder of outputs (`derived/<fileId>/`, its direct objects only), as found in a
/// listing. A file id may nest (`a/b`): its folder then lies inside another file's.
public struct OutputFolder: Sendable {
    public var fileId: String
    public var prefix: String
    public var objects: [ObjectInfo]

    /// The last key of the folder.
    var lastKey: String { objects.last?.key ?? prefix }
}

/// Turns a sorted listing of the derivatives prefix into folders, closing each once the
/// listing has passed it, so a bucket of millions of keys is walked with one listing page and
/// the folders of one nesting chain (`a/`, `a/b/`, …) in memory. Keys the layout does not own
/// as a file's output (objects beside the folders, mediad's `_`-prefixed records) are passed
/// over, never collected.
///
/// The keys of one folder are contiguous in a sorted listing, but a nested folder's keys can
/// fall among its parent's (`a/manifest.json`, `a/n/x.webp`, `a/preview.jpg`): folders stay
/// open while the listing is inside them, and close innermost first.
struct OutputFolderGrouper {
    let layout: DerivativeLayout
    /// The folders the listing is inside, outermost first, each with the key listed before it.
    private var open: [(folder: OutputFolder, keyBefore: String?)] = []
    private var lastListed: String?

    /// - Parameter startAfter: where the listing starts (a resumed run's checkpoint).
    init(layout: DerivativeLayout, startAfter: String? = nil) {
        self.layout = layout
        lastListed = startAfter
    }

    /// Adds the next listed object; returns the folders it closed, innermost first.
    mutating func add(_ object: ObjectInfo) -> [OutputFolder] {
        defer { lastListed = object.key }
        guard let (fileId, prefix) = folder(of: object.key) else {
            return close { !object.key.hasPrefix($0.prefix) }
        }
        let closed = close { !prefix.hasPrefix($0.prefix) }
        if open.last?.folder.prefix == prefix {
            open[open.count - 1].folder.objects.append(object)
        } else {
            open.append((OutputFolder(fileId: fileId, prefix: prefix, objects: [object]), lastListed))
        }
        return closed
    }

    /// The folders still open, once the listing ended.
    mutating func finish() -> [OutputFolder] {
        close { _ in true }
    }

    /// Where a resumed listing may start without missing a key of a folder not yet closed:
    /// before the outermost open folder, else after the last key listed.
    var resumePoint: String? {
        guard let outermost = open.first else { return lastListed }
        return outermost.keyBefore
    }

    /// The key listed last.
    var listedThrough: String? { lastListed }

    /// The prefixes of the folders still open.
    var openPrefixes: [String] { open.map(\.folder.prefix) }

    /// The file id and folder a key is a direct output of, when the layout owns it as one.
    private func folder(of key: String) -> (fileId: String, prefix: String)? {
        guard let root = layout.prefix, key.hasPrefix(root) else { return nil }
        let rest = key.dropFirst(root.count)
        guard let slash = rest.lastIndex(of: "/") else { return nil }
        let fileId = String(rest[..<slash])
        guard !fileId.isEmpty, !fileId.hasPrefix("_"), !fileId.split(separator: "/", omittingEmptySubsequences: false).contains(where: \.isEmpty),
              let prefix = layout.filePrefix(fileId: fileId), key.hasPrefix(prefix), !key.dropFirst(prefix.count).contains("/")
        else { return nil }
        return (fileId, prefix)
    }

    private mutating func close(while passed: (OutputFolder) -> Bool) -> [OutputFolder] {
        var closed: [OutputFolder] = []
        while let innermost = open.last, passed(innermost.folder) {
            closed.append(innermost.folder)
            open.removeLast()
        }
        return closed
    }
}
