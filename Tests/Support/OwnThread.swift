import Foundation

/// Runs blocking `work` (waiting for a child process, polling a port) on a thread of its
/// own and awaits it. Tests run daemons in their own process, and the cooperative pool has
/// one thread per core: a test blocking one of them stalls every daemon's timers and jobs,
/// and with a few such tests in parallel a 2 s timeout fires after 10 s.
public func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try work() }) }
        thread.start()
    }
}

extension Process {
    /// Waits until the process exits, on a thread of its own (`onOwnThread`).
    public func exited() async {
        _ = try? await onOwnThread { [self] in waitUntilExit() }
    }
}
