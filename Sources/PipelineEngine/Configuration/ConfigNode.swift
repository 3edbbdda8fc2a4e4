import Yams

/// A YAML node with where it came from, so every read can fail with file, line and field.
struct ConfigNode {
    let node: Node
    let file: String
    /// The stage being read, for messages.
    var stage: String?
    /// The dotted field path, for messages (`limits.maxPixels`).
    let field: String?

    func error(_ message: String, field: String? = nil) -> PipelineConfigError {
        PipelineConfigError(
            file: file, line: node.mark?.line ?? 0, column: node.mark?.column ?? 0,
            stage: stage, field: field ?? self.field, message: message
        )
    }

    func mapping() throws(PipelineConfigError) -> ConfigMapping {
        guard case .mapping(let mapping) = node else { throw error("expected a mapping of keys to values") }
        return ConfigMapping(mapping: mapping, owner: self)
    }

    func sequence() throws(PipelineConfigError) -> [ConfigNode] {
        guard case .sequence(let sequence) = node else { throw error("expected a list") }
        return sequence.enumerated().map { index, item in
            ConfigNode(node: item, file: file, stage: stage, field: "\(field ?? "")[\(index)]")
        }
    }

    func string() throws(PipelineConfigError) -> String {
        guard case .scalar(let scalar) = node else { throw error("expected a text value") }
        return scalar.string
    }

    func int(in range: ClosedRange<Int>) throws(PipelineConfigError) -> Int {
        guard let value = node.int else { throw error("expected a whole number, got '\(node.string ?? "?")'") }
        guard range.contains(value) else {
            throw error("must be from \(range.lowerBound) to \(range.upperBound), got \(value)")
        }
        return value
    }

    func double(in range: ClosedRange<Double>) throws(PipelineConfigError) -> Double {
        guard let value = node.float else { throw error("expected a number, got '\(node.string ?? "?")'") }
        guard range.contains(value) else {
            throw error("must be from \(range.lowerBound) to \(range.upperBound), got \(value)")
        }
        return value
    }

    func bool() throws(PipelineConfigError) -> Bool {
        guard let value = node.bool else { throw error("expected true or false, got '\(node.string ?? "?")'") }
        return value
    }

    func choice<T: RawRepresentable & CaseIterable>(_ type: T.Type) throws(PipelineConfigError) -> T where T.RawValue == String {
        let text = try string()
        guard let value = T(rawValue: text) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw error("'\(text)' is not one of: \(allowed)")
        }
        return value
    }

    /// Sizes such as `200MB`, `1.5 GiB` or a plain number of bytes.
    func byteSize() throws(PipelineConfigError) -> Int64 {
        let text = try string()
        guard let value = Quantity.bytes(text) else {
            throw error("expected a size such as 200MB or 1GiB, got '\(text)'")
        }
        return value
    }

    /// Counts such as `250M`, `100MP`, or a plain number.
    func count() throws(PipelineConfigError) -> Int64 {
        let text = try string()
        guard let value = Quantity.count(text) else {
            throw error("expected a count such as 268435456 or 250M, got '\(text)'")
        }
        return value
    }

    /// Durations such as `90s`, `5m`, `1.5h`, `250ms`.
    func duration() throws(PipelineConfigError) -> Duration {
        let text = try string()
        guard let value = Quantity.duration(text) else {
            throw error("expected a duration such as 30s, 5m or 2h, got '\(text)'")
        }
        return value
    }
}

/// A YAML mapping that remembers which keys were read, so unknown keys (typos) are errors.
struct ConfigMapping {
    let mapping: Node.Mapping
    let owner: ConfigNode
    private var used: Set<String> = []

    init(mapping: Node.Mapping, owner: ConfigNode) {
        self.mapping = mapping
        self.owner = owner
    }

    private func path(_ key: String) -> String {
        guard let base = owner.field, !base.isEmpty else { return key }
        return "\(base).\(key)"
    }

    mutating func optional(_ key: String) -> ConfigNode? {
        used.insert(key)
        guard let value = mapping[Node(key)] else { return nil }
        if value.null != nil { return nil }
        return ConfigNode(node: value, file: owner.file, stage: owner.stage, field: path(key))
    }

    mutating func required(_ key: String) throws(PipelineConfigError) -> ConfigNode {
        guard let value = optional(key) else { throw owner.error("missing required field", field: path(key)) }
        return value
    }

    /// Fails on the first key that no reader asked for, suggesting the nearest known one.
    func rejectUnknownKeys() throws(PipelineConfigError) {
        for (keyNode, _) in mapping {
            let key = keyNode.string ?? "?"
            guard !used.contains(key) else { continue }
            let hint = used.min { editDistance($0, key) < editDistance($1, key) }
                .flatMap { editDistance($0, key) <= 3 ? " (did you mean '\($0)'?)" : nil } ?? ""
            let known = used.sorted().joined(separator: ", ")
            throw ConfigNode(node: keyNode, file: owner.file, stage: owner.stage, field: path(key))
                .error("unknown field\(hint); known fields here: \(known)")
        }
    }
}

/// Levenshtein distance, for "did you mean" hints in every configuration error.
public func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.lowercased()), b = Array(b.lowercased())
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
