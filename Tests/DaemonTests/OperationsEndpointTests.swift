import Daemon
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Testing

@Suite("Health, readiness and metrics over HTTP")
struct OperationsEndpointTests {
    @Test("/healthz, /readyz follows its checks, /metrics is Prometheus text")
    func endpoints() async throws {
        let registry = PrometheusCollectorRegistry()
        let metrics = DaemonMetrics(factory: PrometheusMetricsFactory(registry: registry))
        metrics.outcome("succeeded")
        metrics.outcome("succeeded")
        metrics.deadLettered(code: "malformed_json")
        metrics.stage("thumbnail", milliseconds: 42)
        metrics.consumerLag(topic: "file.uploaded", partition: 3, lag: 17)
        let ready = ReadyFlag()
        let router = OperationsEndpoint.router(
            readiness: { Readiness(checks: ["consumer assigned": await ready.value, "object store": true]) },
            metrics: {
                var buffer: [UInt8] = []
                registry.emit(into: &buffer)
                return String(decoding: buffer, as: UTF8.self)
            })
        let app = Application(router: router)
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains("consumer assigned: not ready"))
            }
            await ready.set(true)
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains(#"mediad_outcomes_total{status="succeeded"} 2"#))
                #expect(text.contains(#"mediad_dead_lettered_total{code="malformed_json"} 1"#))
                #expect(text.contains(#"mediad_consumer_lag{topic="file.uploaded",partition="3"} 17"#))
                #expect(text.contains("mediad_stage_duration_seconds_bucket"))
            }
        }
    }
}

actor ReadyFlag {
    var value = false
    func set(_ new: Bool) { value = new }
}
