import Foundation
import PipelineEngine
import Synchronization
import Testing

private final class Counter: Sendable {
    let value = Mutex(0)
}

@Suite("Bounded worker pool")
struct WorkerPoolTests {
    @Test("running weight never exceeds the slots, whatever is queued")
    func bound() async throws {
        let pool = WorkerPool(slots: 3, queueDepth: 2)
        let running = Counter()
        let peak = Counter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                let weight = index % 4 == 0 ? 2 : 1
                group.addTask {
                    try await pool.run(weight: weight) {
                        let now = running.value.withLock { $0 += weight; return $0 }
                        peak.value.withLock { $0 = max($0, now) }
                        usleep(2000)
                        running.value.withLock { $0 -= weight }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(peak.value.withLock { $0 } <= 3)
        #expect(pool.snapshot.peakRunningWeight <= 3)
        #expect(pool.snapshot.peakRunningWeight >= 2, "the pool ran work in parallel")
        #expect(pool.snapshot.runningJobs == 0)
        #expect(pool.snapshot.waitingJobs == 0)
    }

    @Test("jobs run off the cooperative pool, on the pool's Dispatch queue")
    func dispatchThread() async throws {
        let pool = WorkerPool(slots: 1, label: "mediad.test-workers")
        let label = try await pool.run { WorkerPool.currentPoolLabel }
        #expect(label == "mediad.test-workers")
        #expect(WorkerPool.currentPoolLabel == nil)
    }

    @Test("saturation is reported when all slots run and the queue is full")
    func saturation() async throws {
        let pool = WorkerPool(slots: 1, queueDepth: 1)
        let gate = DispatchSemaphore(value: 0)
        let first = Task { try await pool.run { gate.wait() } }
        while pool.snapshot.runningJobs == 0 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(!pool.isSaturated)
        let second = Task { try await pool.run {} }
        while pool.snapshot.waitingJobs == 0 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(pool.isSaturated)
        gate.signal()
        try await first.value
        try await second.value
        #expect(!pool.isSaturated)
    }

    @Test("a job cancelled while waiting leaves the queue and frees nothing it never took")
    func cancellation() async throws {
        let pool = WorkerPool(slots: 1, queueDepth: 4)
        let gate = DispatchSemaphore(value: 0)
        let blocker = Task { try await pool.run { gate.wait() } }
        while pool.snapshot.runningJobs == 0 { try await Task.sleep(for: .milliseconds(5)) }
        let waiting = Task { try await pool.run { 42 } }
        while pool.snapshot.waitingJobs == 0 { try await Task.sleep(for: .milliseconds(5)) }
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(pool.snapshot.waitingJobs == 0)
        gate.signal()
        try await blocker.value
        #expect(try await pool.run { 7 } == 7)
    }

    @Test("errors thrown by a job reach the caller and release the slot")
    func errors() async throws {
        struct Boom: Error {}
        let pool = WorkerPool(slots: 1)
        await #expect(throws: Boom.self) { try await pool.run { throw Boom() } }
        #expect(try await pool.run { "ok" } == "ok")
    }

    @Test("waiters cancelled while slots are handed over: each resumed once, no slot leaks", .timeLimit(.minutes(5)))
    func cancellationRacesHandover() async throws {
        let pool = WorkerPool(slots: 2, queueDepth: 8)
        let completed = Counter()
        for round in 0..<2000 {
            await withTaskGroup(of: Void.self) { group in
                var tasks: [Task<Void, any Error>] = []
                for index in 0..<6 {
                    let task = Task {
                        try await pool.withSlots(weight: index % 3 == 0 ? 2 : 1) {
                            if index % 2 == 0 { await Task.yield() }
                        }
                        completed.value.withLock { $0 += 1 }
                    }
                    tasks.append(task)
                }
                // Cancel some of them at varying moments: before they queue, while they
                // wait, and while a release is handing them a slot.
                for (index, task) in tasks.enumerated() where (index + round) % 3 != 0 {
                    group.addTask {
                        if (index + round) % 2 == 0 { await Task.yield() }
                        task.cancel()
                    }
                }
                for task in tasks {
                    group.addTask { _ = try? await task.value }
                }
            }
        }
        let snapshot = pool.snapshot
        #expect(snapshot.runningJobs == 0)
        #expect(snapshot.runningWeight == 0, "every slot came back")
        #expect(snapshot.waitingJobs == 0)
        #expect(snapshot.peakRunningWeight <= 2)
        #expect(completed.value.withLock { $0 } > 0)
        // The pool still grants its full weight afterwards.
        #expect(try await pool.withSlots(weight: 2) { 1 } == 1)
    }
}
