import Daemon
import Foundation
import MediadTestSupport
import Testing

/// The operator pages name what the code has: metrics, links, the commands CI runs.
@Suite("README.md, docs/ and docker/README.md")
struct DocumentationTests {
    static let pages = ["README.md", "docs/operations.md", "docs/configuration.md", "docs/vendor/README.md", "docker/README.md"]

    @Test("docs/operations.md explains every metric mediad exports")
    func metrics() throws {
        let source = try Deployment.text(Deployment.root.appendingPathComponent("Sources/Daemon/HTTP/DaemonMetrics.swift"))
        let names = Set(source.matches(of: /label: "(mediad_[a-z_]+)"/).map { String($0.1) })
        #expect(names.count >= 10)
        let page = try Deployment.text(Deployment.docs.appendingPathComponent("operations.md"))
        for name in names.sorted() {
            #expect(page.contains("`\(name)"), "docs/operations.md does not explain \(name)")
        }
    }

    @Test("relative links in the pages point at files that exist")
    func links() throws {
        for page in Self.pages {
            let url = Deployment.root.appendingPathComponent(page)
            let text = try Deployment.text(url)
            for match in text.matches(of: /\]\(([^)#\s]+)(#[^)]*)?\)/) {
                let target = String(match.1)
                if target.contains("://") || target.hasPrefix("mailto:") { continue }
                let resolved = url.deletingLastPathComponent().appendingPathComponent(target).standardizedFileURL
                #expect(FileManager.default.fileExists(atPath: resolved.path), "\(page) links to \(target), which does not exist")
            }
        }
    }

    @Test("README.md gives the test command exactly as .ci/run runs it")
    func readmeCommands() throws {
        let readme = try Deployment.text(Deployment.root.appendingPathComponent("README.md"))
        let ci = try Deployment.text(Deployment.root.appendingPathComponent(".ci/run"))
        let command = try #require(ci.split(separator: "\n").last { $0.hasPrefix("bash ") }.map(String.init))
        #expect(readme.contains(command))
        #expect(readme.contains("bash scripts/demo.sh"))
    }
}
