import Foundation
import Hummingbird
import Logging
import NIOCore

/// What `/readyz` reports: ready only when every check passes.
public struct Readiness: Sendable, Equatable {
    public var checks: [String: Bool]

    public init(checks: [String: Bool]) {
        self.checks = checks
    }

    public var isReady: Bool { !checks.isEmpty && checks.values.allSatisfy { $0 } }
}

/// The small HTTP endpoint operators and orchestrators use: `/healthz` (the process is
/// alive), `/readyz` (the consumer has partitions and the object store answers), `/metrics`
/// (Prometheus text format), and the webhook intake when it is configured (on the same
/// listener, so a store reaches it wherever the orchestrator already routes to the pod).
public enum OperationsEndpoint {
    public static func router(
        readiness: @escaping @Sendable () async -> Readiness,
        metrics: @escaping @Sendable () -> String,
        webhook: WebhookIntake? = nil
    ) -> Router<BasicRequestContext> {
        let router = Router()
        webhook?.register(on: router)
        router.get("/healthz") { _, _ in
            "ok\n"
        }
        router.get("/readyz") { _, _ -> Response in
            let state = await readiness()
            let body = state.checks.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value ? "ok" : "not ready")" }.joined(separator: "\n") + "\n"
            return Response(
                status: state.isReady ? .ok : .serviceUnavailable,
                headers: [.contentType: "text/plain; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        }
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: metrics())))
        }
        return router
    }

    /// The endpoint as a service; `onRunning` receives the bound port (useful with port 0).
    public static func application(
        host: String, port: Int,
        readiness: @escaping @Sendable () async -> Readiness,
        metrics: @escaping @Sendable () -> String,
        webhook: WebhookIntake? = nil,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in },
        logger: Logger
    ) -> some ApplicationProtocol {
        Application(
            router: router(readiness: readiness, metrics: metrics, webhook: webhook),
            configuration: .init(address: .hostname(host, port: port), serverName: "mediad"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger)
    }
}
