import Foundation

/// docker/Dockerfile read as instructions, enough to check what it installs and declares.
struct Dockerfile {
    struct Instruction {
        var keyword: String
        var arguments: String
        /// Index of the build stage (`FROM`) this instruction belongs to.
        var stage: Int
    }

    var instructions: [Instruction] = []

    /// Joins `\` continuations and drops comments, as Docker does.
    init(_ text: String) {
        var logical: [String] = []
        var current = ""
        for rawLine in text.components(separatedBy: "\n") {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") { continue }
            if line.hasSuffix("\\") {
                current += String(line.dropLast()) + " "
                continue
            }
            current += line
            if !current.trimmingCharacters(in: .whitespaces).isEmpty { logical.append(current) }
            current = ""
        }
        var stage = -1
        for line in logical {
            let keyword = String(line.prefix { !$0.isWhitespace }).uppercased()
            let arguments = line.dropFirst(keyword.count).trimmingCharacters(in: .whitespaces)
            if keyword == "FROM" { stage += 1 }
            instructions.append(Instruction(keyword: keyword, arguments: arguments, stage: stage))
        }
    }

    var stageCount: Int { (instructions.map(\.stage).max() ?? -1) + 1 }

    func instructions(_ keyword: String, stage: Int? = nil) -> [Instruction] {
        instructions.filter { $0.keyword == keyword && (stage == nil || $0.stage == stage) }
    }

    /// The image a stage starts from (`FROM image AS name`).
    func baseImage(stage: Int) -> String {
        instructions("FROM", stage: stage).first?.arguments.split(separator: " ").first.map(String.init) ?? ""
    }

    /// Packages a stage installs with `apt-get install`, in order.
    func aptPackages(stage: Int) -> [String] {
        var packages: [String] = []
        for run in instructions("RUN", stage: stage) {
            for command in run.arguments.components(separatedBy: "&&").flatMap({ $0.components(separatedBy: ";") }) {
                let words = command.split(whereSeparator: \.isWhitespace).map(String.init)
                guard let install = words.firstIndex(of: "install"), words.contains("apt-get") else { continue }
                packages += words[(install + 1)...].filter { !$0.hasPrefix("-") }
            }
        }
        return packages
    }

    /// `ENV` pairs of a stage (`KEY=value` form).
    func environment(stage: Int) -> [String: String] {
        var values: [String: String] = [:]
        for env in instructions("ENV", stage: stage) {
            for pair in env.arguments.split(whereSeparator: \.isWhitespace) {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                if parts.count == 2 { values[parts[0]] = parts[1] }
            }
        }
        return values
    }
}
