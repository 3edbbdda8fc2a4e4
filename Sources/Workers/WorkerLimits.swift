import CProcessShims
import Foundation

/// The limits a worker process puts on itself before it reads its first job. The kernel
/// enforces them from then on; a decoder cannot lift them (`no_new_privs`, and only a
/// privileged process may raise a hard limit).
public enum WorkerLimits {
    /// Open files: a job needs its input, a few outputs and the libraries' own.
    public static let openFiles: rlim_t = 256

    /// Applies the process-wide limits. Returns what could not be applied (none in practice).
    /// - Parameter memoryCeiling: the hard `RLIMIT_DATA`: no job's limit may exceed it.
    public static func applyAtStart(memoryCeiling: Int64) -> [String] {
        var problems: [String] = []
        // Die with the parent: a worker never outlives the daemon that supervises it.
        if mediad_set_parent_death_signal(SIGKILL) != 0 { problems.append("PR_SET_PDEATHSIG: \(lastError)") }
        if mediad_set_no_new_privs() != 0 { problems.append("PR_SET_NO_NEW_PRIVS: \(lastError)") }
        if !set(RLIMIT_CORE, soft: 0, hard: 0) { problems.append("RLIMIT_CORE: \(lastError)") }
        if !set(RLIMIT_NOFILE, soft: openFiles, hard: openFiles) { problems.append("RLIMIT_NOFILE: \(lastError)") }
        let ceiling = rlim_t(max(memoryCeiling, 64 << 20))
        if !set(RLIMIT_DATA, soft: ceiling, hard: ceiling) { problems.append("RLIMIT_DATA: \(lastError)") }
        return problems
    }

    /// Lowers the data limit and sets a CPU budget for one job.
    public static func applyForJob(memoryLimit: Int64, cpuSeconds: Int) {
        var data = rlimit()
        getrlimit(resource(RLIMIT_DATA), &data)
        _ = set(RLIMIT_DATA, soft: min(rlim_t(max(memoryLimit, 64 << 20)), data.rlim_max), hard: data.rlim_max)
        // RLIMIT_CPU counts the process's whole life; the budget starts from what it used.
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        let used = usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + 1
        var cpu = rlimit()
        getrlimit(resource(RLIMIT_CPU), &cpu)
        _ = set(RLIMIT_CPU, soft: min(rlim_t(used) + rlim_t(max(1, cpuSeconds)), cpu.rlim_max), hard: cpu.rlim_max)
    }

    private static func set(_ which: __rlimit_resource, soft: rlim_t, hard: rlim_t) -> Bool {
        var limit = rlimit(rlim_cur: soft, rlim_max: hard)
        return setrlimit(resource(which), &limit) == 0
    }

    private static func resource(_ which: __rlimit_resource) -> __rlimit_resource_t {
        __rlimit_resource_t(which.rawValue)
    }

    private static var lastError: String { String(cString: strerror(errno)) }
}
