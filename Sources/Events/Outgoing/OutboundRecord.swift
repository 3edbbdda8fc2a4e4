/// A message mediad publishes: `media.processed`, `media.deleted` or a dead letter.
public struct OutboundRecord: Sendable {
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [(String, [UInt8]?)]
    /// The CloudEvent type (`media.processed`…): RabbitMQ's routing key. Nil for a dead letter.
    public var eventType: String?

    public init(key: [UInt8]?, value: [UInt8], headers: [(String, [UInt8]?)], eventType: String?) {
        self.key = key
        self.value = value
        self.headers = headers
        self.eventType = eventType
    }
}
