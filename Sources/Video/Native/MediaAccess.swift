import CFFmpeg
import Foundation
import PipelineEngine

/// Opens a job's file the safe way, once per job: the inspector's opened and probed file is
/// kept in `job.moduleState` and reused by the metadata, poster and transcode stages (each
/// with its own deadline), so a job pays for `avformat_find_stream_info` once, as the
/// `ffmpeg` program does.
enum MediaAccess {
    /// What one job keeps between its stages; released with the job.
    final class CachedMedia {
        let probe: VideoProbe
        var input: InputFile
        init(probe: VideoProbe, input: InputFile) {
            self.probe = probe
            self.input = input
        }
    }

    private static let key = ObjectIdentifier(CachedMedia.self)

    /// The job's probe, made now or earlier in the job.
    static func probe(_ job: JobContext) throws(StageFailure) -> VideoProbe {
        try media(job).probe
    }

    /// The job's opened file with a fresh deadline for the running stage; `fromStart` rewinds
    /// it to the first packet (or reopens it where the demuxer can't seek back exactly).
    static func input(_ job: JobContext, fromStart: Bool) throws(StageFailure) -> InputFile {
        let media = try media(job)
        media.input.deadline.reset(remaining: job.remainingTime)
        if fromStart, try !media.input.rewind() {
            media.input = try open(job, deadline: media.input.deadline)
        }
        return media.input
    }

    private static func media(_ job: JobContext) throws(StageFailure) -> CachedMedia {
        if let cached = job.moduleState[key] as? CachedMedia { return cached }
        let deadline = Deadline(remaining: job.remainingTime)
        let input = try open(job, deadline: deadline)
        var probe = VideoProbe(input: input, sniffedFormat: job.sniffed.format)
        if probe.demuxer.hasPrefix("mov,"), let boxes = TopLevelBoxes.scan(job.file) {
            if boxes.truncated {
                throw StageFailure(
                    .truncatedFile,
                    "the file ends inside its '\(boxes.boxes.last?.type ?? "?")' box: \(job.size) bytes, "
                        + "\(boxes.boxes.last.map { $0.offset + $0.size } ?? 0) expected")
            }
            probe.moovBeforeMdat = boxes.moovBeforeMdat
        }
        let media = CachedMedia(probe: probe, input: input)
        job.moduleState[key] = media
        return media
    }

    /// Opens `job.file` with the demuxer its sniffed type names.
    /// - Throws: `truncatedFile` when an MP4/MOV ends inside a box (an interrupted upload),
    ///   `corruptFile` when the demuxer rejects it, `timeout`.
    private static func open(_ job: JobContext, deadline: Deadline) throws(StageFailure) -> InputFile {
        _ = VideoRuntime.setUp
        let demuxer = DemuxPolicy.demuxer(forSniffedFormat: job.sniffed.format)
        do {
            return try InputFile(url: job.file, demuxer: demuxer, deadline: deadline)
        } catch where error.code == .corruptFile && demuxer == "mov" {
            if let boxes = TopLevelBoxes.scan(job.file), boxes.truncated {
                throw StageFailure(.truncatedFile, "the file ends inside its '\(boxes.boxes.last?.type ?? "?")' box (\(error.message))")
            }
            throw error
        }
    }
}
