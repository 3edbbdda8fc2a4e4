import Testing

/// Every Kafka test runs against a broker of its own over loopback TCP (no test doubles):
/// librdkafka's in-process mock cluster, and, for every test that needs no mock-only fault
/// injection, also noida-db, an independent Kafka implementation run as a real process
/// (`BrokerKind`; its differences from Apache Kafka are listed on `NoidaHarness`).
/// They run one at a time: group joins are timer-driven (3 s first join,
/// `session.timeout.ms − 1 s` per rebalance), and several at once on a 2-core machine
/// make those timers, and the timing assertions, unreliable.
@Suite("Kafka", .serialized, .timeLimit(.minutes(4)))
struct KafkaSuite {}
