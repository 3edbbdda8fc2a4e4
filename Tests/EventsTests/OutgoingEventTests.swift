import Events
import Foundation
import MediadTestSupport
import PipelineEngine
import Testing

@Suite("media.processed and dead letters")
struct OutgoingEventTests {
    static let data = ProcessedData(
        fileId: "f_01", ownerId: "user-42", status: .succeeded,
        source: SourceInfo(bucket: "uploads", key: "a.jpg", size: 10, mediaType: .image, contentType: "image/jpeg", sha256: String(repeating: "a", count: 64)),
        pipeline: PipelineReference(name: "image", version: 3),
        derivatives: [Derivative(name: "thumbnail", kind: .thumbnail, bucket: "uploads", key: "derived/f_01/thumbnail.webp", contentType: "image/webp", width: 10, height: 10, bytes: 100, sha256: String(repeating: "b", count: 64))],
        processedAt: Date(timeIntervalSince1970: 1_700_000_000))

    @Test("structured CloudEvent keyed by fileId, valid against the published schema")
    func cloudEvent() throws {
        let event = ProcessedEvent(data: Self.data, instance: "host-1", time: "2026-11-21T06:00:00.000Z")
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let record = try event.record(encoder: encoder)
        #expect(record.key == Array("f_01".utf8))
        #expect(record.headers.first?.0 == "content-type")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(record.value)) as? [String: Any])
        #expect(object["type"] as? String == "media.processed")
        #expect(object["subject"] as? String == "f_01")
        #expect(object["source"] as? String == "/mediad/host-1")

        let directory = try TestPaths.temporaryDirectory("event")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("event.json")
        try Data(record.value).write(to: file)
        let result = try Command.run(["python3", TestPaths.root.appendingPathComponent("scripts/validate-json.py").path, TestPaths.schemas.appendingPathComponent("media.processed.schema.json").path, file.path])
        #expect(result.status == 0, "\(result.text)")
    }

    @Test("the event id is stable for the same result and changes with it")
    func stableId() {
        let first = ProcessedEvent.eventId(for: Self.data)
        #expect(first == ProcessedEvent.eventId(for: Self.data))
        var retried = Self.data
        retried.attempt = 2
        #expect(ProcessedEvent.eventId(for: retried) != first)
        var newVersion = Self.data
        newVersion.pipeline.version = 4
        #expect(ProcessedEvent.eventId(for: newVersion) != first)
    }

    @Test("dead letters keep the original message and say why; replays replace old reasons")
    func deadLetter() {
        let original: [(String, [UInt8]?)] = [("ce_id", Array("1".utf8)), (DeadLetter.Header.errorCode, Array("old".utf8)), ("trace", nil)]
        let letter = DeadLetter(
            key: Array("k".utf8), value: Array("{bad".utf8), headers: original, code: "malformed_json", message: "the body is not valid JSON",
            topic: "file.uploaded", partition: 3, offset: 42, failedAt: "2026-11-21T06:00:00.000Z")
        #expect(letter.key == Array("k".utf8))
        #expect(letter.value == Array("{bad".utf8))
        let headers = Dictionary(letter.headers.map { ($0.0, $0.1.map { String(decoding: $0, as: UTF8.self) } ?? "") }, uniquingKeysWith: { $1 })
        #expect(headers["ce_id"] == "1")
        #expect(headers["trace"] == "")
        #expect(headers[DeadLetter.Header.errorCode] == "malformed_json")
        #expect(headers[DeadLetter.Header.originalTopic] == "file.uploaded")
        #expect(headers[DeadLetter.Header.originalPartition] == "3")
        #expect(headers[DeadLetter.Header.originalOffset] == "42")
        #expect(letter.headers.filter { $0.0 == DeadLetter.Header.errorCode }.count == 1)
    }

    @Test("the file.uploaded fixtures are valid against the data schema")
    func uploadSchema() throws {
        let directory = try TestPaths.temporaryDirectory("upload")
        defer { try? FileManager.default.removeItem(at: directory) }
        let structured = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: TestPaths.fixtures.appendingPathComponent("events/cloudevent-structured.json"))) as? [String: Any])
        let file = directory.appendingPathComponent("data.json")
        try JSONSerialization.data(withJSONObject: structured["data"] as Any).write(to: file)
        let result = try Command.run(["python3", TestPaths.root.appendingPathComponent("scripts/validate-json.py").path, TestPaths.schemas.appendingPathComponent("file.uploaded.data.schema.json").path, file.path])
        #expect(result.status == 0, "\(result.text)")
    }
}
