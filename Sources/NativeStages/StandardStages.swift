import Imaging
import MediaProcessing
import PipelineEngine
import Video

/// The stage implementations this build of mediad ships: the checksums, and the native
/// stages over libvips, libexif and FFmpeg. Only `mediad-native` (and the tests) link them.
public enum StandardStages {
    public static func registry() -> StageRegistry {
        var registry = StageRegistry()
        registry.register("checksum", ChecksumStage())
        ImagingStages.register(into: &registry)
        VideoStages.register(into: &registry)
        return registry
    }

    /// Process-wide native set-up the loaded pipelines need (e.g. loaders they enable).
    /// - Throws: `StageFailure` if a native library cannot start.
    public static func prepare(for pipelines: PipelineSet) throws {
        try ImagingStages.prepare(for: pipelines)
    }

    /// The stages as `LinkedStages` takes them.
    public static var linked: LinkedStages.Stages {
        LinkedStages.Stages(registry: { registry() }, prepare: { try prepare(for: $0) })
    }
}
