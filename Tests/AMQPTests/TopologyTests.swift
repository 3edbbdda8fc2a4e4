import Foundation
import MediadTestSupport
import Testing

@testable import AMQP

extension AMQPSuite {
    @Suite("Topology: exchanges, quorum queues, bindings")
    struct Topology {
        @Test("declaring the same topology twice changes nothing; a conflicting declare fails without losing the connection")
        func idempotentDeclare() async throws {
            let context = try await AMQPTestContext.make("topology")
            let connection = try await context.connect()
            let topology = AMQPTopology(
                exchanges: [
                    AMQPExchange(name: "media.input.x", kind: .topic), AMQPExchange(name: "media.events", kind: .topic),
                    AMQPExchange(name: "media.dlx", kind: .fanout),
                ],
                queues: [
                    AMQPQueue(name: "media.input", deliveryLimit: 3, deadLetterExchange: "media.dlx", deadLetterRoutingKey: "dead"),
                    AMQPQueue(name: "media.dlq"),
                ],
                bindings: [
                    AMQPBinding(queue: "media.input", exchange: "media.input.x", routingKey: "file.#"),
                    AMQPBinding(queue: "media.dlq", exchange: "media.dlx"),
                ]
            )
            let first = try await connection.declare(topology)
            #expect(first.map(\.name) == ["media.input", "media.dlq"])
            let publisher = try await connection.makePublisher()
            try await publisher.publish(message("kept"), exchange: "media.input.x", routingKey: "file.uploaded")

            let second = try await connection.declare(topology)
            #expect(second.map(\.messageCount) == [1, 0], "the second declare kept the message: \(second)")
            let third = try await context.connect().declare(topology)
            #expect(third.map(\.name) == ["media.input", "media.dlq"], "another connection declares the same")

            // The broker's own view: quorum queues with the arguments asked for.
            let listing = try await context.broker.rabbitmqctl([
                "list_queues", "-p", context.vhost.name, "-q", "--no-table-headers", "name", "type", "durable", "arguments",
            ])
            let input = try #require(listing.split(separator: "\n").first { $0.hasPrefix("media.input\t") })
            #expect(input.contains("quorum"), "\(input)")
            #expect(input.contains("x-delivery-limit") && input.contains("x-dead-letter-exchange") && input.contains("media.dlx"), "\(input)")
            #expect(input.contains("true"), "durable: \(input)")

            // Same name, other arguments: PRECONDITION_FAILED closes the control channel only.
            var conflicting = topology
            conflicting.queues[0].deliveryLimit = 5
            await #expect {
                try await connection.declare(conflicting)
            } throws: { error in
                guard let error = error as? AMQPError else { return false }
                return error.code == .preconditionFailed && error.isChannelClosed && !error.isConnectionLost
            }
            #expect(connection.isOpen)
            let afterwards = try await connection.declare(topology)
            #expect(afterwards.first?.messageCount == 1, "the control channel was reopened")
            try await publisher.publish(message("still"), exchange: "media.input.x", routingKey: "file.uploaded")

            await #expect(throws: AMQPError.self) { try await connection.queueStatus("no-such-queue") }
            #expect(try await connection.queueStatus("media.input").messageCount == 2)

            // A quorum queue cannot be exclusive: refused before asking the broker.
            await #expect {
                try await connection.declare(AMQPTopology(queues: [AMQPQueue(name: "bad", exclusive: true)]))
            } throws: { ($0 as? AMQPError)?.code == .invalidConfiguration }
            await connection.close()
        }

        @Test("a classic queue and a headers exchange with binding arguments")
        func classicAndHeaders() async throws {
            let context = try await AMQPTestContext.make("headers")
            let connection = try await context.connect()
            try await connection.declare(AMQPTopology(
                exchanges: [AMQPExchange(name: "by-kind", kind: .headers)],
                queues: [AMQPQueue(name: "images", kind: .classic, arguments: ["x-max-length": 100])],
                bindings: [AMQPBinding(queue: "images", exchange: "by-kind", arguments: ["x-match": "all", "kind": "image"])]
            ))
            let publisher = try await connection.makePublisher()
            try await publisher.publish(message("cat.jpg", headers: ["kind": "image"]), exchange: "by-kind", routingKey: "")
            try await publisher.publish(message("song.mp3", headers: ["kind": "audio"]), exchange: "by-kind", routingKey: "")
            let status = try await connection.queueStatus("images")
            #expect(status.messageCount == 1, "only the image matched the binding")
            #expect(try await connection.purgeQueue("images") == 1)
            #expect(try await connection.deleteQueue("images") == 0)
            try await connection.deleteExchange("by-kind")
            await connection.close()
        }
    }
}

extension AMQPSuite {
    @Suite("TLS: amqps:// through librabbitmq's OpenSSL socket")
    struct TLS {
        @Test("amqps with the run's CA verifies the broker and works; an unknown CA or a wrong host name is refused")
        func amqps() async throws {
            let context = try await AMQPTestContext.make("tls")
            let broker = context.broker
            let vhost = context.vhost.name
            let uri = "amqps://\(context.vhost.username):\(context.vhost.password)@localhost:\(broker.tlsPort)/\(vhost)"
            var configuration = try AMQPConfiguration(uri: uri + "?cacertfile=\(broker.caCertificateFile)&connection_name=tls-test")
            #expect(configuration.tls?.verifyPeer == true && configuration.tls?.verifyHostname == true)
            configuration.heartbeat = .seconds(5)
            let connection = try await AMQPConnection.connect(configuration, logger: AMQPTestContext.logger("tls"))
            try await connection.declare(context.queueTopology("secure"))
            let publisher = try await connection.makePublisher()
            try await publisher.publish(message("over tls"), exchange: "secure.x", routingKey: "secure")
            let consumer = try await connection.consume(queue: "secure")
            let recorder = Recorder(consumer.events)
            try await recorder.wait(for: "the delivery") { $0.count >= 1 }
            #expect(recorder.bodies == ["over tls"])
            try await consumer.ack(recorder.deliveries[0])
            let listing = try await broker.rabbitmqctl(["list_connections", "-q", "--no-table-headers", "ssl", "client_properties"])
            #expect(listing.split(separator: "\n").contains { $0.hasPrefix("true") && $0.contains("tls-test") }, "\(listing)")
            await connection.close()

            // The system's CAs do not know this run's CA.
            let unknownCA = try AMQPConfiguration(uri: uri)
            await #expect {
                _ = try await AMQPConnection.connect(unknownCA, logger: AMQPTestContext.logger("tls"))
            } throws: { ($0 as? AMQPError)?.code == .sslPeerVerifyFailed }
            // The certificate names localhost, not 127.0.0.1.
            var wrongHost = try AMQPConfiguration(uri: uri + "?cacertfile=\(broker.caCertificateFile)")
            wrongHost.host = "127.0.0.1"
            await #expect {
                _ = try await AMQPConnection.connect(wrongHost, logger: AMQPTestContext.logger("tls"))
            } throws: { ($0 as? AMQPError)?.code == .sslHostnameVerifyFailed }
            wrongHost.tls?.verifyHostname = false
            let unchecked = try await AMQPConnection.connect(wrongHost, logger: AMQPTestContext.logger("tls"))
            #expect(unchecked.isOpen)
            await unchecked.close()
        }
    }
}
