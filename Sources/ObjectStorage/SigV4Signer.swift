import Crypto
import Foundation
import NIOHTTP1

/// AWS Signature Version 4, as S3 verifies it: the path is encoded once and never
/// normalised, and the payload hash travels in `x-amz-content-sha256`.
///
/// Hand-written (no SDK on Linux here) and checked against botocore and the S3
/// documentation's example signatures in the tests.
public struct SigV4Signer: Sendable {
    /// Who signs.
    public var credentials: S3Credentials
    /// The region in the credential scope.
    public var region: String
    /// The service in the credential scope (`s3`).
    public var service: String

    /// The payload hash for bodies that are not hashed (presigned URLs).
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// Headers never signed (botocore's list): proxies and HTTP stacks change or add them.
    static let unsignedHeaders: Set<String> = [
        "authorization", "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
        "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
    ]

    /// Creates a signer.
    public init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// One query parameter, not yet percent-encoded.
    public struct QueryItem: Sendable, Hashable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// A request as the signer sees it.
    public struct Request: Sendable {
        /// `GET`, `PUT`, ...
        public var method: String
        /// The path exactly as sent, already percent-encoded (see `S3ObjectStore` for keys).
        public var path: String
        /// Query parameters, not encoded: the signer encodes them the one way S3 accepts.
        public var query: [QueryItem]
        /// Headers to sign; must contain `host` as sent.
        public var headers: HTTPHeaders
        /// Hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
        public var payloadHash: String

        /// Creates a request to sign.
        public init(method: String, path: String, query: [QueryItem] = [], headers: HTTPHeaders, payloadHash: String) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.payloadHash = payloadHash
        }
    }

    /// The intermediate and final values, for tests and for debugging a mismatch
    /// against the server's `CanonicalRequest` in a `SignatureDoesNotMatch` answer.
    public struct Signature: Sendable, Hashable {
        public var canonicalRequest: String
        public var stringToSign: String
        public var signedHeaders: String
        public var signature: String
        public var authorization: String
    }

    /// Signs a request in place: sets `x-amz-date`, `x-amz-content-sha256`,
    /// `x-amz-security-token` (temporary credentials) and `Authorization`.
    @discardableResult
    public func sign(_ request: inout Request, date: Date) -> Signature {
        let timestamp = HTTPDate.amzDate(date)
        for name in ["authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"] {
            request.headers.remove(name: name)
        }
        request.headers.add(name: "x-amz-date", value: timestamp)
        request.headers.add(name: "x-amz-content-sha256", value: request.payloadHash)
        if let token = credentials.sessionToken {
            request.headers.add(name: "x-amz-security-token", value: token)
        }
        var signature = compute(request, canonicalQuery: canonicalQuery(request.query), timestamp: timestamp)
        signature.authorization =
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope(timestamp)), "
            + "SignedHeaders=\(signature.signedHeaders), Signature=\(signature.signature)"
        request.headers.add(name: "authorization", value: signature.authorization)
        return signature
    }

    /// A presigned query string (without `?`): the request's own parameters plus the
    /// `X-Amz-*` ones, `X-Amz-Signature` last. Only `host` (and headers the caller
    /// puts in `request.headers`) are signed; the payload is `UNSIGNED-PAYLOAD`.
    public func presignedQuery(_ request: Request, date: Date, expires: Duration) -> (query: String, signature: Signature) {
        let timestamp = HTTPDate.amzDate(date)
        var items = request.query
        items.append(QueryItem("X-Amz-Algorithm", "AWS4-HMAC-SHA256"))
        items.append(QueryItem("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope(timestamp))"))
        items.append(QueryItem("X-Amz-Date", timestamp))
        items.append(QueryItem("X-Amz-Expires", String(expires.components.seconds)))
        items.append(QueryItem("X-Amz-SignedHeaders", signedHeaderNames(request.headers).joined(separator: ";")))
        if let token = credentials.sessionToken {
            items.append(QueryItem("X-Amz-Security-Token", token))
        }
        var unsigned = request
        unsigned.payloadHash = Self.unsignedPayload
        let query = canonicalQuery(items)
        let signature = compute(unsigned, canonicalQuery: query, timestamp: timestamp)
        return (query + "&X-Amz-Signature=" + signature.signature, signature)
    }

    // MARK: - Canonical forms

    func canonicalQuery(_ items: [QueryItem]) -> String {
        let encoded: [(name: String, value: String)] = items.map { item in
            (S3Encoding.uriEncode(item.name, keepSlash: false), S3Encoding.uriEncode(item.value, keepSlash: false))
        }
        let sorted = encoded.sorted { lhs, rhs in
            lhs.name == rhs.name ? lhs.value < rhs.value : lhs.name < rhs.name
        }
        return sorted.map { $0.name + "=" + $0.value }.joined(separator: "&")
    }

    private func signedHeaderNames(_ headers: HTTPHeaders) -> [String] {
        Set(headers.map { $0.name.lowercased() }).subtracting(Self.unsignedHeaders).sorted()
    }

    private func compute(_ request: Request, canonicalQuery: String, timestamp: String) -> Signature {
        let names = signedHeaderNames(request.headers)
        let canonicalHeaders = names.map { name in
            let values = request.headers[name].map { value in
                value.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
            }
            return "\(name):\(values.joined(separator: ","))\n"
        }.joined()
        let signedHeaders = names.joined(separator: ";")
        let canonicalRequest = [
            request.method.uppercased(), request.path, canonicalQuery, canonicalHeaders, signedHeaders,
            request.payloadHash,
        ].joined(separator: "\n")
        let stringToSign = [
            "AWS4-HMAC-SHA256", timestamp, scope(timestamp),
            S3Encoding.hex(SHA256.hash(data: Data(canonicalRequest.utf8))),
        ].joined(separator: "\n")
        let signature = S3Encoding.hex(
            HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: signingKey(day: String(timestamp.prefix(8)))))
        return Signature(
            canonicalRequest: canonicalRequest, stringToSign: stringToSign, signedHeaders: signedHeaders,
            signature: signature, authorization: "")
    }

    private func scope(_ timestamp: String) -> String {
        "\(timestamp.prefix(8))/\(region)/\(service)/aws4_request"
    }

    private func signingKey(day: String) -> SymmetricKey {
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return key
    }
}
