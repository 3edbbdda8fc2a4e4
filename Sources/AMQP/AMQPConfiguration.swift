/// How an `AMQPConnection` reaches and talks to the broker. Build it from an AMQP URI
/// (`init(uri:)`) or field by field; every default is documented on its property.
public struct AMQPConfiguration: Sendable, Hashable {
    /// TLS for `amqps://` (librabbitmq's OpenSSL socket).
    public struct TLS: Sendable, Hashable {
        /// PEM file of the certificate authorities to trust; `nil` trusts the system bundle
        /// (`/etc/ssl/certs/ca-certificates.crt`).
        public var caCertificateFile: String?
        /// PEM client certificate and key, for brokers that ask for one.
        public var certificateFile: String?
        public var keyFile: String?
        /// Verify the broker's certificate chain. Default `true`.
        public var verifyPeer: Bool = true
        /// Verify that the certificate names `host`. Default `true`.
        public var verifyHostname: Bool = true

        public init(
            caCertificateFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil,
            verifyPeer: Bool = true, verifyHostname: Bool = true
        ) {
            self.caCertificateFile = caCertificateFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.verifyPeer = verifyPeer
            self.verifyHostname = verifyHostname
        }
    }

    public var host: String
    /// Default 5672, or 5671 with TLS.
    public var port: Int
    /// Default `/`.
    public var virtualHost: String = "/"
    /// Default `guest` (which RabbitMQ accepts only over loopback).
    public var username: String = "guest"
    public var password: String = "guest"
    /// `nil` for plain TCP.
    public var tls: TLS?
    /// The heartbeat interval asked for (the broker may lower it; 0 turns heartbeats off).
    /// The connection's thread sends one when it wrote nothing for this long, and reports the
    /// connection lost (`.heartbeatTimeout`) after two intervals without a frame. Default 30 s.
    public var heartbeat: Duration = .seconds(30)
    /// TCP connect (and TLS handshake). Default 10 s.
    public var connectionTimeout: Duration = .seconds(10)
    /// The AMQP handshake (`connection.start` … `open-ok`) and every synchronous method
    /// (declares, `basic.qos`, `basic.consume`, `basic.get`, `basic.cancel`, channel open and
    /// close). Past it librabbitmq closes the socket: the connection is reported lost. Default 30 s.
    public var rpcTimeout: Duration = .seconds(30)
    /// How long a publish waits for its confirm before it fails with `.confirmTimedOut`.
    /// Default 30 s.
    public var confirmTimeout: Duration = .seconds(30)
    /// How long `close()` waits for outstanding confirms before it fails them. Default 10 s.
    public var closeTimeout: Duration = .seconds(10)
    /// `basic.qos` prefetch count of consumers that do not set their own: at most this many
    /// unacked deliveries per consumer (0 would be unlimited). Default 10.
    public var prefetch: UInt16 = 10
    /// The `connection_name` client property (shown by `rabbitmqctl list_connections`).
    public var connectionName: String?
    /// Largest frame asked for. Default 131072 (librabbitmq's and RabbitMQ's default).
    public var frameMax: Int = 131_072
    /// Most channels asked for; 0 takes the broker's limit. Default 0.
    public var channelMax: Int = 0

    public init(host: String, port: Int? = nil, tls: TLS? = nil) {
        self.host = host
        self.tls = tls
        self.port = port ?? (tls == nil ? 5672 : 5671)
    }

    /// The URI without the password, for logs.
    public var redactedURI: String {
        let scheme = tls == nil ? "amqp" : "amqps"
        let vhost = virtualHost == "/" ? "" : "/" + AMQPURI.percentEncode(virtualHost)
        return "\(scheme)://\(AMQPURI.percentEncode(username))@\(host.contains(":") ? "[\(host)]" : host):\(port)\(vhost)"
    }
}
