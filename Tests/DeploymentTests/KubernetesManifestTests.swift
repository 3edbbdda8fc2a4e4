import Daemon
import Foundation
import MediadTestSupport
import Testing
import Yams

/// docker/kubernetes cannot be applied here (no cluster): kubernetes-validate checks the
/// built-in resources against the API schemas it bundles, checkov checks their security,
/// and the rest is compared with what mediad itself does (its settings, its endpoints, its
/// documented sizing).
@Suite("docker/kubernetes")
struct KubernetesManifestTests {
    static let readme = KubernetesManifests.directory.appendingPathComponent("README.md")
    static let operations = Deployment.docs.appendingPathComponent("operations.md")
    /// The oldest Kubernetes release the manifests support, and the newest kubernetes-validate bundles.
    static let kubernetesVersions = ["1.30.0", "1.37.0"]

    @Test("kustomization.yaml lists every manifest but the example Secret and the optional ServiceMonitor, all in one namespace")
    func kustomization() throws {
        let manifests = try KubernetesManifests()
        let listed = manifests.kustomization[list: "resources"].compactMap { $0 as? String }
        #expect(Set(listed) == Set(manifests.files).subtracting(KubernetesManifests.optionalFiles))
        #expect(listed.count == Set(listed).count)
        let namespace = try manifests.one("Namespace")
        #expect(manifests.kustomization["namespace"] as? String == namespace.name)
        for resource in manifests.resources where resource.kind != "Namespace" {
            #expect(resource.metadata["namespace"] as? String == namespace.name, "\(resource.file): \(resource.kind) \(resource.name) names its namespace")
        }
        let images = manifests.kustomization[list: "images"].compactMap { $0 as? [String: Any] }
        let image = try #require(try manifests.container["image"] as? String)
        #expect(images.contains { "\($0["name"] ?? ""):\($0["newTag"] ?? "")" == image }, "kustomization.yaml's images entry rewrites \(image)")
    }

    @Test("every built-in resource validates against the Kubernetes API schemas (kubernetes-validate --strict)", arguments: kubernetesVersions)
    func schemas(version: String) throws {
        let manifests = try KubernetesManifests()
        let builtIn = Set(manifests.resources.filter { !KubernetesManifests.isCustom($0) }.map(\.file))
        let custom = Set(manifests.resources.filter(KubernetesManifests.isCustom).map(\.file))
        #expect(builtIn.isDisjoint(with: custom), "a file mixes built-in and custom resources")
        #expect(builtIn.union(custom) == Set(manifests.files))
        let paths = builtIn.sorted().map { "docker/kubernetes/\($0)" }
        let result = try Deployment.run(
            ["kubernetes-validate", "--strict", "-k", version] + paths, hint: "kubernetes-validate comes from PyPI (scripts/setup.sh --test)")
        let passed = result.text.split(separator: "\n").filter { $0.contains(" passed for resource ") }
        #expect(passed.count == manifests.resources.filter { !KubernetesManifests.isCustom($0) }.count, "\(result.text)\(result.stderr)")

        // The validator rejects what it should: a misspelt field fails strict validation.
        let directory = try TestPaths.temporaryDirectory("kubernetes-validate")
        defer { try? FileManager.default.removeItem(at: directory) }
        let broken = directory.appendingPathComponent("deployment.yaml")
        let text = try Deployment.text(KubernetesManifests.directory.appendingPathComponent("deployment.yaml"))
        try text.replacingOccurrences(of: "terminationGracePeriodSeconds:", with: "terminationGracePeriod:").write(to: broken, atomically: true, encoding: .utf8)
        let rejected = try Command.run(["kubernetes-validate", "--strict", "-k", version, broken.path])
        #expect(rejected.status != 0, "kubernetes-validate accepted an unknown field: \(rejected.text)")
    }

