import CFFmpeg
import CFFmpegShims
import PipelineEngine

/// A stage's deadline, shared by every FFmpeg context the stage opens (through an
/// `AVIOInterruptCB`, so blocking reads and writes stop) and checked by its decode and encode
/// loops (so CPU-bound work stops too). Owns the C struct the callback reads; contexts keep a
/// strong reference so the struct outlives them.
final class Deadline {
    private let pointer: UnsafeMutablePointer<mediad_av_deadline>

    /// - Parameter remaining: the time the stage has left (`job.remainingTime`).
    init(remaining: Duration) {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: mediad_av_deadline(deadline_us: 0))
        reset(remaining: remaining)
    }

    /// Starts a new budget (the next stage reusing the same opened file).
    func reset(remaining: Duration) {
        let (seconds, attoseconds) = remaining.components
        let micros = seconds.multipliedReportingOverflow(by: 1_000_000)
        let budget = micros.overflow ? Int64.max / 2 : micros.partialValue + attoseconds / 1_000_000_000_000
        pointer.pointee.deadline_us = av_gettime_relative() + min(budget, Int64.max / 2)
    }

    deinit { pointer.deallocate() }

    var expired: Bool { av_gettime_relative() > pointer.pointee.deadline_us }

    /// Ends the time budget now (tests use it to stop a transcode half-way, deterministically).
    func expire() { pointer.pointee.deadline_us = av_gettime_relative() - 1 }

    /// The callback to install on a format context; valid while this object lives.
    var interruptCallback: AVIOInterruptCB {
        AVIOInterruptCB(callback: mediad_av_deadline_interrupt, opaque: UnsafeMutableRawPointer(pointer))
    }

    /// - Throws: `StageFailure(.timeout)` once the deadline has passed.
    func check(_ doing: @autoclosure () -> String) throws(StageFailure) {
        if expired { throw failure(doing()) }
    }

    func failure(_ doing: String) -> StageFailure {
        StageFailure(.timeout, "the stage timeout passed while \(doing)", retryable: true)
    }
}
