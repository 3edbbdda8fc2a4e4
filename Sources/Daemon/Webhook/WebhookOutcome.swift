import Hummingbird

/// How the intake answered one request: the `status` label of
/// `mediad_webhook_requests_total` and the HTTP status that goes with it. Only `published`
/// means the broker has the notification; every 5xx asks the store to send it again.
public struct WebhookOutcome: Sendable, Hashable, CustomStringConvertible {
    public let code: String
    public let status: HTTPResponse.Status

    init(_ code: String, _ status: HTTPResponse.Status) {
        self.code = code
        self.status = status
    }

    public var description: String { code }

    /// The broker confirmed the notification.
    public static let published = WebhookOutcome("published", .ok)
    /// AWS's `s3:TestEvent`: answered, nothing to publish.
    public static let testEvent = WebhookOutcome("test_event", .ok)
    /// MinIO's reachability check (a HEAD, without the token in older MinIO).
    public static let probe = WebhookOutcome("probe", .ok)
    public static let unauthorized = WebhookOutcome("unauthorized", .unauthorized)
    /// Over `webhookMaxBytes`, or over what the broker takes in one message.
    public static let tooLarge = WebhookOutcome("too_large", .contentTooLarge)
    /// Not JSON, or not a bucket notification.
    public static let invalid = WebhookOutcome("invalid", .badRequest)
    /// The broker refused or failed the publish.
    public static let brokerFailed = WebhookOutcome("broker_failed", .serviceUnavailable)
    /// No confirmation within `webhookTimeout`; the record may still arrive (the retry then
    /// makes a duplicate, which the daemon answers from its manifest).
    public static let brokerTimeout = WebhookOutcome("broker_timeout", .serviceUnavailable)
    /// Too many publishes already await the broker.
    public static let overloaded = WebhookOutcome("overloaded", .serviceUnavailable)
}
