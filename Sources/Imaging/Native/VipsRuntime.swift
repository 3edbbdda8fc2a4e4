import CVips
import CVipsShims
import Foundation
import Logging
import PipelineEngine
import Synchronization

/// libvips' process-wide set-up, done once before the first image is touched.
///
/// A long-running daemon turns the operation cache off (it would pin decoded images in
/// memory), runs one libvips thread per image (throughput comes from the worker pool, which
/// decodes several images at once), and blocks loaders that are unsafe on untrusted input.
enum VipsRuntime {
    /// Loader names a pipeline may re-enable, and their libvips classes.
    static let untrustedLoaderClasses: [String: String] = [
        "svg": "VipsForeignLoadSvg", "pdf": "VipsForeignLoadPdf", "magick": "VipsForeignLoadMagick",
        "jp2k": "VipsForeignLoadJp2k", "jxl": "VipsForeignLoadJxl", "openexr": "VipsForeignLoadOpenexr",
        "fits": "VipsForeignLoadFits", "matrix": "VipsForeignLoadMatrix", "openslide": "VipsForeignLoadOpenslide",
        "ppm": "VipsForeignLoadPpm", "analyze": "VipsForeignLoadAnalyze", "rad": "VipsForeignLoadRad",
        "csv": "VipsForeignLoadCsv", "vips": "VipsForeignLoadVips", "mat": "VipsForeignLoadMat",
        "raw": "VipsForeignLoadRaw",
    ]

    private static let started: Bool = {
        guard mediad_vips_init("mediad") == 0 else { return false }
        vips_cache_set_max(0)
        vips_cache_set_max_mem(0)
        vips_concurrency_set(1)
        vips_block_untrusted_set(1)
        mediad_vips_set_log_handler { level, message in
            guard let message else { return }
            VipsRuntime.logger.debug("libvips", metadata: ["level": "\(level)", "message": "\(String(cString: message))"])
        }
        return true
    }()

    static let logger = Logger(label: "mediad.imaging.vips")

    /// Loaders pipelines asked for, and those already unblocked in libvips.
    private struct LoaderChoices {
        var wanted: Set<String> = []
        var applied: Set<String> = []
    }

    private static let loaderChoices = Mutex(LoaderChoices())

    /// Starts libvips once (and applies the loader choices made so far); later calls are cheap.
    /// - Throws: `StageFailure(.internalError)` if libvips could not start.
    static func start() throws(StageFailure) {
        guard started else {
            throw StageFailure(.internalError, "libvips failed to initialise: \(VipsError.takeMessage())")
        }
        loaderChoices.withLock { choices in
            for loader in choices.wanted.subtracting(choices.applied) {
                guard let className = untrustedLoaderClasses[loader] else { continue }
                mediad_vips_operation_block(className, 0)
                choices.applied.insert(loader)
            }
        }
    }

    /// Re-enables the untrusted loaders a pipeline asks for. Process-wide: the union of all
    /// loaded pipelines' choices applies, and sniffing keeps other pipelines from seeing those formats.
    ///
    /// libvips itself starts with the first image a stage touches, not here: a run that
    /// meets no image (a text file, a video without thumbnails) never pays its start-up
    /// (module loading, about 50 MB resident).
    static func allow(untrustedLoaders: Set<String>) {
        loaderChoices.withLock { $0.wanted.formUnion(untrustedLoaders) }
    }
}

/// Reads and clears libvips' error buffer.
enum VipsError {
    /// libvips keeps one error buffer for the whole process, so a message can hold lines
    /// from other workers' files: lines that name another file are dropped.
    static func takeMessage(file: String? = nil) -> String {
        guard let buffer = vips_error_buffer_copy() else { return "unknown libvips error" }
        defer { g_free(buffer) }
        var seen: Set<Substring> = []
        let lines = String(cString: buffer).split(separator: "\n").filter { line in
            guard seen.insert(line).inserted else { return false }
            guard let file else { return true }
            let mentionsOtherFile = line.contains("/") && !line.contains(file) && line.range(of: #"(^|\s|")/[^\s"]+"#, options: .regularExpression) != nil
            return !mentionsOtherFile
        }
        let text = lines.joined(separator: "; ").trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "unknown libvips error" : text
    }

    /// Classifies a libvips failure into a stable code; the message keeps the native text.
    static func failure(_ context: String, file: String? = nil, killed: Bool = false) -> StageFailure {
        let message = takeMessage(file: file)
        if killed || message.contains("killed") {
            return StageFailure(.timeout, "\(context): stopped at the stage deadline")
        }
        let lower = message.lowercased()
        if lower.contains("premature end") || lower.contains("truncated") || lower.contains("out of order read")
            || lower.contains("unexpected end") || lower.contains("end of file") || lower.contains("not enough data")
        {
            return StageFailure(.truncatedFile, "\(context): the file ends early (\(message))")
        }
        if lower.contains("is not a known file format") || lower.contains("not a known") {
            return StageFailure(.unsupportedType, "\(context): no enabled decoder recognises the file (\(message))")
        }
        if lower.contains("operation is blocked") || lower.contains("blocked") {
            return StageFailure(.loaderDisabled, "\(context): the format's loader is disabled for untrusted input (\(message))")
        }
        return StageFailure(.corruptFile, "\(context): \(message)")
    }
}
