import AsyncHTTPClient

/// The one error every ObjectStorage operation throws, so that callers decide on
/// retries and messages without knowing which store (S3 or local) they talk to.
public struct ObjectStorageError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, independent of the backend. Not frozen: new codes may appear.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The object (or multipart upload) does not exist.
        public static let notFound = Code("notFound")
        /// The bucket does not exist.
        public static let noSuchBucket = Code("noSuchBucket")
        /// The credentials are valid but not allowed, or unknown to the server.
        public static let accessDenied = Code("accessDenied")
        /// The server computed another signature: wrong secret or a signing bug.
        public static let signatureMismatch = Code("signatureMismatch")
        /// The server asked us to slow down (503 SlowDown, 429).
        public static let throttled = Code("throttled")
        /// The request never got an answer: connection refused or reset, timeout.
        public static let network = Code("network")
        /// The server failed (5xx).
        public static let serverError = Code("serverError")
        /// Bytes did not match their size, ETag or checksum.
        public static let integrity = Code("integrity")
        /// A conditional request failed: the object changed (ETag mismatch).
        public static let preconditionFailed = Code("preconditionFailed")
        /// The caller passed something the store cannot take (bad key, metadata, name).
        public static let invalidArgument = Code("invalidArgument")
        /// The configuration is unusable (missing profile, bad endpoint, wrong region).
        public static let invalidConfiguration = Code("invalidConfiguration")
        /// Any other request the server refused (another 4xx).
        public static let requestRejected = Code("requestRejected")
        /// The server answered something we could not understand.
        public static let unexpectedResponse = Code("unexpectedResponse")
        /// A local file could not be read or written.
        public static let fileSystem = Code("fileSystem")
        /// The surrounding task was cancelled.
        public static let cancelled = Code("cancelled")
    }

    /// What went wrong.
    public var code: Code
    /// A human-readable explanation, with the server's message when there is one.
    public var message: String
    /// The S3 request id (`x-amz-request-id`), to quote in a support case.
    public var requestID: String?
    /// The HTTP status, when the server answered.
    public var httpStatus: Int?
    /// The server's own error code, such as `NoSuchKey` or `SlowDown`.
    public var serviceCode: String?
    /// Whether trying the same request again may succeed.
    public var isRetryable: Bool
    /// Where the error was created.
    public var file: String
    /// Where the error was created.
    public var line: Int

    /// Creates an error; `file`/`line` default to the call site.
    public init(
        _ code: Code,
        _ message: String,
        requestID: String? = nil,
        httpStatus: Int? = nil,
        serviceCode: String? = nil,
        isRetryable: Bool = false,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.requestID = requestID
        self.httpStatus = httpStatus
        self.serviceCode = serviceCode
        self.isRetryable = isRetryable
        self.file = file
        self.line = line
    }

    public var description: String {
        var text = "ObjectStorageError.\(code): \(message)"
        if let serviceCode { text += " [\(serviceCode)]" }
        if let httpStatus { text += " (HTTP \(httpStatus))" }
        if let requestID { text += " request-id=\(requestID)" }
        return text
    }
}

extension ObjectStorageError {
    /// Maps any error met inside an operation to an `ObjectStorageError`; transport
    /// failures become retryable `.network` errors.
    static func wrap(_ error: any Error, _ context: String, file: String = #fileID, line: Int = #line)
        -> ObjectStorageError
    {
        if let error = error as? ObjectStorageError { return error }
        if error is CancellationError {
            return ObjectStorageError(.cancelled, "\(context): cancelled", file: file, line: line)
        }
        if let error = error as? HTTPClientError {
            if error == .cancelled {
                return ObjectStorageError(.cancelled, "\(context): cancelled", file: file, line: line)
            }
            if error == .invalidURL || error == .emptyHost || error == .emptyScheme {
                return ObjectStorageError(.invalidConfiguration, "\(context): \(error)", file: file, line: line)
            }
            return ObjectStorageError(.network, "\(context): \(error)", isRetryable: true, file: file, line: line)
        }
        return ObjectStorageError(.network, "\(context): \(error)", isRetryable: true, file: file, line: line)
    }

    /// A local file-system failure.
    static func fileSystem(_ message: String, _ error: (any Error)? = nil, file: String = #fileID, line: Int = #line)
        -> ObjectStorageError
    {
        let detail = error.map { ": \($0)" } ?? ""
        return ObjectStorageError(.fileSystem, message + detail, file: file, line: line)
    }
}
