import PipelineEngine

/// What the poster and transcode stages do with a file that has no video stream.
///
/// - An audio file (sniffed as audio: M4A, MP3, Ogg, WAV...) is fine as it is: the stage
///   records a warning (`no_usable_stream`) and returns without output, so the file still
///   succeeds with its metadata.
/// - A file sniffed as video that has no video stream (an `.mp4` holding only audio) is not
///   what it claims: the stage fails with `no_usable_stream`, which also skips the stages that
///   read its output (thumbnails from the poster).
enum NoVideoPolicy {
    static func handle(_ stage: StageDefinition, job: JobContext, making what: String) throws(StageFailure) {
        if job.sniffed.mediaType == .audio {
            job.warnings.append(ProcessingIssue(
                stage: stage.name, code: StageFailure.Code.noUsableStream.rawValue,
                message: "audio-only file: no \(what) made"))
            return
        }
        throw StageFailure(.noUsableStream, "the \(job.sniffed.format) file has no video stream to make a \(what) from")
    }
}
