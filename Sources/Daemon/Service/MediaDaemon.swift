import Events
import Foundation
import Logging
import MediaProcessing
import ObjectStorage
import PipelineEngine
import ServiceLifecycle
import Synchronization
import Workers

/// `mediad serve`: takes `file.uploaded` (and deletion) messages from its transport, runs
/// each upload's job on the bounded pool, publishes `media.processed` (or dead-letters what
/// cannot be processed), and settles each message only once its outcome is confirmed.
///
/// Backfill work from `mediad reprocess --publish` arrives on its own lane and only gets
/// spare capacity (`AdmissionGate`), so a bulk reprocess never starves fresh uploads.
///
/// Shutdown (SIGTERM/SIGINT through the service group): stop taking messages, let
/// in-flight jobs finish within `shutdownTimeout` (then cancel them), then close the
/// transport, which makes what was settled durable.
public final class MediaDaemon: Service, Sendable {
    let configuration: DaemonConfiguration
    public let transport: any DaemonTransport
    let jobs: JobRunner
    let intake: EventIntake
    let metrics: DaemonMetrics
    let logger: Logger
    let gate: AdmissionGate
    let fileLocks = FileLocks()
    private let stopping = Atomic<Bool>(false)
    /// Worker figures at the last metrics update, to turn totals into counter increments.
    private let lastWorkerStatistics = Mutex(WorkerSupervisor.Statistics())

    public init(configuration: DaemonConfiguration, transport: any DaemonTransport, jobs: JobRunner, metrics: DaemonMetrics, logger: Logger) {
        self.configuration = configuration
        self.transport = transport
        self.jobs = jobs
        self.metrics = metrics
        self.logger = logger
        self.gate = AdmissionGate(capacity: configuration.admissionCapacity, backfillCapacity: configuration.concurrency)
        self.intake = EventIntake(
            uploadType: configuration.uploadEventType, allowedBuckets: Set(configuration.allowedBuckets),
            ignoredKeyPrefixes: [DerivativeLayout(template: configuration.keyTemplate).prefix].compactMap { $0 })
    }

    /// The most messages admitted at once (running plus waiting for a worker).
    public var peakAdmitted: Int { gate.peak }

    /// The most backfill messages admitted at once (never more than the worker slots).
    public var peakBackfillAdmitted: Int { gate.backfillPeak }

    /// The bound on admitted messages: worker slots plus the queue depth.
    public var admissionCapacity: Int { gate.capacity }

    public func run() async throws {
        await jobs.processor.executor.start()
        do {
            try await transport.start()
        } catch {
            await jobs.processor.executor.shutdown()
            throw error
        }
        logger.info("consuming", metadata: ["transport": "\(transport.summary)"])
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.maintainPeriodically() }
                if self.transport.hasLane(.backfill) {
                    group.addTask {
                        await withDiscardingTaskGroup { jobs in await self.consume(.backfill, into: &jobs) }
                    }
                }
                await self.consume(.uploads, into: &group)
                // Shutdown: no new work; give in-flight jobs their deadline, then cancel them.
                self.stop()
                await self.drain(timeout: self.configuration.shutdownTimeout)
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.stop()
        }
        await transport.close()
        await jobs.processor.executor.shutdown()
        logger.info("stopped")
    }

    private func stop() {
        stopping.store(true, ordering: .relaxed)
        transport.stopIntake()
    }

    private var isStopping: Bool { stopping.load(ordering: .relaxed) }

    private func consume(_ lane: IntakeLane, into group: inout DiscardingTaskGroup) async {
        await transport.consume(lane) { message in
            if isStopping { return false }
            if gate.isFull(for: lane) {
                // Backpressure: ask for no more while waiting (the member stays in its group).
                transport.pause(lane)
                if lane == .uploads { metrics.paused(true) }
                await gate.admit(lane)
                if !isStopping { transport.resume(lane) }
                if lane == .uploads { metrics.paused(false) }
            } else {
                await gate.admit(lane)
            }
            if isStopping {
                gate.release(lane)
                return false
            }
            metrics.consumed(topic: message.source)
            recordLoad()
            group.addTask {
                defer {
                    self.gate.release(lane)
                    self.recordLoad()
                }
                if await self.handle(message) {
                    await message.settle()
                }
            }
            return true
        }
    }

    /// Jobs admitted, and jobs waiting for a worker slot, for `/metrics`.
    private func recordLoad() {
        metrics.jobsInFlight(gate.admitted)
        metrics.queueDepth(jobs.processor.pool.snapshot.waitingJobs)
    }

    /// Waits for in-flight jobs to finish, at most `timeout`.
    private func drain(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while gate.admitted > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if gate.admitted > 0 {
            logger.warning("shutdown deadline reached: cancelling in-flight jobs; their messages will be redelivered", metadata: ["jobs": "\(gate.admitted)"])
        }
    }

    private func maintainPeriodically() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            await transport.maintain()
            recordWorkers()
        }
    }

    private func recordWorkers() {
        guard let now = jobs.processor.executor.workerStatistics else { return }
        let last = lastWorkerStatistics.withLock { last in
            defer { last = now }
            return last
        }
        metrics.workers(now: now, since: last)
    }
}
