import AMQP
import Daemon
import Foundation
import MediadTestSupport
import Testing

extension RabbitMQDaemonSuite {
    /// The real `mediad serve` binary on RabbitMQ, signalled and measured as an operator would.
    @Suite("The mediad binary on RabbitMQ: backpressure and SIGTERM", .serialized)
    struct RabbitMQBinaryTests {
        /// Starts `mediad serve` on the harness's vhost and store.
        static func serve(_ harness: RabbitMQDaemonHarness, _ extra: [String]) throws -> Process {
            try MediadBinary.start(
                [
                    "serve", "--pipelines", TestPaths.pipelines.path, "--http-port", "0",
                    "--set", "transport=rabbitmq", "--set", "amqpURI=\(harness.vhost.uri)",
                    "--set", "storage=local", "--set", "storageRoot=\(harness.root.path)", "--set", "logLevel=warning",
                ] + extra,
                environment: [:], currentDirectory: TestPaths.root)
        }

        static func residentKilobytes(_ pid: Int32) -> Int? {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
            let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
            return line.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") }
        }

        @Test("500 queued messages, a pool of 2: unacked deliveries never exceed the prefetch, and the daemon's resident memory stays flat")
        func backpressure() async throws {
            let harness = try await RabbitMQDaemonHarness("backpressure", start: false)
            let count = 500
            for index in 0..<10 {
                try await harness.put(TestPaths.image("exif-rich.jpg"), key: "in/bp-\(index).jpg", trailer: "copy \(index)")
            }
            for index in 0..<count {
                try await harness.publish(try RabbitMQDaemonHarness.cloudEvent(fileId: "bp-\(index)", key: "in/bp-\(index % 10).jpg"))
            }
            let queue = harness.configuration.amqpQueue, output = harness.configuration.amqpOutputQueue
            // Counts over AMQP (a passive queue.declare) answer at once. rabbitmqctl, the only
            // source of unacked counts, lags by seconds and, on a loaded machine, was seen not
            // to return before the daemon had drained the queue: it samples on the side.
            let queued = try await harness.client.queueStatus(queue).messageCount
            #expect(queued == UInt32(count), "all \(count) queued before the daemon starts")
            // Prefetch = concurrency + queueDepth = 4.
            let process = try Self.serve(harness, ["--concurrency", "2", "--set", "queueDepth=2", "--set", "instance=bp"])
            defer { if process.isRunning { process.terminate() } }
            let unackedSampler = Task { () -> (most: Int, samples: Int) in
                var most = 0, samples = 0
                while !Task.isCancelled {
                    if let input = (try? await harness.queues())?[queue], input.unacked >= 0 {
                        most = max(most, input.unacked)
                        samples += 1
                    }
                    try? await Task.sleep(for: .milliseconds(250))
                }
                return (most, samples)
            }
            var heldBack = false, baseline: Int?, peak = 0, answered = 0
            // Ready/consumers of the input queue and answers so far, for the failure message.
            var samples: [String] = []
            let deadline = ContinuousClock.now + .seconds(240)
            while answered < count, ContinuousClock.now < deadline, process.isRunning {
                let input = try await harness.client.queueStatus(queue)
                answered = Int(try await harness.client.queueStatus(output).messageCount)
                samples.append("\(input.messageCount)/\(input.consumerCount)/\(answered)")
                // Messages left in the queue while the daemon consumes and answers: the broker
                // holds back what is past the prefetch.
                if input.messageCount > 0, input.consumerCount > 0, answered > 0 { heldBack = true }
                if let rss = Self.residentKilobytes(process.processIdentifier) {
                    // The first 100 files warm everything up (workers, pipelines, the HTTP client).
                    if answered >= 100 { baseline = baseline ?? rss }
                    if baseline != nil { peak = max(peak, rss) }
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            unackedSampler.cancel()
            let (maxUnacked, unackedSamples) = await unackedSampler.value
            print("backpressure: \(count) messages, max unacked \(maxUnacked) in \(unackedSamples) samples, resident \((baseline ?? 0) / 1024) MB after 100 files, peak \(peak / 1024) MB")
            #expect(answered == count, "every message answered")
            #expect(maxUnacked <= 4, "unacked deliveries stay within the prefetch (saw \(maxUnacked) in \(unackedSamples) samples)")
            #expect(heldBack, "the broker held messages back while the daemon had its prefetch's worth (ready/consumers/answered: \(samples.suffix(40)))")
            let start = try #require(baseline, "memory sampled under load")
            #expect(peak <= start + 20 * 1024, "resident memory stays flat: \(start / 1024) MB after 100 files, peak \(peak / 1024) MB")
            kill(process.processIdentifier, SIGTERM)
            await process.exited()
            #expect(process.terminationStatus == 0)
            // The daemon's connection is gone, so anything it left unacked would be ready again.
            let after = try await harness.client.queueStatus(queue)
            #expect(after.messageCount == 0 && after.consumerCount == 0, "\(after)")
            try await harness.stop()
        }

        @Test("SIGTERM mid-load: exit 0 within the deadline; unfinished deliveries go back to the queue and a restarted daemon answers them")
        func sigterm() async throws {
            let harness = try await RabbitMQDaemonHarness("sigterm", start: false)
            let count = 24
            for index in 0..<count {
                try await harness.put(TestPaths.image("panorama.jpg"), key: "in/s-\(index).jpg", trailer: "copy \(index)")
                try await harness.publish(try RabbitMQDaemonHarness.cloudEvent(fileId: "s-\(index)", key: "in/s-\(index).jpg"))
            }
            let queue = harness.configuration.amqpQueue, output = harness.configuration.amqpOutputQueue
            let first = try Self.serve(harness, ["--concurrency", "1", "--set", "shutdownTimeout=20s", "--set", "instance=sig-1"])
            defer { if first.isRunning { first.terminate() } }
            let started = try await harness.waitForQueues(timeout: .seconds(90)) { ($0[output]?.ready ?? 0) >= 3 }
            #expect(started)
            let signalled = ContinuousClock.now
            kill(first.processIdentifier, SIGTERM)
            while first.isRunning, signalled.duration(to: .now) < .seconds(30) { try await Task.sleep(for: .milliseconds(50)) }
            try #require(!first.isRunning, "exits within the shutdown deadline")
            #expect(first.terminationStatus == 0)
            // The broker's statistics lag by up to a collection interval.
            let released = try await harness.waitForQueues(timeout: .seconds(15)) { $0[queue]?.unacked == 0 }
            let stopped = try await harness.queues()
            #expect(released, "no delivery held by a stopped daemon: \(stopped)")
            #expect((stopped[queue]?.ready ?? 0) > 0, "stopped mid-load: \(stopped)")
            #expect((stopped[queue]?.ready ?? 0) + (stopped[output]?.ready ?? 0) >= count, "each message is answered or back in the queue: \(stopped)")

            let second = try Self.serve(harness, ["--concurrency", "2", "--set", "instance=sig-2"])
            defer { if second.isRunning { second.terminate() } }
            let drained = try await harness.waitForQueues(timeout: .seconds(150)) { queues in
                queues[queue].map { $0.ready == 0 && $0.unacked == 0 } ?? false
            }
            #expect(drained)
            let outcomes = try await harness.read(2 * count, from: output, timeout: .seconds(10))
            #expect(Set(outcomes.compactMap { $0.data?["fileId"] as? String }) == Set((0..<count).map { "s-\($0)" }), "every event got an outcome")
            kill(second.processIdentifier, SIGTERM)
            await second.exited()
            try await harness.stop()
        }
    }
}
