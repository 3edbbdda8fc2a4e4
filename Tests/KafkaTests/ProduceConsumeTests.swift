import Testing

@testable import Kafka

extension KafkaSuite {
    @Suite("Produce and consume")
    struct ProduceConsume {
        @Test("records keep keys, values, headers and offsets; delivery reports give partition and offset", arguments: BrokerKind.allCases)
        func roundTrip(broker: BrokerKind) async throws {
            let harness = try await KafkaHarness.start(broker)
            try await harness.createTopic(name: "uploads", partitions: 3)
            let producer = try harness.makeProducer()

            // Headers with repeated names, a null value and an empty one, in a fixed order;
            // some records without key, one with an empty value, one null (tombstone).
            func headers(_ index: Int) -> KafkaHeaders {
                [("ce_id", Array("id-\(index)".utf8)), ("trace", nil), ("ce_id", []), ("n", [UInt8(index)])]
            }
            func key(_ index: Int) -> [UInt8]? { index % 5 == 0 ? nil : Array("file-\(index % 7)".utf8) }
            func value(_ index: Int) -> [UInt8]? {
                switch index {
                case 3: return []
                case 4: return nil
                default: return Array("{\"fileId\":\"f\(index)\"}".utf8)
                }
            }
            let count = 60
            var reports: [Int: DeliveryReport] = [:]
            for index in 0..<count {
                reports[index] = try await producer.send(
                    topic: "uploads", partition: index % 5 == 0 ? Int32(index % 3) : nil,
                    key: key(index), value: value(index), headers: headers(index)
                )
            }
            // Offsets per partition are dense from 0 and follow send order.
            for partition in Int32(0)..<3 {
                let offsets = (0..<count).compactMap { reports[$0] }.filter { $0.partition == partition }.map(\.offset)
                #expect(offsets == Array(0..<Int64(offsets.count)))
            }
            #expect(Set(reports.values.map(\.partition)).count == 3, "keys spread over the partitions")
            #expect(reports.values.allSatisfy { $0.topic == "uploads" })

            let consumer = try harness.makeConsumer(group: "round-trip")
            let recorder = EventRecorder(consumer)
            try await consumer.subscribe(topics: ["uploads"])
            try await recorder.wait(for: "\(count) messages") { $0.messages.count >= count }

            let byPosition = Dictionary(uniqueKeysWithValues: recorder.messages.map { ("\($0.partition)/\($0.offset)", $0) })
            #expect(byPosition.count == count, "no record delivered twice")
            for index in 0..<count {
                let report = try #require(reports[index])
                let message = try #require(byPosition["\(report.partition)/\(report.offset)"], "record \(index) at \(report)")
                #expect(message.topic == "uploads")
                #expect(message.key == key(index))
                #expect(message.value == value(index))
                #expect(message.headers.map(\.name) == ["ce_id", "trace", "ce_id", "n"])
                #expect(message.headers.map(\.value) == headers(index).map(\.value))
                #expect(message.header("trace") == .some(nil))
                #expect(message.timestamp?.kind == .createTime)
            }
            #expect(recorder.assigned.flatMap { $0 }.count == 3)

            await consumer.close()
            await producer.close()
            try await recorder.wait(for: "the event stream to finish", timeout: .seconds(2)) { $0.isFinished }
        }

        @Test("a producer's send after close fails with .destroyed; close twice is fine", arguments: BrokerKind.allCases)
        func sendAfterClose(broker: BrokerKind) async throws {
            let harness = try await KafkaHarness.start(broker)
            let producer = try harness.makeProducer()
            _ = try await producer.send(topic: "t", key: nil, value: Array("one".utf8))
            try await producer.flush(timeout: .seconds(5))
            await producer.close()
            await producer.close()
            let error = await #expect(throws: KafkaError.self) {
                _ = try await producer.send(topic: "t", key: nil, value: Array("two".utf8))
            }
            #expect(error?.code == .destroyed)
            #expect(producer.core.client.isDestroyed)
        }

        @Test("a configuration librdkafka rejects throws a typed error naming the key")
        func invalidConfiguration() throws {
            var configuration = KafkaProducerConfiguration(bootstrapServers: ["127.0.0.1:1"])
            configuration.options["no.such.key"] = "1"
            let error = #expect(throws: KafkaError.self) { _ = try KafkaProducer(configuration: configuration) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.contains("no.such.key") == true)

            var consumerConfiguration = KafkaConsumerConfiguration(bootstrapServers: ["127.0.0.1:1"], groupID: "g")
            consumerConfiguration.options["session.timeout.ms"] = "not a number"
            #expect(throws: KafkaError.self) { _ = try KafkaConsumer(configuration: consumerConfiguration) }
        }
    }
}
