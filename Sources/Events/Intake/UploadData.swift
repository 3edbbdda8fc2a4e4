import Foundation

/// The `data` object of a `file.uploaded` CloudEvent. Unknown fields are ignored.
struct UploadData {
    var fileId: String
    var bucket: String?
    var key: String
    var size: Int64?
    var contentType: String?
    var etag: String?
    var sha256: String?
    var ownerId: String?
    var albumId: String?
    var pipeline: String?
    var force: Bool

    static func decode(_ object: [String: Any], path: String) throws(IntakeError) -> UploadData {
        let fields = JSONFields(object, path: path)
        let fileId = try fields.requiredString("fileId")
        let key = try fields.requiredString("key")
        let sha256 = try fields.optionalString("sha256")?.lowercased()
        if let sha256, sha256.count != 64 || !sha256.allSatisfy(\.isHexDigit) {
            throw IntakeError(.invalidField, "field '\(path)sha256' must be 64 hex digits")
        }
        let size = try fields.optionalInteger("size")
        if let size, size < 0 { throw IntakeError(.invalidField, "field '\(path)size' must not be negative") }
        return UploadData(
            fileId: fileId, bucket: try fields.optionalString("bucket"), key: key, size: size,
            contentType: try fields.optionalString("contentType"), etag: try fields.optionalString("etag"), sha256: sha256,
            ownerId: try fields.optionalString("ownerId"), albumId: try fields.optionalString("albumId"),
            pipeline: try fields.optionalString("pipeline"), force: try fields.optionalBool("force") ?? false)
    }
}

/// Typed reads from a JSON object with errors that name the field.
struct JSONFields {
    let object: [String: Any]
    let path: String

    init(_ object: [String: Any], path: String) {
        self.object = object
        self.path = path
    }

    func requiredString(_ name: String) throws(IntakeError) -> String {
        guard let value = object[name], !(value is NSNull) else {
            throw IntakeError(.missingField, "field '\(path)\(name)' is required")
        }
        guard let text = value as? String, !(value is NSNumber) else {
            throw IntakeError(.invalidField, "field '\(path)\(name)' must be a string")
        }
        guard !text.isEmpty else { throw IntakeError(.invalidField, "field '\(path)\(name)' must not be empty") }
        return text
    }

    func optionalString(_ name: String) throws(IntakeError) -> String? {
        guard let value = object[name], !(value is NSNull) else { return nil }
        guard let text = value as? String, !(value is NSNumber) else {
            throw IntakeError(.invalidField, "field '\(path)\(name)' must be a string")
        }
        return text.isEmpty ? nil : text
    }

    func optionalBool(_ name: String) throws(IntakeError) -> Bool? {
        guard let value = object[name], !(value is NSNull) else { return nil }
        guard let number = value as? NSNumber, String(cString: number.objCType) == "c" else {
            throw IntakeError(.invalidField, "field '\(path)\(name)' must be true or false")
        }
        return number.boolValue
    }

    func optionalInteger(_ name: String) throws(IntakeError) -> Int64? {
        guard let value = object[name], !(value is NSNull) else { return nil }
        // JSONSerialization gives NSNumber for numbers and booleans alike (and `is Bool` holds
        // for 0 and 1): a boolean's Objective-C type is "c".
        guard let number = value as? NSNumber, String(cString: number.objCType) != "c",
              number.doubleValue == number.doubleValue.rounded(), abs(number.doubleValue) < 9e18
        else {
            throw IntakeError(.invalidField, "field '\(path)\(name)' must be an integer")
        }
        return number.int64Value
    }
}
