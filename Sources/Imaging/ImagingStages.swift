import PipelineEngine

/// The image stages, for the stage registry.
public enum ImagingStages {
    /// Registers the image inspector and the metadata, thumbnail and placeholder stages.
    /// Thumbnails and placeholders serve every media type: for video they read the poster.
    public static func register(into registry: inout StageRegistry) {
        registry.register(inspector: ImageInspector(), for: .image)
        registry.register("metadata", for: .image, ImageMetadataStage())
        registry.register("thumbnail", ThumbnailStage())
        registry.register("placeholder", PlaceholderStage())
    }

    /// Enables the untrusted loaders that any of `pipelines` asks for (all are off by default).
    /// libvips starts lazily, with the first image a stage reads; the choices apply from then on.
    /// - Throws: never today; kept so callers need not change if set-up can fail again.
    public static func prepare(for pipelines: PipelineSet) throws(StageFailure) {
        let loaders = pipelines.definitions.reduce(into: Set<String>()) { $0.formUnion($1.decode.untrustedLoaders) }
        VipsRuntime.allow(untrustedLoaders: loaders)
    }
}
