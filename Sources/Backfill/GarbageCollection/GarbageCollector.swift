import Crypto
import Foundation
import Logging
import MediaProcessing
import ObjectStorage
import PipelineEngine

/// `mediad gc`: walks the derivatives layout of a bucket folder by folder and finds outputs
/// nobody can use any more: folders whose original is gone (deleted while mediad was not
/// listening), manifests of pipelines that no longer exist, and derivatives that lost their
/// manifest. Reports them; with `delete`, removes them.
///
/// Only keys the layout owns as a file's outputs are ever looked at, so originals and
/// anything else in the bucket are never candidates. Memory holds one listing page and one
/// batch of folders, whatever the bucket's size.
public struct GarbageCollector: Sendable {
    public let store: any ObjectStore
    public let pipelines: PipelineSet
    public let layout: DerivativeLayout
    public let retry: RetryPolicy
    public var logger: Logger

    public struct Options: Sendable {
        /// The derivatives bucket.
        public var bucket: String
        /// Where the walk starts and stays: the layout's prefix, or a narrower one inside it.
        public var prefix: String
        public var delete: Bool
        /// Folders with an object younger than this are kept: a job may still be writing them.
        public var minAge: Duration
        /// A tombstone alone is removed once it is older than this and its original is gone.
        /// Longer than any event for the deleted version can wait in a topic or queue.
        public var tombstoneRetention: Duration
        /// Folders judged at once.
        public var batchSize: Int

        public init(
            bucket: String, prefix: String, delete: Bool, minAge: Duration = .seconds(3600),
            tombstoneRetention: Duration = Options.defaultTombstoneRetention, batchSize: Int = 16
        ) {
            self.bucket = bucket
            self.prefix = prefix
            self.delete = delete
            self.minAge = minAge
            self.tombstoneRetention = tombstoneRetention
            self.batchSize = max(1, batchSize)
        }

        /// 30 days: Kafka keeps a topic's records 7 days by default.
        public static let defaultTombstoneRetention: Duration = .seconds(30 * 86_400)

        /// Names the run in its checkpoint.
        public var selection: String { "s3://\(bucket)/\(prefix)\(delete ? " --delete" : "")" }

        /// A short name for the selection, for the default checkpoint file.
        public var fingerprint: String {
            SHA256.hash(data: Data(selection.utf8)).prefix(6).map { String(format: "%02x", $0) }.joined()
        }
    }

    /// One orphan, as reported (and removed, with `delete`).
    public struct Finding: Sendable {
        public var folder: OutputFolder
        public var reason: OrphanReason
        /// The original the manifest names, or the pipeline it was made by.
        public var detail: String
        /// With `delete`: whether every object was removed.
        public var deleted: Bool?
        public var bytes: Int64 { folder.objects.map(\.size).reduce(0, +) }
    }

    public init(store: any ObjectStore, pipelines: PipelineSet, layout: DerivativeLayout, retry: RetryPolicy, logger: Logger) {
        self.store = store
        self.pipelines = pipelines
        self.layout = layout
        self.retry = retry
        self.logger = logger
    }

    /// Why the layout or prefix cannot be walked; nil when it can.
    public static func problem(with layout: DerivativeLayout, prefix: String) -> String? {
        guard let root = layout.prefix, layout.template.hasPrefix(root + "{fileId}/") else {
            return "gc needs a key template of the form PREFIX{fileId}/… (this one is \(layout.template))"
        }
        guard prefix.hasPrefix(root) else { return "\(prefix) is outside the derivatives layout (\(root)); gc only walks mediad's own outputs" }
        return nil
    }

