import PipelineEngine

/// One job for a worker process: a local file, the one pipeline to run on it, where to
/// write, and the limits the kernel holds it to. Nothing in it grants access to storage
/// or the broker.
public struct WorkerJob: Codable, Sendable {
    public var id: UInt64
    public var file: String
    public var size: Int64
    public var sniffed: SniffedType
    public var pipeline: PipelineSource
    /// A directory the worker owns for this job; derivative files must stay inside it.
    public var outputDirectory: String
    /// `RLIMIT_DATA` for the job, in bytes.
    public var memoryLimit: Int64
    /// CPU seconds the job may use before the kernel stops it (`RLIMIT_CPU`).
    public var cpuSeconds: Int
    /// Warnings the parent already found (a declared type that disagrees with the bytes).
    public var warnings: [ProcessingIssue]
    /// Digests the parent computed while downloading the file.
    public var knownDigests: KnownDigests?

    public init(
        id: UInt64, file: String, size: Int64, sniffed: SniffedType, pipeline: PipelineSource, outputDirectory: String,
        memoryLimit: Int64, cpuSeconds: Int, warnings: [ProcessingIssue] = [], knownDigests: KnownDigests? = nil
    ) {
        self.knownDigests = knownDigests
        self.id = id
        self.file = file
        self.size = size
        self.sniffed = sniffed
        self.pipeline = pipeline
        self.outputDirectory = outputDirectory
        self.memoryLimit = memoryLimit
        self.cpuSeconds = cpuSeconds
        self.warnings = warnings
    }
}

/// A pipeline as a worker receives it: its name and version (checked after parsing) and
/// the YAML it was loaded from.
public struct PipelineSource: Codable, Sendable, Hashable {
    public var name: String
    public var version: Int
    public var yaml: String

    public init(name: String, version: Int, yaml: String) {
        self.name = name
        self.version = version
        self.yaml = yaml
    }
}

/// What a worker says once it is ready.
public struct WorkerHello: Codable, Sendable {
    public var pid: Int32
    /// Whether the worker runs in an empty network namespace (no interface but a down loopback).
    public var networkIsolated: Bool
}

/// What a worker sends back for a job.
public struct WorkerResult: Codable, Sendable {
    public var jobID: UInt64
    public var outcome: PipelineOutcome
    /// The worker's resident memory after the job: the supervisor recycles a worker whose
    /// allocator kept too much.
    public var residentBytes: Int64

    public init(jobID: UInt64, outcome: PipelineOutcome, residentBytes: Int64) {
        self.jobID = jobID
        self.outcome = outcome
        self.residentBytes = residentBytes
    }
}

/// Parent to worker.
public enum WorkerRequest: Codable, Sendable {
    case run(WorkerJob)
}

/// Worker to parent.
public enum WorkerReply: Codable, Sendable {
    case hello(WorkerHello)
    /// A stage is starting: names the stage a later crash or timeout is blamed on.
    case stage(jobID: UInt64, name: String)
    case result(WorkerResult)
}
