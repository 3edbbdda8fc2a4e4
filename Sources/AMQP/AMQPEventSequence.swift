import Synchronization

/// Events of a connection or consumer as an `AsyncSequence`. Iterate it from one task at a
/// time: a cancelled iteration ends (returns `nil`) and leaves the remaining events for the
/// next one. It finishes after its source closed and every event was read.
public struct AMQPEventSequence<Element: Sendable>: AsyncSequence, Sendable {
    public typealias Failure = Never

    let buffer: EventBuffer<Element>

    public struct AsyncIterator: AsyncIteratorProtocol {
        public typealias Failure = Never

        let buffer: EventBuffer<Element>

        public mutating func next() async -> Element? {
            await buffer.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(buffer: buffer)
    }
}

/// The unbounded FIFO between a connection's thread (which appends) and the one task that
/// reads the sequence. Unbounded is safe for deliveries: `basic.qos` bounds how many unacked
/// ones the broker sends.
final class EventBuffer<Element: Sendable>: Sendable {
    private struct State {
        var events: [Element] = []
        var head = 0
        var waiter: CheckedContinuation<Element?, Never>?
        var finished = false

        mutating func popFirst() -> Element? {
            guard head < events.count else { return nil }
            let event = events[head]
            head += 1
            if head > 256, head * 2 > events.count {
                events.removeFirst(head)
                head = 0
            }
            return event
        }
    }

    private let state = Mutex(State())

    var sequence: AMQPEventSequence<Element> { AMQPEventSequence(buffer: self) }

    /// Events appended and not read yet.
    var count: Int { state.withLock { $0.events.count - $0.head } }

    var isFinished: Bool { state.withLock { $0.finished } }

    /// Appends `event`, or drops it once finished.
    func append(_ event: Element) {
        let waiter: CheckedContinuation<Element?, Never>? = state.withLock { state in
            guard !state.finished else { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.events.append(event)
            return nil
        }
        waiter?.resume(returning: event)
    }

    /// Appends `last` (if any) and ends the sequence once the buffered events are read.
    func finish(with last: Element? = nil) {
        if let last { append(last) }
        let waiter = state.withLock { state in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    func next() async -> Element? {
        let immediate: Element?? = state.withLock { state in
            if let event = state.popFirst() { return .some(event) }
            return state.finished ? .some(nil) : .none
        }
        if let immediate { return immediate }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Element?, Never>) in
                let resumeNow: Element?? = state.withLock { state in
                    if let event = state.popFirst() { return .some(event) }
                    if state.finished || Task.isCancelled { return .some(nil) }
                    precondition(state.waiter == nil, "AMQPEventSequence: iterated by two tasks at once")
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
