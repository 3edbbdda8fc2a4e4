import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A TCP relay on 127.0.0.1 in front of a real server (moto), that a test can cut and
/// restore: while it is cut the server is gone for every client, as if its process had
/// stopped, and it comes back on the same port with the same data.
///
/// - `cut()`: open connections are reset and new ones are refused (`ECONNREFUSED`: the
///   port stays reserved by a bound socket that does not listen, so nothing else takes it).
/// - `restore()`: listens again on the same port.
///
/// One thread owns the listening socket and applies `cut`/`restore` itself, so no file
/// descriptor is ever closed under another thread's feet; each relayed connection has two
/// pump threads.
public final class TCPProxy: Sendable {
    /// The port clients connect to.
    public let port: UInt16
    private let upstreamPort: UInt16
    private let control = NSConditionBox()
    private let wake: (read: Int32, write: Int32)
    private let relays = Mutex<[Relay]>([])
    private let stats = Mutex(Stats())

    public struct Stats: Sendable {
        /// Connections accepted and relayed, since the start.
        public var accepted = 0
        /// Connections reset by `cut()`.
        public var reset = 0
    }

    /// Starts relaying `127.0.0.1:<new port>` to `127.0.0.1:upstreamPort`.
    /// - Throws: `CommandError` if no listening socket can be made.
    public init(upstreamPort: UInt16) throws {
        self.upstreamPort = upstreamPort
        let listener = try Self.socket(port: 0, listen: true)
        port = try Self.localPort(listener)
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw CommandError(description: "pipe: \(errno)") }
        wake = (fds[0], fds[1])
        let thread = Thread { [self] in acceptLoop(listener: listener) }
        thread.name = "tcp-proxy-\(port)"
        thread.start()
    }

    /// The relay's address as an http URL.
    public var endpoint: String { "http://127.0.0.1:\(port)" }

    public var statistics: Stats { stats.withLock { $0 } }

    /// Takes the server away: resets open connections, refuses new ones. Returns once applied.
    public func cut() { request(.down) }

    /// Brings the server back on the same port. Returns once it listens.
    public func restore() { request(.up) }

    /// Stops relaying for good and closes everything. Returns once done.
    public func stop() { request(.stopped) }

    deinit {
        if control.applied != .stopped { request(.stopped) }
        close(wake.read)
        close(wake.write)
    }

    private func request(_ wanted: TCPProxyWanted) {
        control.set(wanted)
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
        control.waitApplied(wanted)
    }

    // MARK: The listening thread

    private func acceptLoop(listener initial: Int32) {
        var listener: Int32 = initial
        var placeholder: Int32 = -1
        while true {
            let wanted = control.wanted
            if wanted != control.applied {
                switch wanted {
                case .down:
                    // Reserve the port first (SO_REUSEPORT), then stop listening: SYNs now get RST.
                    if listener >= 0 {
                        placeholder = (try? Self.socket(port: port, listen: false)) ?? -1
                        close(listener)
                        listener = -1
                    }
                    resetRelays()
                case .up:
                    if listener < 0 {
                        guard let fresh = try? Self.socket(port: port, listen: true) else {
                            // Extremely unlikely (the port is reserved); try again shortly.
                            usleep(20_000)
                            continue
                        }
                        listener = fresh
                        if placeholder >= 0 { close(placeholder); placeholder = -1 }
                    }
                case .stopped:
                    if listener >= 0 { close(listener) }
                    if placeholder >= 0 { close(placeholder) }
                    resetRelays()
                    control.markApplied(.stopped)
                    return
                }
                control.markApplied(wanted)
            }
            var fds = [pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)]
            if listener >= 0 { fds.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), 200)
            guard ready > 0 else { continue }
            if fds[0].revents != 0 {
                var buffer = [UInt8](repeating: 0, count: 64)
                _ = read(wake.read, &buffer, buffer.count)
            }
            if fds.count > 1, fds[1].revents & Int16(POLLIN) != 0 {
                let client = accept(listener, nil, nil)
                if client >= 0 { relay(client) }
            }
        }
    }

    private func relay(_ client: Int32) {
        guard let upstream = try? Self.connect(port: upstreamPort) else {
            Self.abort(client)
            close(client)
            return
        }
        let relay = Relay(client: client, upstream: upstream)
        relays.withLock { $0.append(relay) }
        stats.withLock { $0.accepted += 1 }
        for (from, to) in [(client, upstream), (upstream, client)] {
            Thread.detachNewThread { [self] in
                relay.pump(from: from, to: to)
                if relay.pumpFinished() {
                    relays.withLock { $0.removeAll { $0 === relay } }
                }
            }
        }
    }

    private func resetRelays() {
        let open = relays.withLock { $0 }
        for relay in open { relay.reset() }
        stats.withLock { $0.reset += open.count }
    }

    // MARK: Sockets

    /// A TCP socket on 127.0.0.1:`port` with SO_REUSEPORT, listening or only bound.
    private static func socket(port: UInt16, listen shouldListen: Bool) throws -> Int32 {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CommandError(description: "socket: \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = loopback(port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, !shouldListen || listen(fd, 128) == 0 else {
            let code = errno
            close(fd)
            throw CommandError(description: "bind/listen 127.0.0.1:\(port): errno \(code)")
        }
        return fd
    }

    private static func connect(port: UInt16) throws -> Int32 {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CommandError(description: "socket: \(errno)") }
        var address = loopback(port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw CommandError(description: "connect 127.0.0.1:\(port): errno \(errno)")
        }
        return fd
    }

    private static func localPort(_ fd: Int32) throws -> UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { throw CommandError(description: "getsockname: \(errno)") }
        return UInt16(bigEndian: address.sin_port)
    }

    private static func loopback(_ port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// Makes the next `close` send RST instead of FIN.
    fileprivate static func abort(_ fd: Int32) {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }
}

