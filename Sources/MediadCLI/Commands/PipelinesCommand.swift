import ArgumentParser
import Foundation
import PipelineEngine

/// `mediad pipelines ...`: inspect pipeline files without running anything.
struct PipelinesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipelines",
        abstract: "Check and list pipeline definitions.",
        subcommands: [Validate.self]
    )

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate pipeline files; print each pipeline or the first error with file, line, stage and field.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "Pipeline files to check (default: every file of the pipelines directory).")
        var files: [String] = []

        func run() async throws {
            let definitions: [PipelineDefinition]
            do {
                if files.isEmpty {
                    definitions = try PipelineLoader.loadDirectory(global.pipelinesDirectory()).definitions
                } else {
                    definitions = try files.map { try PipelineLoader.loadFile(URL(fileURLWithPath: $0)) }
                }
            } catch let error as PipelineConfigError {
                printError("invalid pipeline: \(error)")
                throw ExitCode(2)
            }
            for definition in definitions {
                let match = definition.match.mediaTypes.map(\.rawValue).sorted().joined(separator: ", ")
                let formats = definition.match.formats.isEmpty ? "" : " [\(definition.match.formats.sorted().joined(separator: ", "))]"
                print("\(definition.sourceFile): \(definition.name) v\(definition.version) — \(match)\(formats)")
                for stage in definition.stages {
                    print("  - \(stage.name) (\(stage.kind.typeName))")
                }
            }
            print("\(definitions.count) pipeline(s) valid")
        }
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