    /// Runs from the checkpoint's position, saving it after each batch; stops between batches
    /// when cancelled (the summary says `interrupted`).
    public func run(
        _ options: Options, checkpoint: GCCheckpoint, save: @Sendable (GCCheckpoint) -> Void = { _ in },
        found: @Sendable (Finding) -> Void = { _ in }, progress: @Sendable (RunProgress) -> Void = { _ in }
    ) async -> GCSummary {
        var checkpoint = checkpoint
        let started = ContinuousClock.now
        let earlier = checkpoint.summary.elapsedSeconds
        var state = RunProgress(total: nil)
        state.done = checkpoint.summary.folders
        var grouper = OutputFolderGrouper(layout: layout, startAfter: checkpoint.startAfter)
        let resumed = checkpoint
        var batch: [OutputFolder] = []

        func flush() async {
            guard !batch.isEmpty else { return }
            // The batch runs to its end even when the run is cancelled, so the checkpoint
            // never skips a folder that was only half handled.
            let folders = batch
            let judged = await Task { await self.handle(folders, options: options) }.value
            for (folder, verdict) in zip(folders, judged) {
                checkpoint.summary.folders += 1
                switch verdict {
                case .keep(let reason): checkpoint.summary.kept[reason, default: 0] += 1
                case .failed(let message):
                    checkpoint.summary.failures += 1
                    logger.warning("cannot judge or empty a folder", metadata: ["folder": "\(folder.prefix)", "error": "\(message)"])
                case .orphan(let finding, let removed):
                    checkpoint.summary.orphans[finding.reason.rawValue, default: 0] += 1
                    checkpoint.summary.deletedObjects += removed.count
                    checkpoint.summary.deletedBytes += removed.size
                    if finding.deleted == false { checkpoint.summary.failures += 1 }
                    found(finding)
                }
            }
            checkpoint.startAfter = grouper.resumePoint
            checkpoint.listedThrough = grouper.listedThrough
            checkpoint.openFolders = grouper.openPrefixes
            checkpoint.summary.elapsedSeconds = earlier + (ContinuousClock.now - started).milliseconds / 1000
            save(checkpoint)
            state.done = checkpoint.summary.folders
            state.failed = checkpoint.summary.failures
            progress(state)
            batch.removeAll(keepingCapacity: true)
        }

        do {
            for try await object in store.list(bucket: options.bucket, prefix: options.prefix, startAfter: checkpoint.startAfter, pageSize: 1000) {
                batch += grouper.add(object).filter { !resumed.judged($0) }
                if batch.count >= options.batchSize {
                    await flush()
                    if Task.isCancelled { break }
                }
            }
            if !Task.isCancelled { batch += grouper.finish().filter { !resumed.judged($0) } }
            await flush()
        } catch {
            if Task.isCancelled || error.code == .cancelled {
                checkpoint.summary.interrupted = true
            } else {
                // Not an interruption: the bucket is missing, access is denied, or the store
                // stayed unreachable through the retries. What was done is in the checkpoint.
                logger.error("listing failed", metadata: ["error": "\(error)"])
                checkpoint.summary.listingFailure = "\(error)"
            }
        }
        if Task.isCancelled { checkpoint.summary.interrupted = true }
        checkpoint.summary.elapsedSeconds = earlier + (ContinuousClock.now - started).milliseconds / 1000
        return checkpoint.summary
    }

    enum Verdict: Sendable {
        case keep(String)
        case orphan(Finding, removed: (count: Int, size: Int64))
        case failed(String)
    }

    private func handle(_ folders: [OutputFolder], options: Options) async -> [Verdict] {
        await withTaskGroup(of: (Int, Verdict).self) { group in
            for (index, folder) in folders.enumerated() {
                group.addTask { (index, await self.handle(folder, options: options)) }
            }
            var verdicts = [Verdict](repeating: .keep("live"), count: folders.count)
            for await (index, verdict) in group { verdicts[index] = verdict }
            return verdicts
        }
    }

    private func handle(_ folder: OutputFolder, options: Options) async -> Verdict {
        let judged = await judge(folder, options: options)
        guard case .orphan(var finding, _) = judged, options.delete else { return judged }
        // Checked again right before removing: an original re-uploaded meanwhile keeps its outputs.
        if finding.reason == .originalMissing || finding.reason == .tombstoneExpired,
           case .keep(let reason) = await judge(folder, options: options)
        {
            return .keep(reason)
        }
        let outputs = FileOutputs(store: store, bucket: options.bucket, layout: layout, retry: retry)
        let tombstone = layout.tombstoneKey(fileId: folder.fileId)
        let doomed = finding.reason == .tombstoneExpired ? folder.objects : folder.objects.filter { $0.key != tombstone }
        do {
            let result = try await outputs.remove(doomed.map(\.key))
            let removed = Set(result.deleted)
            let gone = doomed.filter { removed.contains($0.key) }
            finding.deleted = result.failed.isEmpty
            return .orphan(finding, removed: (gone.count, gone.map(\.size).reduce(0, +)))
        } catch {
            finding.deleted = false
            return .orphan(finding, removed: (0, 0))
        }
    }

