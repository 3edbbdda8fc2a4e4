import Foundation

/// The AWS shared `credentials` and `config` files, parsed the way botocore reads
/// them: `[name]` (credentials) or `[profile name]` (config) sections of `key = value`
/// lines, full-line `#`/`;` comments, and indented sub-keys under an empty value
/// (`s3 =` followed by `  addressing_style = path`).
struct AWSProfileFile: Sendable {
    /// Settings per profile name.
    var profiles: [String: [String: String]] = [:]
    /// Nested settings per profile name and parent key (`s3` → `addressing_style`).
    var nested: [String: [String: [String: String]]] = [:]

    /// Which section header convention the file uses.
    enum Kind { case credentials, config }

    init() {}

    init(text: String, kind: Kind) {
        var current: String?
        var parentKey: String?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                current = Self.profileName(section: String(line.dropFirst().dropLast()), kind: kind)
                parentKey = nil
                if let current, profiles[current] == nil { profiles[current] = [:] }
                continue
            }
            guard let profile = current, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            let indented = rawLine.first?.isWhitespace == true
            if indented, let parent = parentKey {
                nested[profile, default: [:]][parent, default: [:]][key] = value
            } else {
                profiles[profile, default: [:]][key] = value
                parentKey = value.isEmpty ? key : nil
            }
        }
    }

    /// Reads a file; a missing file is an empty one, as for the SDKs.
    static func load(path: String, kind: Kind) throws(ObjectStorageError) -> AWSProfileFile {
        guard FileManager.default.fileExists(atPath: path) else { return AWSProfileFile() }
        do {
            return AWSProfileFile(text: try String(contentsOfFile: path, encoding: .utf8), kind: kind)
        } catch {
            throw ObjectStorageError(.invalidConfiguration, "cannot read AWS profile file \(path): \(error)")
        }
    }

    private static func profileName(section: String, kind: Kind) -> String? {
        let name = section.trimmingCharacters(in: .whitespaces)
        switch kind {
        case .credentials:
            return name
        case .config:
            if name == "default" { return "default" }
            let parts = name.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0] == "profile" else { return nil }
            return parts[1].trimmingCharacters(in: .whitespaces)
        }
    }
}
