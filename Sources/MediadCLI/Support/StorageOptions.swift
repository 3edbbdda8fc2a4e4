import ArgumentParser
import Foundation
import ObjectStorage

/// S3 connection options; unset ones come from the standard AWS environment and profile
/// (`AWS_ACCESS_KEY_ID`, `AWS_REGION`, `AWS_ENDPOINT_URL_S3`, `AWS_PROFILE`, ~/.aws/credentials).
struct StorageOptions: ParsableArguments {
    @Option(name: .long, help: "S3 endpoint URL (MinIO, Ceph, moto); default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL or AWS.")
    var endpoint: String?

    @Option(name: .long, help: "S3 region; default: AWS_REGION, AWS_DEFAULT_REGION or the profile's.")
    var region: String?

    @Option(name: .long, help: "Profile of the shared AWS config and credentials files; default: AWS_PROFILE.")
    var profile: String?

    @Flag(name: .long, help: "Address buckets in the path (https://host/bucket/key) even on AWS.")
    var pathStyle = false

    func configuration() throws -> S3Configuration {
        var configuration = try S3Configuration.fromEnvironment(ProcessInfo.processInfo.environment, profile: profile)
        if let endpoint { configuration.endpoint = try S3Configuration.parseEndpoint(endpoint) }
        if let region { configuration.region = region }
        if pathStyle { configuration.addressingStyle = .path }
        return configuration
    }

    /// Runs `body` with an S3 store that is shut down afterwards, whatever happens.
    func withStore<T: Sendable>(_ body: (S3ObjectStore) async throws -> T) async throws -> T {
        let store = S3ObjectStore(configuration: try configuration())
        do {
            let result = try await body(store)
            try await store.shutdown()
            return result
        } catch {
            try? await store.shutdown()
            throw error
        }
    }
}
