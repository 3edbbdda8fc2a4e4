/// The configuration reference, generated from `Settings.all` so that docs cannot drift.
public enum ConfigurationReference {
    public static func markdown() -> String {
        let defaults = DaemonConfiguration()
        var lines = [
            "| setting (file key) | environment | flag | default | meaning |",
            "| --- | --- | --- | --- | --- |",
        ]
        for setting in Settings.all {
            var value = setting.value(in: defaults) ?? "(unset)"
            if setting.key == "concurrency" { value = "number of cores" }
            if setting.key == "queueDepth" { value = "3 × concurrency" }
            if setting.key == "instance" { value = "host name" }
            if setting.key == "scratchDirectory" { value = "system temporary directory" }
            lines.append("| `\(setting.key)` | `\(setting.environmentVariable)` | `\(setting.flag)` or `--set \(setting.key)=…` | `\(value)` | \(setting.help) |")
        }
        lines.append("| `kafka` (map) | `MEDIAD_KAFKA_<KEY>` (`_` for `.`) | `--kafka key=value` | | Any librdkafka setting, passed through. |")
        return lines.joined(separator: "\n")
    }
}
