import ArgumentParser
import Foundation
import Daemon
import Kafka

/// `mediad broker`: librdkafka's mock cluster as a standalone broker for manual runs
/// (`mediad serve --brokers ADDRESS`, `kcat -b ADDRESS`). Data lives in memory only.
struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker", abstract: "Run an in-memory Kafka mock cluster for manual testing; prints its address.")

    @Option(name: .long, help: "Number of mock brokers.")
    var brokers = 1

    func run() async throws {
        let cluster = try MockKafkaCluster(brokers: brokers)
        try EmbeddedBroker.createTopics(cluster, configuration: DaemonConfiguration())
        // Written unbuffered: scripts read the address from a pipe or file right away.
        let banner = "\(cluster.bootstrapServers)\ntopics: file.uploaded (4 partitions), media.processed (4), file.uploaded.dlq (1), file.reprocess (2); Ctrl-C stops\n"
        FileHandle.standardOutput.write(Data(banner.utf8))
        await cluster.run()
    }
}
