import Foundation
import Yams

/// Reads `pipelines/*.yaml` into typed definitions, failing at start-up with the file,
/// line, stage and field of the first mistake rather than at the first upload.
public enum PipelineLoader {
    /// Loads every `*.yaml`/`*.yml` file of a directory, sorted by name.
    /// - Throws: `PipelineConfigError` for the first invalid file, or for two pipelines with one name.
    public static func loadDirectory(_ directory: URL) throws -> PipelineSet {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw PipelineConfigError(file: directory.path, line: 0, column: 0, message: "cannot read the pipelines directory: \(error.localizedDescription)")
        }
        let files = names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        guard !files.isEmpty else {
            throw PipelineConfigError(file: directory.path, line: 0, column: 0, message: "no *.yaml pipeline files found")
        }
        var definitions: [PipelineDefinition] = []
        for file in files {
            let definition = try loadFile(directory.appendingPathComponent(file))
            if let earlier = definitions.first(where: { $0.name == definition.name }) {
                throw PipelineConfigError(
                    file: definition.sourceFile, line: 1, column: 1, field: "name",
                    message: "pipeline '\(definition.name)' is also defined in \(earlier.sourceFile)")
            }
            definitions.append(definition)
        }
        return PipelineSet(definitions)
    }

    /// Loads one pipeline file.
    /// - Throws: `PipelineConfigError`.
    public static func loadFile(_ url: URL) throws -> PipelineDefinition {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw PipelineConfigError(file: url.path, line: 0, column: 0, message: "cannot read: \(error.localizedDescription)")
        }
        return try parse(text, file: displayPath(url))
    }

    /// Parses pipeline YAML text; `file` names it in errors.
    /// - Throws: `PipelineConfigError`.
    public static func parse(_ text: String, file: String) throws(PipelineConfigError) -> PipelineDefinition {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw PipelineConfigError(file: file, line: 1, column: 1, message: "the file is empty")
            }
            root = node
        } catch let error as PipelineConfigError {
            throw error
        } catch let error as YamlError {
            throw PipelineConfigError(file: file, line: yamlLine(error), column: 0, message: "not valid YAML: \(error)")
        } catch {
            throw PipelineConfigError(file: file, line: 0, column: 0, message: "not valid YAML: \(error)")
        }
        var definition = try PipelineParser(file: file).pipeline(ConfigNode(node: root, file: file, field: nil))
        definition.sourceText = text
        return definition
    }

    private static func yamlLine(_ error: YamlError) -> Int {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return 0
        }
    }

    private static func displayPath(_ url: URL) -> String {
        let cwd = FileManager.default.currentDirectoryPath + "/"
        return url.path.hasPrefix(cwd) ? String(url.path.dropFirst(cwd.count)) : url.path
    }
}
