import CRabbitMQ
import Foundation
import Synchronization
import Testing

@testable import AMQP

@Suite("AMQP without a broker")
struct AMQPUnitTests {
    @Test("AMQP URIs: credentials, vhost, port, TLS and query parameters, percent-decoded")
    func uris() throws {
        let plain = try AMQPConfiguration(uri: "amqp://user:p%40ss%2Fword@rabbit.example:5673/media%2Fprod?heartbeat=7&connection_timeout=2500&connection_name=mediad-1")
        #expect(plain.host == "rabbit.example")
        #expect(plain.port == 5673)
        #expect(plain.username == "user")
        #expect(plain.password == "p@ss/word")
        #expect(plain.virtualHost == "media/prod")
        #expect(plain.tls == nil)
        #expect(plain.heartbeat == .seconds(7))
        #expect(plain.connectionTimeout == .milliseconds(2500))
        #expect(plain.connectionName == "mediad-1")
        #expect(plain.redactedURI == "amqp://user@rabbit.example:5673/media%2Fprod")

        let defaults = try AMQPConfiguration(uri: "amqp://rabbit")
        #expect(defaults.port == 5672)
        #expect(defaults.virtualHost == "/")
        #expect(defaults.username == "guest")
        #expect(try AMQPConfiguration(uri: "amqp://rabbit/").virtualHost == "")
        #expect(try AMQPConfiguration(uri: "amqp://rabbit/%2F").virtualHost == "/")
        #expect(try AMQPConfiguration(uri: "amqp://").host == "localhost")
        #expect(try AMQPConfiguration(uri: "amqp://[::1]:5680/v").host == "::1")
        #expect(try AMQPConfiguration(uri: "amqp://[::1]:5680/v").port == 5680)

        let tls = try AMQPConfiguration(uri: "amqps://u:p@broker/v?cacertfile=/etc/ca.pem&certfile=/c.pem&keyfile=/k.pem&verify=verify_peer")
        #expect(tls.port == 5671)
        #expect(tls.tls == AMQPConfiguration.TLS(caCertificateFile: "/etc/ca.pem", certificateFile: "/c.pem", keyFile: "/k.pem"))
        #expect(try AMQPConfiguration(uri: "amqps://b?verify=verify_none").tls?.verifyPeer == false)

        for bad in [
            "http://rabbit", "amqp://rabbit:99999", "amqp://rabbit:x", "amqp://rabbit/a/b", "amqp://rabbit?heartbeat=-1",
            "amqp://rabbit?nonsense=1", "amqp://rabbit?cacertfile=/ca.pem", "amqp://u:%zz@rabbit",
        ] {
            #expect(throws: AMQPError.self, "\(bad)") { try AMQPConfiguration(uri: bad) }
        }
        do {
            _ = try AMQPConfiguration(uri: "amqp://user:secret@rabbit:bad")
            Issue.record("accepted a bad port")
        } catch {
            #expect(error.code == .invalidConfiguration)
            #expect(!error.message.contains("secret"), "the password is redacted: \(error.message)")
        }
    }

    @Test("backoff grows by the multiplier up to the maximum, with bounded jitter")
    func backoff() {
        let backoff = AMQPBackoff(initial: .milliseconds(100), maximum: .seconds(2), multiplier: 2, jitter: 0.5)
        #expect(backoff.delay(attempt: 0, random: 0) == .milliseconds(100))
        #expect(backoff.delay(attempt: 3, random: 0) == .milliseconds(800))
        #expect(backoff.delay(attempt: 10, random: 0) == .seconds(2))
        #expect(backoff.delay(attempt: 1, random: -1) == .milliseconds(100))
        #expect(backoff.delay(attempt: 1, random: 1) == .milliseconds(300))
        #expect(backoff.delay(attempt: 10, random: 1) == .seconds(2), "never above the maximum")
    }

