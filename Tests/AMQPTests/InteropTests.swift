import Foundation
import MediadTestSupport
import Testing

@testable import AMQP

extension AMQPSuite {
    /// What this layer writes, read by independent clients, and the other way round: pika
    /// (pure Python, its own AMQP codec) and amqp-tools (rabbitmq-c's command-line tools).
    /// pika cannot encode floats in tables (it sends decimals) and decodes them as integers.
    @Suite("Interoperability: pika and amqp-tools")
    struct Interop {
        /// `get URI QUEUE`: basic.get one message, ack it, print it as JSON (bytes as hex,
        /// each header with pika's decoded Python type). `publish URI EXCHANGE KEY`: publish the
        /// message read from stdin (JSON) with confirms on.
        static let script = #"""
            import datetime, decimal, json, sys, pika
            def plain(value):
                if isinstance(value, bytes): return {"bytes": value.hex()}
                if isinstance(value, bool): return {"bool": value}
                if isinstance(value, int): return {"int": value}
                if isinstance(value, float): return {"float": value}
                if isinstance(value, str): return {"str": value}
                if isinstance(value, datetime.datetime): return {"time": int(value.replace(tzinfo=datetime.timezone.utc).timestamp())}
                if isinstance(value, decimal.Decimal): return {"decimal": str(value)}
                if isinstance(value, dict): return {"table": {k: plain(v) for k, v in value.items()}}
                if isinstance(value, list): return {"array": [plain(v) for v in value]}
                if value is None: return {"void": None}
                return {"other": repr(value)}
            mode, uri = sys.argv[1], sys.argv[2]
            connection = pika.BlockingConnection(pika.URLParameters(uri))
            channel = connection.channel()
            if mode == "get":
                method, props, body = channel.basic_get(sys.argv[3], auto_ack=False)
                if method is None:
                    print("null")
                else:
                    channel.basic_ack(method.delivery_tag)
                    print(json.dumps({
                        "body": body.hex(), "routing_key": method.routing_key, "exchange": method.exchange,
                        "content_type": props.content_type, "content_encoding": props.content_encoding,
                        "delivery_mode": props.delivery_mode, "priority": props.priority,
                        "correlation_id": props.correlation_id, "reply_to": props.reply_to, "expiration": props.expiration,
                        "message_id": props.message_id, "timestamp": props.timestamp, "type": props.type,
                        "app_id": props.app_id, "headers": {k: plain(v) for k, v in (props.headers or {}).items()},
                    }))
            elif mode == "publish":
                spec = json.load(sys.stdin)
                headers = {"cloudEvents_id": "py-1", "cloudEvents_type": "file.uploaded", "count": 7, "huge": 1 << 40,
                           "flag": True, "blob": b"\x00\xff", "nested": {"list": [1, "two", {"three": decimal.Decimal("3.5")}]}}
                channel.confirm_delivery()
                channel.basic_publish(sys.argv[3], sys.argv[4], bytes.fromhex(spec["body"]), pika.BasicProperties(
                    content_type="text/plain", content_encoding="utf-8", delivery_mode=2, priority=1,
                    correlation_id="py-corr", reply_to="py-replies", expiration="120000", message_id="py-msg",
                    timestamp=1764590400, type="py.type", app_id="pika", headers=headers), mandatory=True)
                print("ok")
            connection.close()
            """#

        static func pika(_ arguments: [String], input: Data? = nil) throws -> Data {
            let result = try Command.run([PythonPackages.python, "-c", script] + arguments, input: input)
            guard result.status == 0 else {
                throw CommandError(description: "pika \(arguments.first ?? "") exited \(result.status): \(result.stderr)")
            }
            return result.stdout
        }

        @Test("pika reads what this layer published: body, properties, and headers with their types")
        func pikaReadsOurs() async throws {
            let context = try await AMQPTestContext.make("pika-reads")
            let connection = try await context.connect()
            try await connection.declare(context.queueTopology("out"))
            let publisher = try await connection.makePublisher()
            let properties = PublishConsume.properties
            try await publisher.publish(AMQPMessage(body: [1, 2, 3, 250], properties: properties), exchange: "out.x", routingKey: "out")

            let output = try Self.pika(["get", context.vhost.uri, "out"])
            let json = try #require(try JSONSerialization.jsonObject(with: output) as? [String: Any], "\(String(decoding: output, as: UTF8.self))")
            #expect(json["body"] as? String == "010203fa")
            #expect(json["exchange"] as? String == "out.x")
            #expect(json["content_type"] as? String == "application/json")
            #expect(json["content_encoding"] as? String == "identity")
            #expect(json["delivery_mode"] as? Int == 2)
            #expect(json["priority"] as? Int == 4)
            #expect(json["correlation_id"] as? String == "corr-9")
            #expect(json["reply_to"] as? String == "replies")
            #expect(json["expiration"] as? String == "600000")
            #expect(json["message_id"] as? String == "msg-1")
            #expect(json["timestamp"] as? Int == 1_764_590_400)
            #expect(json["type"] as? String == "media.requested")
            #expect(json["app_id"] as? String == "mediad")
            let headers = try #require(json["headers"] as? [String: [String: Any]])
            #expect(headers["cloudEvents_id"]?["str"] as? String == "evt-1")
            #expect(headers["cloudEvents_type"]?["str"] as? String == "file.uploaded")
            #expect(headers["attempt"]?["int"] as? Int == 3)
            #expect(headers["big"]?["int"] as? Int == 1 << 40)
            #expect(headers["small"]?["int"] as? Int == -5)
            #expect(headers["flag"]?["bool"] as? Bool == true)
            #expect(headers["raw"]?["bytes"] as? String == "000102ff")
            // pika 1.4 decodes `d` and `f` as integers (`long(...)`): "ratio" (0.5) is not compared.
            #expect(headers["when"]?["time"] as? Int == 1_764_590_400)
            let nested = try #require(headers["nested"]?["table"] as? [String: [String: Any]])
            #expect(nested["size"]?["int"] as? Int == 1024)
            let tags = try #require(nested["tags"]?["array"] as? [[String: Any]])
            #expect(tags.count == 3)
            #expect(tags.first?["str"] as? String == "a")
            #expect(((tags.last?["table"] as? [String: [String: Any]])?["deep"])?["bool"] as? Bool == false)
            await connection.close()
        }

        @Test("this layer reads what pika published (with confirms): properties and typed headers")
        func weReadPikas() async throws {
            let context = try await AMQPTestContext.make("pika-writes")
            let connection = try await context.connect()
            try await connection.declare(context.queueTopology("in"))
            let reply = try Self.pika(["publish", context.vhost.uri, "in.x", "in"], input: Data(#"{"body": "68656c6c6f"}"#.utf8))
            #expect(String(decoding: reply, as: UTF8.self).hasPrefix("ok"))

            let delivery = try #require(try await connection.get(from: "in"))
            #expect(text(delivery) == "hello")
            #expect(delivery.properties == AMQPProperties(
                contentType: "text/plain", contentEncoding: "utf-8", headers: delivery.properties.headers, deliveryMode: .persistent,
                priority: 1, correlationID: "py-corr", replyTo: "py-replies", expiration: "120000", messageID: "py-msg",
                timestamp: Date(timeIntervalSince1970: 1_764_590_400), type: "py.type", appID: "pika"
            ))
            let headers = delivery.properties.headers
            #expect(headers["cloudEvents_id"] == .string("py-1"))
            #expect(headers["cloudEvents_type"]?.stringValue == "file.uploaded")
            #expect(headers["count"]?.intValue == 7)
            #expect(headers["huge"] == .int64(1 << 40))
            #expect(headers["flag"] == .bool(true))
            #expect(headers["blob"] == .bytes([0, 255]))
            let list = headers["nested"]?.tableValue?["list"]?.arrayValue
            #expect(list?.count == 3)
            #expect(list?[0].intValue == 1)
            #expect(list?[1] == .string("two"))
            #expect(list?[2].tableValue?["three"] == .decimal(scale: 1, value: 35))
            try await connection.ack(delivery)
            await connection.close()
        }

        @Test("amqp-tools: amqp-publish's headers and content type reach our consumer; amqp-get reads our message")
        func amqpTools() async throws {
            let context = try await AMQPTestContext.make("amqp-tools")
            let connection = try await context.connect()
            try await connection.declare(context.queueTopology("tools"))
            let consumer = try await connection.consume(queue: "tools")
            let recorder = Recorder(consumer.events)
            let published = try await context.vhost.amqpTool(
                "amqp-publish", ["-e", "tools.x", "-r", "tools", "-p", "-C", "text/plain", "-H", "cloudEvents_id: tool-1", "-b", "from tools"])
            #expect(published.status == 0, "\(published.stderr)")
            try await recorder.wait(for: "the tool's message") { $0.count >= 1 }
            let delivery = recorder.deliveries[0]
            #expect(text(delivery) == "from tools")
            #expect(delivery.properties.contentType == "text/plain")
            #expect(delivery.properties.deliveryMode == .persistent)
            #expect(delivery.header("cloudEvents_id")?.stringValue == "tool-1")
            try await consumer.ack(delivery)
            try await consumer.cancel()

            let publisher = try await connection.makePublisher()
            try await publisher.publish(message("for the tool"), exchange: "tools.x", routingKey: "tools")
            let got = try await context.vhost.amqpTool("amqp-get", ["-q", "tools"])
            #expect(got.status == 0, "\(got.stderr)")
            #expect(got.text == "for the tool")
            await connection.close()
        }
    }
}
