import Foundation
import PipelineEngine

/// Output files appear complete or not at all: written under a temporary name in the same
/// directory, renamed into place on success, removed on failure.
enum FileOutput {
    /// The temporary sibling of `url` a writer uses until it is done.
    static func temporary(for url: URL) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial")
    }

    static func writeAtomically(_ data: Data, to url: URL) throws(StageFailure) {
        let temporary = temporary(for: url)
        do {
            try data.write(to: temporary)
        } catch {
            remove(temporary)
            throw StageFailure(.ioError, "cannot write \(url.lastPathComponent): \(error.localizedDescription)")
        }
        try commit(temporary, to: url)
    }

    /// Renames a finished temporary file into place (replacing an earlier attempt's output).
    static func commit(_ temporary: URL, to url: URL) throws(StageFailure) {
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            remove(temporary)
            throw StageFailure(.ioError, "cannot move \(url.lastPathComponent) into place: \(reason)")
        }
    }

    static func remove(_ url: URL) {
        unlink(url.path)
    }
}
