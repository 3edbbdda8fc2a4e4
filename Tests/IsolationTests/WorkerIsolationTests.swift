import Foundation
import MediaProcessing
import MediadTestSupport
import PipelineEngine
import Testing
import Workers

@Suite("Worker processes: a decoder that crashes, hangs or blows up costs one file", .serialized, .timeLimit(.minutes(10)))
struct WorkerIsolationTests {
    @Test("a worker killed by SIGSEGV, SIGABRT or SIGKILL mid-stage fails its job with worker_crashed naming the stage", arguments: [SIGSEGV, SIGABRT, SIGKILL])
    func crash(signal: Int32) async throws {
        let harness = try IsolationHarness(maxCrashes: 1)
        defer { harness.stop() }
        let video = try GeneratedMedia.slowVideo()
        let job = Task { try await harness.process(video) }
        let pid = try await harness.worker(in: "transcode")
        kill(pid, signal)
        let data = try await job.value
        #expect(data.status == .failed)
        let crash = try #require(data.errors.first { $0.code == "worker_crashed" }, "errors: \(data.errors)")
        #expect(crash.stage == "transcode")
        #expect(crash.message.contains(Self.signalName(signal)), "\(crash.message)")
        #expect(!crash.retryable)

        // The next job runs on a fresh worker and succeeds.
        let next = try await harness.process(TestPaths.image("exif-rich.jpg"))
        #expect(next.status == .succeeded, "\(next.errors)")
        #expect(!harness.supervisor.workerPIDs.contains(pid))
        #expect(harness.supervisor.statistics.crashed == 1)
    }

    @Test("a crash is retried once on a fresh worker; the second crash of the same job is final")
    func retriedOnce() async throws {
        let harness = try IsolationHarness(maxCrashes: 2)
        defer { harness.stop() }
        let video = try GeneratedMedia.slowVideo()

        // One crash: the job is done again on a fresh worker and succeeds.
        let survivor = Task { try await harness.process(video) }
        let first = try await harness.worker(in: "transcode")
        kill(first, SIGSEGV)
        let recovered = try await survivor.value
        #expect(recovered.status == .succeeded, "\(recovered.errors) \(recovered.timings)")
        #expect(recovered.derivatives.contains { $0.name == "transcode" })

        // Two crashes: failed for good.
        let doomed = Task { try await harness.process(video) }
        let second = try await harness.worker(in: "transcode")
        kill(second, SIGSEGV)
        let third = try await harness.worker(in: "transcode", otherThan: second)
        #expect(third != second)
        kill(third, SIGSEGV)
        let failed = try await doomed.value
        #expect(failed.status == .failed)
        let crash = try #require(failed.errors.first { $0.code == "worker_crashed" })
        #expect(crash.message.contains("2 times"), "\(crash.message)")
        #expect(!crash.retryable)
    }

    @Test("the interlaced 16000×16000 PNG ends in memory_limit under a 256 MB cap, the parent's memory stays flat, and it succeeds with the cap lifted")
    func memoryCap() async throws {
        let png = try GeneratedMedia.interlacedPNG()
        let capped = try IsolationHarness { $0.replacingOccurrences(of: "limits:\n", with: "limits:\n  maxMemory: 256MiB\n") }
        defer { capped.stop() }
        let before = try #require(ProcessMemory.current).residentBytes
        let data = try await capped.process(png)
        let after = try #require(ProcessMemory.current).residentBytes
        #expect(data.status == .failed)
        #expect(data.errors.contains { $0.code == "memory_limit" }, "errors: \(data.errors)")
        #expect(after - before < 40 << 20, "the parent grew by \((after - before) >> 20) MB")

        let lifted = try IsolationHarness { $0.replacingOccurrences(of: "limits:\n", with: "limits:\n  maxMemory: 3GiB\n") }
        defer { lifted.stop() }
        let proof = try await lifted.process(png)
        #expect(proof.status == .succeeded, "the cap, not the file, failed it: \(proof.errors)")
        #expect(proof.derivatives.contains { $0.name == "thumbnail" })
    }

    @Test("a stage past its timeout is killed within 1 s of the deadline and the event says timeout")
    func deadline() async throws {
        // The transcode stage gets 2 s; libvips' PNG decode of the interlaced image has no
        // deadline of its own, so the parent must kill it.
        let harness = try IsolationHarness { $0.replacingOccurrences(of: "  timeout: 120s\n", with: "  timeout: 1s\n  maxMemory: 3GiB\n").replacingOccurrences(of: "  timeout: 30m\n", with: "  timeout: 2s\n") }
        defer { harness.stop() }

        let started = ContinuousClock.now
        let video = try await harness.process(try GeneratedMedia.slowVideo())
        let videoElapsed = started.duration(to: .now)
        let timeout = try #require(video.errors.first { $0.code == "timeout" }, "errors: \(video.errors)")
        #expect(timeout.stage == "transcode")
        #expect(video.timings["transcode", default: 0] <= 3000, "stopped within 1 s of its 2 s deadline: \(video.timings)")
        #expect(videoElapsed < .seconds(20))

        let png = try GeneratedMedia.interlacedPNG()
        let pngStarted = ContinuousClock.now
        let image = try await harness.process(png)
        let pngElapsed = pngStarted.duration(to: .now)
        let killed = try #require(image.errors.first { $0.code == "timeout" }, "errors: \(image.errors)")
        #expect(killed.message.contains("killed"), "\(killed.message)")
        #expect(pngElapsed < .seconds(4), "one stage of 1 s, killed within 1 s: \(pngElapsed)")
        #expect(harness.supervisor.statistics.killed == 1)
    }

