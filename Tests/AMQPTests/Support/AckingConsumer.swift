import Synchronization

@testable import AMQP

/// Reads a supervised consumer's events and acks each delivery through the supervisor,
/// except those `hold` picks, which it keeps unacked. Records everything for the test.
final class AckingConsumer: Sendable {
    struct Record {
        var acked: [String] = []
        var held: [AMQPDelivery] = []
        var received: [AMQPDelivery] = []
        var interruptions: [AMQPError] = []
        var generations: [Int] = []
        var cancels = 0
        var ackErrors: [AMQPError] = []
        var finished = false
    }

    private let state = Mutex(Record())
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// `hold(delivery, generation, received so far)`: keep it unacked.
    init(_ consumer: AMQPSupervisedConsumer, supervisor: AMQPConnectionSupervisor, hold: @escaping @Sendable (AMQPDelivery, Int, Int) -> Bool = { _, _, _ in false }) {
        let events = consumer.events
        let reader = Task { [self] in
            var generation = 0
            for await event in events {
                switch event {
                case .delivery(let delivery):
                    let count = state.withLock { state in
                        state.received.append(delivery)
                        return state.received.count
                    }
                    if hold(delivery, generation, count) {
                        state.withLock { $0.held.append(delivery) }
                        continue
                    }
                    do throws(AMQPError) {
                        try await supervisor.ack(delivery)
                        state.withLock { $0.acked.append(text(delivery)) }
                    } catch {
                        state.withLock { $0.ackErrors.append(error) }
                    }
                case .consuming(let number):
                    generation = number
                    state.withLock { $0.generations.append(number) }
                case .interrupted(let error): state.withLock { $0.interruptions.append(error) }
                case .cancelledByBroker: state.withLock { $0.cancels += 1 }
                }
            }
            state.withLock { $0.finished = true }
        }
        task.withLock { $0 = reader }
    }

    var record: Record { state.withLock { $0 } }

    func stop() { task.withLock { $0?.cancel() } }
}
