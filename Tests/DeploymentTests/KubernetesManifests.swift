import Daemon
import Foundation
import MediadTestSupport
import Yams

/// docker/kubernetes read as resources, with the settings mediad would load from them.
struct KubernetesManifests {
    struct Resource {
        var file: String
        var object: [String: Any]
        var kind: String { object["kind"] as? String ?? "" }
        var apiVersion: String { object["apiVersion"] as? String ?? "" }
        var metadata: [String: Any] { object[map: "metadata"] }
        var name: String { metadata["name"] as? String ?? "" }
        var spec: [String: Any] { object[map: "spec"] }
    }

    static let directory = Deployment.docker.appendingPathComponent("kubernetes")
    /// Files that are not part of `kubectl apply -k`, each for a reason its header gives.
    static let optionalFiles: Set<String> = ["secret.example.yaml", "servicemonitor.yaml"]
    /// API groups of custom resources: no bundled schema, checked structurally instead.
    static let customGroups: Set<String> = ["keda.sh", "monitoring.coreos.com"]

    var files: [String]
    var resources: [Resource]
    var kustomization: [String: Any]

    init() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path).filter { $0.hasSuffix(".yaml") }.sorted()
        files = names.filter { $0 != "kustomization.yaml" }
        resources = []
        for file in files {
            let text = try Deployment.text(Self.directory.appendingPathComponent(file))
            for document in try Yams.load_all(yaml: text) {
                guard let object = document as? [String: Any] else { throw CommandError(description: "\(file): a document is not a mapping") }
                resources.append(Resource(file: file, object: object))
            }
        }
        kustomization = try Deployment.yaml(try Deployment.text(Self.directory.appendingPathComponent("kustomization.yaml")))
    }

    static func isCustom(_ resource: Resource) -> Bool {
        customGroups.contains(String(resource.apiVersion.split(separator: "/").first ?? ""))
    }

    func one(_ kind: String, file: String? = nil) throws -> Resource {
        let matches = resources.filter { $0.kind == kind && (file == nil || $0.file == file) }
        guard matches.count == 1, let resource = matches.first else {
            throw CommandError(description: "expected one \(kind) in docker/kubernetes, found \(matches.count)")
        }
        return resource
    }

    var deployment: Resource { get throws { try one("Deployment") } }
    var podSpec: [String: Any] { get throws { try deployment.spec[map: "template"][map: "spec"] } }

    var container: [String: Any] {
        get throws {
            let containers = try podSpec[list: "containers"].compactMap { $0 as? [String: Any] }
            guard containers.count == 1, let container = containers.first else {
                throw CommandError(description: "expected one container, found \(containers.count)")
            }
            return container
        }
    }

    /// The container's plain `env` values; values from Secrets or fields get a placeholder.
    var environment: [String: String] {
        get throws {
            var values: [String: String] = [:]
            for case let item as [String: Any] in try container[list: "env"] {
                guard let name = item["name"] as? String else { continue }
                values[name] = Deployment.string(item["value"]) ?? "from-\(name.lowercased())"
            }
            return values
        }
    }

    /// `secretKeyRef`s of the container: (secret, key) by variable.
    var secretReferences: [String: (secret: String, key: String)] {
        get throws {
            var references: [String: (secret: String, key: String)] = [:]
            for case let item as [String: Any] in try container[list: "env"] {
                let reference = item[map: "valueFrom"][map: "secretKeyRef"]
                if let name = item["name"] as? String, let secret = reference["name"] as? String, let key = reference["key"] as? String {
                    references[name] = (secret, key)
                }
            }
            return references
        }
    }

    /// The settings file the settings ConfigMap holds, and the path the pod mounts it at.
    var settingsFile: (text: String, mountedAt: String) {
        get throws {
            let configMap = try one("ConfigMap", file: "configmap-settings.yaml")
            let data = configMap.object[map: "data"]
            guard data.count == 1, let (key, value) = data.first, let text = value as? String else {
                throw CommandError(description: "the settings ConfigMap holds one file")
            }
            let volume = try volume(configMap: configMap.name)
            return (text, try mountPath(volume) + "/" + key)
        }
    }

    /// What mediad loads in the pod: the image's ENV, the settings file, the container's env.
    func loadedConfiguration() throws -> DaemonConfiguration {
        var environment = try DockerfileTests.dockerfile().environment(stage: 1)
        environment.merge(try self.environment) { $1 }
        let settings = try settingsFile
        let directory = try TestPaths.temporaryDirectory("kubernetes-settings")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("mediad.yaml")
        try settings.text.write(to: file, atomically: true, encoding: .utf8)
        try expectSettingsPath(environment["MEDIAD_CONFIG"], settings.mountedAt)
        environment["MEDIAD_CONFIG"] = file.path
        return try ConfigurationLoader(environment: environment).load().configuration
    }

    func volume(configMap name: String) throws -> String {
        let volumes = try podSpec[list: "volumes"].compactMap { $0 as? [String: Any] }
        guard let volume = volumes.first(where: { $0[map: "configMap"]["name"] as? String == name }), let volumeName = volume["name"] as? String else {
            throw CommandError(description: "no volume mounts the ConfigMap \(name)")
        }
        return volumeName
    }

    func mountPath(_ volume: String) throws -> String {
        let mounts = try container[list: "volumeMounts"].compactMap { $0 as? [String: Any] }
        guard let path = mounts.first(where: { $0["name"] as? String == volume })?["mountPath"] as? String else {
            throw CommandError(description: "the container does not mount the volume \(volume)")
        }
        return path
    }

    func emptyDirSizeLimit(mountedAt path: String) throws -> Int64? {
        let mounts = try container[list: "volumeMounts"].compactMap { $0 as? [String: Any] }
        guard let volumeName = mounts.first(where: { $0["mountPath"] as? String == path })?["name"] as? String else { return nil }
        let volumes = try podSpec[list: "volumes"].compactMap { $0 as? [String: Any] }
        guard let volume = volumes.first(where: { $0["name"] as? String == volumeName }), volume["emptyDir"] != nil else { return nil }
        return Quantity.bytes(Deployment.string(volume[map: "emptyDir"]["sizeLimit"]) ?? "")
    }
}

/// The settings file's path as the pod names it must be where the ConfigMap is mounted.
private func expectSettingsPath(_ named: String?, _ mounted: String) throws {
    guard named == mounted else {
        throw CommandError(description: "MEDIAD_CONFIG is \(named ?? "unset"), but the settings file is mounted at \(mounted)")
    }
}

/// Kubernetes resource quantities (`2304Mi`, `32Gi`, `500m`, `2`).
enum Quantity {
    static func bytes(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [
            ("Ki", 1 << 10), ("Mi", 1 << 20), ("Gi", 1 << 30), ("Ti", 1 << 40),
            ("k", 1_000), ("M", 1_000_000), ("G", 1_000_000_000), ("T", 1_000_000_000_000),
        ]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            return Int64(text.dropLast(suffix.count)).map { $0 * factor }
        }
        return Int64(text)
    }

    /// CPU in millicores.
    static func millicores(_ text: String) -> Int? {
        text.hasSuffix("m") ? Int(text.dropLast()) : Double(text).map { Int($0 * 1000) }
    }
}
