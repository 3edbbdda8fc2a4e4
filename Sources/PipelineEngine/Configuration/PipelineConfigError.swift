/// A mistake in a pipeline file, located precisely enough to fix without guessing:
/// file, line and column, the stage, and the field.
public struct PipelineConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var stage: String?
    public var field: String?
    public var message: String

    public init(file: String, line: Int, column: Int, stage: String? = nil, field: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.stage = stage
        self.field = field
        self.message = message
    }

    public var description: String {
        var text = "\(file):\(line):\(column): "
        if let stage { text += "stage '\(stage)': " }
        if let field { text += "field '\(field)': " }
        return text + message
    }
}
