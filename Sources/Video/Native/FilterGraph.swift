import CFFmpeg
import CFFmpegShims
import PipelineEngine

/// Owns an `AVFilterGraph` with one source and one sink: frames go in, converted frames
/// (scaled, rotated, tone-mapped, resampled) come out.
final class FilterGraph {
    private var graph: UnsafeMutablePointer<AVFilterGraph>?
    private var source: UnsafeMutablePointer<AVFilterContext>?
    private var sink: UnsafeMutablePointer<AVFilterContext>?
    let description: String

    /// - Parameters:
    ///   - audio: whether this is an `abuffer`/`abuffersink` graph.
    ///   - sourceArguments: the `buffer`/`abuffer` source's options (size, format, time base).
    ///   - description: the filter chain between source and sink, in libavfilter's syntax.
    init(audio: Bool, sourceArguments: String, description: String) throws(StageFailure) {
        self.description = description
        guard let graph = avfilter_graph_alloc() else {
            throw StageFailure(.internalError, "cannot allocate a filter graph", retryable: true)
        }
        self.graph = graph
        // What the ffmpeg program uses, so outputs match it at the same settings.
        graph.pointee.scale_sws_opts = av_strdup("flags=bicubic")
        mediad_av_log_clear()
        var source: UnsafeMutablePointer<AVFilterContext>?
        var status = avfilter_graph_create_filter(
            &source, avfilter_get_by_name(audio ? "abuffer" : "buffer"), "in", sourceArguments, nil, graph)
        guard status >= 0, let source else { throw Self.failure(status, "cannot create the filter source (\(sourceArguments))") }
        var sink: UnsafeMutablePointer<AVFilterContext>?
        status = avfilter_graph_create_filter(&sink, avfilter_get_by_name(audio ? "abuffersink" : "buffersink"), "out", nil, nil, graph)
        guard status >= 0, let sink else { throw Self.failure(status, "cannot create the filter sink") }
        self.source = source
        self.sink = sink

        var outputsList = avfilter_inout_alloc()
        var inputsList = avfilter_inout_alloc()
        guard let outputs = outputsList, let inputs = inputsList else {
            avfilter_inout_free(&outputsList)
            avfilter_inout_free(&inputsList)
            throw StageFailure(.internalError, "cannot allocate filter pads", retryable: true)
        }
        outputs.pointee.name = av_strdup("in")
        outputs.pointee.filter_ctx = source
        outputs.pointee.pad_idx = 0
        outputs.pointee.next = nil
        inputs.pointee.name = av_strdup("out")
        inputs.pointee.filter_ctx = sink
        inputs.pointee.pad_idx = 0
        inputs.pointee.next = nil
        status = avfilter_graph_parse_ptr(graph, description, &inputsList, &outputsList, nil)
        // parse_ptr frees the pads it links and leaves the rest in the lists.
        avfilter_inout_free(&inputsList)
        avfilter_inout_free(&outputsList)
        guard status >= 0 else { throw Self.failure(status, "cannot build the filter chain '\(description)'") }
        status = avfilter_graph_config(graph, nil)
        guard status >= 0 else { throw Self.failure(status, "cannot configure the filter chain '\(description)'") }
    }

    deinit { avfilter_graph_free(&graph) }

    private static func failure(_ status: Int32, _ doing: String) -> StageFailure {
        .av(status, doing, deadline: nil, fallback: .internalError)
    }

    /// Output properties, known once the graph is configured.
    var outputWidth: Int32 { av_buffersink_get_w(sink) }
    var outputHeight: Int32 { av_buffersink_get_h(sink) }
    var outputFormat: Int32 { av_buffersink_get_format(sink) }
    var outputTimeBase: AVRational { av_buffersink_get_time_base(sink) }
    var outputSampleRate: Int32 { av_buffersink_get_sample_rate(sink) }

    /// Makes the audio sink hand out frames of exactly `samples` (what AAC's encoder needs).
    func setOutputFrameSize(_ samples: Int32) { av_buffersink_set_frame_size(sink, UInt32(samples)) }

    /// Feeds a frame (its buffers are taken; `frame` is left empty), or nil for the end.
    func push(_ frame: Frame?) throws(StageFailure) {
        let status = av_buffersrc_add_frame_flags(source, frame?.pointer, 0)
        guard status >= 0 else { throw Self.failure(status, "cannot filter a frame") }
    }

    /// The next filtered frame, or false when the graph needs more input or is drained.
    func pull(into frame: Frame) throws(StageFailure) -> Bool {
        frame.unref()
        let status = av_buffersink_get_frame(sink, frame.pointer)
        if status == AVCode.again || status == AVCode.endOfFile { return false }
        guard status >= 0 else { throw Self.failure(status, "cannot filter a frame") }
        return true
    }
}