    @Test("the KEDA and Prometheus Operator resources are well-formed and point at the Deployment and Service")
    func customResources() throws {
        let manifests = try KubernetesManifests()
        let kinds = Set(manifests.resources.filter(KubernetesManifests.isCustom).map { "\($0.apiVersion) \($0.kind)" })
        #expect(kinds == ["keda.sh/v1alpha1 ScaledObject", "keda.sh/v1alpha1 TriggerAuthentication", "monitoring.coreos.com/v1 ServiceMonitor"])
        let deployment = try manifests.deployment
        let scaled = try manifests.one("ScaledObject")
        let target = scaled.spec[map: "scaleTargetRef"]
        #expect(target["name"] as? String == deployment.name)
        #expect(target["kind"] as? String == "Deployment" && target["apiVersion"] as? String == "apps/v1")
        let triggers = scaled.spec[list: "triggers"].compactMap { $0 as? [String: Any] }
        #expect(triggers.count == 1 && triggers.first?["type"] as? String == "kafka")
        // The Kafka scaler's documented metadata keys (KEDA 2.12+).
        let known: Set<String> = [
            "bootstrapServers", "consumerGroup", "topic", "lagThreshold", "activationLagThreshold", "offsetResetPolicy",
            "allowIdleConsumers", "excludePersistentLag", "scaleToZeroOnInvalidOffset", "limitToPartitionsWithLag",
            "partitionLimitation", "sasl", "tls", "version",
        ]
        let metadata = triggers.first?[map: "metadata"] ?? [:]
        #expect(Set(metadata.keys).isSubset(of: known), "unknown kafka trigger keys: \(Set(metadata.keys).subtracting(known))")
        let authentication = try manifests.one("TriggerAuthentication")
        #expect(triggers.first?[map: "authenticationRef"]["name"] as? String == authentication.name)
        let references = try manifests.secretReferences
        for case let item as [String: Any] in authentication.spec[list: "secretTargetRef"] {
            let secret = item["name"] as? String, key = item["key"] as? String
            #expect(references.values.contains { $0.secret == secret && $0.key == key }, "KEDA reads \(secret ?? "?")/\(key ?? "?"), which mediad does not use")
            #expect(["username", "password"].contains(item["parameter"] as? String ?? ""))
        }

        let service = try manifests.one("Service")
        let monitor = try manifests.one("ServiceMonitor")
        let serviceLabels = service.metadata[map: "labels"].compactMapValues { $0 as? String }
        let selected = monitor.spec[map: "selector"][map: "matchLabels"].compactMapValues { $0 as? String }
        #expect(!selected.isEmpty && selected.allSatisfy { serviceLabels[$0.key] == $0.value })
        #expect(monitor.spec[map: "namespaceSelector"][list: "matchNames"].compactMap { $0 as? String } == [service.metadata["namespace"] as? String ?? ""])
        let servicePorts = service.spec[list: "ports"].compactMap { ($0 as? [String: Any])?["name"] as? String }
        for case let endpoint as [String: Any] in monitor.spec[list: "endpoints"] {
            #expect(servicePorts.contains(endpoint["port"] as? String ?? ""))
            #expect(endpoint["path"] as? String == "/metrics")
        }
    }

