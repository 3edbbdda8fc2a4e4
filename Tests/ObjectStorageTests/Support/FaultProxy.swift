import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Talks to the control API of `scripts/storage/fault_proxy.py`.
struct FaultProxy: Sendable {
    let endpoint: URL

    /// One queued fault (see the script for actions).
    struct Fault: Encodable, Sendable {
        var action: String
        var method: String?
        var match: [String]
        var times: Int?
        var status: Int?
        var code: String?
        var seconds: Double?

        static func status(_ status: Int, _ code: String, method: String? = nil, match: [String] = [], times: Int = 1)
            -> Fault
        {
            Fault(action: "status", method: method, match: match, times: times, status: status, code: code)
        }

        static func reset(method: String? = nil, match: [String] = [], times: Int = 1) -> Fault {
            Fault(action: "reset", method: method, match: match, times: times)
        }

        static func resetMidBody(method: String? = nil, match: [String] = []) -> Fault {
            Fault(action: "reset-body", method: method, match: match, times: 1)
        }

        static func delay(_ seconds: Double, method: String? = nil, match: [String] = []) -> Fault {
            Fault(action: "delay", method: method, match: match, times: 1, seconds: seconds)
        }
    }

    struct Stats: Decodable, Sendable {
        var requests: [[String]]
        var injected: Int
        var pending: Int

        /// Requests with this method whose path and query contain every string.
        func requests(_ method: String, matching parts: [String]) -> [[String]] {
            requests.filter { request in request[0] == method && parts.allSatisfy { request[1].contains($0) } }
        }

        func count(_ method: String, matching parts: String...) -> Int {
            requests(method, matching: parts).count
        }
    }

    func inject(_ faults: [Fault]) async throws {
        _ = try await call(.POST, body: try JSONEncoder().encode(faults))
    }

    func stats() async throws -> Stats {
        try JSONDecoder().decode(Stats.self, from: try await call(.GET, body: nil))
    }

    private func call(_ method: HTTPMethod, body: Data?) async throws -> Data {
        let path = method == .GET ? "/__proxy__/stats" : "/__proxy__/faults"
        var request = HTTPClientRequest(url: endpoint.absoluteString + path)
        request.method = method
        if let body { request.body = .bytes(ByteBuffer(data: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let buffer = try await response.body.collect(upTo: 16 << 20)
        guard response.status == .ok else {
            throw ExternalProcessError(description: "fault proxy answered \(response.status)")
        }
        return Data(buffer: buffer)
    }
}
