import Foundation
import Yams

/// Turns a pipeline file's YAML tree into a `PipelineDefinition`, field by field.
struct PipelineParser {
    let file: String

    func pipeline(_ root: ConfigNode) throws(PipelineConfigError) -> PipelineDefinition {
        var map = try root.mapping()
        let name = try map.required("name").string()
        guard name.range(of: "^[a-z0-9][a-z0-9_-]*$", options: .regularExpression) != nil else {
            throw root.error("pipeline names are lower-case letters, digits, '-' and '_', got '\(name)'", field: "name")
        }
        let version = try map.required("version").int(in: 1...1_000_000)
        let description = try map.optional("description")?.string()
        let match = try matchRule(map.required("match"))
        let limits = try map.optional("limits").map { (node) throws(PipelineConfigError) in try self.limits(node) } ?? PipelineLimits()
        let decode = try map.optional("decode").map { (node) throws(PipelineConfigError) in try self.decode(node) } ?? DecodePolicy()
        let dedupe = try map.optional("dedupe")?.bool() ?? true
        let stagesNode = try map.required("stages")
        try map.rejectUnknownKeys()

        var stages: [StageDefinition] = []
        for var item in try stagesNode.sequence() {
            let stage = try StageParser(node: item).stage()
            item.stage = stage.name
            if stages.contains(where: { $0.name == stage.name }) {
                throw item.error("two stages are named '\(stage.name)'; give each a distinct 'name'", field: "name")
            }
            if let input = stage.input {
                guard let producer = stages.first(where: { $0.name == input }) else {
                    throw item.error("input '\(input)' must name an earlier stage", field: "input")
                }
                guard case .poster = producer.kind else {
                    throw item.error("input '\(input)' is a \(producer.kind.typeName) stage; only poster stages produce images", field: "input")
                }
            }
            stages.append(stage)
        }
        guard !stages.isEmpty else { throw stagesNode.error("a pipeline needs at least one stage") }
        return PipelineDefinition(
            name: name, version: version, description: description, match: match, limits: limits,
            decode: decode, dedupe: dedupe, stages: stages, sourceFile: file)
    }

    private func matchRule(_ node: ConfigNode) throws(PipelineConfigError) -> MatchRule {
        var map = try node.mapping()
        var mediaTypes: Set<MediaType> = []
        for item in try map.required("mediaTypes").sequence() {
            mediaTypes.insert(try item.choice(MediaType.self))
        }
        guard !mediaTypes.isEmpty else { throw node.error("list at least one media type", field: "match.mediaTypes") }
        var formats: Set<String> = []
        if let list = map.optional("formats") {
            for item in try list.sequence() { formats.insert(try item.string().lowercased()) }
        }
        try map.rejectUnknownKeys()
        return MatchRule(mediaTypes: mediaTypes, formats: formats)
    }

    private func limits(_ node: ConfigNode) throws(PipelineConfigError) -> PipelineLimits {
        var map = try node.mapping()
        var limits = PipelineLimits()
        if let value = map.optional("maxBytes") { limits.maxBytes = try positive(value.byteSize(), value) }
        if let value = map.optional("maxPixels") { limits.maxPixels = try positive(value.count(), value) }
        if let value = map.optional("maxDuration") { limits.maxDuration = try value.duration() }
        if let value = map.optional("timeout") { limits.stageTimeout = try value.duration() }
        if let value = map.optional("maxMemory") {
            limits.maxMemory = try positive(value.byteSize(), value)
            guard limits.maxMemory >= 64 << 20 else { throw value.error("must be at least 64MiB (a worker needs that much to start)") }
        }
        try map.rejectUnknownKeys()
        return limits
    }

    private func decode(_ node: ConfigNode) throws(PipelineConfigError) -> DecodePolicy {
        var map = try node.mapping()
        var policy = DecodePolicy()
        if let value = map.optional("failOn") { policy.failOn = try value.choice(DecodePolicy.FailOn.self) }
        if let list = map.optional("untrustedLoaders") {
            let known: Set<String> = ["svg", "pdf", "magick", "jp2k", "jxl", "openexr", "raw", "fits", "matrix", "openslide", "ppm", "analyze", "rad", "csv", "vips", "mat"]
            for item in try list.sequence() {
                let loader = try item.string()
                guard known.contains(loader) else {
                    throw item.error("unknown loader '\(loader)'; known: \(known.sorted().joined(separator: ", "))")
                }
                policy.untrustedLoaders.insert(loader)
            }
        }
        try map.rejectUnknownKeys()
        return policy
    }

    private func positive(_ value: Int64, _ node: ConfigNode) throws(PipelineConfigError) -> Int64 {
        guard value > 0 else { throw node.error("must be greater than zero") }
        return value
    }
}