/// One relayed connection: its two sockets are closed by the last pump to finish, under
/// the lock `reset` takes too, so no descriptor is used after it was closed.
private final class Relay: Sendable {
    private let client: Int32
    private let upstream: Int32
    private let state = Mutex((pumps: 2, closed: false))

    init(client: Int32, upstream: Int32) {
        self.client = client
        self.upstream = upstream
    }

    func pump(from: Int32, to: Int32) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        outer: while true {
            let count = read(from, &buffer, buffer.count)
            if count <= 0 { break }
            var sent = 0
            while sent < count {
                let written = buffer.withUnsafeBytes { write(to, $0.baseAddress! + sent, count - sent) }
                if written <= 0 { break outer }
                sent += written
            }
        }
        // One side is done: end the whole connection (HTTP clients do not half-close).
        state.withLock { state in
            guard !state.closed else { return }
            shutdown(client, Int32(SHUT_RDWR))
            shutdown(upstream, Int32(SHUT_RDWR))
        }
    }

    /// Returns true for the last pump, which closed the sockets.
    func pumpFinished() -> Bool {
        state.withLock { state in
            state.pumps -= 1
            guard state.pumps == 0, !state.closed else { return false }
            state.closed = true
            close(client)
            close(upstream)
            return true
        }
    }

    /// Resets both sides (RST on close) and wakes the pumps.
    func reset() {
        state.withLock { state in
            guard !state.closed else { return }
            TCPProxy.abort(client)
            TCPProxy.abort(upstream)
            shutdown(client, Int32(SHUT_RDWR))
            shutdown(upstream, Int32(SHUT_RDWR))
        }
    }
}

private enum TCPProxyWanted: Sendable { case up, down, stopped }

/// What the test thread asked for and what the listening thread has applied.
private final class NSConditionBox: @unchecked Sendable {
    // @unchecked: every field is read and written under `condition`.
    private let condition = NSCondition()
    private var wantedValue: TCPProxyWanted = .up
    private var appliedValue: TCPProxyWanted = .up

    var wanted: TCPProxyWanted { condition.lock(); defer { condition.unlock() }; return wantedValue }
    var applied: TCPProxyWanted { condition.lock(); defer { condition.unlock() }; return appliedValue }

    func set(_ value: TCPProxyWanted) {
        condition.lock()
        wantedValue = value
        condition.unlock()
    }

    func markApplied(_ value: TCPProxyWanted) {
        condition.lock()
        appliedValue = value
        condition.broadcast()
        condition.unlock()
    }

    func waitApplied(_ value: TCPProxyWanted) {
        condition.lock()
        while appliedValue != value, !(appliedValue == .stopped) {
            condition.wait()
        }
        condition.unlock()
    }
}