    @Test("a worker's environment holds no credentials, and it has no network but a down loopback")
    func leastPrivilege() async throws {
        setenv("AWS_SECRET_ACCESS_KEY", "not-for-workers", 1)
        setenv("MEDIAD_S3_SECRET_ACCESS_KEY", "not-for-workers", 1)
        setenv("MEDIAD_KAFKA_SASL_PASSWORD", "not-for-workers", 1)
        defer {
            unsetenv("AWS_SECRET_ACCESS_KEY")
            unsetenv("MEDIAD_S3_SECRET_ACCESS_KEY")
            unsetenv("MEDIAD_KAFKA_SASL_PASSWORD")
        }
        let harness = try IsolationHarness()
        defer { harness.stop() }
        await harness.executor.start()
        let pid = try #require(harness.supervisor.workerPIDs.first)
        let environ = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ"))
        let names = environ.split(separator: 0).map { String(decoding: $0, as: UTF8.self).split(separator: "=").first.map(String.init) ?? "" }
        #expect(!names.isEmpty)
        #expect(names.allSatisfy { !$0.hasPrefix("AWS_") && !$0.hasPrefix("MEDIAD_") }, "\(names)")
        #expect(!environ.contains("not-for-workers".utf8), "no secret value in \(names)")

        let interfaces = try String(contentsOfFile: "/proc/\(pid)/net/dev", encoding: .utf8)
            .split(separator: "\n").dropFirst(2).compactMap { $0.split(separator: ":").first?.trimmingCharacters(in: .whitespaces) }
        #expect(interfaces == ["lo"], "the worker sees only its own loopback: \(interfaces)")
        let limits = try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)
        #expect(limits.contains("Max core file size        0"), "\(limits)")
        #expect(limits.contains("Max open files            256"), "\(limits)")
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        #expect(status.contains("NoNewPrivs:\t1"))
    }

    @Test("workers are reused, and replaced after maxJobsPerWorker jobs")
    func recycling() async throws {
        let harness = try IsolationHarness(maxJobsPerWorker: 2)
        defer { harness.stop() }
        var pids: [Set<Int32>] = []
        for _ in 0..<5 {
            let data = try await harness.process(TestPaths.image("orientation-6.jpg"))
            #expect(data.status == .succeeded)
            pids.append(Set(harness.supervisor.workerPIDs))
        }
        let first = try #require(pids[0].first)
        #expect(pids[0] == [first], "one worker, kept after its first job")
        #expect(!pids[2].contains(first), "replaced after its second")
        #expect(harness.supervisor.statistics.recycled == 2)
        #expect(harness.supervisor.statistics.started >= 3)
        #expect(harness.supervisor.statistics.crashed == 0)
    }

    @Test("shutdown stops idle and running workers and returns only once each is reaped (their CPU time is the command's)")
    func shutdownReapsWorkers() async throws {
        let harness = try IsolationHarness(slots: 2)
        let video = try GeneratedMedia.slowVideo()
        let running = Task { try await harness.process(video) }
        let busy = try await harness.worker(in: "transcode")
        let photo = try await harness.process(TestPaths.image("exif-rich.jpg"))
        #expect(photo.status == .succeeded, "\(photo.errors)")
        let pids = harness.supervisor.workerPIDs
        #expect(pids.count == 2 && pids.contains(busy), "\(pids)")

        let started = ContinuousClock.now
        await harness.executor.shutdown()
        #expect(started.duration(to: .now) < .seconds(2))
        for pid in pids {
            // Reaped: not even a zombie is left.
            #expect(kill(pid, 0) == -1 && errno == ESRCH, "worker \(pid) still exists after shutdown")
        }
        await #expect(throws: CancellationError.self) { _ = try await running.value }
        try? FileManager.default.removeItem(at: harness.out)
    }

    @Test("a malformed frame is a protocol error, never a crash of the reader")
    func malformedFrames() throws {
        for bytes: [UInt8] in [
            Array("hello world, not a frame".utf8),
            [0x4D, 0x44, 0x57, 0x09, 0, 0, 0, 2, 0x7B, 0x7D],   // another protocol version
            [0x4D, 0x44, 0x57, 0x01, 0x7F, 0xFF, 0xFF, 0xFF],   // 2 GB announced
            [0x4D, 0x44, 0x57, 0x01, 0, 0, 0, 9, 0x7B],         // cut short
        ] {
            var fds: [Int32] = [-1, -1]
            #expect(pipe(&fds) == 0)
            bytes.withUnsafeBytes { _ = write(fds[1], $0.baseAddress, $0.count) }
            close(fds[1])
            #expect(throws: WorkerProtocolError.self) { _ = try WorkerFrame.read(from: fds[0]) }
            close(fds[0])
        }
        let garbage = try WorkerFrame.encode(["not": "a reply"])
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        try WorkerFrame.write(garbage, to: fds[1])
        close(fds[1])
        let payload = try #require(try WorkerFrame.read(from: fds[0]))
        #expect(throws: WorkerProtocolError.self) { _ = try WorkerFrame.decode(WorkerReply.self, from: payload) }
        close(fds[0])
    }

    static func signalName(_ signal: Int32) -> String {
        [SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT", SIGKILL: "SIGKILL"][signal] ?? "\(signal)"
    }
}
