import Foundation
import Logging
import ObjectStorage
import PipelineEngine
import Synchronization

/// The poison-file guard for deaths of the daemon itself (an OOM kill of the container,
/// `kill -9`), which no worker supervisor can see: before a job runs, a marker beside the
/// manifest counts the starts that had no outcome yet. It lives in the object store, so it
/// holds when the partition moves to another replica.
///
/// A file whose marker shows `maxCrashes` such starts is not run again: it fails with
/// `poison_file` and its partition moves on. A new version of the original (another ETag)
/// starts a new count; an operator may delete the marker to allow another try.
public struct AttemptLedger: Sendable {
    public let store: any ObjectStore
    public let maxCrashes: Int
    public let instance: String

    /// The marker's content.
    public struct Marker: Codable, Sendable, Equatable {
        /// Starts of this file's job that had no recorded outcome yet.
        public var attempts: Int
        public var startedAt: Date
        public var instance: String
        /// The original's ETag the attempts were made on.
        public var etag: String?
    }

    /// What a job may do.
    public enum Admission: Sendable {
        /// Run it; `previous` is the marker found (restored if the job ends without an outcome).
        case run(previous: Marker?)
        /// Do not run it: earlier starts ended in deaths of the daemon.
        case poisoned(Marker)
    }

    /// A started job's claim on its marker.
    public struct Ticket: Sendable {
        public var bucket: String
        public var key: String
        public var previous: Marker?
    }

    public init(store: any ObjectStore, maxCrashes: Int, instance: String) {
        self.store = store
        self.maxCrashes = max(1, maxCrashes)
        self.instance = instance
    }

    /// Whether the file may run, given the marker found beside its manifest (read with the
    /// file's other records). Writes nothing: a job waiting in the queue is not a start.
    public func admit(_ marker: Marker?, etag: String?) -> Admission {
        guard let marker else { return .run(previous: nil) }
        if marker.etag == etag, marker.attempts >= maxCrashes { return .poisoned(marker) }
        return .run(previous: marker)
    }

    /// Records one more start, as the job's decoding begins. A marker that cannot be
    /// written does not stop the job (the guard is best-effort; storage failures show up
    /// in the job itself).
    public func start(fileId: String, etag: String?, previous: Marker?, sink: ObjectStoreSink, logger: Logger) async -> Ticket {
        let key = sink.layout.attemptMarkerKey(fileId: fileId)
        let earlier = previous?.etag == etag ? previous?.attempts ?? 0 : 0
        let marker = Marker(attempts: earlier + 1, startedAt: Date(), instance: instance, etag: etag)
        if let bytes = try? ManifestCoding.encoder().encode(marker) {
            do {
                _ = try await store.put(bucket: sink.bucket, key: key, bytes: Array(bytes), options: PutOptions(contentType: "application/json", cacheControl: "no-cache"))
            } catch {
                logger.warning("cannot write the attempt marker", metadata: ["key": "\(key)", "error": "\(error)"])
            }
        }
        return Ticket(bucket: sink.bucket, key: key, previous: previous)
    }

    /// The job's outcome is recorded: its starts no longer count against it.
    public func finish(_ ticket: Ticket) async {
        try? await store.delete(bucket: ticket.bucket, key: ticket.key)
    }

    /// The job ended without an outcome (shutdown, Ctrl-C): it is not the file's fault, so
    /// the marker goes back to what it was. Runs detached from the cancelled job.
    public func abandon(_ ticket: Ticket) async {
        let store = store
        await Task.detached {
            if let previous = ticket.previous, let bytes = try? ManifestCoding.encoder().encode(previous) {
                _ = try? await store.put(bucket: ticket.bucket, key: ticket.key, bytes: Array(bytes), options: PutOptions(contentType: "application/json", cacheControl: "no-cache"))
            } else {
                try? await store.delete(bucket: ticket.bucket, key: ticket.key)
            }
        }.value
    }
}

/// The ticket of a job: the marker write started by the start hook on whichever task
/// runs it, awaited when the outcome is known.
final class TicketBox: Sendable {
    private let storage = Mutex<Task<AttemptLedger.Ticket, Never>?>(nil)

    /// Starts `write` unless a start was recorded already.
    func startOnce(_ write: @escaping @Sendable () async -> AttemptLedger.Ticket) {
        storage.withLock { task in
            if task == nil { task = Task { await write() } }
        }
    }

    var value: AttemptLedger.Ticket? {
        get async { await storage.withLock { $0 }?.value }
    }
}
