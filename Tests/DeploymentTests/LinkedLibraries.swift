import Foundation
import MediadTestSupport

/// The shared libraries a binary needs and the Debian packages that ship them, from `ldd`,
/// `readelf -d` and `dpkg -S` on this Debian 12 machine (the runtime image is Debian 12 too).
struct LinkedLibraries {
    /// Every library the dynamic loader resolves, by soname.
    var resolved: [String: String] = [:]
    /// Sonames the binary names itself, plus those named by toolchain libraries (which the
    /// release build links statically, so their needs become the binary's).
    var direct: Set<String> = []
    /// Resolved paths inside the Swift toolchain.
    var toolchain: Set<String> = []

    /// - Throws: `CommandError` if a library is not found or a tool fails.
    init(binary: URL, toolchainRoot: String) throws {
        let ldd = try Deployment.run(["ldd", binary.path])
        for line in ldd.text.split(separator: "\n") {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.contains("not found") { throw CommandError(description: "ldd: \(text)") }
            let parts = text.components(separatedBy: " => ")
            if parts.count == 2, let path = parts[1].split(separator: " ").first, path.hasPrefix("/") {
                resolved[parts[0]] = String(path)
            } else if text.hasPrefix("/"), let path = text.split(separator: " ").first {
                resolved[URL(fileURLWithPath: String(path)).lastPathComponent] = String(path)
            }
        }
        toolchain = Set(resolved.values.filter { $0.hasPrefix(toolchainRoot) })
        direct = try Self.needed(binary.path)
        for path in toolchain { direct.formUnion(try Self.needed(path)) }
        direct.subtract(resolved.filter { toolchain.contains($0.value) }.keys)
    }

    /// The `NEEDED` entries of an ELF file.
    static func needed(_ path: String) throws -> Set<String> {
        let output = try Deployment.run(["readelf", "-d", path]).text
        return Set(output.split(separator: "\n").compactMap { line -> String? in
            guard line.contains("(NEEDED)"), let open = line.firstIndex(of: "["), let close = line.lastIndex(of: "]") else { return nil }
            return String(line[line.index(after: open)..<close])
        })
    }

    /// The Debian package of each path (without `:arch`). Debian 12 merged /lib into /usr/lib
    /// but dpkg records each file under the path its package shipped, so both are tried.
    static func packages(of paths: [String]) throws -> [String: Set<String>] {
        var owners: [String: Set<String>] = [:]
        for path in paths {
            let candidates = [path, path.hasPrefix("/usr/") ? String(path.dropFirst(4)) : "/usr" + path, URL(fileURLWithPath: path).resolvingSymlinksInPath().path]
            for candidate in candidates {
                let result = try Command.run(["dpkg", "-S", candidate])
                guard result.status == 0 else { continue }
                for line in result.text.split(separator: "\n") {
                    guard let colon = line.range(of: ": /") else { continue }
                    for package in line[..<colon.lowerBound].split(separator: ",") {
                        owners[path, default: []].insert(String(package.trimmingCharacters(in: .whitespaces).split(separator: ":")[0]))
                    }
                }
                break
            }
            if owners[path] == nil { throw CommandError(description: "no Debian package ships \(path)") }
        }
        return owners
    }
}

/// What apt would install with a list of packages: their Depends and Pre-Depends, followed
/// through the packages installed on this machine (every library the binary uses is).
struct InstalledPackages {
    var depends: [String: [[String]]] = [:]
    var providers: [String: [String]] = [:]

    init() throws {
        let format = "${Package}\t${db:Status-Status}\t${Pre-Depends}\t${Depends}\t${Provides}\n"
        let output = try Deployment.run(["dpkg-query", "-W", "-f", format]).text
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 5, fields[1] == "installed" else { continue }
            depends[fields[0]] = Self.relations(fields[2]) + Self.relations(fields[3])
            for provided in Self.relations(fields[4]).flatMap({ $0 }) { providers[provided, default: []].append(fields[0]) }
        }
    }

    /// `a (>= 1), b | c:any` → [[a], [b, c]].
    static func relations(_ field: String) -> [[String]] {
        field.split(separator: ",").map { group in
            group.split(separator: "|").compactMap { alternative in
                alternative.trimmingCharacters(in: .whitespaces).split(separator: " ").first?.split(separator: ":").first.map(String.init)
            }
        }.filter { !$0.isEmpty }
    }

    /// The packages and everything they depend on, as apt resolves it: for alternatives and
    /// virtual packages, whichever is installed here.
    func closure(of roots: Set<String>) -> Set<String> {
        var seen: Set<String> = []
        var queue = Array(roots)
        while let package = queue.popLast() {
            guard seen.insert(package).inserted else { continue }
            for group in depends[package] ?? [] {
                let choices = group.flatMap { depends[$0] != nil ? [$0] : (providers[$0] ?? []) }
                if let choice = choices.first { queue.append(choice) }
            }
        }
        return seen
    }
}
