import Foundation
import PipelineEngine
import Synchronization
import Workers

/// The native stage implementations (libvips, libexif, FFmpeg), when this binary links them.
///
/// `mediad` does not: it never maps a decoder, so it starts in a fraction of the time and
/// memory, and all of its native work runs in `mediad-native worker` processes.
/// `mediad-native` is the same command line with the stages linked in; it installs them
/// before anything else runs. What needs them in-process (`mediad worker`, `isolation: none`)
/// is handed over to it.
public enum LinkedStages {
    public struct Stages: Sendable {
        public var registry: @Sendable () -> StageRegistry
        public var prepare: @Sendable (PipelineSet) throws -> Void

        public init(registry: @escaping @Sendable () -> StageRegistry, prepare: @escaping @Sendable (PipelineSet) throws -> Void) {
            self.registry = registry
            self.prepare = prepare
        }
    }

    private static let installed = Mutex<Stages?>(nil)

    public static func install(_ stages: Stages) {
        installed.withLock { $0 = stages }
    }

    /// The stages this process links; nil in `mediad`.
    public static var current: Stages? { installed.withLock { $0 } }

    /// The stages, or, in `mediad` itself, this very command run again as `mediad-native`
    /// (exec: same process, arguments and environment).
    /// - Throws: `StageFailure(.internalError)` when neither is possible.
    public static func requireOrHandOver() throws(StageFailure) -> Stages {
        if let current { return current }
        let own = WorkerSupervisor.ownExecutable()
        guard URL(fileURLWithPath: own).lastPathComponent == "mediad" else {
            throw StageFailure(.internalError, "this process does not link the native stages, and is not mediad (\(own))")
        }
        let native = WorkerSupervisor.defaultExecutable()
        let arguments = [native] + CommandLine.arguments.dropFirst()
        var pointers: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        pointers.append(nil)
        execv(native, pointers)
        throw StageFailure(.internalError, "in-process native work needs \(native): \(String(cString: strerror(errno)))")
    }
}
