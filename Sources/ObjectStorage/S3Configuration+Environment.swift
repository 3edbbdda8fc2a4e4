import Foundation

extension S3Configuration {
    /// Builds a configuration the way the AWS SDKs and CLI do, so that mediad runs
    /// wherever `aws s3` runs:
    ///
    /// - credentials: `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`,
    ///   else the profile's keys in the shared credentials file
    ///   (`AWS_SHARED_CREDENTIALS_FILE`, default `~/.aws/credentials`), else in the
    ///   config file (`AWS_CONFIG_FILE`, default `~/.aws/config`). An explicit
    ///   `profile` argument (like `--profile`) wins over the environment keys.
    /// - profile: `profile`, else `AWS_PROFILE`, else `AWS_DEFAULT_PROFILE`, else `default`.
    /// - region: `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the profile's `region`,
    ///   else `us-east-1`.
    /// - endpoint: `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`, else the profile's
    ///   `s3.endpoint_url` or `endpoint_url` (all ignored when
    ///   `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`).
    /// - addressing style: the profile's `s3.addressing_style` (`auto`, `path`, `virtual`).
    ///
    /// - Throws: `.invalidConfiguration` when a named profile exists in neither file,
    ///   or an endpoint is not an http(s) URL.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment,
        profile: String? = nil
    ) throws(ObjectStorageError) -> S3Configuration {
        func env(_ name: String) -> String? {
            guard let value = environment[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else {
                return nil
            }
            return value
        }
        let home = env("HOME") ?? NSHomeDirectory()
        func expand(_ path: String) -> String {
            path.hasPrefix("~/") ? home + path.dropFirst() : path
        }
        let credentialsFile = try AWSProfileFile.load(
            path: expand(env("AWS_SHARED_CREDENTIALS_FILE") ?? "~/.aws/credentials"), kind: .credentials)
        let configFile = try AWSProfileFile.load(
            path: expand(env("AWS_CONFIG_FILE") ?? "~/.aws/config"), kind: .config)

        let namedProfile = profile ?? env("AWS_PROFILE") ?? env("AWS_DEFAULT_PROFILE")
        let profileName = namedProfile ?? "default"
        let fromCredentials = credentialsFile.profiles[profileName]
        let fromConfig = configFile.profiles[profileName]
        if let namedProfile, fromCredentials == nil, fromConfig == nil {
            throw ObjectStorageError(.invalidConfiguration, "AWS profile '\(namedProfile)' is not in the shared files")
        }
        let s3Settings = configFile.nested[profileName]?["s3"] ?? [:]

        var configuration = S3Configuration()
        configuration.credentials = Self.credentials(
            environment: profile == nil ? env : { _ in nil },
            files: [fromCredentials ?? [:], fromConfig ?? [:]]
        )
        configuration.region = env("AWS_REGION") ?? env("AWS_DEFAULT_REGION") ?? fromConfig?["region"] ?? "us-east-1"

        if env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")?.lowercased() != "true" {
            let endpoint = env("AWS_ENDPOINT_URL_S3") ?? env("AWS_ENDPOINT_URL")
                ?? s3Settings["endpoint_url"] ?? fromConfig?["endpoint_url"]
            if let endpoint {
                configuration.endpoint = try parseEndpoint(endpoint)
            }
        }
        switch s3Settings["addressing_style"]?.lowercased() {
        case "path": configuration.addressingStyle = .path
        case "virtual": configuration.addressingStyle = .virtualHosted
        default: configuration.addressingStyle = .automatic
        }
        return configuration
    }

    /// Checks that an endpoint is an absolute http(s) URL with a host.
    public static func parseEndpoint(_ text: String) throws(ObjectStorageError) -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty
        else {
            throw ObjectStorageError(.invalidConfiguration, "endpoint '\(text)' is not an http(s) URL")
        }
        return url
    }

    private static func credentials(environment env: (String) -> String?, files: [[String: String]])
        -> S3Credentials?
    {
        if let key = env("AWS_ACCESS_KEY_ID"), let secret = env("AWS_SECRET_ACCESS_KEY") {
            return S3Credentials(
                accessKeyID: key, secretAccessKey: secret,
                sessionToken: env("AWS_SESSION_TOKEN") ?? env("AWS_SECURITY_TOKEN"))
        }
        for settings in files {
            if let key = settings["aws_access_key_id"], let secret = settings["aws_secret_access_key"],
                !key.isEmpty, !secret.isEmpty
            {
                let token = settings["aws_session_token"] ?? settings["aws_security_token"]
                return S3Credentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token)
            }
        }
        return nil
    }
}
