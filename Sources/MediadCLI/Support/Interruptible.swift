import UnixSignals

/// Runs a long command's work until it ends or Ctrl-C / SIGTERM cancels it: the work sees
/// the cancellation, stops where it can resume from, and returns what it did so far.
func untilInterrupted<Result: Sendable>(_ work: @escaping @Sendable () async -> Result) async -> Result {
    let task = Task { await work() }
    let signals = Task {
        for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) {
            task.cancel()
            return
        }
    }
    let result = await task.value
    signals.cancel()
    return result
}
