import Daemon
import Foundation
import MediadTestSupport
import Testing

/// docs/configuration.md is generated from the settings table; these checks keep the
/// committed page, the named flags and the example in step with the code.
@Suite("docs/configuration.md")
struct ConfigurationReferenceTests {
    static let page = Deployment.docs.appendingPathComponent("configuration.md")
    static let regenerate = "swift run mediad config reference > docs/configuration.md"

    @Test("the committed page is exactly what `mediad config reference` prints")
    func upToDate() throws {
        let committed = try Deployment.text(Self.page)
        let generated = ConfigurationReference.markdown() + "\n"
        #expect(committed == generated, "docs/configuration.md is out of date with the settings table: run `\(Self.regenerate)` and commit it")
    }

    @Test("every setting is on the page with its environment variable")
    func everySetting() throws {
        let committed = try Deployment.text(Self.page)
        for setting in Settings.all {
            #expect(committed.contains("| `\(setting.key)` | `\(setting.environmentVariable)` |"), "\(setting.key) is missing: run `\(Self.regenerate)`")
        }
    }

    @Test("the settings listed with a flag of their own are the flags `mediad serve --help` shows")
    func namedFlags() throws {
        let binary = Deployment.mediadBinary
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "no mediad at \(binary.path): build with `swift build --build-tests`")
        let help = try Deployment.run([binary.path, "serve", "--help"]).text
        let flags = Set(help.matches(of: /--([a-z][a-z0-9-]*)/).map { "--" + String($0.1) })
        let withFlags = Set(Settings.all.filter { flags.contains($0.flag) }.map(\.key))
        #expect(withFlags == ConfigurationReference.namedFlags, "update ConfigurationReference.namedFlags to the flags of ServeOptions")
    }

    @Test("the example file on the page loads")
    func example() throws {
        let markdown = ConfigurationReference.markdown()
        let block = try #require(markdown.firstMatch(of: /```yaml\n([\s\S]*?)```/)?.1)
        let directory = try TestPaths.temporaryDirectory("reference")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("mediad.yaml")
        try String(block).write(to: file, atomically: true, encoding: .utf8)
        let configuration = try ConfigurationLoader(file: file.path, environment: [:]).load().configuration
        #expect(configuration.allowedBuckets == ["uploads"])
        #expect(configuration.kafka["security.protocol"] == "SASL_SSL")
    }
}
