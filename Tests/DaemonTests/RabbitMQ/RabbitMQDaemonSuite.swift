import Testing

/// The daemon's RabbitMQ suites share one real broker per test process (`RabbitMQHarness`),
/// each test in a vhost of its own, and run one at a time: some stop the whole broker
/// (`stop_app`) or raise its memory alarm, which every vhost feels.
@Suite("mediad serve on RabbitMQ", .serialized, .timeLimit(.minutes(6)))
struct RabbitMQDaemonSuite {}
