import Foundation

/// Decodes `file.uploaded` messages in every accepted encoding (`docs/asyncapi.yaml`): CloudEvents
/// structured and binary mode, S3/MinIO bucket notifications (several records per message),
/// and the CloudEvents form of an S3 notification.
public struct EventIntake: Sendable {
    /// The CloudEvent `type` of an upload.
    public var uploadType: String
    /// Buckets events may name; empty allows any.
    public var allowedBuckets: Set<String>
    /// Keys under these prefixes are mediad's own outputs: a bucket notification for them is
    /// ignored, or writing derivatives into the watched bucket would loop forever.
    public var ignoredKeyPrefixes: [String]

    public init(uploadType: String = "file.uploaded", allowedBuckets: Set<String> = [], ignoredKeyPrefixes: [String] = ["derived/"]) {
        self.uploadType = uploadType
        self.allowedBuckets = allowedBuckets
        self.ignoredKeyPrefixes = ignoredKeyPrefixes
    }

    /// - Parameters:
    ///   - value: the message body.
    ///   - headers: the Kafka headers in order (`ce_*` for binary mode, `content-type`).
    /// - Throws: `IntakeError` for anything that is not a valid upload event.
    public func decode(value: [UInt8], headers: [(String, [UInt8]?)]) throws(IntakeError) -> IntakeResult {
        let headerMap = Dictionary(headers.compactMap { name, bytes in bytes.map { (name.lowercased(), String(decoding: $0, as: UTF8.self)) } }, uniquingKeysWith: { first, _ in first })
        if let specVersion = headerMap["ce_specversion"] {
            return try decodeBinary(value: value, headers: headerMap, specVersion: specVersion)
        }
        let json = try Self.parseJSON(value)
        guard let object = json as? [String: Any] else {
            throw IntakeError(.unknownFormat, "the body is JSON but not an object")
        }
        if object["specversion"] != nil {
            return try decodeStructured(object)
        }
        if object["Records"] != nil || object["EventName"] != nil || object["Event"] != nil {
            return try S3Notification.decode(object, intake: self, encoding: .s3Notification)
        }
        throw IntakeError(.unknownFormat, "neither a CloudEvent (no specversion) nor an S3 notification (no Records)")
    }

    static func parseJSON(_ bytes: [UInt8]) throws(IntakeError) -> Any {
        guard !bytes.isEmpty else { throw IntakeError(.malformedJSON, "the message body is empty") }
        do {
            return try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        } catch {
            let nsError = error as NSError
            let detail = (nsError.userInfo[NSDebugDescriptionErrorKey] as? String) ?? nsError.localizedDescription
            throw IntakeError(.malformedJSON, "the body is not valid JSON: \(detail)")
        }
    }

    private func decodeStructured(_ object: [String: Any]) throws(IntakeError) -> IntakeResult {
        let fields = JSONFields(object, path: "")
        let specVersion = try fields.requiredString("specversion")
        guard specVersion == "1.0" else { throw IntakeError(.invalidField, "specversion \(specVersion) is not supported; expected 1.0") }
        let type = try fields.requiredString("type")
        let id = try fields.optionalString("id")
        let subject = try fields.optionalString("subject")
        if type.hasPrefix("com.amazonaws.s3.") {
            return try S3Notification.decodeCloudEvent(type: type, subject: subject, data: object["data"], intake: self)
        }
        guard type == uploadType || type == UploadEvent.reprocessType || type == DeleteEvent.deletedType else {
            throw IntakeError(.unsupportedEventType, "CloudEvent type '\(type)' is not '\(uploadType)' or '\(DeleteEvent.deletedType)'")
        }
        let data: [String: Any]
        if let inline = object["data"] as? [String: Any] {
            data = inline
        } else if let base64 = object["data_base64"] as? String, let decoded = Data(base64Encoded: base64),
                  let inner = try? JSONSerialization.jsonObject(with: decoded) as? [String: Any]
        {
            data = inner
        } else {
            throw IntakeError(object["data"] == nil ? .missingField : .invalidField, "field 'data' must be a JSON object")
        }
        if type == DeleteEvent.deletedType {
            return try deletion(data, path: "data.", encoding: .cloudEventStructured, eventId: id)
        }
        return try result(UploadData.decode(data, path: "data."), encoding: .cloudEventStructured, eventId: id)
    }

