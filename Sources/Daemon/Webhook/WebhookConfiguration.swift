/// The HTTP intake for stores that can only notify a webhook (MinIO, juicefs' gateway):
/// where it listens on the operations endpoint, how it authenticates, and its limits.
public struct WebhookConfiguration: Sendable, Equatable {
    /// The route, e.g. `/webhooks/s3`.
    public var path: String
    public var token: String
    /// Larger bodies are refused with 413 before they are read.
    public var maxBytes: Int
    /// How long one notification waits for the broker's confirmation.
    public var timeout: Duration
    /// Publishes awaiting the broker's confirmation at once, including those whose request
    /// already timed out (the broker client still holds them): beyond it the answer is 503
    /// at once, so a long broker outage with a retrying store cannot pile records up.
    public var maxPending = 256

    /// Paths the operations endpoint serves itself.
    static let reservedPaths: Set<String> = ["/healthz", "/readyz", "/metrics"]
    /// A token shorter than this is refused: the intake is reachable wherever `/healthz` is.
    static let minimumTokenLength = 16

    public init(path: String, token: String, maxBytes: Int, timeout: Duration) {
        self.path = path
        self.token = token
        self.maxBytes = maxBytes
        self.timeout = timeout
    }

    /// The intake the settings ask for; nil when `webhookPath` is unset (the default).
    /// - Throws: `ConfigurationError` for a path that is not a plain absolute path or is one
    ///   of the operations endpoint's own, and for a missing, short or blank-containing
    ///   token (MinIO sends a token with spaces as a whole `Authorization` value, or not at all).
    public static func from(_ configuration: DaemonConfiguration) throws(ConfigurationError) -> WebhookConfiguration? {
        guard let path = configuration.webhookPath else { return nil }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-._~")
        guard path.hasPrefix("/"), path.count > 1, path.allSatisfy(allowed.contains), !path.contains("//") else {
            throw ConfigurationError(
                setting: "webhookPath", message: "expected an absolute path of letters, digits and - . _ ~ such as /webhooks/s3, got '\(path)'")
        }
        guard !reservedPaths.contains(path) else {
            throw ConfigurationError(setting: "webhookPath", message: "\(path) is served by the operations endpoint itself")
        }
        guard let token = configuration.webhookToken else {
            throw ConfigurationError(
                setting: "webhookToken", message: "webhookPath is set, so a token is required: the intake refuses unauthenticated notifications")
        }
        guard token.count >= minimumTokenLength, !token.contains(where: \.isWhitespace) else {
            throw ConfigurationError(setting: "webhookToken", message: "expected \(minimumTokenLength) characters or more without spaces")
        }
        return WebhookConfiguration(path: path, token: token, maxBytes: configuration.webhookMaxBytes, timeout: configuration.webhookTimeout)
    }
}
