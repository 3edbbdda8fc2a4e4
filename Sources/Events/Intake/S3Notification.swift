import Crypto
import Foundation

/// S3 event notifications as AWS writes them and as MinIO publishes them to Kafka
/// (`{"EventName": "s3:ObjectCreated:Put", "Key": "bucket/key", "Records": [...]}`).
enum S3Notification {
    static func decode(_ object: [String: Any], intake: EventIntake, encoding: UploadEvent.Encoding) throws(IntakeError) -> IntakeResult {
        if let event = object["Event"] as? String, event == "s3:TestEvent" {
            return IntakeResult(ignored: ["s3:TestEvent"])
        }
        guard let records = object["Records"] as? [Any] else {
            throw IntakeError(object["Records"] == nil ? .missingField : .invalidField, "field 'Records' must be a list")
        }
        guard !records.isEmpty else { throw IntakeError(.invalidField, "field 'Records' is empty") }
        var events: [UploadEvent] = []
        var deletions: [DeleteEvent] = []
        var ignored: [String] = []
        for (index, item) in records.enumerated() {
            guard let record = item as? [String: Any] else {
                throw IntakeError(.invalidField, "Records[\(index)] must be an object")
            }
            let eventName = (record["eventName"] as? String) ?? ""
            switch kind(of: eventName) {
            case .created: events.append(try upload(record, path: "Records[\(index)].", encoding: encoding))
            case .removed: deletions.append(try removal(record, path: "Records[\(index)].", encoding: encoding))
            case .other:
                if eventName.isEmpty { throw IntakeError(.missingField, "field 'Records[\(index)].eventName' is required") }
                ignored.append("Records[\(index)]: \(eventName) is neither an upload nor a removal")
            }
        }
        var result = try intake.admit(events, deletions: deletions)
        result.ignored += ignored
        return result
    }

    private enum Kind { case created, removed, other }

    /// `s3:ObjectCreated:*` (MinIO, AWS) or `ObjectCreated:*` (the CloudEvents form), and the
    /// same for `ObjectRemoved:Delete` and `ObjectRemoved:DeleteMarkerCreated`.
    private static func kind(of eventName: String) -> Kind {
        let name = eventName.hasPrefix("s3:") ? String(eventName.dropFirst(3)) : eventName
        if name.hasPrefix("ObjectCreated:") { return .created }
        if name.hasPrefix("ObjectRemoved:") { return .removed }
        return .other
    }

    /// The CloudEvents form: `type` `com.amazonaws.s3.ObjectCreated:Put`, `subject` the key, `data` the record.
    static func decodeCloudEvent(type: String, subject: String?, data: Any?, intake: EventIntake) throws(IntakeError) -> IntakeResult {
        let kind = kind(of: String(type.dropFirst("com.amazonaws.s3.".count)))
        guard kind != .other else {
            throw IntakeError(.unsupportedEventType, "CloudEvent type '\(type)' is neither an object-created nor an object-removed event")
        }
        guard let record = data as? [String: Any] else {
            throw IntakeError(data == nil ? .missingField : .invalidField, "field 'data' must be the S3 event record")
        }
        if record["Records"] != nil {
            return try decode(record, intake: intake, encoding: .cloudEventS3)
        }
        if kind == .removed {
            return try intake.admit([], deletions: [removal(record, path: "data.", encoding: .cloudEventS3)])
        }
        var event = try upload(record, path: "data.", encoding: .cloudEventS3)
        if let subject, event.key.isEmpty { event.key = subject }
        return try intake.admit([event])
    }

    /// A removal record: it names the key but no ETag (the object is gone); its sequencer
    /// orders it against uploads of the same key.
    private static func removal(_ record: [String: Any], path: String, encoding: UploadEvent.Encoding) throws(IntakeError) -> DeleteEvent {
        let (bucket, key, fields) = try location(record, path: path)
        let sequencer = try fields.optionalString("sequencer")
        return DeleteEvent(fileId: stableFileId(bucket: bucket, key: key), bucket: bucket, key: key, sequencer: sequencer, encoding: encoding, eventId: sequencer)
    }

    /// The bucket and decoded key of a record, and its `s3.object` fields.
    private static func location(_ record: [String: Any], path: String) throws(IntakeError) -> (String, String, JSONFields) {
        guard let s3 = record["s3"] as? [String: Any] else {
            throw IntakeError(.missingField, "field '\(path)s3' is required")
        }
        guard let bucketObject = s3["bucket"] as? [String: Any] else { throw IntakeError(.missingField, "field '\(path)s3.bucket' is required") }
        guard let object = s3["object"] as? [String: Any] else { throw IntakeError(.missingField, "field '\(path)s3.object' is required") }
        let bucket = try JSONFields(bucketObject, path: "\(path)s3.bucket.").requiredString("name")
        let fields = JSONFields(object, path: "\(path)s3.object.")
        let encodedKey = try fields.requiredString("key")
        guard let key = decodeKey(encodedKey) else {
            throw IntakeError(.invalidField, "field '\(path)s3.object.key' is not valid URL encoding: \(encodedKey)")
        }
        return (bucket, key, fields)
    }

    private static func upload(_ record: [String: Any], path: String, encoding: UploadEvent.Encoding) throws(IntakeError) -> UploadEvent {
        let (bucket, key, fields) = try location(record, path: path)
        var etagValue = try fields.optionalString("eTag")
        if etagValue == nil { etagValue = try fields.optionalString("etag") }
        let etag = etagValue?.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        let owner = ((record["userIdentity"] as? [String: Any])?["principalId"] as? String)
        return UploadEvent(
            fileId: stableFileId(bucket: bucket, key: key), bucket: bucket, key: key, size: try fields.optionalInteger("size"),
            contentType: try fields.optionalString("contentType"), etag: etag, ownerId: owner.flatMap { $0.isEmpty ? nil : $0 },
            encoding: encoding, eventId: try fields.optionalString("sequencer"), sequencer: try fields.optionalString("sequencer"))
    }

    /// S3 notification keys are URL-encoded with `+` for spaces.
    static func decodeKey(_ key: String) -> String? {
        key.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// A file id that is the same every time the same object is announced: "s3-" and the
    /// first 32 hex digits of SHA-256("bucket/key").
    static func stableFileId(bucket: String, key: String) -> String {
        let digest = SHA256.hash(data: Data("\(bucket)/\(key)".utf8))
        return "s3-" + digest.prefix(16).map { String(format: "%02x", $0) }.joined()
    }
}
