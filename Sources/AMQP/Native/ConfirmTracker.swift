/// A confirm-mode channel's outstanding publishes. `confirm.select` numbers a channel's
/// publishes 1, 2, 3…; the broker answers each with `basic.ack` or `basic.nack` (`multiple`
/// settles every number up to the tag). A mandatory message no queue takes comes back as
/// `basic.return` just before its ack: it is then reported `.noRoute`, not confirmed.
///
/// `basic.return` carries no sequence number, so it is matched to the oldest outstanding
/// publish with the same exchange, routing key, body size and message id, which routes the
/// same way (a headers exchange aside, where only the message id tells two apart).
///
/// Confined to the connection's thread; the completions it returns are called by the caller.
struct ConfirmTracker {
    typealias Completion = @Sendable (Result<Void, AMQPError>) -> Void

    struct Fingerprint: Hashable {
        var exchange: String
        var routingKey: String
        var bodySize: Int
        var messageID: String?
    }

    private struct Pending {
        var sequence: UInt64
        var fingerprint: Fingerprint
        var deadline: ContinuousClock.Instant
        var completion: Completion
        var returned: AMQPReturn?
    }

    /// Sorted by `sequence` (numbers are handed out in order).
    private var pending: [Pending] = []
    private(set) var nextSequence: UInt64 = 1

    var count: Int { pending.count }
    var isEmpty: Bool { pending.isEmpty }
    var nextDeadline: ContinuousClock.Instant? { pending.map(\.deadline).min() }

    /// Records the publish about to be sent; returns its sequence number.
    @discardableResult
    mutating func register(_ fingerprint: Fingerprint, deadline: ContinuousClock.Instant, completion: @escaping Completion) -> UInt64 {
        let sequence = nextSequence
        nextSequence += 1
        pending.append(Pending(sequence: sequence, fingerprint: fingerprint, deadline: deadline, completion: completion))
        return sequence
    }

    /// A `basic.return`: marks the oldest matching publish. Returns whether one matched.
    @discardableResult
    mutating func markReturned(_ fingerprint: Fingerprint, _ returned: AMQPReturn) -> Bool {
        guard let index = pending.firstIndex(where: { $0.fingerprint == fingerprint && $0.returned == nil }) else { return false }
        pending[index].returned = returned
        return true
    }

    /// A `basic.ack` (`isAck`) or `basic.nack`: the settled publishes' completions with their
    /// outcome. Tags of publishes that timed out already are ignored.
    mutating func settle(tag: UInt64, multiple: Bool, isAck: Bool) -> [(Completion, Result<Void, AMQPError>)] {
        let settled: [Pending]
        if multiple {
            let end = pending.firstIndex { $0.sequence > tag } ?? pending.endIndex
            settled = Array(pending[..<end])
            pending.removeFirst(end)
        } else if let index = pending.firstIndex(where: { $0.sequence == tag }) {
            settled = [pending.remove(at: index)]
        } else {
            settled = []
        }
        return settled.map { publish in
            if !isAck {
                return (publish.completion, .failure(AMQPError(code: .nacked, message: "the broker nacked publish #\(publish.sequence) (basic.nack): not stored")))
            }
            if let returned = publish.returned {
                return (publish.completion, .failure(AMQPError(
                    code: .noRoute,
                    message: "mandatory publish to \(returned.exchange.isEmpty ? "(default)" : returned.exchange)/\(returned.routingKey) was returned: \(returned.replyCode) \(returned.replyText)"
                )))
            }
            return (publish.completion, .success(()))
        }
    }

    /// Publishes whose confirm did not come by their deadline, failed with `.confirmTimedOut`.
    mutating func expire(now: ContinuousClock.Instant) -> [(Completion, Result<Void, AMQPError>)] {
        guard pending.contains(where: { $0.deadline <= now }) else { return [] }
        let expired = pending.filter { $0.deadline <= now }
        pending.removeAll { $0.deadline <= now }
        return expired.map { publish in
            (publish.completion, .failure(AMQPError(
                code: .confirmTimedOut, message: "no confirm for publish #\(publish.sequence) in time: it may or may not be stored"
            )))
        }
    }

    /// Every outstanding publish, failed with `error` (channel or connection gone).
    mutating func failAll(_ error: AMQPError) -> [(Completion, Result<Void, AMQPError>)] {
        defer { pending.removeAll() }
        return pending.map { ($0.completion, .failure(error)) }
    }
}
