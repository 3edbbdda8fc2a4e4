import Testing

@testable import Kafka

extension KafkaSuite {
    @Suite("Manual commits")
    struct Commits {
        @Test(
            "a new member of the group resumes right after the committed offsets: nothing re-read, nothing skipped",
            arguments: BrokerKind.allCases
        )
        func resumeAfterCommit(broker: BrokerKind) async throws {
            let harness = try await KafkaHarness.start(broker)
            try await harness.createTopic(name: "jobs", partitions: 2)
            let producer = try harness.makeProducer()
            try await harness.produce(producer, topic: "jobs", range: 0..<40)

            // First member: takes everything, "processes" the first half of each partition.
            let first = try harness.makeConsumer(group: "resume")
            let firstEvents = EventRecorder(first)
            try await first.subscribe(topics: ["jobs"])
            try await firstEvents.wait(for: "40 messages") { $0.messages.count >= 40 }
            var processed: [KafkaMessage] = []
            var commits: [TopicPartition: TopicPartitionOffset] = [:]
            for partition in Int32(0)..<2 {
                let inPartition = firstEvents.messages.filter { $0.partition == partition }.sorted { $0.offset < $1.offset }
                #expect(inPartition.map(\.offset) == Array(0..<Int64(inPartition.count)))
                let done = inPartition.prefix(inPartition.count / 2)
                processed += done
                if let last = done.last {
                    commits[last.topicPartition] = TopicPartitionOffset(after: last)
                }
            }
            try await first.commit(Array(commits.values))
            let committed = try await first.committedOffsets(for: Array(commits.keys))
            #expect(committed == commits.mapValues(\.offset), "committed offsets are next-to-read (last + 1)")
            await first.close()

            // Second member of the same group: starts exactly at the committed offsets.
            let second = try harness.makeConsumer(group: "resume")
            let secondEvents = EventRecorder(second)
            try await second.subscribe(topics: ["jobs"])
            let remaining = 40 - processed.count
            try await secondEvents.wait(for: "\(remaining) messages") { $0.messages.count >= remaining }
            try await Task.sleep(for: .milliseconds(300))  // anything re-read would show up by now
            let reread = secondEvents.messages
            for partition in Int32(0)..<2 {
                let offsets = reread.filter { $0.partition == partition }.map(\.offset).sorted()
                let start = commits[TopicPartition(topic: "jobs", partition: partition)]?.offset ?? 0
                #expect(offsets.first == start)
                #expect(offsets == Array(offsets.indices).map { start + Int64($0) })
            }
            let all = (processed + reread).map { text($0.value)! }
            #expect(all.count == 40)
            #expect(Set(all) == Set((0..<40).map { "value-\($0)" }))
            await second.close()
            await producer.close()
        }

        @Test("lag per partition: the records not yet committed, from the brokers and from statistics", arguments: BrokerKind.allCases)
        func lag(broker: BrokerKind) async throws {
            let harness = try await KafkaHarness.start(broker)
            try await harness.createTopic(name: "lagging", partitions: 2)
            let producer = try harness.makeProducer()
            let reports = try await harness.produce(producer, topic: "lagging", range: 0..<30)
            let perPartition = Dictionary(grouping: reports, by: \.partition).mapValues { Int64($0.count) }

            let consumer = try harness.makeConsumer(group: "lag") { $0.statisticsInterval = .milliseconds(200) }
            let events = EventRecorder(consumer)
            try await consumer.subscribe(topics: ["lagging"])
            try await events.wait(for: "30 messages") { $0.messages.count >= 30 }

            var lag = try await consumer.lag()
            #expect(lag.count == 2)
            for entry in lag {
                #expect(entry.highWatermark == perPartition[entry.topicPartition.partition, default: 0])
                #expect(entry.committedOffset == nil)
                #expect(entry.lag == entry.highWatermark)
                #expect(entry.position == entry.highWatermark, "every record was handed out")
            }

            // Commit all but the last 3 records of partition 0, everything of partition 1.
            let zero = TopicPartition(topic: "lagging", partition: 0)
            let one = TopicPartition(topic: "lagging", partition: 1)
            try await consumer.commit([
                TopicPartitionOffset(zero, offset: perPartition[0, default: 0] - 3),
                TopicPartitionOffset(one, offset: perPartition[1, default: 0]),
            ])
            lag = try await consumer.lag()
            #expect(Dictionary(uniqueKeysWithValues: lag.map { ($0.topicPartition, $0.lag) }) == [zero: 3, one: 0])

            // The statistics JSON reports the same consumer_lag once it caught up.
            let deadline = ContinuousClock.now + .seconds(10)
            while consumer.statistics?.consumerLag != [zero: 3, one: 0], ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            let statistics = try #require(consumer.statistics)
            #expect(statistics.consumerLag == [zero: 3, one: 0])
            #expect(statistics.partitions.first { $0.topicPartition == zero }?.highWatermark == perPartition[0])
            await consumer.close()
            await producer.close()
        }
    }
}
