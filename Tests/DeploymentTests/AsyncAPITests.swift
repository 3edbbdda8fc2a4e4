import Daemon
import Foundation
import MediadTestSupport
import Testing

/// docs/asyncapi.yaml: valid AsyncAPI 3.0 (official JSON Schema, vendored from a PyPI package
/// in docs/vendor/), every reference resolves, the channels are mediad's topics, and the
/// examples are valid against the JSON Schemas in schemas/.
@Suite("docs/asyncapi.yaml")
struct AsyncAPITests {
    static let document = "docs/asyncapi.yaml"
    static let officialSchema = "docs/vendor/asyncapi-3.0.0.schema.json"

    static func load() throws -> [String: Any] {
        try Deployment.yaml(try Deployment.text(Deployment.root.appendingPathComponent(document)))
    }

    @Test("valid against the official AsyncAPI 3.0.0 JSON Schema")
    func valid() throws {
        let result = try Deployment.run(["python3", "scripts/validate-json.py", Self.officialSchema, Self.document], hint: "jsonschema and PyYAML come from scripts/setup.sh --test")
        #expect(result.text.contains("1 document(s) checked, 0 problem(s)"))
    }

    @Test("the vendored schema is the file the PyPI package ships, unchanged")
    func vendoredSchema() throws {
        let digest = try Deployment.run(["sha256sum", Self.officialSchema]).text.split(separator: " ").first.map(String.init) ?? ""
        let note = try Deployment.text(Deployment.docs.appendingPathComponent("vendor/README.md"))
        #expect(digest.count == 64 && note.contains(digest), "docs/vendor/README.md records another digest than \(digest)")
    }

    @Test("every message has examples, and each is valid against its payload and headers schemas")
    func examples() throws {
        let messages = try Self.load()[map: "components"][map: "messages"]
        #expect(messages.count >= 7)
        for (name, message) in messages {
            let examples = (message as? [String: Any])?["examples"] as? [Any] ?? []
            #expect(examples.count >= 1, "\(name) has no example")
        }
        let result = try Deployment.run(["python3", "scripts/validate-json.py", "--examples", Self.document])
        #expect(result.text.contains(" 0 problem(s)"))
    }

    @Test("every $ref resolves: inside the document, and to the JSON Schemas in schemas/")
    func references() throws {
        let document = try Self.load()
        var refs: [String] = []
        func collect(_ node: Any) {
            if let map = node as? [String: Any] {
                if let ref = map["$ref"] as? String { refs.append(ref) }
                map.values.forEach(collect)
            } else if let list = node as? [Any] {
                list.forEach(collect)
            }
        }
        collect(document)
        var files: Set<String> = []
        for ref in refs {
            let parts = ref.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            var target: Any = document
            if !parts[0].isEmpty {
                let url = Deployment.docs.appendingPathComponent(parts[0]).standardizedFileURL
                files.insert(url.lastPathComponent)
                let data = try #require(FileManager.default.contents(atPath: url.path), "\(ref): no file \(url.path)")
                target = try JSONSerialization.jsonObject(with: data)
            }
            if parts.count == 2 {
                #expect(Self.resolve(pointer: parts[1], in: target) != nil, "\(ref) points at nothing")
            }
        }
        #expect(files.isSuperset(of: ["file.uploaded.data.schema.json", "media.processed.schema.json"]))
    }

    @Test("channel addresses are mediad's default topics")
    func channels() throws {
        let channels = try Self.load()[map: "channels"]
        let addresses = Set(channels.values.compactMap { ($0 as? [String: Any])?["address"] as? String })
        #expect(addresses == Deployment.defaultTopics)
        #expect(channels.count == addresses.count)
    }

    @Test("dead-letter headers and error codes are the ones the code writes")
    func deadLetterHeaders() throws {
        let headers = try Self.load()[map: "components"][map: "schemas"][map: "DeadLetterHeaders"]
        let documented = Set(headers[map: "properties"].keys)
        let required = Set(headers[list: "required"].compactMap { $0 as? String })
        let source = try Deployment.text(Deployment.root.appendingPathComponent("Sources/Events/Outgoing/DeadLetter.swift"))
        let constants = Dictionary(source.matches(of: /static let (\w+) = "(mediad-[a-z-]+)"/).map { (String($0.1), String($0.2)) }, uniquingKeysWith: { $1 })
        let written = Set(constants.values)
        #expect(written.count >= 7)
        #expect(documented == written, "documented \(documented.sorted()), the code has \(written.sorted())")
        // `Header.all` lists the headers every dead letter gets; the replay headers come and go.
        let always = try #require(source.firstMatch(of: /static let all = \[([^\]]*)\]/)?.1)
        let alwaysWritten = Set(always.split(separator: ",").compactMap { constants[$0.trimmingCharacters(in: .whitespaces)] })
        #expect(alwaysWritten.count >= 6)
        #expect(required == alwaysWritten, "required \(required.sorted()), every dead letter gets \(alwaysWritten.sorted())")

        let intake = try Deployment.text(Deployment.root.appendingPathComponent("Sources/Events/Intake/UploadEvent.swift"))
        let codes = Set(intake.matches(of: /static let \w+ = Code\(rawValue: "([a-z_]+)"\)/).map { String($0.1) })
        let enumerated = Set(headers[map: "properties"][map: "mediad-error-code"][list: "enum"].compactMap { $0 as? String })
        #expect(!codes.isEmpty && enumerated == codes, "documented codes \(enumerated.sorted()), the intake has \(codes.sorted())")
    }

    /// A JSON pointer (`/components/schemas/X`) in a decoded document.
    static func resolve(pointer: String, in document: Any) -> Any? {
        var node: Any? = document
        for token in pointer.split(separator: "/", omittingEmptySubsequences: true) {
            let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            if let map = node as? [String: Any] {
                node = map[key]
            } else if let list = node as? [Any], let index = Int(key), list.indices.contains(index) {
                node = list[index]
            } else {
                return nil
            }
        }
        return node
    }
}
