import Dispatch

/// Runs blocking librdkafka calls (commit, committed, watermark queries, flush) on a
/// Dispatch queue of their own, never on Swift's cooperative pool, and bridges the
/// result back with a continuation.
struct BlockingExecutor: Sendable {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label, attributes: .concurrent)
    }

    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}
