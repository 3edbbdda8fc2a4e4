import Synchronization

/// The consumer's events as an `AsyncSequence`. Iterate it from one task at a time: a
/// cancelled iteration ends (returns `nil`) but leaves the remaining events for the next
/// one. The sequence finishes after the consumer closed.
public struct KafkaConsumerEvents: AsyncSequence, Sendable {
    public typealias Element = KafkaConsumerEvent
    public typealias Failure = Never

    let buffer: EventBuffer

    public struct AsyncIterator: AsyncIteratorProtocol {
        public typealias Element = KafkaConsumerEvent
        public typealias Failure = Never

        let buffer: EventBuffer

        public mutating func next() async -> KafkaConsumerEvent? {
            await buffer.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(buffer: buffer)
    }
}

/// The queue between the polling thread and the reader of `events`: an unbounded FIFO that
/// counts its messages so the polling thread can pause fetching when the reader lags, and
/// that can drop a revoked partition's records that were not handed out yet.
final class EventBuffer: Sendable {
    private struct State {
        var events: [KafkaConsumerEvent] = []
        var head = 0
        var messageCount = 0
        var waiter: CheckedContinuation<KafkaConsumerEvent?, Never>?
        var finished = false

        mutating func popFirst() -> KafkaConsumerEvent? {
            guard head < events.count else { return nil }
            let event = events[head]
            head += 1
            if head > 256, head * 2 > events.count {
                events.removeFirst(head)
                head = 0
            }
            if case .message = event { messageCount -= 1 }
            return event
        }
    }

    private let state = Mutex(State())

    /// Records buffered and not yet handed to the reader.
    var bufferedMessages: Int { state.withLock { $0.messageCount } }

    func append(_ event: KafkaConsumerEvent) {
        let waiter: CheckedContinuation<KafkaConsumerEvent?, Never>? = state.withLock { state in
            guard !state.finished else { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.events.append(event)
            if case .message = event { state.messageCount += 1 }
            return nil
        }
        waiter?.resume(returning: event)
    }

    /// Ends the sequence once the buffered events are read.
    func finish() {
        let waiter = state.withLock { state in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// Drops buffered records of `partitions`; returns how many.
    @discardableResult
    func removeMessages(of partitions: Set<TopicPartition>) -> Int {
        guard !partitions.isEmpty else { return 0 }
        return state.withLock { state in
            let before = state.events.count - state.head
            var kept: [KafkaConsumerEvent] = []
            kept.reserveCapacity(before)
            for event in state.events[state.head...] {
                if case .message(let message) = event, partitions.contains(message.topicPartition) { continue }
                kept.append(event)
            }
            let removed = before - kept.count
            state.events = kept
            state.head = 0
            state.messageCount -= removed
            return removed
        }
    }

    func next() async -> KafkaConsumerEvent? {
        enum Immediate {
            case event(KafkaConsumerEvent?)
            case wait
        }
        let immediate: Immediate = state.withLock { state in
            if let event = state.popFirst() { return .event(event) }
            return state.finished ? .event(nil) : .wait
        }
        if case .event(let event) = immediate { return event }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<KafkaConsumerEvent?, Never>) in
                let resumeNow: KafkaConsumerEvent?? = state.withLock { state in
                    if let event = state.popFirst() { return .some(event) }
                    if state.finished || Task.isCancelled { return .some(nil) }
                    precondition(state.waiter == nil, "KafkaConsumerEvents: iterated by two tasks at once")
                    state.waiter = continuation
                    return .none
                }
                if let resumeNow { continuation.resume(returning: resumeNow) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
    }
}
