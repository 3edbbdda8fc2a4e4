import Logging
import ObjectStorage
import PipelineEngine

/// mediad's records beside a file's outputs, read once before its job: the manifest (is
/// the result current? what did it list?), the attempt marker (poison-file guard) and the
/// tombstone (was it deleted?).
struct FileRecords: Sendable {
    var manifest: ProcessedData?
    var marker: AttemptLedger.Marker?
    var tombstone: Tombstone?

    /// With a folder per file, one listing tells which records exist, and only those are
    /// read (a new upload costs one request, not three).
    /// The listing is retried (and logged) like any storage call; when it still fails, each
    /// record is read on its own. A manifest or marker that cannot be read counts as none
    /// (the file is processed, its starts counted from zero).
    /// - Throws: when the tombstone cannot be read (`Tombstone.stored`).
    static func read(fileId: String, sink: ObjectStoreSink, retry: RetryPolicy, logger: Logger) async throws(ObjectStorageError) -> FileRecords {
        let layout = sink.layout
        let reader = RecordReader(store: sink.store, bucket: sink.bucket)
        var listed: Set<String>?
        if let prefix = layout.filePrefix(fileId: fileId),
           let page = try? await retry.retryingStorage(logger: logger, "listing the file's records", { () async throws(ObjectStorageError) -> ObjectListPage in
               try await sink.store.listPage(bucket: sink.bucket, prefix: prefix, startAfter: nil, continuationToken: nil, maxKeys: 1000)
           }),
           page.continuationToken == nil
        {
            listed = Set(page.objects.map(\.key))
        }
        let present = listed
        async let manifest = read(ProcessedData.self, layout.manifestKey(fileId: fileId), present: present, reader: reader)
        async let marker = read(AttemptLedger.Marker.self, layout.attemptMarkerKey(fileId: fileId), present: present, reader: reader)
        let tombstone: Tombstone?
        if let present, !present.contains(layout.tombstoneKey(fileId: fileId)) {
            tombstone = nil
        } else {
            tombstone = try await Tombstone.stored(fileId: fileId, sink: sink, retry: retry, logger: logger)
        }
        return await FileRecords(manifest: manifest, marker: marker, tombstone: tombstone)
    }

    /// A record the listing showed (or every record, without a listing).
    private static func read<T: Decodable & Sendable>(_ type: T.Type, _ key: String, present: Set<String>?, reader: RecordReader) async -> T? {
        if let present, !present.contains(key) { return nil }
        return await reader.decode(type, key: key)
    }
}