    private func decodeBinary(value: [UInt8], headers: [String: String], specVersion: String) throws(IntakeError) -> IntakeResult {
        guard specVersion == "1.0" else { throw IntakeError(.invalidField, "ce_specversion \(specVersion) is not supported; expected 1.0") }
        guard let type = headers["ce_type"] else { throw IntakeError(.missingField, "binary-mode CloudEvent without a ce_type header") }
        if type.hasPrefix("com.amazonaws.s3.") {
            return try S3Notification.decodeCloudEvent(type: type, subject: headers["ce_subject"], data: Self.parseJSON(value), intake: self)
        }
        guard type == uploadType || type == UploadEvent.reprocessType || type == DeleteEvent.deletedType else {
            throw IntakeError(.unsupportedEventType, "CloudEvent type '\(type)' is not '\(uploadType)' or '\(DeleteEvent.deletedType)'")
        }
        guard let data = try Self.parseJSON(value) as? [String: Any] else {
            throw IntakeError(.invalidField, "the body of a binary-mode CloudEvent must be the data object")
        }
        if type == DeleteEvent.deletedType {
            return try deletion(data, path: "", encoding: .cloudEventBinary, eventId: headers["ce_id"])
        }
        return try result(UploadData.decode(data, path: ""), encoding: .cloudEventBinary, eventId: headers["ce_id"])
    }

    private func result(_ data: UploadData, encoding: UploadEvent.Encoding, eventId: String?) throws(IntakeError) -> IntakeResult {
        let event = UploadEvent(
            fileId: data.fileId, bucket: data.bucket, key: data.key, size: data.size, contentType: data.contentType,
            etag: data.etag, sha256: data.sha256, ownerId: data.ownerId, albumId: data.albumId, pipeline: data.pipeline,
            force: data.force, encoding: encoding, eventId: eventId)
        return try admit([event])
    }

    /// The `data` of `file.deleted`: `fileId`, and the original's `bucket` and `key` (optional,
    /// as a file service may only know its id), `etag` of the deleted version (optional).
    private func deletion(_ object: [String: Any], path: String, encoding: UploadEvent.Encoding, eventId: String?) throws(IntakeError) -> IntakeResult {
        let fields = JSONFields(object, path: path)
        let event = DeleteEvent(
            fileId: try fields.requiredString("fileId"), bucket: try fields.optionalString("bucket"), key: try fields.optionalString("key"),
            etag: try fields.optionalString("etag")?.trimmingCharacters(in: CharacterSet(charactersIn: "\"")), encoding: encoding, eventId: eventId)
        return try admit([], deletions: [event])
    }

    /// Applies the bucket allow-list and drops mediad's own outputs (removing its own
    /// derivatives makes the store announce those removals too).
    func admit(_ events: [UploadEvent], deletions: [DeleteEvent] = []) throws(IntakeError) -> IntakeResult {
        var result = IntakeResult()
        for deletion in deletions {
            if let key = deletion.key, let prefix = ignoredKeyPrefixes.first(where: { key.hasPrefix($0) }) {
                result.ignored.append("\(deletion.bucket ?? "")/\(key): under '\(prefix)', mediad's own output")
                continue
            }
            if !allowedBuckets.isEmpty, let bucket = deletion.bucket, !allowedBuckets.contains(bucket) {
                throw IntakeError(.bucketNotAllowed, "bucket '\(bucket)' is not in the allowed buckets (\(allowedBuckets.sorted().joined(separator: ", ")))")
            }
            result.deletions.append(deletion)
        }
        for event in events {
            if let prefix = ignoredKeyPrefixes.first(where: { event.key.hasPrefix($0) }) {
                result.ignored.append("\(event.bucket ?? "")/\(event.key): under '\(prefix)', mediad's own output")
                continue
            }
            if !allowedBuckets.isEmpty {
                guard let bucket = event.bucket, allowedBuckets.contains(bucket) else {
                    throw IntakeError(.bucketNotAllowed, "bucket '\(event.bucket ?? "(none)")' is not in the allowed buckets (\(allowedBuckets.sorted().joined(separator: ", ")))")
                }
            }
            result.events.append(event)
        }
        return result
    }
}