    @Test("the autoscaler follows the upload group's lag only, up to the partition count, with a threshold from the measured throughput")
    func autoscaling() throws {
        let manifests = try KubernetesManifests()
        let configuration = try manifests.loadedConfiguration()
        let scaled = try manifests.one("ScaledObject")
        let metadata = scaled.spec[list: "triggers"].compactMap { $0 as? [String: Any] }.first?[map: "metadata"] ?? [:]
        #expect(metadata["consumerGroup"] as? String == configuration.group)
        #expect(metadata["consumerGroup"] as? String != configuration.reprocessGroup, "backfill lag must not add pods")
        #expect(metadata["topic"] as? String == configuration.topic)
        #expect(metadata["bootstrapServers"] as? String == configuration.brokers, "KEDA reads the brokers mediad consumes from")
        #expect(metadata["offsetResetPolicy"] as? String == "earliest", "mediad's consumer starts new groups at the earliest offset")
        #expect(metadata["allowIdleConsumers"] as? String == "false")
        // KEDA's SASL mode and TLS are mediad's librdkafka settings.
        let mechanism = configuration.kafka["sasl.mechanisms"] ?? configuration.kafka["sasl.mechanism"] ?? ""
        #expect(metadata["sasl"] as? String == mechanism.lowercased().replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: "sha_", with: "sha"))
        #expect((metadata["tls"] as? String == "enable") == (configuration.kafka["security.protocol"] == "SASL_SSL"))

        // maxReplicaCount: the partitions of the upload topic, as the compose stack creates it.
        let compose = try Deployment.yaml(try Deployment.text(Deployment.docker.appendingPathComponent("compose.yaml")))
        let topics = Deployment.string(compose[map: "services"][map: "kafka-init"][map: "environment"]["TOPICS"]) ?? ""
        let partitions = try #require(topics.split(separator: " ").first { $0.hasPrefix("\(configuration.topic):") }.flatMap { Int($0.split(separator: ":").last ?? "") })
        #expect(scaled.spec["maxReplicaCount"] as? Int == partitions)
        #expect(scaled.spec["minReplicaCount"] as? Int == (try manifests.deployment).spec["replicas"] as? Int)
        #expect((scaled.spec["minReplicaCount"] as? Int ?? 0) >= 2, "a PodDisruptionBudget of one and a rolling update need a second pod")

        // lagThreshold = throughput per pod (docs/operations.md) × the drain target.
        let operations = try Deployment.text(Self.operations)
        let measured = try #require(operations.firstMatch(of: /about (\d+) files\/s for 2 MP photos/).flatMap { Int($0.1) })
        let annotations = scaled.metadata[map: "annotations"].compactMapValues { Deployment.string($0) }
        #expect(Int(annotations["mediad.io/throughput-per-pod"] ?? "") == measured)
        let drain = try #require(Int(annotations["mediad.io/drain-target-seconds"] ?? ""))
        #expect(Int(metadata["lagThreshold"] as? String ?? "") == measured * drain)
        #expect((10...120).contains(drain), "a pod's share of the backlog clears in 10 s to 2 min")

        // A cooldown: KEDA's (to zero) and the HPA's scale-down window (between replica counts).
        #expect((scaled.spec["cooldownPeriod"] as? Int ?? 0) >= 60)
        let scaleDown = scaled.spec[map: "advanced"][map: "horizontalPodAutoscalerConfig"][map: "behavior"][map: "scaleDown"]
        #expect((scaleDown["stabilizationWindowSeconds"] as? Int ?? 0) >= 120)
        let readme = try Deployment.text(Self.readme)
        #expect(readme.contains("\(measured) files/s") && readme.contains(metadata["lagThreshold"] as? String ?? "?"), "the README derives lagThreshold")
    }

    @Test("checkov finds no failed check; every skipped check names its reason in the manifest and the README")
    func checkov() throws {
        let checkov = try Self.checkovPath()
        let result = try Command.run(
            [checkov, "-d", "docker/kubernetes", "--framework", "kubernetes", "--skip-download", "--output", "json", "--quiet"],
            currentDirectory: Deployment.root)
        let parsed = try JSONSerialization.jsonObject(with: result.stdout)
        let report = try #require((parsed as? [String: Any]) ?? (parsed as? [[String: Any]])?.first, "checkov printed no report: \(result.stderr)")
        let summary = report[map: "summary"]
        let results = report[map: "results"]
        let failed = results[list: "failed_checks"].compactMap { $0 as? [String: Any] }
        #expect(failed.isEmpty, "checkov: \(failed.map { "\($0["check_id"] ?? "") \($0["check_name"] ?? "") in \($0["file_path"] ?? "") \($0["resource"] ?? "")" })")
        #expect(summary["parsing_errors"] as? Int == 0)
        #expect((summary["passed"] as? Int ?? 0) >= 50, "checkov ran its Kubernetes checks: \(summary)")
        #expect(result.status == 0, "checkov exited \(result.status): \(result.stderr)")
        let readme = try Deployment.text(Self.readme)
        for case let skipped as [String: Any] in results[list: "skipped_checks"] {
            let id = skipped["check_id"] as? String ?? ""
            let reason = skipped[map: "check_result"]["suppress_comment"] as? String ?? ""
            #expect(reason.count >= 30, "\(id) is skipped without a reason")
            #expect(readme.contains(id), "the README lists the skipped check \(id)")
        }
    }

