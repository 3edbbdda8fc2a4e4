import Crypto
import Foundation
import PipelineEngine

/// The `media.processed` CloudEvent (structured mode; `schemas/media.processed.schema.json`). Kafka key = `fileId`, so
/// one file's events stay in order on one partition.
public struct ProcessedEvent: Codable, Sendable, Equatable {
    public var specversion = "1.0"
    public var id: String
    public var source: String
    public var type = "media.processed"
    public var subject: String
    public var time: String
    public var datacontenttype = "application/json"
    public var data: ProcessedData

    /// - Parameters:
    ///   - instance: names this mediad in `source` (`/mediad/<instance>`).
    ///   - time: RFC 3339, UTC.
    public init(data: ProcessedData, instance: String, time: String) {
        self.data = data
        self.source = "/mediad/\(instance)"
        self.subject = data.fileId
        self.time = time
        self.id = Self.eventId(for: data)
    }

    /// The same result always gets the same id (file, source bytes, pipeline version, attempt,
    /// status), so a consumer can drop the duplicates that at-least-once delivery allows.
    public static func eventId(for data: ProcessedData) -> String {
        let parts = [
            data.fileId, data.source.sha256 ?? data.source.etag ?? "", data.pipeline.name, String(data.pipeline.version),
            String(data.attempt), data.status.rawValue,
        ]
        let digest = SHA256.hash(data: Data(parts.joined(separator: "\u{1F}").utf8))
        return digest.prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// The Kafka record: key, JSON body and the CloudEvents content-type header.
    public func record(encoder: JSONEncoder) throws -> (key: [UInt8], value: [UInt8], headers: [(String, [UInt8]?)]) {
        (Array(subject.utf8), Array(try encoder.encode(self)), [("content-type", Array("application/cloudevents+json; charset=utf-8".utf8))])
    }
}
