#if canImport(Glibc)
import Glibc
#endif

/// A self-pipe the connection's thread polls beside its socket, so a queued command wakes
/// it at once instead of after the poll's timeout. Both ends are non-blocking: a full pipe
/// already means "wake up", and draining stops when it is empty.
final class WakeSignal: Sendable {
    /// Polled by the thread.
    let descriptor: Int32
    private let writeEnd: Int32

    init() {
        var ends: [Int32] = [0, 0]
        precondition(pipe(&ends) == 0, "pipe failed: errno \(errno)")
        for end in ends {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        descriptor = ends[0]
        writeEnd = ends[1]
    }

    deinit {
        close(descriptor)
        close(writeEnd)
    }

    func signal() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    /// Empties the pipe after a wake-up (called by the thread).
    func drain() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(descriptor, &buffer, buffer.count) > 0 {}
    }
}
