import Crypto
import Foundation
import PipelineEngine

/// The `media.deleted` CloudEvent (structured mode), on the same topic as `media.processed`
/// and with the same key (`fileId`), so a consumer sees a file's results and its deletion in
/// the order they happened.
public struct DeletedEvent: Codable, Sendable, Equatable {
    public static let type = "media.deleted"

    public var specversion = "1.0"
    public var id: String
    public var source: String
    public var type = DeletedEvent.type
    public var subject: String
    public var time: String
    public var datacontenttype = "application/json"
    public var data: DeletionReport

    /// - Parameters:
    ///   - instance: names this mediad in `source` (`/mediad/<instance>`).
    ///   - time: RFC 3339, UTC.
    public init(data: DeletionReport, instance: String, time: String) {
        self.data = data
        self.source = "/mediad/\(instance)"
        self.subject = data.fileId
        self.time = time
        let parts = [data.fileId, data.status.rawValue, data.removed.joined(separator: "\u{1E}"), String(data.deletedAt.timeIntervalSince1970)]
        self.id = SHA256.hash(data: Data(parts.joined(separator: "\u{1F}").utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// The Kafka record: key, JSON body and the CloudEvents content-type header.
    public func record(encoder: JSONEncoder) throws -> (key: [UInt8], value: [UInt8], headers: [(String, [UInt8]?)]) {
        (Array(subject.utf8), Array(try encoder.encode(self)), [("content-type", Array("application/cloudevents+json; charset=utf-8".utf8))])
    }
}
