import Foundation
import MediaProcessing
import MediadTestSupport
import ObjectStorage
import Testing

/// File ids may hold `/` (path-like ids are in use), so one file's folder can contain
/// another's: `derived/a/` holds `derived/a/b/`. A file's objects are its folder's direct
/// children only; deletions and overwrites go through this listing.
@Suite("FileOutputs: one file's objects, never another file's")
struct FileOutputsTests {
    @Test("the listing of 'a' leaves out the outputs of 'a/b', and that of '_content' the content index beneath it")
    func nestedIds() async throws {
        let root = try TestPaths.temporaryDirectory("file-outputs")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("media"), withIntermediateDirectories: true)
        let store = LocalObjectStore(root: root)
        let layout = DerivativeLayout()
        let keys = [
            "derived/a/manifest.json", "derived/a/thumb.webp", "derived/a/_attempt.json", "derived/a/_deleted.json",
            "derived/a/b/manifest.json", "derived/a/b/thumb.webp",
            try #require(layout.contentIndexKey(sha256: String(repeating: "ab", count: 32), pipeline: "image")),
        ]
        for key in keys { _ = try await store.put(bucket: "media", key: key, bytes: [1]) }
        let outputs = FileOutputs(store: store, bucket: "media", layout: layout, retry: RetryPolicy(maxAttempts: 1))

        let ofA = try await outputs.list(fileId: "a", manifest: nil).map(\.key).sorted()
        #expect(ofA == ["derived/a/_attempt.json", "derived/a/manifest.json", "derived/a/thumb.webp"], "not a/b's, and not the tombstone")
        let ofAB = try await outputs.list(fileId: "a/b", manifest: nil).map(\.key).sorted()
        #expect(ofAB == ["derived/a/b/manifest.json", "derived/a/b/thumb.webp"])
        #expect(try await outputs.list(fileId: "_content", manifest: nil).isEmpty, "the content index is no file's output")
    }
}
