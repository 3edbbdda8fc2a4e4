import Foundation

/// Every setting of `mediad serve`. The order is the order of the reference documentation.
public enum Settings {
    public static let all: [Setting] = [
        .choice("transport", "Message broker: kafka, or rabbitmq (the amqp* settings)", ["kafka", "rabbitmq"], \.transport),
        .string("brokers", "Kafka bootstrap servers, comma-separated host:port.", \.brokers),
        .string("group", "Consumer group id; instances with the same group share the partitions.", \.group),
        .string("topic", "Topic of file.uploaded events.", \.topic),
        .string("reprocessTopic", "Topic of backfill work from `mediad reprocess --publish`; consumed only with spare capacity.", allowsEmpty: true, \.reprocessTopic),
        .string("outputTopic", "Topic media.processed events are produced to (key = fileId).", \.outputTopic),
        .string("dlqTopic", "Dead-letter topic for messages that cannot be processed.", \.dlqTopic),
        .string("uploadEventType", "CloudEvent type of uploads.", \.uploadEventType),
        .string("amqpURI", "RabbitMQ: the AMQP URI, amqp://user:pass@host:5672/vhost or amqps:// (query: cacertfile, certfile, keyfile, verify, heartbeat).", secret: true, \.amqpURI),
        .string("amqpExchange", "RabbitMQ: the exchange uploads and deletions are published to (a topic exchange).", \.amqpExchange),
        .string("amqpQueue", "RabbitMQ: the durable input queue, bound to amqpExchange.", \.amqpQueue),
        .string("amqpBindingKey", "RabbitMQ: the input queue's binding key.", \.amqpBindingKey),
        .choice("amqpQueueType", "RabbitMQ: the queues' type", ["quorum", "classic"], \.amqpQueueType),
        .string("amqpReprocessQueue", "RabbitMQ: the queue of `mediad reprocess --publish` work; consumed only with spare capacity (empty: off).", allowsEmpty: true, \.amqpReprocessQueue),
        .string("amqpOutputExchange", "RabbitMQ: the exchange media.processed and media.deleted go to (routing key = event type).", \.amqpOutputExchange),
        .string("amqpOutputQueue", "RabbitMQ: a durable queue bound to amqpOutputExchange that keeps results for their consumer (empty: none).", allowsEmpty: true, \.amqpOutputQueue),
        .string("amqpDeadLetterExchange", "RabbitMQ: the dead-letter exchange (mediad's dead letters and the broker's).", \.amqpDeadLetterExchange),
        .string("amqpDeadLetterQueue", "RabbitMQ: the dead-letter queue, bound to amqpDeadLetterExchange.", \.amqpDeadLetterQueue),
        .integer("amqpPrefetch", "RabbitMQ: unacked deliveries per consumer, the admission bound (0: concurrency + queueDepth).", range: 0...65535, \.amqpPrefetch),
        .integer("amqpDeliveryLimit", "RabbitMQ: deliveries of one message before the broker dead-letters it (quorum queues' x-delivery-limit).", range: 1...1000, \.amqpDeliveryLimit),
        .integer("concurrency", "Worker slots for media work (default: number of cores).", range: 1...256, \.concurrency),
        Setting(key: "queueDepth", help: "Messages admitted beyond the worker slots before the consumer pauses (default: 3 × concurrency, since jobs also wait on storage and the broker).", isSecret: false, apply: { configuration, value throws(ConfigurationError) in
            guard let number = Int(value), (0...10000).contains(number) else {
                throw ConfigurationError(setting: "queueDepth", message: "expected a whole number from 0 to 10000, got '\(value)'")
            }
            configuration.queueDepth = number
        }, read: { String($0.effectiveQueueDepth) }),
        .integer("videoJobWeight", "Worker slots one video job takes.", range: 1...64, \.videoJobWeight),
        .string("pipelines", "Directory of pipeline YAML files.", \.pipelines),
        .duration("jobTimeout", "Deadline for one job (download, process, upload, emit).", \.jobTimeout),
        .integer("retryAttempts", "Attempts for transient failures (S3 5xx, timeouts, refused or reset connections) inside a job.", range: 1...20, \.retryAttempts),
        .duration("retryBaseDelay", "First retry delay; doubles each attempt, with jitter.", \.retryBaseDelay),
        .duration("shutdownTimeout", "On SIGTERM, how long in-flight jobs may run before they are cancelled.", \.shutdownTimeout),
        .string("scratchDirectory", "Where originals are downloaded while a job runs.", \.scratchDirectory),
        .choice("isolation", "Where native work runs: process (supervised worker processes) or none (threads of the daemon)", ["process", "none"], \.isolation),
        .optional("workerExecutable", "The binary worker processes run (default: mediad-native beside the running mediad).", \.workerExecutable),
        .integer("workerMaxJobs", "Jobs after which a worker process is replaced.", range: 1...1_000_000, \.workerMaxJobs),
        .integer("workerRecycleMemoryMB", "Resident memory (MB) above which a worker is replaced after its job.", range: 64...1_048_576, \.workerRecycleMemoryMB),
        .integer("maxCrashes", "Worker crashes (and daemon deaths) a file may cause before it fails for good (worker_crashed, poison_file).", range: 1...100, \.maxCrashes),
        .choice("storage", "Object store kind", ["s3", "local"], \.storage),
        .string("storageRoot", "Directory of the local store (bucket/key layout) when storage is local.", \.storageRoot),
        .optional("derivativesBucket", "Bucket for derivatives (default: the source bucket).", \.derivativesBucket),
        .optional("defaultBucket", "Bucket for events that name none.", \.defaultBucket),
        .string("keyTemplate", "Key of derivatives; {fileId}, {name}, {ext}.", \.keyTemplate),
        Setting(key: "allowedBuckets", help: "Buckets events may name, comma-separated (default: any).", isSecret: false, apply: { configuration, value throws(ConfigurationError) in
            configuration.allowedBuckets = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }, read: { $0.allowedBuckets.joined(separator: ",") }),
        .optional("s3Endpoint", "S3 endpoint URL (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, or AWS).", \.s3Endpoint),
        .optional("s3Region", "S3 region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's, us-east-1).", \.s3Region),
        .optional("s3AccessKeyId", "S3 access key (default: AWS_ACCESS_KEY_ID or the profile's).", \.s3AccessKeyId),
        .optional("s3SecretAccessKey", "S3 secret key (default: AWS_SECRET_ACCESS_KEY or the profile's).", secret: true, \.s3SecretAccessKey),
        .optional("s3SessionToken", "S3 session token (default: AWS_SESSION_TOKEN).", secret: true, \.s3SessionToken),
        .optional("s3Profile", "Profile of the shared AWS files (default: AWS_PROFILE).", \.s3Profile),
        .boolean("s3PathStyle", "Path-style bucket addressing even on AWS.", \.s3PathStyle),
        .string("httpHost", "Address of the health and metrics endpoint.", \.httpHost),
        .integer("httpPort", "Port of /healthz, /readyz and /metrics (0 picks a free one).", range: 0...65535, \.httpPort),
        .optional("webhookPath", "Path of the HTTP intake for S3/MinIO bucket notifications on httpPort, e.g. `/webhooks/s3` (empty: off).", \.webhookPath),
        .optional(
            "webhookToken", "Bearer token the store sends (MinIO: `MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_<ID>`); required with webhookPath, 16 characters or more.",
            secret: true, \.webhookToken),
        .integer("webhookMaxBytes", "Largest notification body accepted (larger: 413).", range: 1024...16_777_216, \.webhookMaxBytes),
        .duration("webhookTimeout", "How long a notification waits for the broker's confirmation before it is answered 503.", \.webhookTimeout),
        .string("instance", "Names this instance in the source of events (/mediad/<instance>).", \.instance),
        .choice("logLevel", "Log level", ["trace", "debug", "info", "notice", "warning", "error", "critical"], \.logLevel),
        .choice("logFormat", "Log format", ["text", "json"], \.logFormat),
    ]

    public static func named(_ key: String) -> Setting? {
        all.first { $0.key == key }
    }
}
