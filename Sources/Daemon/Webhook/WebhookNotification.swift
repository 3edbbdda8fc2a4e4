import Foundation

/// What the intake checks of a body before it hands it to the broker unchanged: that it is
/// a bucket notification at all. The records themselves are decoded by the consumer like any
/// notification from Kafka or RabbitMQ, so one decoder decides (and dead-letters) for every route.
struct WebhookNotification: Sendable {
    /// `bucket/key` of the object, for the record key: MinIO's own `Key`, which its Kafka
    /// target uses as the message key too, so one object's notifications share a partition
    /// whichever way they come.
    var key: String?
    /// AWS's `s3:TestEvent` (sent when notifications are configured): nothing to publish.
    var isTestEvent = false

    /// Why a body is not a notification, in a few words for the 400 answer.
    struct Rejection: Error, Sendable {
        var reason: String
    }

    /// - Throws: `Rejection` for a body that is not JSON, or a JSON value that is not an
    ///   object with a non-empty `Records` list.
    init(body: [UInt8]) throws(Rejection) {
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(body))
        } catch {
            throw Rejection(reason: body.isEmpty ? "the body is empty" : "the body is not JSON")
        }
        guard let object = json as? [String: Any] else {
            throw Rejection(reason: "the body is JSON but not an object")
        }
        if object["Records"] == nil, object["Event"] as? String == "s3:TestEvent" {
            isTestEvent = true
            return
        }
        guard let records = object["Records"] as? [Any], let first = records.first as? [String: Any] else {
            throw Rejection(reason: "not an S3 bucket notification: no Records list")
        }
        key = (object["Key"] as? String) ?? Self.objectKey(of: first)
    }

    /// `bucket/key` of an AWS-style record (whose key is URL-encoded, `+` for a space).
    private static func objectKey(of record: [String: Any]) -> String? {
        guard let s3 = record["s3"] as? [String: Any],
              let bucket = (s3["bucket"] as? [String: Any])?["name"] as? String,
              let encoded = (s3["object"] as? [String: Any])?["key"] as? String
        else { return nil }
        return "\(bucket)/\(encoded.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? encoded)"
    }
}
