/// What a replay did, on either broker.
public struct DeadLetterReplayReport: Sendable {
    public var replayed: [DeadLetterEntry] = []
    /// Picked but not sent, with why.
    public var refused: [(entry: DeadLetterEntry, reason: String)] = []
    /// Considered and not picked by the filter.
    public var passedOver = 0
    /// Requested positions (or ids) that are not on the topic (or in the queue).
    public var notFound: [String] = []

    public init() {}
}
