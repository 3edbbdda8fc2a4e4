import Foundation
import Synchronization
import Testing

import MediadTestSupport
@testable import Kafka

extension KafkaSuite {
    @Suite("Lifecycle: close, deinit, lost assignments, standalone broker")
    struct Lifecycle {
        @Test(
            "close is quick and destroys every handle (so librdkafka joined its threads), over repeated runs",
            arguments: BrokerKind.allCases
        )
        func closeFreesHandles(broker: BrokerKind) async throws {
            let harness = try await KafkaHarness.start(broker)
            try await harness.createTopic(name: "cycles", partitions: 2)

            for round in 0..<2 {
                weak var weakConsumer: KafkaConsumer?
                weak var weakProducer: KafkaProducer?
                var cores: (ConsumerCore, ProducerCore)?
                do {
                    let producer = try harness.makeProducer()
                    let consumer = try harness.makeConsumer(group: "cycles")
                    weakConsumer = consumer
                    weakProducer = producer
                    cores = (consumer.core, producer.core)
                    try await harness.produce(producer, topic: "cycles", range: (round * 10)..<(round * 10 + 10))
                    let events = EventRecorder(consumer)
                    try await consumer.subscribe(topics: ["cycles"])
                    try await events.wait(for: "the round's messages") { $0.messages.count >= 10 }

                    let consumerClose = await measure { await consumer.close() }
                    let producerClose = await measure { await producer.close() }
                    // Leaving the group and joining librdkafka's threads takes well under a second
                    // here; the bounds leave room for a loaded CI machine.
                    #expect(consumerClose < .seconds(5), "consumer close took \(consumerClose)")
                    #expect(producerClose < .seconds(3), "producer close took \(producerClose)")
                    try await events.wait(for: "the event stream to finish", timeout: .seconds(2)) { $0.isFinished }
                    events.stop()
                }
                // rd_kafka_destroy returned: it joins every thread of its handle. (A process-wide
                // count, rd_kafka_thread_cnt, would also see other suites' handles.)
                #expect(cores?.0.client.isDestroyed == true)
                #expect(cores?.1.client.isDestroyed == true)
                #expect(cores?.0.lifecycle.isStopRequested == true)
                cores = nil
                try await Task.sleep(for: .milliseconds(100))
                #expect(weakConsumer == nil, "the consumer was freed")
                #expect(weakProducer == nil, "the producer was freed")
            }
        }

        @Test("a consumer dropped without close still leaves the group and destroys its handle", arguments: BrokerKind.allCases)
        func deinitClosesInBackground(broker: BrokerKind) async throws {
            let harness = try await KafkaHarness.start(broker)
            try await harness.createTopic(name: "dropped", partitions: 1)
            let revoked = Counter()
            var consumer: KafkaConsumer? = try harness.makeConsumer(group: "dropped", onRevoke: { _ in
                revoked.increment()
                return []
            })
            let core = try #require(consumer?.core)
            try await consumer?.subscribe(topics: ["dropped"])
            let deadline = ContinuousClock.now + .seconds(15)
            while core.flow.withLock({ $0.assignment.isEmpty }), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(!core.flow.withLock { $0.assignment.isEmpty })
            consumer = nil
            let closed = ContinuousClock.now + .seconds(10)
            while !core.client.isDestroyed, ContinuousClock.now < closed {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(core.client.isDestroyed)
            #expect(revoked.value == 1, "the revoke hook ran for the final revocation")
        }

        @Test("after the broker vanished past session.timeout.ms: revocation is reported lost, nothing is committed, close returns")
        func lostAssignment() async throws {
            let harness = try KafkaHarness()
            try harness.cluster.createTopic(name: "lost", partitions: 1)
            let producer = try harness.makeProducer()
            try await harness.produce(producer, topic: "lost", range: 0..<5)
            await producer.close()

            let revocations = Mutex<[KafkaRevocation]>([])
            let consumer = try harness.makeConsumer(group: "lost", onRevoke: { revocation in
                revocations.withLock { $0.append(revocation) }
                return revocation.partitions.map { TopicPartitionOffset($0, offset: 5) }
            })
            let events = EventRecorder(consumer)
            try await consumer.subscribe(topics: ["lost"])
            try await events.wait(for: "5 messages") { $0.messages.count >= 5 }

            try harness.cluster.setBrokerDown(1)
            try await events.wait(for: "the lost revocation", timeout: .seconds(20)) { !$0.revoked.isEmpty }
            #expect(events.revoked.first?.lost == true)
            #expect(revocations.withLock { $0.first?.isLost } == true)
            try harness.cluster.setBrokerUp(1)

            let elapsed = await measure { await consumer.close() }
            #expect(elapsed <= .seconds(12), "close is bounded (2 × closeTimeout + 1 s): \(elapsed)")

            // The hook's offsets were not committed for the lost assignment.
            let observer = try harness.makeConsumer(group: "lost")
            let committed = try await observer.committedOffsets(for: [TopicPartition(topic: "lost", partition: 0)])
            #expect(committed.isEmpty, "nothing committed: \(committed)")
            await observer.close()
        }

        @Test("the mock cluster serves standalone clients (kcat) on its bootstrap address")
        func standaloneBroker() async throws {
            let harness = try KafkaHarness()
            try harness.cluster.createTopic(name: "manual", partitions: 2)
            let producer = try harness.makeProducer()
            _ = try await producer.send(topic: "manual", partition: 0, key: Array("k".utf8), value: Array("hello".utf8))
            await producer.close()

            let bootstrap = harness.cluster.bootstrapServers
            #expect(bootstrap.hasPrefix("127.0.0.1:") || bootstrap.hasPrefix("localhost:"))
            let metadata = try await Command.check(["kcat", "-b", bootstrap, "-L", "-t", "manual"]).text
            #expect(metadata.contains("topic \"manual\" with 2 partitions"), "\(metadata)")
            let consumed = try await Command.check([
                "kcat", "-b", bootstrap, "-C", "-t", "manual", "-p", "0", "-o", "beginning", "-e", "-q", "-f", "%k=%s\\n",
            ]).text
            #expect(consumed == "k=hello\n")

            // Unknown topics are created on first use, as a broker with auto-creation would.
            _ = try await harness.makeProducer().send(topic: "auto-created", key: nil, value: [1])
            let created = try await Command.check(["kcat", "-b", bootstrap, "-L", "-t", "auto-created"]).text
            #expect(created.contains("topic \"auto-created\" with"), "\(created)")

            // run() keeps the cluster up until cancelled.
            let running = Task { await harness.cluster.run() }
            try await Task.sleep(for: .milliseconds(100))
            running.cancel()
            await running.value
        }
    }
}
