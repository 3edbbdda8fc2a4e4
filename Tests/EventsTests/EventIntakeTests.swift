import Events
import Foundation
import MediadTestSupport
import Testing

@Suite("file.uploaded intake: every accepted encoding, and precise rejections")
struct EventIntakeTests {
    let intake = EventIntake()

    func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: TestPaths.fixtures.appendingPathComponent("events/\(name)")))
    }

    @Test("CloudEvents structured mode: data fields, sha256 normalised, unknown fields ignored")
    func structured() throws {
        let result = try intake.decode(value: fixture("cloudevent-structured.json"), headers: [("content-type", Array("application/cloudevents+json".utf8))])
        #expect(result.events == [
            UploadEvent(
                fileId: "f_01HXYZ", bucket: "uploads", key: "users/42/IMG_0001.HEIC", size: 2_345_678, contentType: "image/heic",
                etag: "\"abc123\"", sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", ownerId: "user-42",
                albumId: "album-7", encoding: .cloudEventStructured, eventId: "0c2a3f36-4a5e-4d1f-9a8e-1f2b3c4d5e6f"),
        ])
    }

    @Test("CloudEvents binary mode: ce_ headers, the data object as the body")
    func binary() throws {
        let body = #"{"fileId":"f1","key":"in/a.png","ownerId":"u1","pipeline":"image"}"#
        let headers: [(String, [UInt8]?)] = [
            ("ce_specversion", Array("1.0".utf8)), ("ce_id", Array("e-1".utf8)), ("ce_type", Array("file.uploaded".utf8)),
            ("ce_source", Array("/file-service".utf8)), ("content-type", Array("application/json".utf8)),
        ]
        let result = try intake.decode(value: Array(body.utf8), headers: headers)
        let empty = try intake.decode(value: Array(#"{"fileId":"f0","key":"e.jpg","size":0}"#.utf8), headers: headers)
        #expect(empty.events.first?.size == 0, "a zero size is a number, not a boolean")
        #expect(result.events == [UploadEvent(fileId: "f1", bucket: nil, key: "in/a.png", ownerId: "u1", pipeline: "image", encoding: .cloudEventBinary, eventId: "e-1")])
    }

    @Test("MinIO bucket notification: URL-encoded key with + for spaces, stable file id")
    func minio() throws {
        let result = try intake.decode(value: fixture("minio-put.json"), headers: [])
        let event = try #require(result.events.first)
        #expect(result.events.count == 1)
        #expect(event.bucket == "uploads")
        #expect(event.key == "photos/2024/My Trip (1).jpg")
        #expect(event.size == 186_658)
        #expect(event.etag == "5d41402abc4b2a76b9719d911017c592")
        #expect(event.contentType == "image/jpeg")
        #expect(event.encoding == .s3Notification)
        #expect(event.fileId.hasPrefix("s3-") && event.fileId.count == 35)
        let again = try intake.decode(value: fixture("minio-put.json"), headers: [])
        #expect(again.events.first?.fileId == event.fileId, "the same object always gets the same id")
    }

    @Test("AWS notification with two records, unicode keys and no content type")
    func awsTwoRecords() throws {
        let result = try intake.decode(value: fixture("aws-two-records.json"), headers: [])
        #expect(result.events.map(\.key) == ["a/café menu.heic", "b/clip.mov"])
        #expect(result.events.map(\.contentType) == [nil, nil])
        #expect(result.events[1].etag == "9b2cf535f27731c974343645a3985328-14")
        #expect(Set(result.events.map(\.fileId)).count == 2)
    }

    @Test("the CloudEvents form of an S3 event")
    func cloudEventS3() throws {
        let record = #"{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"media"},"object":{"key":"x/y+z.jpg","size":5}}}"#
        let event = #"{"specversion":"1.0","id":"1","source":"aws:s3","type":"com.amazonaws.s3.ObjectCreated:Put","subject":"x/y z.jpg","data":\#(record)}"#
        let result = try intake.decode(value: Array(event.utf8), headers: [])
        #expect(result.events.first?.key == "x/y z.jpg")
        #expect(result.events.first?.bucket == "media")
        #expect(result.events.first?.encoding == .cloudEventS3)
    }

    @Test("deletions: file.deleted in structured and binary mode, S3 ObjectRemoved records from MinIO and AWS, and their CloudEvents form")
    func deletions() throws {
        let structured = #"{"specversion":"1.0","id":"d1","source":"/files","type":"file.deleted","data":{"fileId":"f1","bucket":"uploads","key":"a/b.jpg","etag":"\"abc\""}}"#
        let one = try intake.decode(value: Array(structured.utf8), headers: [])
        #expect(one.events.isEmpty)
        #expect(one.deletions == [DeleteEvent(fileId: "f1", bucket: "uploads", key: "a/b.jpg", etag: "abc", encoding: .cloudEventStructured, eventId: "d1")])

        let binary = try intake.decode(
            value: Array(#"{"fileId":"f2"}"#.utf8),
            headers: [("ce_specversion", Array("1.0".utf8)), ("ce_type", Array("file.deleted".utf8)), ("ce_id", Array("d2".utf8))])
        #expect(binary.deletions == [DeleteEvent(fileId: "f2", bucket: nil, key: nil, encoding: .cloudEventBinary, eventId: "d2")])

        let minio = #"{"EventName":"s3:ObjectRemoved:Delete","Key":"uploads/in/my+photo.jpg","Records":[{"eventName":"s3:ObjectRemoved:Delete","s3":{"bucket":{"name":"uploads"},"object":{"key":"in/my+photo.jpg","sequencer":"17CB9C7C1B5A4F40"}}}]}"#
        let removed = try #require(try intake.decode(value: Array(minio.utf8), headers: []).deletions.first)
        #expect(removed.fileId == UploadEvent.stableFileId(bucket: "uploads", key: "in/my photo.jpg"), "the id its upload got")
        #expect(removed.key == "in/my photo.jpg" && removed.sequencer == "17CB9C7C1B5A4F40" && removed.encoding == .s3Notification)

        let aws = #"{"Records":[{"eventName":"ObjectRemoved:DeleteMarkerCreated","s3":{"bucket":{"name":"uploads"},"object":{"key":"x.jpg","versionId":"v","sequencer":"0055AED6DCD90281E5"}}}]}"#
        #expect(try intake.decode(value: Array(aws.utf8), headers: []).deletions.first?.sequencer == "0055AED6DCD90281E5")

        let cloudEvent = #"{"specversion":"1.0","id":"1","source":"aws:s3","type":"com.amazonaws.s3.ObjectRemoved:Delete","data":{"eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"media"},"object":{"key":"x.jpg"}}}}"#
        let wrapped = try #require(try intake.decode(value: Array(cloudEvent.utf8), headers: []).deletions.first)
        #expect(wrapped.bucket == "media" && wrapped.encoding == .cloudEventS3)

        let created = #"{"Records":[{"eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":"uploads"},"object":{"key":"x.jpg","sequencer":"0A"}}}]}"#
        #expect(try intake.decode(value: Array(created.utf8), headers: []).events.first?.sequencer == "0A", "uploads keep their sequencer too")
    }

    @Test("mediad's own derivatives (created or removed) and S3 test events are ignored, not dead-lettered")
    func ignored() throws {
        let own = #"{"Records":[{"eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":"uploads"},"object":{"key":"derived/f1/thumbnail.webp"}}}]}"#
        #expect(try intake.decode(value: Array(own.utf8), headers: []).events.isEmpty)
        #expect(try intake.decode(value: Array(own.utf8), headers: []).ignored.count == 1)
        let ownRemoved = #"{"Records":[{"eventName":"s3:ObjectRemoved:Delete","s3":{"bucket":{"name":"uploads"},"object":{"key":"derived/f1/thumbnail.webp"}}}]}"#
        let removedResult = try intake.decode(value: Array(ownRemoved.utf8), headers: [])
        #expect(removedResult.deletions.isEmpty && removedResult.ignored.count == 1, "removing derivatives must not loop")
        let other = #"{"Records":[{"eventName":"s3:ObjectRestore:Completed","s3":{"bucket":{"name":"uploads"},"object":{"key":"a.jpg"}}}]}"#
        #expect(try intake.decode(value: Array(other.utf8), headers: []).ignored.count == 1)
        let test = #"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2024-05-01T10:00:00.000Z","Bucket":"uploads"}"#
        #expect(try intake.decode(value: Array(test.utf8), headers: []).ignored == ["s3:TestEvent"])
    }

    @Test(
        "malformed, unknown and invalid messages are rejected with a code and the field",
        arguments: [
            ("{not json", "malformed_json", "not valid JSON"),
            ("", "malformed_json", "empty"),
            ("[1,2]", "unknown_format", "not an object"),
            (#"{"hello":"world"}"#, "unknown_format", "neither a CloudEvent"),
            (#"{"specversion":"1.0","id":"1","source":"s","type":"file.renamed","data":{}}"#, "unsupported_event_type", "'file.renamed'"),
            (#"{"specversion":"1.0","id":"1","source":"s","type":"file.deleted","data":{"key":"a"}}"#, "missing_field", "'data.fileId'"),
            (#"{"specversion":"0.3","id":"1","source":"s","type":"file.uploaded","data":{}}"#, "invalid_field", "specversion 0.3"),
            (#"{"specversion":"1.0","id":"1","source":"s","type":"file.uploaded","data":{"key":"a"}}"#, "missing_field", "'data.fileId'"),
            (#"{"specversion":"1.0","id":"1","source":"s","type":"file.uploaded","data":{"fileId":7,"key":"a"}}"#, "invalid_field", "'data.fileId' must be a string"),
            (#"{"specversion":"1.0","id":"1","source":"s","type":"file.uploaded","data":{"fileId":"f","key":"a","size":"big"}}"#, "invalid_field", "'data.size' must be an integer"),
            (#"{"specversion":"1.0","id":"1","source":"s","type":"file.uploaded","data":{"fileId":"f","key":"a","size":true}}"#, "invalid_field", "'data.size' must be an integer"),
            (#"{"specversion":"1.0","id":"1","source":"s","type":"file.uploaded","data":{"fileId":"f","key":"a","sha256":"abc"}}"#, "invalid_field", "64 hex digits"),
            (#"{"specversion":"1.0","id":"1","source":"s","type":"file.uploaded"}"#, "missing_field", "'data'"),
            (#"{"Records":[{"eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{}}}]}"#, "missing_field", "Records[0].s3.object.key"),
            (#"{"Records":[]}"#, "invalid_field", "empty"),
        ]
    )
    func rejections(body: String, code: String, message: String) throws {
        let error = #expect(throws: IntakeError.self) { try intake.decode(value: Array(body.utf8), headers: []) }
        #expect(error?.code.rawValue == code, "\(String(describing: error))")
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    @Test("the bucket allow-list")
    func allowList() throws {
        let restricted = EventIntake(allowedBuckets: ["uploads"])
        #expect(try restricted.decode(value: fixture("minio-put.json"), headers: []).events.count == 1)
        let error = #expect(throws: IntakeError.self) { try restricted.decode(value: fixture("aws-two-records.json"), headers: []) }
        #expect(error?.code == .bucketNotAllowed)
        #expect(error?.message.contains("'media-prod'") == true)
        let noBucket = #"{"specversion":"1.0","id":"1","source":"s","type":"file.uploaded","data":{"fileId":"f","key":"a"}}"#
        #expect(throws: IntakeError.self) { try restricted.decode(value: Array(noBucket.utf8), headers: []) }
    }
}
