import MediadTestSupport
import Foundation
import Testing
@testable import ObjectStorage

/// Credentials, region and endpoint resolved as the AWS SDKs and CLI resolve them.
@Suite("S3Configuration from the environment")
struct ConfigurationTests {
    static let credentialsFile = """
        # comment
        [default]
        aws_access_key_id = DEFAULTKEY
        aws_secret_access_key = defaultsecret

        [work]
        aws_access_key_id=WORKKEY
        aws_secret_access_key=worksecret
        aws_session_token = worktoken
        """
    static let configFile = """
        [default]
        region = eu-north-1

        [profile work]
        region = ap-south-1
        s3 =
          addressing_style = path
          endpoint_url = http://minio.local:9000
        ; comment
        [profile onlyconfig]
        aws_access_key_id = CONFIGKEY
        aws_secret_access_key = configsecret
        endpoint_url = https://ceph.example
        """

    func withFiles(_ body: ([String: String]) throws -> Void) async throws {
        try await TestFiles.withDirectory { directory in
            let credentials = directory.appendingPathComponent("credentials")
            let config = directory.appendingPathComponent("config")
            try Self.credentialsFile.write(to: credentials, atomically: true, encoding: .utf8)
            try Self.configFile.write(to: config, atomically: true, encoding: .utf8)
            try body([
                "HOME": directory.path, "AWS_SHARED_CREDENTIALS_FILE": credentials.path, "AWS_CONFIG_FILE": config.path,
            ])
        }
    }

    @Test("environment variables win over the default profile")
    func environmentVariables() async throws {
        try await withFiles { files in
            var env = files
            env["AWS_ACCESS_KEY_ID"] = "ENVKEY"
            env["AWS_SECRET_ACCESS_KEY"] = "envsecret"
            env["AWS_SESSION_TOKEN"] = "envtoken"
            env["AWS_DEFAULT_REGION"] = "us-west-2"
            env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:5000"
            var configuration = try S3Configuration.fromEnvironment(env)
            #expect(configuration.credentials == S3Credentials(accessKeyID: "ENVKEY", secretAccessKey: "envsecret", sessionToken: "envtoken"))
            #expect(configuration.region == "us-west-2")
            #expect(configuration.endpoint?.absoluteString == "http://127.0.0.1:5000")

            env["AWS_REGION"] = "ca-central-1"
            env["AWS_ENDPOINT_URL_S3"] = "http://127.0.0.1:6000"
            configuration = try S3Configuration.fromEnvironment(env)
            #expect(configuration.region == "ca-central-1", "AWS_REGION before AWS_DEFAULT_REGION")
            #expect(configuration.endpoint?.absoluteString == "http://127.0.0.1:6000", "the S3-specific endpoint first")

            env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true"
            #expect(try S3Configuration.fromEnvironment(env).endpoint == nil)
        }
    }

    @Test("the default profile from the shared files")
    func defaultProfile() async throws {
        try await withFiles { env in
            let configuration = try S3Configuration.fromEnvironment(env)
            #expect(configuration.credentials == S3Credentials(accessKeyID: "DEFAULTKEY", secretAccessKey: "defaultsecret"))
            #expect(configuration.region == "eu-north-1")
            #expect(configuration.endpoint == nil)
            #expect(configuration.addressingStyle == .automatic)
        }
    }

    @Test("AWS_PROFILE selects a profile, with its nested s3 settings")
    func namedProfile() async throws {
        try await withFiles { files in
            var env = files
            env["AWS_PROFILE"] = "work"
            let configuration = try S3Configuration.fromEnvironment(env)
            #expect(configuration.credentials == S3Credentials(accessKeyID: "WORKKEY", secretAccessKey: "worksecret", sessionToken: "worktoken"))
            #expect(configuration.region == "ap-south-1")
            #expect(configuration.addressingStyle == .path)
            #expect(configuration.endpoint?.absoluteString == "http://minio.local:9000")

            env["AWS_ACCESS_KEY_ID"] = "ENVKEY"
            env["AWS_SECRET_ACCESS_KEY"] = "envsecret"
            #expect(try S3Configuration.fromEnvironment(env).credentials?.accessKeyID == "ENVKEY", "environment keys win over AWS_PROFILE")
            #expect(try S3Configuration.fromEnvironment(env, profile: "work").credentials?.accessKeyID == "WORKKEY", "an explicit profile wins")
        }
    }

    @Test("credentials in the config file and a missing profile")
    func configOnlyAndMissing() async throws {
        try await withFiles { files in
            var env = files
            let configuration = try S3Configuration.fromEnvironment(env, profile: "onlyconfig")
            #expect(configuration.credentials?.accessKeyID == "CONFIGKEY")
            #expect(configuration.endpoint?.absoluteString == "https://ceph.example")
            #expect(configuration.region == "us-east-1")
            env["AWS_PROFILE"] = "nope"
            let error = #expect(throws: ObjectStorageError.self) { try S3Configuration.fromEnvironment(env) }
            #expect(error?.code == .invalidConfiguration)
        }
    }

    @Test("no files and no variables: anonymous, us-east-1")
    func nothing() throws {
        let configuration = try S3Configuration.fromEnvironment(["HOME": "/nonexistent-home-\(UUID().uuidString)"])
        #expect(configuration.credentials == nil)
        #expect(configuration.region == "us-east-1")
        #expect(throws: ObjectStorageError.self) { try S3Configuration.fromEnvironment(["AWS_ENDPOINT_URL": "ftp://x", "HOME": "/x"]) }
    }

    @Test("credentials never print their secret")
    func redacted() {
        let text = "\(S3Credentials(accessKeyID: "AK", secretAccessKey: "very-secret", sessionToken: "tok"))"
        #expect(!text.contains("very-secret") && !text.contains("tok\"") && text.contains("AK"))
    }
}
