import AMQP
import Events
import Hummingbird
import Kafka
import Logging
import NIOCore

/// Accepts bucket notifications over HTTP from stores that cannot publish to the broker
/// themselves, and hands each one, unchanged, to the upload lane's own input. The answer is
/// 2xx only once the broker confirmed the record, so a store that retries until it gets a
/// 2xx (MinIO with a queue_dir) loses nothing between itself and the broker.
public struct WebhookIntake: Sendable {
    public let configuration: WebhookConfiguration
    let transport: any DaemonTransport
    let metrics: DaemonMetrics
    let logger: Logger
    private let token: BearerToken
    private let pending: PendingPublishes

    public init(configuration: WebhookConfiguration, transport: any DaemonTransport, metrics: DaemonMetrics, logger: Logger) {
        self.configuration = configuration
        self.transport = transport
        self.metrics = metrics
        self.logger = logger
        token = BearerToken(configuration.token)
        pending = PendingPublishes(limit: configuration.maxPending)
    }

    /// POST for notifications; HEAD answers MinIO's reachability check, which older MinIO
    /// (the one juicefs' gateway embeds) sends without the token.
    func register(on router: Router<BasicRequestContext>) {
        let path = RouterPath(configuration.path)
        router.post(path) { request, _ in await self.receive(request) }
        router.head(path) { _, _ in self.answer(.probe, "") }
    }

    /// Checks, in order: the token (before any of the body is read), the declared and the
    /// actual size, that the body is a notification, then publishes and waits.
    func receive(_ request: Request) async -> Response {
        guard token.accepts(request.headers[.authorization]) else {
            logger.warning("webhook request without the right bearer token", metadata: ["path": "\(configuration.path)"])
            return answer(.unauthorized, "missing or wrong bearer token", headers: [.wwwAuthenticate: "Bearer"])
        }
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > configuration.maxBytes {
            return tooLarge(declared)
        }
        let body: [UInt8]
        do {
            body = Array(buffer: try await request.body.collect(upTo: configuration.maxBytes))
        } catch is NIOTooManyBytesError {
            return tooLarge(nil)
        } catch {
            logger.warning("webhook body could not be read", metadata: ["error": "\(error)"])
            return answer(.invalid, "the body could not be read")
        }
        let notification: WebhookNotification
        do throws(WebhookNotification.Rejection) {
            notification = try WebhookNotification(body: body)
        } catch {
            logger.warning("webhook body is not a bucket notification", metadata: ["reason": "\(error.reason)", "bytes": "\(body.count)"])
            return answer(.invalid, error.reason)
        }
        if notification.isTestEvent { return answer(.testEvent, "test event: nothing to publish") }
        return await publish(body, key: notification.key)
    }

    private func publish(_ body: [UInt8], key: String?) async -> Response {
        let record = OutboundRecord(
            key: key.map { Array($0.utf8) }, value: body, headers: [("content-type", Array("application/json".utf8))], eventType: nil)
        let transport = transport
        let address = transport.address(of: .intake)
        let started = ContinuousClock.now
        let result = await pending.run(timeout: configuration.timeout) { try await transport.publish(record, to: .intake) }
        let metadata: Logger.Metadata = ["key": "\(key ?? "")", "destination": "\(address)"]
        switch result {
        case .confirmed:
            metrics.webhookConfirmation(ContinuousClock.now - started)
            logger.debug("webhook notification published", metadata: metadata)
            return answer(.published, "published to \(address)")
        case .failed(let error) where Self.isTooLarge(error):
            logger.warning("the broker refused the notification as too large", metadata: metadata.merging(["bytes": "\(body.count)"]) { $1 })
            return answer(.tooLarge, "the broker refused the body as too large")
        case .failed(let error):
            logger.error("webhook notification not published; answered 503", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            return answer(.brokerFailed, "the broker did not take the notification; send it again", headers: [.retryAfter: "5"])
        case .timedOut:
            logger.error(
                "broker did not confirm a webhook notification in time; answered 503",
                metadata: metadata.merging(["timeout": "\(configuration.timeout)"]) { $1 })
            return answer(.brokerTimeout, "the broker did not confirm within \(configuration.timeout); send it again", headers: [.retryAfter: "5"])
        case .overloaded:
            logger.error("too many webhook notifications await the broker; answered 503", metadata: ["pending": "\(pending.limit)"])
            return answer(.overloaded, "too many notifications await the broker; send it again", headers: [.retryAfter: "5"])
        }
    }

    /// The broker refused the record for its size (Kafka's `message.max.bytes`, RabbitMQ's
    /// `max_message_size`): sending it again cannot help.
    private static func isTooLarge(_ error: any Error) -> Bool {
        (error as? KafkaError)?.code == .messageSizeTooLarge || (error as? AMQPError)?.code == .contentTooLarge
    }

    private func tooLarge(_ declared: Int?) -> Response {
        let size = declared.map(String.init) ?? "chunked"
        logger.warning("webhook body over the limit", metadata: ["limit": "\(configuration.maxBytes)", "declared": "\(size)"])
        return answer(.tooLarge, "the body is over \(configuration.maxBytes) bytes")
    }

    private func answer(_ outcome: WebhookOutcome, _ text: String, headers: HTTPFields = [:]) -> Response {
        metrics.webhookRequest(outcome.code)
        var fields = headers
        guard !text.isEmpty else { return Response(status: outcome.status, headers: fields) }
        fields[.contentType] = "text/plain; charset=utf-8"
        return Response(status: outcome.status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n")))
    }
}
