/// The loaded pipelines, and the rule that picks one for a file.
public struct PipelineSet: Sendable {
    public let definitions: [PipelineDefinition]

    public init(_ definitions: [PipelineDefinition]) {
        self.definitions = definitions
    }

    public func named(_ name: String) -> PipelineDefinition? {
        definitions.first { $0.name == name }
    }

    /// The first pipeline (by file name) whose match rule takes the sniffed type.
    public func matching(_ type: SniffedType) -> PipelineDefinition? {
        definitions.first { $0.match.matches(type) }
    }
}
