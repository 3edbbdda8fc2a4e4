import PipelineEngine

/// The `metadata` stage for video and audio: container and stream facts, creation time and,
/// when the stage allows it, the recorded location.
public struct VideoMetadataStage: StageRunner {
    public init() {}

    public func run(_ stage: StageDefinition, job: JobContext) throws(StageFailure) {
        guard case .metadata(let spec) = stage.kind else { return }
        let probe = try MediaAccess.probe(job)
        probe.fill(&job.metadata, includeLocation: spec.includeLocation)
    }
}
