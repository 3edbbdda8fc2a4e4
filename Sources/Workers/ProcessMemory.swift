import Foundation

/// A process's memory as Linux accounts it, read from `/proc/PID/statm` (a handful of
/// numbers: cheap enough to sample every busy worker ten times a second).
public struct ProcessMemory: Sendable, Equatable {
    /// Resident now (`VmRSS`).
    public var residentBytes: Int64
    /// Private writable memory plus the main stack: what `RLIMIT_DATA` counts, give or take
    /// the stack.
    public var dataBytes: Int64

    private static let pageSize = Int64(sysconf(Int32(_SC_PAGESIZE)))

    /// Nil when the process is gone.
    public static func of(pid: Int32) -> ProcessMemory? {
        let descriptor = open("/proc/\(pid)/statm", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        // size resident shared text lib data dt, in pages.
        var fields: [Int64] = []
        var value: Int64 = 0
        var inNumber = false
        for byte in buffer[..<count] {
            if byte >= 48 && byte <= 57 {
                value = value * 10 + Int64(byte - 48)
                inNumber = true
            } else if inNumber {
                fields.append(value)
                value = 0
                inNumber = false
            }
        }
        if inNumber { fields.append(value) }
        guard fields.count >= 6 else { return nil }
        return ProcessMemory(residentBytes: fields[1] * pageSize, dataBytes: fields[5] * pageSize)
    }

    /// This process.
    public static var current: ProcessMemory? { of(pid: getpid()) }
}
