import Foundation
import Synchronization

/// The record of finished files that makes a run resumable: one JSON line per file, flushed
/// as each finishes, under a first line naming the selection. An interrupted run (Ctrl-C,
/// crash) started again with the same selection skips what the file lists; a finished run
/// removes it.
public final class ReprocessCheckpoint: Sendable {
    /// One finished file.
    public struct Entry: Codable, Sendable, Hashable {
        public var id: String
        public var fileId: String
        /// `started` when the file was taken up, then `succeeded`, `partial`, `failed` or `published`.
        public var outcome: String
        public var codes: [String]?
    }

    struct Header: Codable {
        var selection: String
        var started: String
    }

    public let url: URL
    /// Files finished by earlier runs of this selection, by candidate id.
    public let finished: [String: Entry]
    /// Files an earlier run took up and did not finish: their manifest may look current while
    /// their result was never announced, so they are redone whatever the manifest says.
    public let unfinished: Set<String>
    /// Appends from concurrent jobs are serialised here.
    private let handle: Mutex<FileHandle>

    /// Opens (or creates) the checkpoint of a selection.
    /// - Throws: `ReprocessError.checkpoint` when the file belongs to another selection or
    ///   cannot be written.
    public init(url: URL, fingerprint: String) throws(ReprocessError) {
        self.url = url
        var finished: [String: Entry] = [:]
        var started: Set<String> = []
        let manager = FileManager.default
        if let data = manager.contents(atPath: url.path), !data.isEmpty {
            let lines = data.split(separator: UInt8(ascii: "\n"))
            let decoder = JSONDecoder()
            guard let first = lines.first, let header = try? decoder.decode(Header.self, from: Data(first)) else {
                throw .checkpoint("\(url.path) is not a mediad reprocess checkpoint")
            }
            guard header.selection == fingerprint else {
                throw .checkpoint("\(url.path) belongs to another selection (\(header.selection), this one is \(fingerprint)): remove it or pass another --checkpoint")
            }
            // A line cut short by a crash is simply not finished.
            for line in lines.dropFirst() {
                guard let entry = try? decoder.decode(Entry.self, from: Data(line)) else { continue }
                if entry.outcome == "started" { started.insert(entry.id) } else { finished[entry.id] = entry }
            }
        } else {
            let header = Header(selection: fingerprint, started: ISO8601DateFormatter().string(from: Date()))
            guard let line = try? JSONEncoder().encode(header),
                  manager.createFile(atPath: url.path, contents: line + Data("\n".utf8))
            else { throw .checkpoint("cannot create \(url.path)") }
        }
        guard let handle = try? FileHandle(forWritingTo: url) else { throw .checkpoint("cannot open \(url.path) for writing") }
        _ = try? handle.seekToEnd()
        self.handle = Mutex(handle)
        self.finished = finished
        self.unfinished = started.subtracting(finished.keys)
    }

    deinit {
        handle.withLock { try? $0.close() }
    }

    /// Appends a finished file and forces it to disk before returning.
    public func record(_ entry: Entry) {
        guard var line = try? JSONEncoder().encode(entry) else { return }
        line.append(UInt8(ascii: "\n"))
        handle.withLock { handle in
            try? handle.write(contentsOf: line)
            try? handle.synchronize()
        }
    }

    /// Removes the checkpoint once every selected file is finished.
    public func remove() {
        handle.withLock { try? $0.close() }
        try? FileManager.default.removeItem(at: url)
    }
}

/// Why a reprocess run cannot start or go on.
public enum ReprocessError: Error, Sendable, CustomStringConvertible, Equatable {
    case checkpoint(String)
    case selection(String)
    case storage(String)

    public var description: String {
        switch self {
        case .checkpoint(let message): "checkpoint: \(message)"
        case .selection(let message): "selection: \(message)"
        case .storage(let message): "storage: \(message)"
        }
    }
}
