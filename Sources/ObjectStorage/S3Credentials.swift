/// AWS credentials: a long-term key pair, or temporary ones with a session token.
public struct S3Credentials: Sendable, Hashable, CustomStringConvertible {
    /// `AWS_ACCESS_KEY_ID`.
    public var accessKeyID: String
    /// `AWS_SECRET_ACCESS_KEY`; never printed.
    public var secretAccessKey: String
    /// `AWS_SESSION_TOKEN`, for temporary credentials (sent as `x-amz-security-token`).
    public var sessionToken: String?

    /// Creates credentials.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// Shows the key id only, so credentials can be logged safely.
    public var description: String {
        "S3Credentials(accessKeyID: \(accessKeyID), secret: <redacted>\(sessionToken == nil ? "" : ", session token: <redacted>"))"
    }
}
