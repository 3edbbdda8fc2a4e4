import AMQP
import Backfill
import Daemon
import Events
import Foundation
import MediadTestSupport
import Testing

@Suite("mediad reprocess against RabbitMQ", .serialized, .timeLimit(.minutes(5)))
struct RabbitMQReprocessTests {
    @Test("--publish puts one request per file into the backfill queue; serve works through uploads first and gives it only spare capacity")
    func publishUploadsFirst() async throws {
        let stack = try await RabbitMQBackfillStack("reprocess-publish")
        defer { stack.stop() }
        let names = stack.names
        let backfillKeys = try await stack.upload(16, of: "panorama.jpg", prefix: "old/")
        let uploadKeys = try await stack.upload(8, of: "panorama.jpg", prefix: "new/")
        let directory = try TestPaths.temporaryDirectory("reprocess-publish")
        defer { try? FileManager.default.removeItem(at: directory) }

        // `mediad reprocess --publish` of the old files: it declares the topology itself.
        let published = try await stack.mediad(["reprocess", "s3://uploads/old/", "--publish"], currentDirectory: directory)
        #expect(published.status == 0, "\(published.text)\(published.stderr)")
        #expect(published.text.contains("published"), "\(published.text)")
        #expect(try await stack.waitForDepth(names.reprocessQueue, 16) == 16)
        let requests = try await stack.peek(names.reprocessQueue)
        #expect(Set(requests.compactMap { RabbitMQBackfillStack.eventData($0)?["key"] as? String }) == Set(backfillKeys))
        #expect(requests.allSatisfy { $0["routing_key"] as? String == names.reprocessQueue && ($0["exchange"] as? String)?.isEmpty == true })

        let daemon = try RunningDaemon(configuration: stack.configuration)
        // Let backfill run on the idle daemon, then a burst of uploads arrives.
        let early = try await stack.take(3, from: names.outputQueue, timeout: .seconds(120))
        #expect(early.count == 3)
        let uploadsSent = Date()
        let connection = try await stack.connect()
        for key in uploadKeys {
            try await stack.publishUpload(fileId: "upload-\(key)", key: key, on: connection)
        }
        await connection.close()
        let later = try await stack.take(21, from: names.outputQueue, timeout: .seconds(240))
        try await daemon.stop()
        let outcomes = early + later
        #expect(outcomes.count == 24)

        let results = CompetingResults(events: outcomes.compactMap { message in
            (message["body"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        })
        #expect(results.uploads.count == 8)
        let backfillIds = Set(backfillKeys.map { UploadEvent.stableFileId(bucket: RabbitMQBackfillStack.bucket, key: $0) })
        #expect(Set(results.backfill.map(\.fileId)) == backfillIds)
        let firstUpload = try #require(results.firstUpload)
        #expect(firstUpload > uploadsSent)
        #expect(results.backfillDuringUploads <= 3, "reprocess results while uploads were waiting: \(results.backfillDuringUploads)")
        #expect(daemon.application.daemon.peakBackfillAdmitted <= 2)
        #expect(try await stack.depth(names.reprocessQueue) == 0)
    }

    @Test("--publish without a backfill queue is refused; --emit in direct mode announces each result on the output exchange")
    func refusalAndEmit() async throws {
        let stack = try await RabbitMQBackfillStack("reprocess-emit")
        defer { stack.stop() }
        let names = stack.names
        let keys = try await stack.upload(2, prefix: "emit/")
        let directory = try TestPaths.temporaryDirectory("reprocess-emit")
        defer { try? FileManager.default.removeItem(at: directory) }

        let refused = try await stack.mediad(["reprocess", "s3://uploads/emit/", "--publish", "--set", "amqpReprocessQueue="], currentDirectory: directory)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("amqpReprocessQueue"), "\(refused.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty, "no checkpoint: nothing was started")

        let emitted = try await stack.mediad(["reprocess", "s3://uploads/emit/", "--emit"], currentDirectory: directory)
        #expect(emitted.status == 0, "\(emitted.text)\(emitted.stderr)")
        let results = try await stack.take(2, from: names.outputQueue, timeout: .seconds(60))
        #expect(Set(results.compactMap { RabbitMQBackfillStack.eventData($0)?["fileId"] as? String })
            == Set(keys.map { UploadEvent.stableFileId(bucket: RabbitMQBackfillStack.bucket, key: $0) }))
        for result in results {
            #expect(result["exchange"] as? String == names.outputExchange && result["routing_key"] as? String == "media.processed", "\(result)")
            #expect(RabbitMQBackfillStack.eventData(result)?["status"] as? String == "succeeded", "\(result)")
        }
    }
}
