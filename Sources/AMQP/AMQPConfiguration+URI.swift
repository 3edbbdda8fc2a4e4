import Foundation

extension AMQPConfiguration {
    /// Parses an AMQP URI as RabbitMQ specifies it
    /// (`amqp[s]://[user[:password]@]host[:port][/vhost][?query]`):
    ///
    /// - user, password and vhost are percent-decoded; no path is vhost `/` (the default),
    ///   `/%2F` is `/`, and `/` with nothing after it is the empty vhost name RabbitMQ allows.
    /// - `amqps` turns TLS on (port 5671 by default).
    /// - Query keys: `heartbeat` (seconds), `connection_timeout` (milliseconds), `frame_max`,
    ///   `channel_max`, `connection_name`; TLS: `cacertfile`, `certfile`, `keyfile`,
    ///   `verify` (`verify_peer` or `verify_none`), `server_name_indication=disable` (skip the
    ///   hostname check). Others are rejected, so a typo does not pass silently.
    ///
    /// - Throws: `AMQPError` (`.invalidConfiguration`) naming what is wrong.
    public init(uri: String) throws(AMQPError) {
        let parsed = try AMQPURI(uri)
        self.init(host: parsed.host, port: parsed.port, tls: parsed.tls ? TLS() : nil)
        if let username = parsed.username { self.username = username }
        if let password = parsed.password { self.password = password }
        if let virtualHost = parsed.virtualHost { self.virtualHost = virtualHost }
        for (key, value) in parsed.query {
            func integer() throws(AMQPError) -> Int {
                guard let number = Int(value), number >= 0 else {
                    throw .invalidConfiguration("AMQP URI: \(key)=\(value) is not a non-negative integer")
                }
                return number
            }
            func requireTLS() throws(AMQPError) {
                guard tls != nil else { throw .invalidConfiguration("AMQP URI: \(key) needs amqps://") }
            }
            switch key {
            case "heartbeat": heartbeat = .seconds(try integer())
            case "connection_timeout": connectionTimeout = .milliseconds(try integer())
            case "frame_max": frameMax = try integer()
            case "channel_max": channelMax = try integer()
            case "connection_name": connectionName = value
            case "cacertfile":
                try requireTLS()
                tls?.caCertificateFile = value
            case "certfile":
                try requireTLS()
                tls?.certificateFile = value
            case "keyfile":
                try requireTLS()
                tls?.keyFile = value
            case "verify":
                try requireTLS()
                switch value {
                case "verify_peer": tls?.verifyPeer = true
                case "verify_none":
                    tls?.verifyPeer = false
                    tls?.verifyHostname = false
                default: throw .invalidConfiguration("AMQP URI: verify must be verify_peer or verify_none, not \(value)")
                }
            case "server_name_indication":
                try requireTLS()
                if value == "disable" { tls?.verifyHostname = false }
            default:
                throw .invalidConfiguration("AMQP URI: unknown query parameter \(key)")
            }
        }
    }
}

/// The parts of an AMQP URI (https://www.rabbitmq.com/docs/uri-spec), decoded.
struct AMQPURI {
    var tls: Bool
    var host: String
    var port: Int?
    var username: String?
    var password: String?
    /// `nil` when the URI has no path (the default vhost).
    var virtualHost: String?
    var query: [(String, String)] = []

    init(_ uri: String) throws(AMQPError) {
        func fail(_ why: String) -> AMQPError { .invalidConfiguration("AMQP URI \(Self.redact(uri)): \(why)") }
        var rest = Substring(uri)
        if rest.lowercased().hasPrefix("amqps://") {
            tls = true
            rest = rest.dropFirst(8)
        } else if rest.lowercased().hasPrefix("amqp://") {
            tls = false
            rest = rest.dropFirst(7)
        } else {
            throw fail("the scheme must be amqp:// or amqps://")
        }
        if let mark = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: mark)...].split(separator: "&") where !pair.isEmpty {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let key = Self.percentDecode(parts[0]), let value = Self.percentDecode(parts.count > 1 ? parts[1] : "") else {
                    throw fail("bad percent-encoding in the query")
                }
                query.append((key, value))
            }
            rest = rest[..<mark]
        }
        var authority = rest
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            let path = rest[rest.index(after: slash)...]
            guard !path.contains("/") else { throw fail("the vhost must be one path segment (encode / as %2F)") }
            guard let vhost = Self.percentDecode(path) else { throw fail("bad percent-encoding in the vhost") }
            virtualHost = vhost
        }
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            authority = authority[authority.index(after: at)...]
            let parts = userInfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard let user = Self.percentDecode(parts[0]) else { throw fail("bad percent-encoding in the user") }
            username = user
            if parts.count > 1 {
                guard let secret = Self.percentDecode(parts[1]) else { throw fail("bad percent-encoding in the password") }
                password = secret
            }
        }
        var hostPart = authority
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw fail("unclosed [ in the host") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            hostPart = authority[authority.index(after: close)...]
            if !hostPart.isEmpty, !hostPart.hasPrefix(":") { throw fail("junk after the IPv6 address") }
            hostPart = hostPart.dropFirst()
            if !hostPart.isEmpty {
                guard let number = Int(hostPart), (1...65535).contains(number) else { throw fail("bad port \(hostPart)") }
                port = number
            }
        } else {
            if let colon = authority.lastIndex(of: ":") {
                let text = authority[authority.index(after: colon)...]
                hostPart = authority[..<colon]
                if !text.isEmpty {
                    guard let number = Int(text), (1...65535).contains(number) else { throw fail("bad port \(text)") }
                    port = number
                }
            }
            guard let decoded = Self.percentDecode(hostPart) else { throw fail("bad percent-encoding in the host") }
            host = decoded
        }
        if host.isEmpty { host = "localhost" }
    }

    static func percentDecode(_ text: some StringProtocol) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    static func percentEncode(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            let scalar = Unicode.Scalar(byte)
            if byte < 0x80, scalar.properties.isAlphabetic || ("0"..."9").contains(Character(scalar)) || "-._~".unicodeScalars.contains(scalar) {
                result.unicodeScalars.append(scalar)
            } else {
                result += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return result
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The URI with any password replaced, for error messages.
    static func redact(_ uri: String) -> String {
        guard let schemeEnd = uri.range(of: "://"), let at = uri[schemeEnd.upperBound...].lastIndex(of: "@") else { return uri }
        let userInfo = uri[schemeEnd.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return uri }
        return String(uri[..<colon]) + ":***" + String(uri[at...])
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
