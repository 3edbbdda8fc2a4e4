import Foundation
import MediadTestSupport
@testable import ObjectStorage

/// A moto S3 server on loopback, started by `scripts/storage/moto_harness.py`.
///
/// The harness prints the server's address and credentials, then stops the server
/// when its stdin closes: when `stop()` runs, or when the test process dies.
final class MotoServer: Sendable {
    /// Which server.
    enum Kind: String, Sendable, Hashable {
        /// Verifies SigV4 (IAM user, access key and policy created at start).
        case verifying
        /// Accepts anything, with the fault-injecting proxy in front: for keys moto
        /// cannot verify (`+ % ; = & ~`, non-ASCII) and for retry tests.
        case plain
    }

    typealias Info = MotoHarness.Info

    let kind: Kind
    private let harness: MotoHarness
    var info: Info { harness.info }

    private init(kind: Kind, harness: MotoHarness) {
        self.kind = kind
        self.harness = harness
    }

    /// Starts a server; throws with the harness's stderr when it cannot.
    static func start(_ kind: Kind) async throws -> MotoServer {
        MotoServer(kind: kind, harness: try await MotoHarness.start(kind == .verifying ? .verifying : .plainWithProxy))
    }

    /// Stops the server and waits for the harness to exit.
    func stop() async {
        let harness = harness
        _ = try? await onOwnThread { harness.stop() }
    }

    var endpoint: URL { URL(string: info.endpoint)! }
    var proxyEndpoint: URL? { info.proxyEndpoint.flatMap(URL.init(string:)) }

    var credentials: S3Credentials {
        S3Credentials(accessKeyID: info.accessKeyId, secretAccessKey: info.secretAccessKey)
    }

    /// A configuration for this server, with fast retries and small parts for tests.
    func configuration(throughProxy: Bool = false) -> S3Configuration {
        var configuration = S3Configuration(
            region: info.region, endpoint: throughProxy ? proxyEndpoint : endpoint, credentials: credentials)
        configuration.retry = RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(10), maxDelay: .milliseconds(200))
        configuration.readTimeout = .seconds(20)
        return configuration
    }
}