    @Test("probes and the metrics port are the daemon's: the real binary answers them")
    func probes() async throws {
        let manifests = try KubernetesManifests()
        let configuration = try manifests.loadedConfiguration()
        let container = try manifests.container
        let ports = container[list: "ports"].compactMap { $0 as? [String: Any] }
        let http = try #require(ports.first { $0["name"] as? String == "http" })
        #expect(http["containerPort"] as? Int == configuration.httpPort)
        #expect(configuration.httpPort == Deployment.defaults.httpPort)
        func probe(_ name: String) -> (path: String, port: String) {
            let get = container[map: name][map: "httpGet"]
            return (get["path"] as? String ?? "", Deployment.string(get["port"]) ?? "")
        }
        #expect(probe("startupProbe").path == "/healthz")
        #expect(probe("livenessProbe").path == "/healthz")
        #expect(probe("readinessProbe").path == "/readyz")
        for name in ["startupProbe", "livenessProbe", "readinessProbe"] {
            #expect(probe(name).port == "http" || probe(name).port == String(configuration.httpPort), "\(name) targets mediad's httpPort")
        }
        let startup = container[map: "startupProbe"]
        #expect((startup["periodSeconds"] as? Int ?? 10) * (startup["failureThreshold"] as? Int ?? 3) >= 30, "start-up (pipelines, broker) may take a while")
        let annotations = try manifests.deployment.spec[map: "template"][map: "metadata"][map: "annotations"].compactMapValues { Deployment.string($0) }
        #expect(annotations["prometheus.io/scrape"] == "true")
        #expect(annotations["prometheus.io/port"] == String(configuration.httpPort))
        let service = try manifests.one("Service")
        #expect(service.metadata[map: "annotations"].compactMapValues { Deployment.string($0) }["prometheus.io/port"] == String(configuration.httpPort))
        let servicePort = try #require(service.spec[list: "ports"].compactMap { $0 as? [String: Any] }.first)
        #expect(Deployment.string(servicePort["targetPort"]) == "http")

        // The paths the manifests probe, asked of a running `mediad serve`.
        let paths = [probe("livenessProbe").path, probe("readinessProbe").path, annotations["prometheus.io/path"] ?? ""]
        try await ServeProcess.withRunning { port in
            for path in paths {
                try await ServeProcess.expectOK(port: port, path: path)
            }
        }
    }

    @Test("every environment variable and settings key is a mediad setting, and together they load")
    func settings() throws {
        let manifests = try KubernetesManifests()
        let known = Set(Settings.all.map(\.environmentVariable)).union(["MEDIAD_CONFIG"])
        for name in try manifests.environment.keys {
            #expect(name.hasPrefix("MEDIAD_"), "\(name) is not read by mediad")
            #expect(known.contains(name) || name.hasPrefix("MEDIAD_KAFKA_"), "\(name) is not a mediad setting")
        }
        let file = try Deployment.yaml(try manifests.settingsFile.text)
        let keys = Set(Settings.all.map(\.key)).union(["kafka"])
        for key in file.keys {
            #expect(keys.contains(key), "\(key) in the settings ConfigMap is not a mediad setting")
        }
        let configuration = try manifests.loadedConfiguration()
        // SASL_SSL for a managed cluster, the credentials from the Secret.
        for key in ["security.protocol", "sasl.mechanisms", "sasl.username", "sasl.password", "ssl.ca.location"] {
            #expect(configuration.kafka[key] != nil, "librdkafka's \(key) is set")
        }
        let references = try manifests.secretReferences
        #expect(references["MEDIAD_KAFKA_SASL_USERNAME"] != nil && references["MEDIAD_KAFKA_SASL_PASSWORD"] != nil)
        #expect(references["MEDIAD_S3_ACCESS_KEY_ID"] != nil && references["MEDIAD_S3_SECRET_ACCESS_KEY"] != nil)
        // Every Secret key referenced exists in the example.
        let examples = manifests.resources.filter { $0.kind == "Secret" && $0.file == "secret.example.yaml" }
        for (variable, reference) in references {
            let secret = examples.first { $0.name == reference.secret }
            #expect(secret?.object[map: "stringData"][reference.key] != nil, "\(variable): secret.example.yaml has no \(reference.secret)/\(reference.key)")
        }
        #expect(configuration.pipelines == (try manifests.mountPath(try manifests.volume(configMap: "mediad-pipelines"))))
        #expect(configuration.concurrency >= 1)
        #expect(configuration.storage == "s3")
    }

