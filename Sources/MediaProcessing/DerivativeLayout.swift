import Foundation

/// Where mediad keeps what it makes for a file: derivatives, `manifest.json`, the attempt
/// marker and the deletion tombstone, all from one key template (default
/// `derived/{fileId}/{name}.{ext}`).
///
/// The one owner of the layout: the sinks write through it, the daemon ignores events for
/// keys it owns, listings skip them, and `reprocess` finds the manifests with it.
public struct DerivativeLayout: Sendable, Equatable {
    public static let defaultTemplate = "derived/{fileId}/{name}.{ext}"
    /// The name of the attempt marker beside the manifest (stage names start with a letter
    /// or digit, so no derivative can take it).
    static let attemptMarkerName = "_attempt"
    /// The name of the tombstone a deletion leaves beside the (removed) manifest.
    static let tombstoneName = "_deleted"

    /// `{fileId}`, `{name}` and `{ext}` are replaced.
    public let template: String
    /// The template cut at its placeholders once: every job makes a dozen keys.
    private let segments: [Segment]
    /// The manifest key split where `{fileId}` stands, for `isManifest`.
    private let manifestParts: [String]

    private enum Segment: Sendable, Equatable {
        case text(String)
        case fileId, name, fileExtension
    }

    public init(template: String = DerivativeLayout.defaultTemplate) {
        self.template = template
        var segments: [Segment] = []
        var rest = Substring(template)
        let placeholders: [(String, Segment)] = [("{fileId}", .fileId), ("{name}", .name), ("{ext}", .fileExtension)]
        while !rest.isEmpty {
            let next = placeholders.compactMap { text, segment in rest.range(of: text).map { ($0, segment) } }.min { $0.0.lowerBound < $1.0.lowerBound }
            guard let (range, segment) = next else {
                segments.append(.text(String(rest)))
                break
            }
            if range.lowerBound > rest.startIndex { segments.append(.text(String(rest[..<range.lowerBound]))) }
            segments.append(segment)
            rest = rest[range.upperBound...]
        }
        self.segments = segments
        manifestParts = template.replacingOccurrences(of: "{name}", with: "manifest").replacingOccurrences(of: "{ext}", with: "json")
            .components(separatedBy: "{fileId}")
    }

    public static func == (lhs: DerivativeLayout, rhs: DerivativeLayout) -> Bool { lhs.template == rhs.template }

    public func key(fileId: String, name: String, fileExtension: String) -> String {
        var key = ""
        for segment in segments {
            switch segment {
            case .text(let text): key += text
            case .fileId: key += fileId
            case .name: key += name
            case .fileExtension: key += fileExtension
            }
        }
        return key
    }

    public func manifestKey(fileId: String) -> String {
        key(fileId: fileId, name: "manifest", fileExtension: "json")
    }

    public func attemptMarkerKey(fileId: String) -> String {
        key(fileId: fileId, name: Self.attemptMarkerName, fileExtension: "json")
    }

    public func tombstoneKey(fileId: String) -> String {
        key(fileId: fileId, name: Self.tombstoneName, fileExtension: "json")
    }

    /// The content index entry of some bytes for one pipeline
    /// (`derived/_content/ab/<sha256>.<pipeline>.json`): a level deeper than any file's
    /// folder, so no file's listing (or `gc`'s walk) takes it for a file's output. Nil when
    /// the template starts with a placeholder.
    public func contentIndexKey(sha256: String, pipeline: String) -> String? {
        guard let prefix else { return nil }
        return prefix + Self.contentIndexFolder + "/" + sha256.prefix(2) + "/" + sha256 + "." + pipeline + ".json"
    }

    /// The folder of the content index under the prefix (file ids that start with `_` are
    /// reserved for mediad's own records).
    static let contentIndexFolder = "_content"

    /// The folder that holds all of one file's outputs and nothing else (`derived/<fileId>/`),
    /// when the template gives each file its own: `{fileId}` followed by a `/` before `{name}`.
    /// Nil for templates that mix files in one folder.
    public func filePrefix(fileId: String) -> String? {
        guard let id = template.range(of: "{fileId}"), let name = template.range(of: "{name}"), id.upperBound <= name.lowerBound,
              let slash = template[id.upperBound..<name.lowerBound].lastIndex(of: "/"),
              !template[..<id.lowerBound].contains("{")
        else { return nil }
        return String(template[..<id.lowerBound]) + fileId + String(template[id.upperBound...slash])
    }

    /// The template's text before its first placeholder: every output lives under it, and
    /// listing manifests starts there. Nil when the template starts with a placeholder.
    public var prefix: String? {
        let brace = template.firstIndex(of: "{") ?? template.endIndex
        let prefix = String(template[..<brace])
        return prefix.isEmpty ? nil : prefix
    }

    /// Keys under the prefix are mediad's outputs: never originals to process, and an
    /// event for one must not start a job (it would loop).
    public func isOutput(_ key: String) -> Bool {
        guard let prefix else { return false }
        return key.hasPrefix(prefix)
    }

    /// Whether `key` is the manifest of some file: the template with `manifest.json` and a
    /// file id where `{fileId}` stands, one segment or several (`a/b`: ids may nest), none
    /// empty (checked per listed key, so no regex).
    public func isManifest(_ key: String) -> Bool {
        let parts = manifestParts
        guard parts.count == 2, key.count > parts[0].count + parts[1].count, key.hasPrefix(parts[0]), key.hasSuffix(parts[1]) else { return false }
        let fileId = key.dropFirst(parts[0].count).dropLast(parts[1].count)
        return !fileId.split(separator: "/", omittingEmptySubsequences: false).contains(where: \.isEmpty)
    }
}
