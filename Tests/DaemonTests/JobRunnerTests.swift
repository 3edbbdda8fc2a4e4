import Daemon
import Events
import Foundation
import Logging
import MediaProcessing
import NativeStages
import MediadTestSupport
import ObjectStorage
import PipelineEngine
import Testing

/// The object stores jobs are tested against: the embedded local store, and a real S3 API.
enum StoreUnderTest: String, CaseIterable, Sendable {
    case local
    case s3

    func make() async throws -> (store: any ObjectStore, cleanup: @Sendable () async -> Void) {
        switch self {
        case .local:
            let root = try TestPaths.temporaryDirectory("store")
            return (LocalObjectStore(root: root), { try? FileManager.default.removeItem(at: root) })
        case .s3:
            let moto = try await MotoHarness.start(.verifying)
            let configuration = S3Configuration(
                region: moto.info.region, endpoint: URL(string: moto.info.endpoint),
                credentials: S3Credentials(accessKeyID: moto.info.accessKeyId, secretAccessKey: moto.info.secretAccessKey),
                addressingStyle: .path)
            let store = S3ObjectStore(configuration: configuration)
            return (store, { try? await store.shutdown(); await moto.stop() })
        }
    }
}

@Suite("Jobs: download, verify, process, store; idempotent by the manifest", .serialized)
struct JobRunnerTests {
    static let pipelines = try! PipelineLoader.loadDirectory(TestPaths.pipelines)

    func runner(_ store: any ObjectStore) throws -> JobRunner {
        try StandardStages.prepare(for: Self.pipelines)
        let processor = MediaProcessor(pipelines: Self.pipelines, registry: StandardStages.registry(), pool: WorkerPool(slots: 2), logger: Logger.quiet)
        return JobRunner(processor: processor, store: store, settings: .init(retryBaseDelay: .milliseconds(10)), logger: Logger.quiet)
    }

    func upload(_ store: any ObjectStore, _ fixture: String, key: String) async throws -> ObjectInfo {
        try await store.put(bucket: "uploads", key: key, file: TestPaths.image(fixture), options: PutOptions(contentType: "image/jpeg"))
    }

    @Test("a photo is processed once; the redelivered event is answered from the manifest", arguments: StoreUnderTest.allCases)
    func idempotent(kind: StoreUnderTest) async throws {
        let (store, cleanup) = try await kind.make()
        do {
            try await store.createBucket("uploads")
            let info = try await upload(store, "exif-rich.jpg", key: "users/1/a photo.jpg")
            let runner = try runner(store)
            var job = Job(fileId: "f1", bucket: "uploads", key: "users/1/a photo.jpg", size: info.size, etag: info.etag, ownerId: "u1")

            let first = try await runner.run(job)
            #expect(first.data.status == .succeeded, "\(first.data.errors)")
            #expect(!first.reused)
            #expect(first.data.ownerId == "u1")
            #expect(first.data.source.etag == info.etag)
            #expect(Set(first.data.derivatives.compactMap(\.key)) == ["derived/f1/thumbnail.webp", "derived/f1/preview.jpg"])
            for derivative in first.data.derivatives where derivative.key != nil {
                let stored = try await store.head(bucket: "uploads", key: derivative.key!)
                #expect(stored.size == derivative.bytes)
                #expect(stored.contentType == derivative.contentType)
            }

            job.attempt = 2
            let second = try await runner.run(job)
            #expect(second.reused)
            #expect(second.data.derivatives == first.data.derivatives)
            #expect(second.data.timings == first.data.timings, "nothing was recomputed")
            #expect(second.data.attempt == 2)

            // The object is replaced by other bytes: its ETag changes, the manifest no longer applies.
            _ = try await upload(store, "gps-south-west.jpg", key: "users/1/a photo.jpg")
            let third = try await runner.run(Job(fileId: "f1", bucket: "uploads", key: "users/1/a photo.jpg"))
            #expect(!third.reused)
            #expect(third.data.metadata.model == "iPhone 15 Pro")
        } catch {
            await cleanup()
            throw error
        }
        await cleanup()
    }

    @Test("missing objects, changed objects and wrong checksums fail precisely", arguments: StoreUnderTest.allCases)
    func failures(kind: StoreUnderTest) async throws {
        let (store, cleanup) = try await kind.make()
        do {
            try await store.createBucket("uploads")
            let info = try await upload(store, "exif-rich.jpg", key: "a.jpg")
            let runner = try runner(store)

            let missing = try await runner.run(Job(fileId: "m", bucket: "uploads", key: "nope.jpg"))
            #expect(missing.data.status == .failed)
            #expect(missing.data.errors.map(\.code) == ["source_not_found"])
            #expect(missing.data.errors.first?.retryable == false)

            let wrongSize = try await runner.run(Job(fileId: "s", bucket: "uploads", key: "a.jpg", size: info.size + 1))
            #expect(wrongSize.data.errors.map(\.code) == ["source_changed"], "\(wrongSize.data.errors)")

            let wrongSHA = try await runner.run(Job(fileId: "c", bucket: "uploads", key: "a.jpg", sha256: String(repeating: "0", count: 64)))
            #expect(wrongSHA.data.status == .failed)
            #expect(wrongSHA.data.errors.first?.code == "checksum_mismatch")
            #expect(wrongSHA.data.derivatives.isEmpty, "nothing made from bytes that are not the uploader's")
        } catch {
            await cleanup()
            throw error
        }
        await cleanup()
    }
}
