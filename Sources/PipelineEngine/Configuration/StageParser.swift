import Foundation
import Yams

/// Reads one entry of a pipeline's `stages` list.
struct StageParser {
    let node: ConfigNode

    func stage() throws(PipelineConfigError) -> StageDefinition {
        var map = try node.mapping()
        let typeNode = try map.required("stage")
        let type = try typeNode.string()
        let name = try map.optional("name")?.string() ?? type
        guard name.range(of: "^[a-zA-Z0-9][a-zA-Z0-9_-]*$", options: .regularExpression) != nil else {
            throw node.error("stage names are letters, digits, '-' and '_' (they name output files), got '\(name)'", field: "name")
        }
        var named = node
        named.stage = name
        var reader = StageFieldReader(node: named, map: map)
        let kind: StageKind
        switch type {
        case "checksum": kind = .checksum(try reader.checksum())
        case "metadata": kind = .metadata(try reader.metadata())
        case "thumbnail": kind = .thumbnail(try reader.thumbnail())
        case "placeholder": kind = .placeholder(try reader.placeholder())
        case "poster": kind = .poster(try reader.poster())
        case "transcode": kind = .transcode(try reader.transcode())
        default:
            throw typeNode.error("unknown stage type '\(type)'; known: checksum, metadata, thumbnail, placeholder, poster, transcode", field: "stage")
        }
        try reader.map.rejectUnknownKeys()
        return StageDefinition(name: name, kind: kind, line: node.node.mark?.line ?? 0)
    }
}

/// Reads the parameters of each stage kind from the stage's mapping.
struct StageFieldReader {
    let node: ConfigNode
    var map: ConfigMapping

    init(node: ConfigNode, map: ConfigMapping) {
        self.node = node
        // Re-home the mapping on the named node so field errors carry the stage name.
        var rehomed = ConfigMapping(mapping: map.mapping, owner: node)
        _ = rehomed.optional("stage")
        _ = rehomed.optional("name")
        self.map = rehomed
    }

    mutating func checksum() throws(PipelineConfigError) -> ChecksumSpec {
        var spec = ChecksumSpec()
        if let value = map.optional("sha256") { spec.sha256 = try value.bool() }
        if let value = map.optional("md5") { spec.md5 = try value.bool() }
        guard spec.sha256 || spec.md5 else { throw node.error("enable at least one of sha256 and md5") }
        return spec
    }

    mutating func metadata() throws(PipelineConfigError) -> MetadataSpec {
        var spec = MetadataSpec()
        if let value = map.optional("includeLocation") { spec.includeLocation = try value.bool() }
        return spec
    }

    mutating func thumbnail() throws(PipelineConfigError) -> ThumbnailSpec {
        let fitName = try map.optional("fit")?.choice(FitName.self) ?? .shortSide
        let fit: ThumbnailFit
        switch fitName {
        case .shortSide: fit = .shortSide(try map.required("size").int(in: 8...16384))
        case .longSide: fit = .longSide(try map.required("size").int(in: 8...16384))
        case .inside:
            fit = .inside(width: try map.required("width").int(in: 8...16384), height: try map.required("height").int(in: 8...16384))
        case .cover:
            let width = try map.required("width").int(in: 8...16384)
            let height = try map.required("height").int(in: 8...16384)
            let crop = try map.optional("crop")?.choice(CropFocus.self) ?? .attention
            fit = .cover(width: width, height: height, crop: crop)
        }
        var spec = ThumbnailSpec(fit: fit)
        if let value = map.optional("kind") {
            let kind = try value.choice(Derivative.Kind.self)
            guard kind == .thumbnail || kind == .preview else { throw value.error("a thumbnail stage makes a thumbnail or a preview") }
            spec.derivativeKind = kind
        }
        if let value = map.optional("format") { spec.format = try value.choice(ImageFormat.self) }
        if let value = map.optional("quality") { spec.quality = try value.int(in: 1...100) }
        if let value = map.optional("colour") ?? map.optional("color") { spec.colour = try value.choice(ColourHandling.self) }
        if let value = map.optional("upscale") { spec.upscale = try value.bool() }
        if let value = map.optional("input") { spec.input = try value.string() }
        return spec
    }

    mutating func placeholder() throws(PipelineConfigError) -> PlaceholderSpec {
        var spec = PlaceholderSpec()
        if let value = map.optional("algorithm") { spec.algorithm = try value.choice(PlaceholderSpec.Algorithm.self) }
        if let value = map.optional("input") { spec.input = try value.string() }
        return spec
    }

    mutating func poster() throws(PipelineConfigError) -> PosterSpec {
        var spec = PosterSpec()
        if let value = map.optional("position") { spec.position = try value.double(in: 0...1) }
        if let value = map.optional("maxOffset") { spec.maxOffset = try value.duration() }
        if let value = map.optional("candidates") { spec.candidates = try value.int(in: 1...30) }
        if let value = map.optional("format") { spec.format = try value.choice(ImageFormat.self) }
        if let value = map.optional("quality") { spec.quality = try value.int(in: 1...100) }
        if let value = map.optional("maxSize") { spec.maxSize = try value.int(in: 64...8192) }
        return spec
    }

    mutating func transcode() throws(PipelineConfigError) -> TranscodeSpec {
        var spec = TranscodeSpec()
        if let value = map.optional("videoCodec") { spec.videoCodec = try value.choice(TranscodeSpec.VideoCodec.self) }
        if let value = map.optional("audioCodec") { spec.audioCodec = try value.choice(TranscodeSpec.AudioCodec.self) }
        if let value = map.optional("maxShortSide") {
            spec.maxShortSide = try value.int(in: 64...4320)
            guard spec.maxShortSide % 2 == 0 else { throw value.error("must be even (H.264 with 4:2:0 chroma needs even sizes)") }
        }
        if let value = map.optional("crf") { spec.crf = try value.int(in: 0...51) }
        if let value = map.optional("preset") {
            let presets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"]
            let preset = try value.string()
            guard presets.contains(preset) else { throw value.error("'\(preset)' is not one of: \(presets.joined(separator: ", "))") }
            spec.preset = preset
        }
        if let value = map.optional("audioBitrate") { spec.audioBitrate = Int(try value.count()) }
        if let value = map.optional("audioChannels") { spec.audioChannels = try value.int(in: 1...2) }
        if let value = map.optional("skipCompatible") { spec.skipCompatible = try value.bool() }
        if let value = map.optional("remux") { spec.allowRemux = try value.bool() }
        if let value = map.optional("threads") { spec.threads = try value.int(in: 0...64) }
        return spec
    }
}

enum FitName: String, CaseIterable {
    case shortSide = "short-side"
    case longSide = "long-side"
    case inside
    case cover
}

extension Derivative.Kind: CaseIterable {
    public static let allCases: [Derivative.Kind] = [.thumbnail, .preview, .poster, .transcode, .placeholder]
}
