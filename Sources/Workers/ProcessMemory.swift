import Foundation

/// Memory figures of a process from `/proc/PID/status`: cheap enough to sample every
/// 100 ms, and readable for a child that is still running.
public struct ProcessMemory: Sendable, Equatable {
    /// `VmRSS`: resident now.
    public var residentBytes: Int64
    /// `VmData`: private writable memory, what `RLIMIT_DATA` counts.
    public var dataBytes: Int64

    /// Nil when the process is gone.
    public static func of(pid: Int32) -> ProcessMemory? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        var memory = ProcessMemory(residentBytes: 0, dataBytes: 0)
        for line in text.split(separator: "\n") {
            if line.hasPrefix("VmRSS:") {
                memory.residentBytes = kilobytes(line)
            } else if line.hasPrefix("VmData:") {
                memory.dataBytes = kilobytes(line)
            }
        }
        return memory
    }

    /// This process.
    public static var current: ProcessMemory? { of(pid: getpid()) }

    private static func kilobytes(_ line: Substring) -> Int64 {
        let digits = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0"
        return (Int64(digits) ?? 0) * 1024
    }
}