    @Test("the grace period is longer than shutdownTimeout plus a margin")
    func gracePeriod() throws {
        let manifests = try KubernetesManifests()
        let configuration = try manifests.loadedConfiguration()
        let grace = try #require(try manifests.podSpec["terminationGracePeriodSeconds"] as? Int)
        #expect(Duration.seconds(grace) >= configuration.shutdownTimeout + .seconds(10), "SIGKILL must not cut the drain, the commit and the flush short")
    }

    @Test("the pipelines ConfigMap holds exactly the files of pipelines/, byte for byte; the pod template carries their checksum")
    func pipelines() throws {
        let manifests = try KubernetesManifests()
        let configMap = try manifests.one("ConfigMap", file: "configmap-pipelines.yaml")
        let data = configMap.object[map: "data"]
        let files = try FileManager.default.contentsOfDirectory(atPath: TestPaths.pipelines.path).filter { !$0.hasPrefix(".") }.sorted()
        #expect(Set(data.keys) == Set(files), "run scripts/kubernetes-pipelines.py")
        var hashed = Data()
        for file in files {
            let bytes = try Data(contentsOf: TestPaths.pipelines.appendingPathComponent(file))
            #expect(data[file] as? String == String(decoding: bytes, as: UTF8.self), "\(file) differs from pipelines/\(file): run scripts/kubernetes-pipelines.py")
            hashed.append(Data(file.utf8) + Data([0]) + bytes + Data([0]))
        }
        let checksum = try Command.check(["sha256sum"], input: hashed).text.split(separator: " ").first.map(String.init)
        let annotation = try manifests.deployment.spec[map: "template"][map: "metadata"][map: "annotations"]["mediad.io/pipelines-sha256"] as? String
        #expect(annotation == checksum, "a pipeline change must roll the pods: run scripts/kubernetes-pipelines.py")
    }

