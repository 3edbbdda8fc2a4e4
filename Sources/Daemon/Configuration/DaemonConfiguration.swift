import AMQP
import Foundation
import MediaProcessing

/// Everything `mediad serve` needs, with defaults (`docs/configuration.md`) such that
/// `mediad serve --brokers HOST:PORT` alone works. Built by `ConfigurationLoader` from a
/// file, `MEDIAD_*` environment variables and flags (later ones win).
public struct DaemonConfiguration: Sendable, Equatable {
    // MARK: Transport
    /// `kafka`, or `rabbitmq` for teams whose services talk AMQP.
    public var transport = "kafka"

    // MARK: Kafka
    public var brokers = "localhost:9092"
    public var group = "mediad"
    public var topic = "file.uploaded"
    /// Backfill work from `mediad reprocess --publish`; consumed only with spare capacity
    /// (empty: not consumed).
    public var reprocessTopic = "file.reprocess"
    public var outputTopic = "media.processed"
    public var dlqTopic = "file.uploaded.dlq"
    /// The CloudEvent `type` of uploads.
    public var uploadEventType = "file.uploaded"
    /// Raw librdkafka settings passed through (`security.protocol`, `sasl.*`, ...).
    public var kafka: [String: String] = [:]

    // MARK: RabbitMQ
    /// `amqp://user:pass@host:5672/vhost`, or `amqps://` with TLS (query: `cacertfile`,
    /// `certfile`, `keyfile`, `verify`, `heartbeat`…).
    public var amqpURI = "amqp://guest:guest@localhost:5672/%2F"
    /// The exchange the file service publishes uploads (and deletions) to.
    public var amqpExchange = "file.events"
    /// The durable input queue, bound to `amqpExchange` with `amqpBindingKey`.
    public var amqpQueue = "file.uploaded"
    public var amqpBindingKey = "#"
    /// `quorum` (replicated, with a delivery limit) or `classic`.
    public var amqpQueueType = "quorum"
    /// Backfill work from `mediad reprocess --publish`, published through the default
    /// exchange and consumed only with spare capacity (empty: not consumed).
    public var amqpReprocessQueue = "file.reprocess"
    /// Where `media.processed` and `media.deleted` are published; routing key = event type.
    public var amqpOutputExchange = "media.events"
    /// A queue bound to the output exchange so that results wait for their consumer
    /// (empty: declare none; the consumers bind their own).
    public var amqpOutputQueue = "media.processed"
    /// Dead letters: mediad's own (with `mediad-*` headers) and the broker's (delivery limit).
    public var amqpDeadLetterExchange = "file.uploaded.dlx"
    public var amqpDeadLetterQueue = "file.uploaded.dlq"
    /// Unacked deliveries per consumer (0: the admission capacity, concurrency + queueDepth).
    public var amqpPrefetch = 0
    /// Deliveries of one message before the broker itself dead-letters it (quorum queues).
    public var amqpDeliveryLimit = 20

    // MARK: Processing
    public var concurrency = ProcessInfo.processInfo.activeProcessorCount
    /// Messages admitted beyond the worker slots before the consumer pauses its partitions.
    /// Jobs download, upload and emit outside the worker pool, so a queue deeper than the
    /// pool keeps the workers busy (default: 3 × concurrency).
    public var queueDepth: Int?
    /// Worker slots a video job takes (a transcode costs more than a photo).
    public var videoJobWeight = 2
    public var pipelines = "pipelines"
    /// A job that takes longer is cancelled and reported as failed (retryable).
    public var jobTimeout: Duration = .seconds(600)
    /// Transient failures (S3 5xx, timeouts, refused connections) are retried this often
    /// inside a job: with the base delay doubling, the defaults ride out about half a
    /// minute of S3 being away before the job reports a retryable failure.
    public var retryAttempts = 6
    public var retryBaseDelay: Duration = .seconds(1)
    /// Time allowed on SIGTERM for in-flight jobs before they are cancelled.
    public var shutdownTimeout: Duration = .seconds(30)
    /// Where originals are downloaded while a job runs.
    public var scratchDirectory = FileManager.default.temporaryDirectory.path

    // MARK: Isolation
    /// `process`: native work runs in supervised `mediad worker` children; `none`: on
    /// threads of this process (no protection from a crashing decoder).
    public var isolation = "process"
    /// The binary workers run (default: this one).
    public var workerExecutable: String?
    /// A worker is replaced after this many jobs (native allocators fragment).
    public var workerMaxJobs = 500
    /// A worker whose resident memory is above this after a job is replaced.
    public var workerRecycleMemoryMB = 512
    /// A job whose worker crashes this often fails for good (`worker_crashed`, not
    /// retryable); a file in flight during this many deaths of the daemon itself fails
    /// with `poison_file` instead of running again.
    public var maxCrashes = 2

    // MARK: Storage
    /// `s3`, or `local` with `storageRoot` (the embedded default: a directory laid out `bucket/key`).
    public var storage = "s3"
    public var storageRoot = "data"
    /// Bucket for derivatives; nil writes them beside the original, in the source bucket.
    public var derivativesBucket: String?
    /// Bucket used when an event names none.
    public var defaultBucket: String?
    public var keyTemplate = DerivativeLayout.defaultTemplate
    /// Buckets events may name; empty allows any.
    public var allowedBuckets: [String] = []
    public var s3Endpoint: String?
    public var s3Region: String?
    public var s3AccessKeyId: String?
    public var s3SecretAccessKey: String?
    public var s3SessionToken: String?
    public var s3Profile: String?
    public var s3PathStyle = false

    // MARK: Operating
    public var httpHost = "0.0.0.0"
    public var httpPort = 8080
    /// Path of the HTTP intake for bucket notifications (MinIO's webhook target), served
    /// on the operations endpoint; nil: off. Needs `webhookToken`.
    public var webhookPath: String?
    /// The bearer token the store sends with each notification.
    public var webhookToken: String?
    /// Larger notification bodies are refused (413). Below Kafka's default
    /// `message.max.bytes` (1,000,000), so that what the intake accepts the broker takes.
    public var webhookMaxBytes = 512 * 1024
    /// How long a notification waits for the broker's confirmation before it is answered
    /// 503 (the store sends it again).
    public var webhookTimeout: Duration = .seconds(10)
    /// Names this instance in `source` of events (`/mediad/<instance>`).
    public var instance = ProcessInfo.processInfo.hostName
    public var logLevel = "info"
    /// `text` or `json`.
    public var logFormat = "text"

    public init() {}

    public var effectiveQueueDepth: Int { queueDepth ?? 3 * concurrency }

    /// Messages worked on at once, running or waiting for a worker: the bound on intake.
    public var admissionCapacity: Int { concurrency + effectiveQueueDepth }

    /// The connection settings of `amqpURI`.
    /// - Throws: `ConfigurationError` naming what is wrong with the URI.
    public func amqpConfiguration() throws(ConfigurationError) -> AMQPConfiguration {
        do throws(AMQPError) {
            return try AMQPConfiguration(uri: amqpURI)
        } catch {
            throw ConfigurationError(setting: "amqpURI", message: error.message)
        }
    }

    /// The consumer group of the reprocess topic: separate, so backfill and uploads keep
    /// their own offsets and a rebalance of one does not stop the other.
    public var reprocessGroup: String { "\(group)-reprocess" }
}
