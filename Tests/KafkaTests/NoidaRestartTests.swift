import Foundation
import MediadTestSupport
import Testing

@testable import Kafka

extension KafkaSuite {
    @Suite("noida-db killed and restarted")
    struct NoidaRestart {
        @Test("SIGKILL, then a restart on the same port and data directory: records and committed offsets are back")
        func killAndRestart() async throws {
            let harness = try await KafkaHarness.start(.noida)
            let noida = try #require(harness.noida)
            print("noida-db: ready in \(noida.lastStartSeconds) s, \((noida.residentBytes ?? 0) >> 20) MiB resident")
            try await harness.createTopic(name: "durable", partitions: 2)
            let producer = try harness.makeProducer()
            let reports = try await harness.produce(producer, topic: "durable", range: 0..<20)
            await producer.close()
            let consumer = try harness.makeConsumer(group: "durable")
            let events = EventRecorder(consumer)
            try await consumer.subscribe(topics: ["durable"])
            try await events.wait(for: "20 messages") { $0.messages.count >= 20 }
            let partitions = (Int32(0)..<2).map { TopicPartition(topic: "durable", partition: $0) }
            try await consumer.commit(partitions.map { TopicPartitionOffset($0, offset: 3) })
            await consumer.close()

            // noida-db persists a few seconds after a change (`NoidaHarness`): give it that, then crash it.
            try await Task.sleep(for: .seconds(5))
            let pid = try #require(noida.pid)
            await noida.kill()
            #expect(noida.pid == nil)
            #expect(kill(pid, 0) != 0, "the process is gone")
            try await noida.restart()
            #expect(noida.pid != pid)
            #expect(harness.bootstrapServers == "127.0.0.1:\(noida.port)", "same port")

            let observer = try harness.makeConsumer(group: "durable")
            let committed = try await observer.committedOffsets(for: partitions)
            #expect(committed == Dictionary(uniqueKeysWithValues: partitions.map { ($0, Int64(3)) }))
            let again = EventRecorder(observer)
            try await observer.subscribe(topics: ["durable"])
            let expected = reports.filter { $0.offset >= 3 }.count
            try await again.wait(for: "\(expected) messages after the commits") { $0.messages.count >= expected }
            #expect(Set(again.messages.map { "\($0.partition)/\($0.offset)" })
                == Set(reports.filter { $0.offset >= 3 }.map { "\($0.partition)/\($0.offset)" }))
            await observer.close()
        }

        @Test("records sent while noida-db is killed are delivered once it restarts; a running consumer reads on across the crash")
        func produceAcrossCrash() async throws {
            let harness = try await KafkaHarness.start(.noida)
            let noida = try #require(harness.noida)
            try await harness.createTopic(name: "outage", partitions: 1)
            let producer = try harness.makeProducer()
            try await harness.produce(producer, topic: "outage", range: 0..<5)
            let consumer = try harness.makeConsumer(group: "outage")
            let events = EventRecorder(consumer)
            try await consumer.subscribe(topics: ["outage"])
            try await events.wait(for: "5 messages") { $0.messages.count >= 5 }
            try await consumer.commit([TopicPartitionOffset(TopicPartition(topic: "outage", partition: 0), offset: 5)])
            try await Task.sleep(for: .seconds(5))  // persisted

            await noida.kill()
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
                    for try await report in group { reports.append(report) }
                    return reports
                }
            }
            try await Task.sleep(for: .seconds(2))
            #expect(delivered.value == 0, "nothing can be delivered while the only broker is dead")
            try await noida.restart()
            let reports = try await sending.value
            #expect(Set(reports.map(\.offset)) == Set(5..<15))
            try await events.wait(for: "15 messages") { $0.messages.count >= 15 }
            #expect(Set(events.values) == Set((0..<15).map { "value-\($0)" }))
            // After the restart noida-db no longer knows the member: its assignment is reported
            // lost and it rejoins, resuming from its commit (what it had not committed it would
            // read again), so nothing committed is read twice and nothing after it is skipped.
            #expect(events.messages.map(\.offset) == Array(0..<15), "in order, once each, across the crash")
            await consumer.close()
            await producer.close()
        }
    }
}