    @Test("confirm tracker: single and multiple acks, nacks, returns matched to their publish, timeouts")
    func confirmTracker() {
        let outcomes = Outcomes()
        var tracker = ConfirmTracker()
        let start = ContinuousClock.now
        func fingerprint(_ key: String, _ id: String) -> ConfirmTracker.Fingerprint {
            .init(exchange: "x", routingKey: key, bodySize: 3, messageID: id)
        }
        for index in 1...6 {
            let sequence = tracker.register(
                fingerprint(index == 4 ? "nowhere" : "k", "m\(index)"), deadline: start + .seconds(index == 6 ? 1 : 60),
                completion: { outcomes.record(index, $0) })
            #expect(sequence == UInt64(index))
        }
        let returned = AMQPReturn(replyCode: 312, replyText: "NO_ROUTE", exchange: "x", routingKey: "nowhere")
        let matched = tracker.markReturned(fingerprint("nowhere", "m4"), returned)
        let unmatched = tracker.markReturned(fingerprint("nowhere", "m9"), returned)
        #expect(matched)
        #expect(!unmatched)
        for (completion, result) in tracker.settle(tag: 2, multiple: false, isAck: true) { completion(result) }
        #expect(outcomes.value == [2: "ok"])
        for (completion, result) in tracker.settle(tag: 4, multiple: true, isAck: true) { completion(result) }
        #expect(outcomes.value == [1: "ok", 2: "ok", 3: "ok", 4: "NO_ROUTE"])
        for (completion, result) in tracker.settle(tag: 5, multiple: false, isAck: false) { completion(result) }
        #expect(outcomes.value[5] == "NACKED")
        for (completion, result) in tracker.expire(now: start + .seconds(2)) { completion(result) }
        #expect(outcomes.value[6] == "CONFIRM_TIMED_OUT")
        #expect(tracker.isEmpty)
        #expect(tracker.settle(tag: 6, multiple: true, isAck: true).isEmpty, "a late ack of a timed-out publish is ignored")
        tracker.register(fingerprint("k", "m7"), deadline: start + .seconds(60)) { outcomes.record(7, $0) }
        for (completion, result) in tracker.failAll(AMQPError(code: .connectionForced, message: "gone", isConnectionLost: true)) { completion(result) }
        #expect(outcomes.value[7] == "CONNECTION_FORCED")
    }

    @Test("lifecycle: commands refused once closing (settlements excepted), close waiters released at the end")
    func lifecycle() {
        var lifecycle = ConnectionLifecycle()
        #expect(lifecycle.accepts(isSettlement: false))
        lifecycle.didOpen()
        #expect(lifecycle.phase == .open)
        #expect(lifecycle.requestClose(nil) == .wake)
        #expect(!lifecycle.accepts(isSettlement: false))
        #expect(lifecycle.accepts(isSettlement: true))
        #expect(lifecycle.didClose(nil).isEmpty)
        #expect(lifecycle.requestClose(nil) == .resume)
        #expect(!lifecycle.accepts(isSettlement: true))
        #expect(lifecycle.refusal.code == .closed)

        var lost = ConnectionLifecycle()
        lost.didOpen()
        _ = lost.didClose(AMQPError(code: .heartbeatTimeout, message: "silent", isConnectionLost: true))
        #expect(lost.refusal.code == .heartbeatTimeout)
    }

    @Test("field tables survive encoding to librabbitmq's structures and back, every kind, nested")
    func tableCoding() {
        let table: AMQPTable = [
            "cloudEvents_id": "a1", "cloudEvents_specversion": "1.0", "bool": true, "i8": .int8(-8), "u8": .uint8(200),
            "i16": .int16(-16000), "u16": .uint16(60000), "i32": .int32(-2_000_000), "u32": .uint32(4_000_000_000),
            "i64": .int64(-9_000_000_000), "u64": .uint64(18_000_000_000_000_000_000), "float": .float(1.5), "double": 2.25,
            "decimal": .decimal(scale: 2, value: 12345), "bytes": .bytes([0, 255, 1]), "time": .timestamp(1_700_000_000),
            "nested": .table(["inner": .array(["a", 1, .table(["deep": true])]), "empty": .table([:])]), "void": .void,
            "emptyArray": .array([]), "emptyString": "",
        ]
        let pool = NativePool()
        #expect(NativeDecoding.table(pool.table(table)) == table)

        let properties = AMQPProperties(
            contentType: "application/json", contentEncoding: "gzip", headers: table, deliveryMode: .persistent, priority: 3,
            correlationID: "corr", replyTo: "replies", expiration: "60000", messageID: "m-1",
            timestamp: Date(timeIntervalSince1970: 1_700_000_000), type: "media.processed", userID: "u", appID: "mediad"
        )
        #expect(NativeDecoding.properties(pool.properties(properties)) == properties)
        #expect(NativeDecoding.properties(pool.properties(AMQPProperties())) == AMQPProperties())
        let base: AMQPTable = ["k": 1]
        #expect(base.merging(["k": 2, "j": 3]) == ["k": 2, "j": 3])
    }
}

/// Outcomes of tracker completions by index: "ok" or the error code's name.
final class Outcomes: Sendable {
    private let storage = Mutex<[Int: String]>([:])
    var value: [Int: String] { storage.withLock { $0 } }

    func record(_ index: Int, _ result: Result<Void, AMQPError>) {
        storage.withLock { state in
            switch result {
            case .success: state[index] = "ok"
            case .failure(let error): state[index] = error.code.name
            }
        }
    }
}
