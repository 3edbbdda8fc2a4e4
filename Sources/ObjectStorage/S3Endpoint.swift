import Foundation

/// Turns a bucket and key into the URL and `Host` header of a request, for
/// path-style and virtual-hosted-style addressing.
struct S3Endpoint: Sendable {
    let scheme: String
    let host: String
    let port: Int?
    let basePath: String
    let style: S3Configuration.AddressingStyle
    let isCustom: Bool

    init(configuration: S3Configuration) {
        if let endpoint = configuration.endpoint {
            scheme = endpoint.scheme?.lowercased() ?? "https"
            host = endpoint.host ?? "localhost"
            port = endpoint.port
            var path = endpoint.path
            while path.hasSuffix("/") { path.removeLast() }
            basePath = path
            isCustom = true
        } else {
            scheme = "https"
            // us-east-1 keeps the global name, as botocore and the CLI use it.
            host = configuration.region == "us-east-1" ? "s3.amazonaws.com" : "s3.\(configuration.region).amazonaws.com"
            port = nil
            basePath = ""
            isCustom = false
        }
        style = configuration.addressingStyle
    }

    /// Where a request goes.
    struct Target: Sendable {
        /// The `Host` header value (with a non-default port).
        var hostHeader: String
        /// The percent-encoded path as sent and signed.
        var path: String
        /// `scheme://host:port` to connect to.
        var origin: String
    }

    func target(bucket: String?, key: String?) -> Target {
        let encodedKey = key.map { S3Encoding.uriEncode($0, keepSlash: true) } ?? ""
        var requestHost = host
        var path = basePath
        if let bucket, !bucket.isEmpty {
            if usesVirtualHost(bucket: bucket) {
                requestHost = "\(bucket).\(host)"
                path += "/" + encodedKey
            } else {
                path += "/" + S3Encoding.uriEncode(bucket, keepSlash: false)
                path += key == nil ? "" : "/" + encodedKey
            }
        } else {
            path += "/"
        }
        let bracketed = requestHost.contains(":") ? "[\(requestHost)]" : requestHost
        let defaultPort = scheme == "https" ? 443 : 80
        let hostHeader = port.map { $0 == defaultPort ? bracketed : "\(bracketed):\($0)" } ?? bracketed
        return Target(hostHeader: hostHeader, path: path, origin: "\(scheme)://\(hostHeader)")
    }

    func usesVirtualHost(bucket: String) -> Bool {
        switch style {
        case .path: return false
        case .virtualHosted: return true
        case .automatic: return !isCustom && Self.isDNSCompatible(bucket) && !(scheme == "https" && bucket.contains("."))
        }
    }

    /// Lowercase letters, digits, dots and hyphens, 3 to 63 long, starting and
    /// ending with a letter or digit, not an IP address: usable as a host label.
    static func isDNSCompatible(_ bucket: String) -> Bool {
        let bytes = Array(bucket.utf8)
        guard (3...63).contains(bytes.count) else { return false }
        let allowed = bytes.allSatisfy { byte in
            (97...122).contains(byte) || (48...57).contains(byte) || byte == 45 || byte == 46
        }
        guard allowed, let first = bytes.first, let last = bytes.last, first != 45, first != 46, last != 45, last != 46
        else { return false }
        if bucket.contains("..") { return false }
        let labels = bucket.split(separator: ".")
        return !(labels.count == 4 && labels.allSatisfy { Int($0) != nil })
    }
}
