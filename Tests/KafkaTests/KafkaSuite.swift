import Testing

/// Every Kafka test runs against its own in-process mock cluster over loopback TCP (no
/// test doubles). They run one at a time: group joins are timer-driven (3 s first join,
/// `session.timeout.ms − 1 s` per rebalance), and several at once on a 2-core machine
/// make those timers, and the timing assertions, unreliable.
@Suite("Kafka", .serialized, .timeLimit(.minutes(4)))
struct KafkaSuite {}