    @Test("memory, CPU and scratch limits fit the documented sizing for the configured concurrency")
    func sizing() throws {
        let manifests = try KubernetesManifests()
        let configuration = try manifests.loadedConfiguration()
        let resources = try manifests.container[map: "resources"]
        let limits = resources[map: "limits"].compactMapValues { Deployment.string($0) }
        let requests = resources[map: "requests"].compactMapValues { Deployment.string($0) }

        // CPU: one core per worker slot; concurrency set explicitly (the default would count the node's cores).
        let cpu = try #require(Quantity.millicores(limits["cpu"] ?? ""))
        #expect(cpu == configuration.concurrency * 1000, "concurrency \(configuration.concurrency) for a limit of \(cpu)m")
        let settings = try Deployment.yaml(try manifests.settingsFile.text)
        let environment = try manifests.environment
        #expect(settings["concurrency"] != nil || environment["MEDIAD_CONCURRENCY"] != nil, "concurrency is set explicitly")

        // Memory: baseline + concurrency × per-slot working set (docs/operations.md), where a
        // slot is budgeted at the worst case the default pipelines admit (~1 GB per slot, and
        // the 1 GiB limits.maxMemory default of a `mediad worker`).
        let operations = try Deployment.text(Self.operations)
        let baselineMB = try #require(operations.firstMatch(of: /baseline \(~(\d+) MB\)/).flatMap { Int64($0.1) })
        let slotGB = try #require(operations.firstMatch(of: /budget ~(\d+) GB per slot/).flatMap { Int64($0.1) })
        let parent = max(baselineMB, 100) * 1_000_000
        let slot = max(slotGB * 1_000_000_000, 1 << 30)
        let needed = parent + Int64(configuration.concurrency) * slot
        let memory = try #require(Quantity.bytes(limits["memory"] ?? ""))
        #expect(memory >= needed, "memory limit \(memory) below \(needed) (docs/operations.md)")
        #expect(memory <= needed + needed / 4, "memory limit \(memory) far above the sizing \(needed)")
        let requested = try #require(Quantity.bytes(requests["memory"] ?? ""))
        #expect(requested <= memory && requested >= needed / 2)

        // Scratch: (concurrency + queueDepth) originals of the largest maxBytes on an emptyDir.
        let pipelines = try manifests.one("ConfigMap", file: "configmap-pipelines.yaml").object[map: "data"]
        var largest: Int64 = 0
        for case let text as String in pipelines.values {
            let limit = Deployment.string(try Deployment.yaml(text)[map: "limits"]["maxBytes"]) ?? ""
            largest = max(largest, try #require(Quantity.bytes(limit.replacingOccurrences(of: "iB", with: "i")), "maxBytes \(limit)"))
        }
        let scratch = try #require(try manifests.emptyDirSizeLimit(mountedAt: configuration.scratchDirectory), "scratchDirectory \(configuration.scratchDirectory) is an emptyDir with a sizeLimit")
        #expect(scratch >= Int64(configuration.concurrency + configuration.effectiveQueueDepth) * largest)
        let temporary = try #require(try manifests.emptyDirSizeLimit(mountedAt: "/tmp"), "/tmp is a sized emptyDir")
        let ephemeral = try #require(Quantity.bytes(limits["ephemeral-storage"] ?? ""))
        #expect(ephemeral >= scratch + temporary)
    }

    @Test("pods run as the image's non-root user, read-only, without privileges, in a restricted namespace")
    func podSecurity() throws {
        let manifests = try KubernetesManifests()
        let user = try #require(try DockerfileTests.dockerfile().instructions("USER", stage: 1).last?.arguments)
        let ids = user.split(separator: ":").compactMap { Int($0) }
        let pod = try manifests.podSpec
        let podContext = pod[map: "securityContext"]
        let context = try manifests.container[map: "securityContext"]
        #expect(podContext["runAsNonRoot"] as? Bool == true && context["runAsNonRoot"] as? Bool == true)
        #expect(podContext["runAsUser"] as? Int == ids.first && context["runAsUser"] as? Int == ids.first, "the Dockerfile's USER \(user)")
        #expect(podContext["runAsGroup"] as? Int == ids.last)
        #expect(context["readOnlyRootFilesystem"] as? Bool == true)
        #expect(context["allowPrivilegeEscalation"] as? Bool == false)
        #expect(context[map: "capabilities"][list: "drop"].compactMap { $0 as? String } == ["ALL"])
        #expect(context[map: "capabilities"]["add"] == nil)
        #expect(podContext[map: "seccompProfile"]["type"] as? String == "RuntimeDefault")
        #expect(pod["automountServiceAccountToken"] as? Bool == false)
        let labels = try manifests.one("Namespace").metadata[map: "labels"].compactMapValues { $0 as? String }
        #expect(labels["pod-security.kubernetes.io/enforce"] == "restricted")
        // Everything mediad writes is an emptyDir: the scratch directory and /tmp.
        let configuration = try manifests.loadedConfiguration()
        for path in [configuration.scratchDirectory, "/tmp"] {
            #expect(try manifests.emptyDirSizeLimit(mountedAt: path) != nil, "\(path) is a sized emptyDir")
        }
    }

    @Test("rollouts keep every desired pod; pods spread over nodes; PDB, Service and NetworkPolicy select them")
    func availability() throws {
        let manifests = try KubernetesManifests()
        let deployment = try manifests.deployment
        let rolling = deployment.spec[map: "strategy"][map: "rollingUpdate"]
        #expect(deployment.spec[map: "strategy"]["type"] as? String == "RollingUpdate")
        #expect(Deployment.string(rolling["maxUnavailable"]) == "0")
        #expect((rolling["maxSurge"] as? Int ?? 0) >= 1)
        let podLabels = deployment.spec[map: "template"][map: "metadata"][map: "labels"].compactMapValues { $0 as? String }
        func selects(_ selector: [String: Any]) -> Bool {
            let wanted = selector.compactMapValues { $0 as? String }
            return !wanted.isEmpty && wanted.allSatisfy { podLabels[$0.key] == $0.value }
        }
        #expect(selects(deployment.spec[map: "selector"][map: "matchLabels"]))
        let spread = try manifests.podSpec[list: "topologySpreadConstraints"].compactMap { $0 as? [String: Any] }
        #expect(spread.contains { $0["topologyKey"] as? String == "kubernetes.io/hostname" && selects($0[map: "labelSelector"][map: "matchLabels"]) })
        let budget = try manifests.one("PodDisruptionBudget")
        #expect(selects(budget.spec[map: "selector"][map: "matchLabels"]))
        #expect(budget.spec["maxUnavailable"] as? Int == 1 || budget.spec["minAvailable"] != nil)
        #expect(selects(try manifests.one("Service").spec[map: "selector"]))

        // The NetworkPolicy: DNS, the brokers' ports and S3 out; the metrics port in.
        let configuration = try manifests.loadedConfiguration()
        let policy = try manifests.one("NetworkPolicy")
        #expect(selects(policy.spec[map: "podSelector"][map: "matchLabels"]))
        #expect(Set(policy.spec[list: "policyTypes"].compactMap { $0 as? String }) == ["Ingress", "Egress"])
        func ports(_ rules: [Any]) -> [(port: Int, end: Int, proto: String)] {
            rules.compactMap { $0 as? [String: Any] }.flatMap { rule in
                rule[list: "ports"].compactMap { $0 as? [String: Any] }.compactMap { port in
                    guard let number = port["port"] as? Int else { return nil }
                    return (number, port["endPort"] as? Int ?? number, port["protocol"] as? String ?? "TCP")
                }
            }
        }
        func allows(_ rules: [Any], _ port: Int, _ proto: String = "TCP") -> Bool {
            ports(rules).contains { $0.port <= port && port <= $0.end && $0.proto == proto }
        }
        let egress = policy.spec[list: "egress"], ingress = policy.spec[list: "ingress"]
        #expect(allows(egress, 53, "UDP") && allows(egress, 53, "TCP"), "DNS")
        for broker in configuration.brokers.split(separator: ",") {
            let port = Int(broker.split(separator: ":").last ?? "") ?? -1
            #expect(allows(egress, port), "the broker \(broker)")
        }
        let s3Port = configuration.s3Endpoint.flatMap { URLComponents(string: $0) }.map { $0.port ?? ($0.scheme == "http" ? 80 : 443) } ?? 443
        #expect(allows(egress, s3Port), "S3 on \(s3Port)")
        #expect(allows(ingress, configuration.httpPort), "the metrics scrape")
        #expect(ports(egress).count == 4 && ports(ingress).count == 1, "nothing else is allowed: \(ports(egress)) \(ports(ingress))")
    }

    @Test("the README explains deploying against existing Kafka and S3, SASL_SSL, and checking the result")
    func readme() throws {
        let readme = try Deployment.text(Self.readme)
        for phrase in [
            "kubectl apply -k docker/kubernetes", "security.protocol", "sasl.mechanisms", "sasl.username", "sasl.password", "ssl.ca.location",
            "kubectl -n mediad rollout status", "/readyz", "mediad_consumer_lag", "lagThreshold", "mediad-native worker", "limits.maxMemory",
        ] {
            #expect(readme.contains(phrase), "docker/kubernetes/README.md mentions \(phrase)")
        }
    }

    /// checkov on PATH, or where scripts/setup.sh puts it (a virtual environment of its own).
    static func checkovPath() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let tools = environment["MEDIAD_TOOLS_DIR"] ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.local/share/mediad")
        let candidates = [tools + "/venv-checkov/bin/checkov"]
            + (environment["PATH"] ?? "").split(separator: ":").map { "\($0)/checkov" }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw CommandError(description: "checkov is not installed (scripts/setup.sh --test puts it in \(tools)/venv-checkov)")
        }
        return found
    }
}
