import CRabbitMQ

/// An error from librabbitmq, from the broker, or from this module's own checks, copied out
/// of the C library at the boundary.
///
/// `code` is one number space for three sources:
/// - librabbitmq's statuses (negative, `AMQP_STATUS_*`: socket errors, heartbeat timeouts…);
/// - the broker's AMQP reply codes (positive: `connection.close`/`channel.close`, 404
///   NOT_FOUND, 406 PRECONDITION_FAILED, 320 CONNECTION_FORCED…, and 312 NO_ROUTE of
///   `basic.return`);
/// - mediad's own (below -10000: a confirm that timed out, a delivery of a lost connection…).
///
/// `isConnectionLost` says the connection is gone (reconnect); `isChannelClosed` that only
/// the channel is (the broker refused one operation; the connection lives on).
public struct AMQPError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A librabbitmq status, an AMQP reply code, or one of mediad's codes. Not frozen.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: Int32

        public init(rawValue: Int32) {
            self.rawValue = rawValue
        }

        // librabbitmq's statuses.
        public static let connectionClosed = Code(rawValue: AMQP_STATUS_CONNECTION_CLOSED.rawValue)
        public static let socketError = Code(rawValue: AMQP_STATUS_SOCKET_ERROR.rawValue)
        public static let socketClosed = Code(rawValue: AMQP_STATUS_SOCKET_CLOSED.rawValue)
        public static let timedOut = Code(rawValue: AMQP_STATUS_TIMEOUT.rawValue)
        /// No frame from the broker for two heartbeat intervals.
        public static let heartbeatTimeout = Code(rawValue: AMQP_STATUS_HEARTBEAT_TIMEOUT.rawValue)
        public static let hostnameResolutionFailed = Code(rawValue: AMQP_STATUS_HOSTNAME_RESOLUTION_FAILED.rawValue)
        public static let tcpError = Code(rawValue: AMQP_STATUS_TCP_ERROR.rawValue)
        public static let sslError = Code(rawValue: AMQP_STATUS_SSL_ERROR.rawValue)
        public static let sslConnectionFailed = Code(rawValue: AMQP_STATUS_SSL_CONNECTION_FAILED.rawValue)
        public static let sslPeerVerifyFailed = Code(rawValue: AMQP_STATUS_SSL_PEER_VERIFY_FAILED.rawValue)
        public static let sslHostnameVerifyFailed = Code(rawValue: AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED.rawValue)
        public static let badAMQPData = Code(rawValue: AMQP_STATUS_BAD_AMQP_DATA.rawValue)
        public static let unexpectedState = Code(rawValue: AMQP_STATUS_UNEXPECTED_STATE.rawValue)

        // AMQP 0-9-1 reply codes.
        public static let contentTooLarge = Code(rawValue: 311)
        /// `basic.return` of a mandatory message no queue was bound for.
        public static let noRoute = Code(rawValue: 312)
        public static let noConsumers = Code(rawValue: 313)
        /// The broker closed the connection (`rabbitmqctl close_connection`, shutdown).
        public static let connectionForced = Code(rawValue: 320)
        public static let invalidPath = Code(rawValue: 402)
        public static let accessRefused = Code(rawValue: 403)
        public static let notFound = Code(rawValue: 404)
        public static let resourceLocked = Code(rawValue: 405)
        /// E.g. re-declaring a queue or exchange with different arguments.
        public static let preconditionFailed = Code(rawValue: 406)
        public static let frameError = Code(rawValue: 501)
        public static let syntaxError = Code(rawValue: 502)
        public static let commandInvalid = Code(rawValue: 503)
        public static let channelError = Code(rawValue: 504)
        public static let unexpectedFrame = Code(rawValue: 505)
        public static let resourceError = Code(rawValue: 506)
        public static let notAllowed = Code(rawValue: 530)
        public static let notImplemented = Code(rawValue: 540)
        public static let internalError = Code(rawValue: 541)

        // mediad's own.
        /// The connection (or channel, consumer, publisher) was closed by this process.
        public static let closed = Code(rawValue: -10001)
        /// A configuration or URI this module cannot use.
        public static let invalidConfiguration = Code(rawValue: -10002)
        /// No confirm (ack or nack) arrived within the publish timeout: the message may or may
        /// not be stored. Never reported as confirmed.
        public static let confirmTimedOut = Code(rawValue: -10003)
        /// The broker nacked the message (`basic.nack`): it was not stored.
        public static let nacked = Code(rawValue: -10004)
        /// The delivery came from a connection or channel that is gone: its tag means
        /// nothing now (the broker redelivers the message), so it was not acked.
        public static let staleDelivery = Code(rawValue: -10005)
        /// The delivery was acked, nacked or rejected already.
        public static let unknownDeliveryTag = Code(rawValue: -10006)
        /// The supervisor has no connection right now.
        public static let notConnected = Code(rawValue: -10007)
        /// The broker cancelled the consumer (`basic.cancel`: queue deleted…).
        public static let consumerCancelled = Code(rawValue: -10008)

        /// A name for logs and metric labels: `NOT_FOUND`, `HEARTBEAT_TIMEOUT`, `CONFIRM_TIMED_OUT`…
        public var name: String {
            if let name = Self.names[self] { return name }
            if rawValue < 0, rawValue > -10000 { return String(cString: amqp_error_string2(rawValue)) }
            return "CODE_\(rawValue)"
        }

        public var description: String { name }

        private static let names: [Code: String] = [
            .connectionClosed: "CONNECTION_CLOSED", .socketError: "SOCKET_ERROR", .socketClosed: "SOCKET_CLOSED",
            .timedOut: "TIMEOUT", .heartbeatTimeout: "HEARTBEAT_TIMEOUT",
            .hostnameResolutionFailed: "HOSTNAME_RESOLUTION_FAILED", .tcpError: "TCP_ERROR", .sslError: "SSL_ERROR",
            .sslConnectionFailed: "SSL_CONNECTION_FAILED", .sslPeerVerifyFailed: "SSL_PEER_VERIFY_FAILED",
            .sslHostnameVerifyFailed: "SSL_HOSTNAME_VERIFY_FAILED", .badAMQPData: "BAD_AMQP_DATA",
            .unexpectedState: "UNEXPECTED_STATE",
            .contentTooLarge: "CONTENT_TOO_LARGE", .noRoute: "NO_ROUTE", .noConsumers: "NO_CONSUMERS",
            .connectionForced: "CONNECTION_FORCED", .invalidPath: "INVALID_PATH", .accessRefused: "ACCESS_REFUSED",
            .notFound: "NOT_FOUND", .resourceLocked: "RESOURCE_LOCKED", .preconditionFailed: "PRECONDITION_FAILED",
            .frameError: "FRAME_ERROR", .syntaxError: "SYNTAX_ERROR", .commandInvalid: "COMMAND_INVALID",
            .channelError: "CHANNEL_ERROR", .unexpectedFrame: "UNEXPECTED_FRAME", .resourceError: "RESOURCE_ERROR",
            .notAllowed: "NOT_ALLOWED", .notImplemented: "NOT_IMPLEMENTED", .internalError: "INTERNAL_ERROR",
            .closed: "CLOSED", .invalidConfiguration: "INVALID_CONFIGURATION", .confirmTimedOut: "CONFIRM_TIMED_OUT",
            .nacked: "NACKED", .staleDelivery: "STALE_DELIVERY", .unknownDeliveryTag: "UNKNOWN_DELIVERY_TAG",
            .notConnected: "NOT_CONNECTED", .consumerCancelled: "CONSUMER_CANCELLED",
        ]
    }

    public let code: Code
    public let message: String
    /// The connection is gone: nothing more can be done on it; deliveries it handed out
    /// are void (the broker redelivers them) and outstanding confirms failed.
    public let isConnectionLost: Bool
    /// Only the channel is gone (the broker closed it), the connection lives on.
    public let isChannelClosed: Bool
    /// Where in mediad the error was built.
    public let file: String
    public let line: Int

    public init(
        code: Code, message: String, isConnectionLost: Bool = false, isChannelClosed: Bool = false,
        file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.isConnectionLost = isConnectionLost
        self.isChannelClosed = isChannelClosed
        self.file = file
        self.line = line
    }

    /// Trying again later (on a new connection, after a backoff) may succeed.
    public var isRetriable: Bool {
        isConnectionLost || [.notConnected, .confirmTimedOut, .nacked, .resourceLocked, .timedOut].contains(code)
    }

    public var description: String {
        var text = "AMQPError(\(code.name)): \(message)"
        if isConnectionLost { text += " (connection lost)" } else if isChannelClosed { text += " (channel closed)" }
        return text
    }

    public static func == (lhs: AMQPError, rhs: AMQPError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.isConnectionLost == rhs.isConnectionLost
            && lhs.isChannelClosed == rhs.isChannelClosed
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(message)
    }
}

extension AMQPError {
    /// A librabbitmq status (`AMQP_STATUS_*`) that ended the connection.
    static func library(_ status: Int32, _ what: String, file: String = #fileID, line: Int = #line) -> AMQPError {
        AMQPError(
            code: Code(rawValue: status), message: "\(what): \(String(cString: amqp_error_string2(status)))",
            isConnectionLost: true, file: file, line: line
        )
    }

    /// The connection (or the object using it) was closed by this process.
    static func closed(_ what: String = "the AMQP connection is closed", file: String = #fileID, line: Int = #line) -> AMQPError {
        AMQPError(code: .closed, message: what, file: file, line: line)
    }

    static func invalidConfiguration(_ message: String, file: String = #fileID, line: Int = #line) -> AMQPError {
        AMQPError(code: .invalidConfiguration, message: message, file: file, line: line)
    }
}
