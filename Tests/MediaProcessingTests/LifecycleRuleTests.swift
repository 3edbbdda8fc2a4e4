import Foundation
import MediaProcessing
import Testing

@Suite("The derivatives layout's per-file folder, and the tombstone rule")
struct LifecycleRuleTests {
    @Test("a file's folder: the template up to the file's last separator; nil when files share a folder")
    func filePrefix() {
        #expect(DerivativeLayout().filePrefix(fileId: "f1") == "derived/f1/")
        #expect(DerivativeLayout(template: "out/{fileId}/v/{name}.{ext}").filePrefix(fileId: "a") == "out/a/v/")
        #expect(DerivativeLayout(template: "{fileId}/{name}.{ext}").filePrefix(fileId: "a") == "a/")
        #expect(DerivativeLayout(template: "derived/{name}-{fileId}.{ext}").filePrefix(fileId: "a") == nil)
        #expect(DerivativeLayout(template: "derived/{fileId}-{name}.{ext}").filePrefix(fileId: "a") == nil)
        #expect(DerivativeLayout().tombstoneKey(fileId: "f1") == "derived/f1/_deleted.json")
        #expect(!DerivativeLayout().isManifest("derived/f1/_deleted.json"))
    }

    @Test("keys fill every placeholder, repeated ones too, and never expand text that came from a value")
    func keys() {
        #expect(DerivativeLayout().key(fileId: "f1", name: "thumb", fileExtension: "webp") == "derived/f1/thumb.webp")
        #expect(DerivativeLayout(template: "{fileId}/{name}-{fileId}.{ext}").key(fileId: "a", name: "n", fileExtension: "jpg") == "a/n-a.jpg")
        #expect(DerivativeLayout().key(fileId: "{name}", name: "{ext}", fileExtension: "x") == "derived/{name}/{ext}.x")
        #expect(DerivativeLayout(template: "plain").key(fileId: "a", name: "b", fileExtension: "c") == "plain")
        #expect(DerivativeLayout().manifestKey(fileId: "f1") == "derived/f1/manifest.json")
        #expect(DerivativeLayout().isManifest("derived/f1/manifest.json") && DerivativeLayout().isManifest("derived/f1/x/manifest.json"), "ids may nest")
        for key in ["derived//manifest.json", "derived/a//manifest.json", "derived/manifest.json", "derived/f1/_deleted.json", "derived/f1/manifest.jsonx"] {
            #expect(!DerivativeLayout().isManifest(key), "\(key)")
        }
    }

    @Test("a later S3 sequencer, then a later Last-Modified, then another ETag make a version newer than the deletion")
    func supersededBy() {
        let deletedAt = Date(timeIntervalSince1970: 1_000_000)
        let tombstone = Tombstone(fileId: "f", deletedAt: deletedAt, etag: "e1", sequencer: "0055AED6DCD90281E5", bucket: "b", key: "k", instance: "i")
        // Sequencers decide when both exist, whatever the times say; shorter ones are left-padded.
        #expect(tombstone.isSuperseded(by: .init(etag: "e1", sequencer: "0055AED6DCD90281F0", lastModified: nil)))
        #expect(!tombstone.isSuperseded(by: .init(etag: "e2", sequencer: "0055AED6DCD90281E0", lastModified: deletedAt + 60)))
        #expect(!tombstone.isSuperseded(by: .init(etag: nil, sequencer: "55AED6DCD90281E5", lastModified: nil)), "the same sequencer, padded")
        #expect(tombstone.isSuperseded(by: .init(etag: nil, sequencer: "155AED6DCD90281E5", lastModified: nil)))
        // Then the original's Last-Modified.
        #expect(tombstone.isSuperseded(by: .init(etag: "e1", sequencer: nil, lastModified: deletedAt + 1)))
        #expect(!tombstone.isSuperseded(by: .init(etag: "e2", sequencer: nil, lastModified: deletedAt - 1)), "uploaded before the deletion: deleted too")
        // Then the ETag; with no evidence the version counts as the deleted one.
        #expect(tombstone.isSuperseded(by: .init(etag: "e2", sequencer: nil, lastModified: nil)))
        #expect(!tombstone.isSuperseded(by: .init(etag: "e1", sequencer: nil, lastModified: nil)))
        #expect(!tombstone.isSuperseded(by: .init(etag: nil, sequencer: nil, lastModified: nil)))
    }
}
