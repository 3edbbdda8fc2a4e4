import Testing

/// Every broker test runs against one real RabbitMQ node started once per test process
/// (`RabbitMQHarness`), each suite in a vhost of its own. They run one at a time: the fault
/// tests stop the whole broker (`stop_app`), freeze it (SIGSTOP) or raise its memory alarm,
/// which every vhost feels.
@Suite("AMQP against RabbitMQ", .serialized, .timeLimit(.minutes(5)))
struct AMQPSuite {}
