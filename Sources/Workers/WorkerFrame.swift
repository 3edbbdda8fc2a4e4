import Foundation

/// The framing between mediad and its worker processes: a 4-byte tag (`MDW` and the
/// protocol version), a 4-byte big-endian length, then that many bytes of JSON.
///
/// Anything else on the channel (a wrong tag, a length over `maxPayload`, JSON that does
/// not decode) is a `WorkerProtocolError`: the job fails and the worker is replaced, the
/// parent never trusts or crashes on what a worker sends.
public enum WorkerFrame {
    public static let version: UInt8 = 1
    static let tag: [UInt8] = [0x4D, 0x44, 0x57, version]
    /// Results carry metadata and a list of files, never pixels: a few KB in practice.
    public static let maxPayload = 8 << 20

    /// Encodes one message as a frame.
    public static func encode<T: Encodable>(_ message: T) throws -> [UInt8] {
        let payload = try JSONEncoder().encode(message)
        var frame = tag
        let length = UInt32(payload.count)
        frame += [UInt8(length >> 24), UInt8((length >> 16) & 0xFF), UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF)]
        frame += payload
        return frame
    }

    /// Writes a whole frame to `fd`, riding out short writes and signals.
    /// - Throws: `WorkerProtocolError` when the other side is gone.
    public static func write(_ frame: [UInt8], to fd: Int32) throws(WorkerProtocolError) {
        var offset = 0
        while offset < frame.count {
            let written = frame.withUnsafeBytes { bytes in
                Foundation.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw WorkerProtocolError("cannot write to the worker channel: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    /// Reads the next frame's payload from `fd`; nil at a clean end of stream.
    /// - Throws: `WorkerProtocolError` for a malformed or oversized frame, or a stream cut mid-frame.
    public static func read(from fd: Int32) throws(WorkerProtocolError) -> [UInt8]? {
        guard let header = try readExactly(8, from: fd, allowEOF: true) else { return nil }
        guard Array(header[0..<4]) == tag else {
            throw WorkerProtocolError("not a worker frame (tag \(header[0..<4].map { String(format: "%02x", $0) }.joined()), protocol \(version) expected)")
        }
        let length = header[4..<8].reduce(0) { ($0 << 8) | Int($1) }
        guard length <= maxPayload else {
            throw WorkerProtocolError("a frame of \(length) bytes is over the \(maxPayload)-byte limit")
        }
        return try readExactly(length, from: fd, allowEOF: false) ?? []
    }

    /// Decodes a payload.
    /// - Throws: `WorkerProtocolError` when it is not the expected message.
    public static func decode<T: Decodable>(_ type: T.Type, from payload: [UInt8]) throws(WorkerProtocolError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(payload))
        } catch {
            throw WorkerProtocolError("undecodable \(type) frame: \(error)")
        }
    }

    private static func readExactly(_ count: Int, from fd: Int32, allowEOF: Bool) throws(WorkerProtocolError) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let got = buffer.withUnsafeMutableBytes { bytes in
                Foundation.read(fd, bytes.baseAddress! + offset, count - offset)
            }
            if got == 0 {
                if offset == 0 && allowEOF { return nil }
                throw WorkerProtocolError("the channel closed in the middle of a frame")
            }
            if got < 0 {
                if errno == EINTR { continue }
                if offset == 0 && allowEOF && (errno == ECONNRESET || errno == EPIPE) { return nil }
                throw WorkerProtocolError("cannot read the worker channel: \(String(cString: strerror(errno)))")
            }
            offset += got
        }
        return buffer
    }
}

/// The worker channel carried something that is not the protocol.
public struct WorkerProtocolError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
