import Metrics
import Workers

/// The daemon's metrics, created from a factory the executable provides (Prometheus in
/// `mediad serve`), so the library never touches the global metrics system.
public struct DaemonMetrics: Sendable {
    let factory: any MetricsFactory

    public init(factory: any MetricsFactory) {
        self.factory = factory
    }

    public func consumed(topic: String) {
        Counter(label: "mediad_events_consumed_total", dimensions: [("topic", topic)], factory: factory).increment()
    }

    public func outcome(_ status: String) {
        Counter(label: "mediad_outcomes_total", dimensions: [("status", status)], factory: factory).increment()
    }

    public func deadLettered(code: String) {
        Counter(label: "mediad_dead_lettered_total", dimensions: [("code", code)], factory: factory).increment()
    }

    public func ignored() {
        Counter(label: "mediad_ignored_total", factory: factory).increment()
    }

    public func reused() {
        Counter(label: "mediad_answered_from_manifest_total", factory: factory).increment()
    }

    /// A whole job, from reading the source to its outcome (not the emit): `processed`,
    /// answered from the `manifest`, or outputs copied for identical `content` (downloaded
    /// and hashed) or `content_promised` (the event's sha256 and the store's MD5: no download).
    public func job(_ path: String, duration: Duration) {
        Timer(label: "mediad_job_duration_seconds", dimensions: [("path", path)], factory: factory)
            .recordNanoseconds(duration.nanoseconds)
    }

    /// An upload whose outputs were copied from a file with the same bytes (nothing decoded).
    public func contentReused() {
        Counter(label: "mediad_content_reused_total", factory: factory).increment()
    }

    /// A deletion answered: by status, and the bytes of the outputs it removed.
    public func deletion(_ status: String, bytesReclaimed: Int64) {
        Counter(label: "mediad_deletions_total", dimensions: [("status", status)], factory: factory).increment()
        Counter(label: "mediad_bytes_reclaimed_total", factory: factory).increment(by: Int(bytesReclaimed))
    }

    /// A request to the webhook intake, by how it was answered (`WebhookOutcome`).
    public func webhookRequest(_ status: String) {
        Counter(label: "mediad_webhook_requests_total", dimensions: [("status", status)], factory: factory).increment()
    }

    /// How long a webhook notification waited for the broker's confirmation.
    public func webhookConfirmation(_ duration: Duration) {
        Timer(label: "mediad_webhook_confirm_seconds", factory: factory)
            .recordNanoseconds(duration.nanoseconds)
    }

    /// Stage durations become Prometheus histograms.
    public func stage(_ name: String, milliseconds: Double) {
        Timer(label: "mediad_stage_duration_seconds", dimensions: [("stage", name)], factory: factory)
            .recordNanoseconds(Int64(milliseconds * 1_000_000))
    }

    public func jobsInFlight(_ value: Int) {
        Gauge(label: "mediad_jobs_in_flight", factory: factory).record(value)
    }

    public func queueDepth(_ value: Int) {
        Gauge(label: "mediad_queue_depth", factory: factory).record(value)
    }

    public func consumerLag(topic: String, partition: Int, lag: Int64) {
        Gauge(label: "mediad_consumer_lag", dimensions: [("topic", topic), ("partition", String(partition))], factory: factory).record(lag)
    }

    public func bytes(in bytesIn: Int64, out bytesOut: Int64) {
        Counter(label: "mediad_bytes_in_total", factory: factory).increment(by: Int(bytesIn))
        Counter(label: "mediad_bytes_out_total", factory: factory).increment(by: Int(bytesOut))
    }

    public func paused(_ isPaused: Bool) {
        Gauge(label: "mediad_consumer_paused", factory: factory).record(isPaused ? 1 : 0)
    }

    /// Worker processes: their memory now, and what happened to them since the last call.
    public func workers(now: WorkerSupervisor.Statistics, since last: WorkerSupervisor.Statistics) {
        Gauge(label: "mediad_workers", factory: factory).record(now.residentBytes.count)
        Gauge(label: "mediad_worker_resident_bytes", dimensions: [("of", "sum")], factory: factory).record(now.residentBytes.values.reduce(0, +))
        Gauge(label: "mediad_worker_resident_bytes", dimensions: [("of", "max")], factory: factory).record(now.residentBytes.values.max() ?? 0)
        for (event, delta) in [("started", now.started - last.started), ("crashed", now.crashed - last.crashed), ("killed", now.killed - last.killed), ("recycled", now.recycled - last.recycled)] where delta > 0 {
            Counter(label: "mediad_worker_events_total", dimensions: [("event", event)], factory: factory).increment(by: delta)
        }
    }
}

extension Duration {
    fileprivate var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}
