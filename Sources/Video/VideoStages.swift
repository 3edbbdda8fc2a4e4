import PipelineEngine

/// The Video module's entry point: registers the inspector and the metadata, poster and
/// transcode stages for video and audio files.
///
/// Audio files get metadata only: their poster and transcode stages record a
/// `no_usable_stream` warning and make nothing. A file sniffed as video without a video
/// stream fails those two stages with `no_usable_stream` instead (see `NoVideoPolicy`).
public enum VideoStages {
    public static func register(into registry: inout StageRegistry) {
        for mediaType in [MediaType.video, .audio] {
            registry.register(inspector: VideoInspector(), for: mediaType)
            registry.register("metadata", for: mediaType, VideoMetadataStage())
            registry.register("poster", for: mediaType, PosterStage())
            registry.register("transcode", for: mediaType, TranscodeStage())
        }
    }
}
