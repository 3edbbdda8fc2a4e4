import Synchronization
import Testing

@testable import Kafka

extension KafkaSuite {
    @Suite("Faults injected by the mock cluster")
    struct Faults {
        @Test("produce succeeds through retriable Produce errors, and the idempotent producer stores each record once")
        func retriableProduceErrors() async throws {
            let harness = try KafkaHarness()
            try harness.cluster.createTopic(name: "retried", partitions: 1)
            let producer = try harness.makeProducer()
            _ = try await producer.send(topic: "retried", key: nil, value: Array("warm-up".utf8))

            harness.cluster.pushRequestErrors(apiKey: .produce, errors: [
                .notEnoughReplicas, .requestTimedOut, .leaderNotAvailable,
                .notEnoughReplicas, .notLeaderForPartition,
            ])
            let reports = try await harness.produce(producer, topic: "retried", range: 0..<30)
            #expect(reports.count == 30)
            #expect(Set(reports.map(\.offset)).count == 30, "distinct offsets")

            let consumer = try harness.makeConsumer(group: "retried")
            let events = EventRecorder(consumer)
            try await consumer.subscribe(topics: ["retried"])
            try await events.wait(for: "31 messages") { $0.messages.count >= 31 }
            try await Task.sleep(for: .milliseconds(500))
            let values = events.values
            #expect(values.count == 31, "no duplicates: \(values.count)")
            #expect(Set(values) == Set(["warm-up"] + (0..<30).map { "value-\($0)" }))
            #expect(events.messages.map(\.offset) == Array(0..<31))
            await consumer.close()
            await producer.close()
        }

        @Test("records sent while the broker is down are delivered once it is back")
        func brokerDownThenUp() async throws {
            let harness = try KafkaHarness()
            try harness.cluster.createTopic(name: "outage", partitions: 1)
            let producer = try harness.makeProducer()
            try await harness.produce(producer, topic: "outage", range: 0..<5)

            try harness.cluster.setBrokerDown(1)
            let delivered = Counter()
            let sending = Task {
                try await withThrowingTaskGroup(of: DeliveryReport.self) { group in
                    for index in 5..<15 {
                        group.addTask {
                            let report = try await producer.send(topic: "outage", key: nil, value: Array("value-\(index)".utf8))
                            delivered.increment()
                            return report
                        }
                    }
                    var reports: [DeliveryReport] = []
                    for try await report in group {
                        reports.append(report)
                    }
                    return reports
                }
            }
            try await Task.sleep(for: .seconds(2))
            #expect(delivered.value == 0, "nothing can be delivered while the only broker is down")
            try harness.cluster.setBrokerUp(1)
            let reports = try await sending.value
            #expect(reports.count == 10)
            #expect(Set(reports.map(\.offset)) == Set(5..<15))

            let consumer = try harness.makeConsumer(group: "outage")
            let events = EventRecorder(consumer)
            try await consumer.subscribe(topics: ["outage"])
            try await events.wait(for: "15 messages") { $0.messages.count >= 15 }
            #expect(Set(events.values) == Set((0..<15).map { "value-\($0)" }))
            await consumer.close()
            await producer.close()
        }

        @Test("a commit refused by the broker throws a typed error; the retry succeeds")
        func commitFailsThenSucceeds() async throws {
            let harness = try KafkaHarness()
            try harness.cluster.createTopic(name: "commits", partitions: 1)
            let producer = try harness.makeProducer()
            try await harness.produce(producer, topic: "commits", range: 0..<5)

            let consumer = try harness.makeConsumer(group: "commits")
            let events = EventRecorder(consumer)
            try await consumer.subscribe(topics: ["commits"])
            try await events.wait(for: "5 messages") { $0.messages.count >= 5 }
            let last = try #require(events.messages.last)
            let offset = TopicPartitionOffset(after: last)

            let refused = KafkaError.Code.offsetMetadataTooLarge  // permanent for librdkafka's commit
            harness.cluster.pushRequestErrors(apiKey: .offsetCommit, errors: [refused])
            let error = await #expect(throws: KafkaError.self) { try await consumer.commit([offset]) }
            #expect(error?.code == refused)
            #expect(error?.name == "OFFSET_METADATA_TOO_LARGE")
            #expect(error?.isRetriable == false)
            #expect(try await consumer.committedOffsets(for: [last.topicPartition]).isEmpty)

            try await consumer.commit([offset])
            #expect(try await consumer.committedOffsets(for: [last.topicPartition]) == [last.topicPartition: 5])
            await consumer.close()
            await producer.close()
        }

        @Test("a partition leader moving to another broker and a slow broker don't lose records")
        func leaderChangeAndLatency() async throws {
            let harness = try KafkaHarness(brokers: 3)
            try harness.cluster.createTopic(name: "moving", partitions: 1, replicationFactor: 3)
            try harness.cluster.setPartitionLeader(topic: "moving", partition: 0, broker: 1)
            let producer = try harness.makeProducer()
            try await harness.produce(producer, topic: "moving", range: 0..<10)

            try harness.cluster.setPartitionLeader(topic: "moving", partition: 0, broker: 2)
            try harness.cluster.setRTT(broker: 2, milliseconds: 300)
            let elapsed = try await measure {
                _ = try await producer.send(topic: "moving", key: nil, value: Array("value-10".utf8))
            }
            #expect(elapsed >= .milliseconds(300), "the RTT applies: \(elapsed)")
            try harness.cluster.setRTT(broker: 2, milliseconds: 0)
            try await harness.produce(producer, topic: "moving", range: 11..<20)

            let consumer = try harness.makeConsumer(group: "moving")
            let events = EventRecorder(consumer)
            try await consumer.subscribe(topics: ["moving"])
            try await events.wait(for: "20 messages") { $0.messages.count >= 20 }
            #expect(events.messages.map(\.offset) == Array(0..<20))
            #expect(Set(events.values) == Set((0..<20).map { "value-\($0)" }))
            await consumer.close()
            await producer.close()
        }
    }
}
