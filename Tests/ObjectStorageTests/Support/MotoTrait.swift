import Foundation
import Testing

/// Starts the moto servers a suite needs before its first test and stops them
/// after its last one. Servers are shared by suites that run at the same time.
struct MotoTrait: SuiteTrait, TestScoping {
    let kinds: [MotoServer.Kind]
    var isRecursive: Bool { false }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        var servers: [MotoServer.Kind: MotoServer] = [:]
        do {
            for kind in kinds { servers[kind] = try await MotoFleet.shared.acquire(kind) }
        } catch {
            for kind in servers.keys { await MotoFleet.shared.release(kind) }
            throw error
        }
        let outcome: Result<Void, any Error>
        do {
            try await MotoServers.$current.withValue(servers) { try await function() }
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        for kind in kinds { await MotoFleet.shared.release(kind) }
        try outcome.get()
    }
}

extension Trait where Self == MotoTrait {
    /// Runs the suite with these moto servers up.
    static func moto(_ kinds: MotoServer.Kind...) -> MotoTrait { MotoTrait(kinds: kinds) }
}

/// The servers of the running suite.
enum MotoServers {
    @TaskLocal static var current: [MotoServer.Kind: MotoServer] = [:]

    /// The suite's server of a kind; fails the test when the suite did not start one.
    static func server(_ kind: MotoServer.Kind) throws -> MotoServer {
        try #require(current[kind], "the suite needs .moto(.\(kind))")
    }
}

/// Reference-counted servers, so parallel suites share one server per kind.
actor MotoFleet {
    static let shared = MotoFleet()

    private var starting: [MotoServer.Kind: Task<MotoServer, any Error>] = [:]
    private var users: [MotoServer.Kind: Int] = [:]

    func acquire(_ kind: MotoServer.Kind) async throws -> MotoServer {
        users[kind, default: 0] += 1
        let task = starting[kind] ?? Task { try await MotoServer.start(kind) }
        starting[kind] = task
        do {
            return try await task.value
        } catch {
            users[kind, default: 1] -= 1
            if users[kind] == 0 { starting[kind] = nil }
            throw error
        }
    }

    func release(_ kind: MotoServer.Kind) async {
        users[kind, default: 1] -= 1
        guard users[kind] == 0, let task = starting.removeValue(forKey: kind) else { return }
        if let server = try? await task.value {
            await server.stop()
        }
    }
}
