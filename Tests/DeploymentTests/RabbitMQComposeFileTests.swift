import AMQP
import Daemon
import Foundation
import MediadTestSupport
import Testing

/// docker/compose.rabbitmq.yaml, checked like compose.yaml: `docker-compose config` offline,
/// then what it resolves to against mediad's own settings.
@Suite("docker/compose.rabbitmq.yaml")
struct RabbitMQComposeFileTests {
    static func resolved() throws -> [String: Any] {
        let result = try Deployment.run(["docker-compose", "-f", "docker/compose.rabbitmq.yaml", "config"], hint: "from Debian's docker-compose package")
        #expect(!result.stderr.contains("WARN"), "docker-compose config warns: \(result.stderr)")
        return try Deployment.yaml(result.text)
    }

    @Test("parses offline; mediad's variables are real settings and load as the RabbitMQ transport with the broker's credentials")
    func mediadSettings() throws {
        let stack = try Self.resolved()
        #expect(Set(stack[map: "services"].keys) == ["rabbitmq", "minio", "minio-init", "mediad"])
        let environment = try ComposeFileTests.service("mediad", in: stack).environment
        let known = Set(Settings.all.map(\.environmentVariable))
        for name in environment.keys where name.hasPrefix("MEDIAD_") {
            #expect(known.contains(name), "\(name) is not a mediad setting")
        }
        let configuration = try ConfigurationLoader(environment: environment).load().configuration
        #expect(configuration.transport == "rabbitmq")
        let amqp = try configuration.amqpConfiguration()
        let rabbitmq = try ComposeFileTests.service("rabbitmq", in: stack).environment
        #expect(amqp.host == "rabbitmq")
        #expect(amqp.username == rabbitmq["RABBITMQ_DEFAULT_USER"] && amqp.password == rabbitmq["RABBITMQ_DEFAULT_PASS"])
        let dependsOn = try ComposeFileTests.service("mediad", in: stack)[map: "depends_on"]
        #expect((dependsOn["rabbitmq"] as? [String: Any])?["condition"] as? String == "service_healthy")
    }

    @Test("MinIO publishes to mediad's input exchange, declared the way mediad declares it, through the target the init job enables")
    func minioNotification() throws {
        let stack = try Self.resolved()
        let minio = try ComposeFileTests.service("minio", in: stack).environment
        let enabled = minio.filter { $0.key.hasPrefix("MINIO_NOTIFY_AMQP_ENABLE_") && $0.value == "on" }
        #expect(enabled.count == 1)
        let target = try #require(enabled.keys.first.map { String($0.dropFirst("MINIO_NOTIFY_AMQP_ENABLE_".count)) })
        let defaults = DaemonConfiguration()
        #expect(minio["MINIO_NOTIFY_AMQP_EXCHANGE_\(target)"] == defaults.amqpExchange)
        #expect(minio["MINIO_NOTIFY_AMQP_EXCHANGE_TYPE_\(target)"] == "topic", "mediad declares a topic exchange")
        #expect(minio["MINIO_NOTIFY_AMQP_DURABLE_\(target)"] == "on", "mediad declares it durable")
        let initService = try ComposeFileTests.service("minio-init", in: stack)
        #expect(initService.environment["TARGET_ARN"] == "arn:minio:sqs::\(target):amqp")
        let script = initService[list: "command"].compactMap { $0 as? String }.joined(separator: "\n")
        #expect(script.contains("mc event add \"local/$$BUCKET\" \"$$TARGET_ARN\" --event put,delete"))
        let mediad = try ComposeFileTests.service("mediad", in: stack).environment
        #expect(mediad["MEDIAD_DEFAULT_BUCKET"] == initService.environment["BUCKET"])
    }
}
