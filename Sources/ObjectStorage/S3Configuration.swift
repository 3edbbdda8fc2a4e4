import Foundation

/// Everything an `S3ObjectStore` needs: where the server is, who we are, and how
/// transfers behave. A value type: build one, adjust it, hand it to the store.
public struct S3Configuration: Sendable {
    /// How bucket names go into URLs.
    public enum AddressingStyle: String, Sendable, Hashable {
        /// Virtual-hosted on AWS when the bucket name allows it; path-style with a
        /// custom endpoint (MinIO, moto, Ceph) or a bucket name that is not DNS-safe.
        case automatic
        /// `https://endpoint/bucket/key`.
        case path
        /// `https://bucket.endpoint/key`.
        case virtualHosted
    }

    /// The signing region, such as `eu-west-1`.
    public var region: String
    /// A custom endpoint (`http://127.0.0.1:9000`); `nil` means AWS for `region`.
    public var endpoint: URL?
    /// Credentials to sign with; `nil` sends anonymous (unsigned) requests.
    public var credentials: S3Credentials?
    /// How bucket names go into URLs.
    public var addressingStyle: AddressingStyle
    /// Files larger than this are uploaded in parts.
    public var multipartThreshold: Int64
    /// Size of each part (raised when an object would need more than 10,000 parts;
    /// S3 wants at least 5 MiB for all parts but the last).
    public var partSize: Int64
    /// Parts uploaded at once, per object.
    public var multipartConcurrency: Int
    /// Objects larger than this are copied in parts (UploadPartCopy, `partSize`
    /// each): CopyObject takes at most 5 GiB, the default.
    public var copyMultipartThreshold: Int64
    /// How transient failures are retried.
    public var retry: RetryPolicy
    /// Time to establish a connection.
    public var connectTimeout: Duration
    /// Longest wait for the next bytes of a response (not for the whole transfer).
    public var readTimeout: Duration
    /// Connections kept per host.
    public var maxConnectionsPerHost: Int

    /// Creates a configuration with production defaults: 64 MiB multipart threshold,
    /// 16 MiB parts, 4 parallel parts, copies in parts above 5 GiB, 5 attempts.
    public init(
        region: String = "us-east-1",
        endpoint: URL? = nil,
        credentials: S3Credentials? = nil,
        addressingStyle: AddressingStyle = .automatic,
        multipartThreshold: Int64 = 64 << 20,
        partSize: Int64 = 16 << 20,
        multipartConcurrency: Int = 4,
        copyMultipartThreshold: Int64 = 5 << 30,
        retry: RetryPolicy = .default,
        connectTimeout: Duration = .seconds(10),
        readTimeout: Duration = .seconds(60),
        maxConnectionsPerHost: Int = 16
    ) {
        self.region = region
        self.endpoint = endpoint
        self.credentials = credentials
        self.addressingStyle = addressingStyle
        self.multipartThreshold = multipartThreshold
        self.partSize = partSize
        self.multipartConcurrency = multipartConcurrency
        self.copyMultipartThreshold = copyMultipartThreshold
        self.retry = retry
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.maxConnectionsPerHost = maxConnectionsPerHost
    }
}
