/// The implementation of one stage kind for one media type. `run` is called on a worker
/// pool thread and may block in native code; it reports through the job context.
public protocol StageRunner: Sendable {
    /// - Throws: `StageFailure` with a code from `StageFailure.Code`.
    func run(_ stage: StageDefinition, job: JobContext) throws(StageFailure)
}

/// Checks a file before any stage runs: that it decodes at all, and that it is within the
/// pipeline's limits (pixels, duration). Fills the basic metadata it reads on the way.
public protocol MediaInspector: Sendable {
    /// - Throws: `StageFailure` (`corruptFile`, `tooManyPixels`, `tooLong`, ...).
    func inspect(_ job: JobContext) throws(StageFailure)
}

/// Which implementation runs each stage kind for each media type.
public struct StageRegistry: Sendable {
    private var runners: [Key: any StageRunner] = [:]
    private var inspectors: [MediaType: any MediaInspector] = [:]

    private struct Key: Hashable {
        var kind: String
        var mediaType: MediaType?
    }

    public init() {}

    /// Registers `runner` for a stage kind (`"thumbnail"`); a nil media type serves all of them.
    public mutating func register(_ kind: String, for mediaType: MediaType? = nil, _ runner: any StageRunner) {
        runners[Key(kind: kind, mediaType: mediaType)] = runner
    }

    public mutating func register(inspector: any MediaInspector, for mediaType: MediaType) {
        inspectors[mediaType] = inspector
    }

    public func runner(for kind: String, mediaType: MediaType) -> (any StageRunner)? {
        runners[Key(kind: kind, mediaType: mediaType)] ?? runners[Key(kind: kind, mediaType: nil)]
    }

    public func inspector(for mediaType: MediaType) -> (any MediaInspector)? {
        inspectors[mediaType]
    }
}
