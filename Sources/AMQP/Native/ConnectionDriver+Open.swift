import Foundation
import CRabbitMQ
import Logging
import CRabbitMQShims

#if canImport(Glibc)
import Glibc
#endif

extension ConnectionDriver {
    /// Opens the socket (TCP or TLS), logs in, and opens the control channel.
    func open() throws(AMQPError) -> NegotiatedParameters {
        let configuration = configuration
        let state = handle.state
        let socket = try makeSocket()
        var connectTimeout = timeval(configuration.connectionTimeout)
        let opened = amqp_socket_open_noblock(socket, configuration.host, Int32(configuration.port), &connectTimeout)
        guard opened == AMQP_STATUS_OK.rawValue else {
            throw AMQPError.library(opened, "connecting to \(configuration.host):\(configuration.port)")
        }
        var handshakeTimeout = timeval(configuration.rpcTimeout)
        amqp_set_handshake_timeout(state, &handshakeTimeout)

        let pool = NativePool()
        var clientProperties = pool.table(clientProperties(configuration))
        let heartbeat = Int32(configuration.heartbeat.components.seconds)
        let reply = mediad_amqp_login_plain(
            state, configuration.virtualHost, Int32(configuration.channelMax), Int32(configuration.frameMax), heartbeat,
            &clientProperties, configuration.username, configuration.password
        )
        try checkLogin(reply)
        setRPCTimeout(configuration.rpcTimeout)

        let negotiated = NegotiatedParameters(
            heartbeatSeconds: Int(amqp_get_heartbeat(state)),
            channelMax: Int(amqp_get_channel_max(state)),
            frameMax: Int(amqp_get_frame_max(state)),
            serverProperties: amqp_get_server_properties(state).map { NativeDecoding.table($0.pointee) } ?? [:]
        )
        if negotiated.channelMax > 0 { channelMax = UInt16(min(negotiated.channelMax, Int(UInt16.max))) }
        _ = try openChannel(.control)
        logger.debug(
            "AMQP connection open",
            metadata: [
                "amqp.uri": "\(configuration.redactedURI)", "amqp.heartbeat": "\(negotiated.heartbeatSeconds)",
                "amqp.server": "\(negotiated.serverProperties["product"]?.stringValue ?? "?") \(negotiated.serverProperties["version"]?.stringValue ?? "")",
            ]
        )
        return negotiated
    }

    /// The connection's client properties: its name, and the capabilities this layer handles
    /// (librabbitmq merges them into its defaults).
    private func clientProperties(_ configuration: AMQPConfiguration) -> AMQPTable {
        var properties: AMQPTable = [
            "capabilities": .table([
                "publisher_confirms": true, "consumer_cancel_notify": true, "basic.nack": true,
                "connection.blocked": true, "authentication_failure_close": true,
            ]),
            "product": "mediad (rabbitmq-c)",
        ]
        if let name = configuration.connectionName { properties["connection_name"] = .string(name) }
        return properties
    }

    private func makeSocket() throws(AMQPError) -> OpaquePointer {
        let state = handle.state
        guard let tls = configuration.tls else {
            guard let socket = amqp_tcp_socket_new(state) else {
                throw AMQPError(code: .tcpError, message: "amqp_tcp_socket_new failed")
            }
            return socket
        }
        guard let socket = amqp_ssl_socket_new(state) else {
            throw AMQPError(code: .sslError, message: "amqp_ssl_socket_new failed")
        }
        amqp_ssl_socket_set_verify_peer(socket, tls.verifyPeer ? 1 : 0)
        amqp_ssl_socket_set_verify_hostname(socket, tls.verifyHostname ? 1 : 0)
        // librabbitmq's context never loads OpenSSL's default store: without a CA file, trust
        // the system bundle, so a broker with a public certificate verifies.
        if let file = tls.caCertificateFile ?? Self.systemCertificateBundle {
            let status = amqp_ssl_socket_set_cacert(socket, file)
            guard status == AMQP_STATUS_OK.rawValue else { throw AMQPError.invalidConfiguration("TLS CA file \(file): \(String(cString: amqp_error_string2(status)))") }
        }
        if let certificate = tls.certificateFile, let key = tls.keyFile {
            let status = amqp_ssl_socket_set_key(socket, certificate, key)
            guard status == AMQP_STATUS_OK.rawValue else {
                throw AMQPError.invalidConfiguration("TLS client certificate \(certificate) / key \(key): \(String(cString: amqp_error_string2(status)))")
            }
        } else if tls.certificateFile != nil || tls.keyFile != nil {
            throw AMQPError.invalidConfiguration("TLS: a client certificate needs both certificateFile and keyFile")
        }
        return socket
    }

    private func checkLogin(_ reply: amqp_rpc_reply_t) throws(AMQPError) {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_SERVER_EXCEPTION where reply.reply.id == AMQPMethodID.connectionClose:
            let close = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            throw AMQPError(
                code: .init(rawValue: Int32(close.reply_code)),
                message: "the broker refused the login to vhost \(configuration.virtualHost) as \(configuration.username): \(NativeDecoding.string(close.reply_text))",
                isConnectionLost: true
            )
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            throw AMQPError.library(reply.library_error, "logging in to \(configuration.redactedURI)")
        default:
            throw AMQPError(code: .connectionClosed, message: "the broker closed the connection during the handshake", isConnectionLost: true)
        }
    }
}

extension ConnectionDriver {
    /// The system's CA bundle (Debian's, then Red Hat's), if there is one.
    static let systemCertificateBundle: String? = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"]
        .first { FileManager.default.isReadableFile(atPath: $0) }
}
