import Foundation

/// The configuration reference (`docs/configuration.md`), generated from `Settings.all` so
/// that the documentation cannot drift: `mediad config reference > docs/configuration.md`
/// regenerates it, and a test compares the committed page with this text.
public enum ConfigurationReference {
    /// Settings that `mediad serve` also takes as a flag of their own (`ServeOptions`); every
    /// other setting is set with `--set key=value`. A test compares this list with
    /// `mediad serve --help`.
    public static let namedFlags: Set<String> = [
        "brokers", "group", "topic", "outputTopic", "dlqTopic", "concurrency", "derivativesBucket", "allowedBuckets", "httpPort", "pipelines",
    ]

    /// The whole page, Markdown.
    public static func markdown() -> String {
        (header + [table()] + footer).joined(separator: "\n\n")
    }

    /// One row per setting: file key, environment variable, flag, default, meaning.
    public static func table() -> String {
        let defaults = DaemonConfiguration()
        var lines = [
            "| setting (file key) | environment variable | flag | default | meaning |",
            "| --- | --- | --- | --- | --- |",
        ]
        for setting in Settings.all {
            let flag = namedFlags.contains(setting.key) ? "`\(setting.flag)`, `--set \(setting.key)=…`" : "`--set \(setting.key)=…`"
            let cells = ["`\(setting.key)`", "`\(setting.environmentVariable)`", flag, defaultText(setting, defaults), escaped(setting.help)]
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        lines.append("| `kafka` (map) | `MEDIAD_KAFKA_<KEY>` | `--kafka key=value` | | Any librdkafka property, passed through (see below). |")
        return lines.joined(separator: "\n")
    }

    /// Defaults that depend on the machine are described, not printed.
    private static func defaultText(_ setting: Setting, _ defaults: DaemonConfiguration) -> String {
        switch setting.key {
        case "concurrency": return "number of cores"
        case "queueDepth": return "3 × concurrency"
        case "instance": return "host name"
        case "scratchDirectory": return "system temporary directory"
        default:
            guard let value = setting.value(in: defaults) else { return "(unset)" }
            return value.isEmpty ? "(empty)" : "`\(escaped(value))`"
        }
    }

    /// A table cell cannot hold a bare `|`.
    private static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|")
    }

    private static let header = [
        "# Configuration reference",
        """
        <!-- Generated from the settings table (Sources/Daemon/Configuration/Settings.swift); do not edit.
             Regenerate: swift run mediad config reference > docs/configuration.md -->
        """,
        """
        `mediad serve` reads its settings from four sources; a later one wins:

        1. the defaults below;
        2. a YAML file of `key: value` lines (`--config FILE`, or the file `MEDIAD_CONFIG` names);
        3. environment variables: `MEDIAD_` and the key in upper snake case (`derivativesBucket` is
           `MEDIAD_DERIVATIVES_BUCKET`);
        4. flags: `--set key=value` for any setting, and a flag of its own for the common ones.

        `mediad config print` (same flags as `serve`) shows every effective value and where it came
        from, secrets masked. A bad value stops start-up with the setting, its source and the
        reason; an unknown key in the file is an error with a "did you mean" hint. Durations take
        `ms`, `s`, `m` or `h` (`30s`, `5m`); lists are comma-separated (a YAML list in the file).
        `mediad reprocess` and `mediad dlq` take the same settings and flags, so they find the same
        storage, pipelines, brokers and topics.
        """,
    ]

    private static let footer = [
        """
        ## librdkafka properties

        Any librdkafka property (security, SASL, timeouts, batching) passes through unchanged to
        the consumer and the producer: a `kafka:` map in the file, `MEDIAD_KAFKA_<KEY>` with the
        key upper-cased and `_` for `.` (`MEDIAD_KAFKA_SECURITY_PROTOCOL=SASL_SSL` is
        `security.protocol`), or `--kafka key=value`. `mediad config print` masks values whose
        key mentions a password or a secret.
        """,
        """
        ## S3 endpoint and credentials

        When the `s3*` settings are unset, the standard AWS sources apply, as in the AWS CLI:
        `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`, `AWS_REGION` or `AWS_DEFAULT_REGION`,
        `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, then the shared
        credentials and config files (`AWS_PROFILE`). MinIO and other S3-compatible servers need
        `s3Endpoint` and usually `s3PathStyle: true`.
        """,
        """
        ## Example

        ```yaml
        # mediad.yaml: mediad serve --config mediad.yaml
        brokers: kafka-1:9092,kafka-2:9092,kafka-3:9092
        concurrency: 4
        videoJobWeight: 2
        allowedBuckets: [uploads]
        defaultBucket: uploads
        s3Endpoint: https://minio.internal:9000
        s3PathStyle: true
        logFormat: json
        kafka:
          security.protocol: SASL_SSL
          sasl.mechanism: SCRAM-SHA-512
          sasl.username: mediad
        ```
        """,
    ]
}
