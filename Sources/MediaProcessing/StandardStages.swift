import Imaging
import PipelineEngine
import Video

/// The stage implementations this build of mediad ships.
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
}
