import Foundation

/// Maps S3's HTTP status and error codes to `ObjectStorageError`, deciding what is
/// worth retrying: 5xx, throttling and `RequestTimeout`, never another 4xx.
enum S3ErrorMapping {
    static func error(
        status: Int, body: Data, requestID: String?, operation: String, headers: [String: String] = [:]
    ) -> ObjectStorageError {
        var serviceCode: String?
        var message: String?
        var requestID = requestID
        if !body.isEmpty, let root = try? S3XMLElement.parse(body), root.name == "Error" {
            serviceCode = root.value("Code")
            message = root.value("Message")
            requestID = requestID ?? root.value("RequestId")
        }
        let (code, retryable) = classify(status: status, serviceCode: serviceCode)
        var text = "\(operation) failed"
        if let message, !message.isEmpty { text += ": \(message)" }
        if status == 301 || status == 307, let region = headers["x-amz-bucket-region"] {
            text += " (the bucket is in region \(region))"
        }
        return ObjectStorageError(
            code, text, requestID: requestID, httpStatus: status, serviceCode: serviceCode, isRetryable: retryable)
    }

    static func classify(status: Int, serviceCode: String?) -> (ObjectStorageError.Code, Bool) {
        switch serviceCode {
        case "NoSuchKey", "NoSuchUpload", "NoSuchVersion": return (.notFound, false)
        case "NoSuchBucket": return (.noSuchBucket, false)
        case "SignatureDoesNotMatch": return (.signatureMismatch, false)
        case "AccessDenied", "AllAccessDisabled", "AccountProblem", "InvalidAccessKeyId", "InvalidToken",
            "ExpiredToken", "InvalidSecurity", "RequestTimeTooSkewed":
            return (.accessDenied, false)
        case "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests",
            "RequestThrottled":
            return (.throttled, true)
        case "RequestTimeout": return (.network, true)
        case "InternalError", "ServiceUnavailable": return (.serverError, true)
        case "PreconditionFailed": return (.preconditionFailed, false)
        case "BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch", "IncompleteBody": return (.integrity, false)
        case "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException":
            return (.invalidConfiguration, false)
        case "InvalidBucketName", "KeyTooLongError", "InvalidArgument", "EntityTooSmall", "EntityTooLarge",
            "InvalidPart", "InvalidPartOrder", "MetadataTooLarge":
            return (.invalidArgument, false)
        default: break
        }
        switch status {
        case 404: return (.notFound, false)
        case 403: return (.accessDenied, false)
        case 412: return (.preconditionFailed, false)
        case 429: return (.throttled, true)
        case 301, 307: return (.invalidConfiguration, false)
        case 500...599: return (.serverError, true)
        case 400...499: return (.requestRejected, false)
        default: return (.unexpectedResponse, false)
        }
    }
}