    /// A tombstone alone stays while an event for the deleted version may still arrive, or
    /// while it cannot tell: unreadable, naming no original, or the original still there.
    private func judgeTombstone(_ folder: OutputFolder, options: Options) async -> Verdict {
        let key = layout.tombstoneKey(fileId: folder.fileId)
        let reader = RecordReader(store: store, bucket: options.bucket)
        let stored: Tombstone?
        do throws(ObjectStorageError) {
            stored = try await retry.retryingStorage { () async throws(ObjectStorageError) -> Tombstone? in
                try await reader.decodeIfStored(Tombstone.self, key: key)
            }
        } catch where error.code == .invalidArgument {
            // Larger than any record.
            return .keep("tombstone")
        } catch {
            return .failed("cannot read \(key): \(error)")
        }
        guard let tombstone = stored, let original = tombstone.key,
              Date().timeIntervalSince(tombstone.deletedAt) > Double(options.tombstoneRetention.milliseconds) / 1000
        else { return .keep("tombstone") }
        let bucket = tombstone.bucket ?? options.bucket
        switch await originalExists(bucket: bucket, key: original) {
        case .success(true): return .keep("tombstone")
        case .success(false):
            let detail = "deleted \(ManifestCoding.timestamp(tombstone.deletedAt)), s3://\(bucket)/\(original) gone"
            return .orphan(Finding(folder: folder, reason: .tombstoneExpired, detail: detail), removed: (0, 0))
        case .failure(let error): return .failed("cannot check s3://\(bucket)/\(original): \(error)")
        }
    }

    /// Whether the original is still stored; a failure when the store cannot tell.
    private func originalExists(bucket: String, key: String) async -> Result<Bool, ObjectStorageError> {
        do throws(ObjectStorageError) {
            _ = try await retry.retryingStorage { () async throws(ObjectStorageError) -> ObjectInfo in
                try await store.head(bucket: bucket, key: key)
            }
            return .success(true)
        } catch where error.code == .notFound || error.code == .noSuchBucket {
            return .success(false)
        } catch {
            return .failure(error)
        }
    }

    /// Decides from the folder's listing and manifest, and the original's existence.
    func judge(_ folder: OutputFolder, options: Options) async -> Verdict {
        let names = Set(folder.objects.map(\.key))
        let manifestKey = layout.manifestKey(fileId: folder.fileId)
        let newest = folder.objects.compactMap(\.lastModified).max()
        if let newest, Date().timeIntervalSince(newest) < Double(options.minAge.milliseconds) / 1000 { return .keep("recent") }
        guard names.contains(manifestKey) else {
            let records: Set<String> = [layout.tombstoneKey(fileId: folder.fileId), layout.attemptMarkerKey(fileId: folder.fileId)]
            if names.isSubset(of: records) {
                if names.contains(layout.attemptMarkerKey(fileId: folder.fileId)) { return .keep("in_flight") }
                return await judgeTombstone(folder, options: options)
            }
            return .orphan(Finding(folder: folder, reason: .noManifest, detail: "no manifest"), removed: (0, 0))
        }
        // A manifest that cannot be fetched leaves the folder unjudged (a failure); one that
        // is not a manifest is kept: gc never removes what it cannot read.
        let bytes: [UInt8]
        do {
            bytes = try await retry.retrying { try await store.getBytes(bucket: options.bucket, key: manifestKey, maxSize: 8 << 20).bytes }
        } catch let error as ObjectStorageError where error.code == .invalidArgument {
            // Larger than any manifest.
            return .keep("unreadable_manifest")
        } catch {
            return .failed("cannot read \(manifestKey): \(error)")
        }
        guard let manifest = try? ManifestCoding.decoder().decode(ProcessedData.self, from: Data(bytes)) else {
            return .keep("unreadable_manifest")
        }
        let pipeline = manifest.pipeline.name
        if pipeline != PipelineReference.none.name, pipelines.named(pipeline) == nil {
            return .orphan(Finding(folder: folder, reason: .pipelineRemoved, detail: "pipeline \(pipeline) v\(manifest.pipeline.version)"), removed: (0, 0))
        }
        let bucket = manifest.source.bucket ?? options.bucket
        switch await originalExists(bucket: bucket, key: manifest.source.key) {
        case .success(true): return .keep("live")
        case .success(false):
            return .orphan(Finding(folder: folder, reason: .originalMissing, detail: "s3://\(bucket)/\(manifest.source.key)"), removed: (0, 0))
        case .failure(let error): return .failed("cannot check s3://\(bucket)/\(manifest.source.key): \(error)")
        }
    }
}
