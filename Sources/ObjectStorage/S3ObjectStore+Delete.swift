import Foundation
import NIOHTTP1

extension S3ObjectStore {
    /// The most keys one DeleteObjects request takes.
    static let deleteBatchLimit = 1_000

    public func delete(bucket: String, key: String) async throws(ObjectStorageError) {
        try await perform("DeleteObject \(bucket)/\(key)", S3Request(method: .DELETE, bucket: bucket, key: key))
    }

    /// DeleteObjects, 1,000 keys a request, one request after the other. Keys that
    /// XML cannot carry (control characters) go one by one as DeleteObject instead.
    public func delete(bucket: String, keys: [String]) async throws(ObjectStorageError) -> BatchDeleteResult {
        let batched = keys.filter(S3Encoding.isXMLText)
        var requests = stride(from: 0, to: batched.count, by: Self.deleteBatchLimit).map { start in
            (keys: Array(batched[start..<min(start + Self.deleteBatchLimit, batched.count)]), batched: true)
        }
        requests += keys.filter { !S3Encoding.isXMLText($0) }.map { (keys: [$0], batched: false) }

        var result = BatchDeleteResult()
        for (index, request) in requests.enumerated() {
            do {
                if request.batched {
                    let outcome = try await deleteBatch(bucket: bucket, keys: request.keys)
                    result.deleted += outcome.deleted
                    result.failed += outcome.failed
                } else {
                    try await delete(bucket: bucket, key: request.keys[0])
                    result.deleted += request.keys
                }
            } catch {
                guard !result.deleted.isEmpty else { throw error }
                // Once something is gone an error would hide what: report the rest instead.
                result.failed += requests[index...].flatMap(\.keys).map { .init(key: $0, error: error) }
                break
            }
        }
        return result
    }

    /// One batch, sent again (with the store's backoff) for the keys that failed
    /// transiently (`InternalError`, `SlowDown`) or with the whole request.
    /// - Throws: when the request failed for good before any key had an answer.
    private func deleteBatch(bucket: String, keys: [String]) async throws(ObjectStorageError) -> BatchDeleteResult {
        let operation = "DeleteObjects \(bucket)"
        var result = BatchDeleteResult()
        var pending = keys
        var transient: [BatchDeleteResult.Failure] = []
        do {
            try await withRetries(operation) { _ throws(ObjectStorageError) in
                transient = []
                let answer = try await deleteObjects(bucket: bucket, keys: pending, operation: operation)
                result.deleted += answer.deleted
                result.failed += answer.failed.filter { !$0.error.isRetryable }
                transient = answer.failed.filter(\.error.isRetryable)
                pending = transient.map(\.key)
                if let failure = transient.first { throw failure.error }
            }
        } catch {
            if !transient.isEmpty {
                result.failed += transient
            } else if result.deleted.isEmpty && result.failed.isEmpty {
                throw error
            } else {
                result.failed += pending.map { .init(key: $0, error: error) }
            }
        }
        return result
    }

    /// One DeleteObjects attempt, not quiet, so that the answer names every key:
    /// one that it does not name counts as failed rather than as deleted.
    private func deleteObjects(bucket: String, keys: [String], operation: String)
        async throws(ObjectStorageError) -> BatchDeleteResult
    {
        var xml = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>false</Quiet>"
        for key in keys { xml += "<Object><Key>\(S3Encoding.xmlEscape(key))</Key></Object>" }
        xml += "</Delete>"
        var request = S3Request(method: .POST, bucket: bucket, query: [.init("delete", "")])
        request.body = .bytes(Array(xml.utf8))
        request.headers.add(name: "content-type", value: "application/xml")
        // S3 refuses DeleteObjects without a checksum of the body.
        if let digest = request.body.digest { request.headers.add(name: "content-md5", value: digest.md5Base64) }

        let (response, root) = try await performXMLOnce(operation, request)
        guard root.name == "DeleteResult" else {
            throw ObjectStorageError(.unexpectedResponse, "\(operation): got <\(root.name)>", requestID: response.requestID)
        }
        let deleted = Set(root.children("Deleted").compactMap { $0.value("Key") })
        var errors: [String: ObjectStorageError] = [:]
        for entry in root.children("Error") {
            guard let key = entry.value("Key") else { continue }
            let serviceCode = entry.value("Code")
            // Classified like a 4xx with that code: only S3's transient codes are retryable.
            let (code, retryable) = S3ErrorMapping.classify(status: 400, serviceCode: serviceCode)
            let message = entry.value("Message").map { $0.isEmpty ? "" : ": \($0)" } ?? ""
            errors[key] = ObjectStorageError(
                code, "DeleteObjects \(bucket)/\(key) failed\(message)", requestID: response.requestID,
                serviceCode: serviceCode, isRetryable: retryable)
        }
        var result = BatchDeleteResult()
        for key in keys {
            if let error = errors[key] {
                result.failed.append(.init(key: key, error: error))
            } else if deleted.contains(key) {
                result.deleted.append(key)
            } else {
                let error = ObjectStorageError(
                    .unexpectedResponse, "\(operation): the answer does not mention \(key)", requestID: response.requestID)
                result.failed.append(.init(key: key, error: error))
            }
        }
        return result
    }
}
