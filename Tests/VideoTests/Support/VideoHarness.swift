import Foundation
import Logging
import PipelineEngine
@testable import Video

/// The committed clips (made by scripts/make-video-fixtures.sh).
enum VideoFixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/video")

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }
}

/// One job on one file, with its own work directory (removed when the harness goes away).
final class VideoJob {
    let job: JobContext
    let work: URL

    /// - Parameters:
    ///   - sniffed: overrides the sniffer (to hand a lying type to the module).
    init(_ fixture: String, limits: PipelineLimits = PipelineLimits(), stages: [StageDefinition] = [], sniffed: SniffedType? = nil) throws {
        let file = VideoFixtures.url(fixture)
        work = FileManager.default.temporaryDirectory.appendingPathComponent("mediad-video-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int64 ?? 0
        let pipeline = PipelineDefinition(
            name: "video-test", version: 1, match: MatchRule(mediaTypes: [.video, .audio]), limits: limits, stages: stages)
        job = JobContext(
            file: file, size: size, sniffed: try sniffed ?? MediaSniffer.sniff(file: file), pipeline: pipeline,
            workDirectory: work, logger: Logger(label: "video-test"))
    }

    deinit { try? FileManager.default.removeItem(at: work) }

    /// Files the stages left in the work directory, hidden temporaries included.
    var workFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: work.path)) ?? []).sorted()
    }

    func output(_ name: String) -> ProducedOutput? { job.outputs.first { $0.derivative.name == name } }

    /// Runs the whole pipeline (inspector, then stages) the way the engine does.
    func runPipeline(registry: StageRegistry? = nil) -> PipelineOutcome {
        var standard = StageRegistry()
        VideoStages.register(into: &standard)
        return PipelineRunner(registry: registry ?? standard).run(job)
    }
}

extension StageDefinition {
    static func poster(_ spec: PosterSpec = PosterSpec(), name: String = "poster") -> StageDefinition {
        StageDefinition(name: name, kind: .poster(spec))
    }

    static func transcode(_ spec: TranscodeSpec = TranscodeSpec(), name: String = "transcode") -> StageDefinition {
        StageDefinition(name: name, kind: .transcode(spec))
    }

    static func metadata(includeLocation: Bool = true) -> StageDefinition {
        StageDefinition(name: "metadata", kind: .metadata(MetadataSpec(includeLocation: includeLocation)))
    }
}

/// Catches a stage's typed error for `#expect` comparisons.
func failure(_ body: () throws(StageFailure) -> Void) -> StageFailure? {
    do {
        try body()
        return nil
    } catch {
        return error
    }
}
