import Foundation

/// A seeded, reproducible mutation fuzzer for media files: bit flips, overwritten runs,
/// truncations, duplicated and deleted chunks, and "interesting" integers in headers.
/// The same seed always gives the same bytes, so a failure names its input.
public struct Mutator {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed &+ 0x9E37_79B9_7F4A_7C15
    }

    /// SplitMix64.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func below(_ bound: Int) -> Int {
        bound <= 1 ? 0 : Int(next() % UInt64(bound))
    }

    /// One to four mutations of `input`; most land in the first 4 KB, where headers are.
    public mutating func mutate(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        guard !bytes.isEmpty else { return [UInt8(truncatingIfNeeded: next())] }
        for _ in 0...below(4) {
            guard !bytes.isEmpty else { break }
            let span = below(4) == 0 ? bytes.count : min(bytes.count, 4096)
            let at = below(span)
            switch below(6) {
            case 0:
                for _ in 0...below(16) { bytes[below(span)] ^= UInt8(1 << below(8)) }
            case 1:
                let length = min(bytes.count - at, 1 + below(64))
                for offset in 0..<length { bytes[at + offset] = UInt8(truncatingIfNeeded: next()) }
            case 2:
                bytes.removeSubrange(max(1, below(bytes.count))...)
            case 3:
                let length = min(bytes.count - at, 1 + below(512))
                bytes.insert(contentsOf: bytes[at..<(at + length)], at: below(bytes.count))
            case 4:
                let length = min(bytes.count - at, 1 + below(512))
                bytes.removeSubrange(at..<(at + length))
            default:
                let interesting: [[UInt8]] = [[0xFF, 0xFF, 0xFF, 0xFF], [0x7F, 0xFF, 0xFF, 0xFF], [0, 0, 0, 0], [0x80, 0, 0, 0], [0, 0, 0, 1], [0xFF, 0xFE]]
                let value = interesting[below(interesting.count)]
                for (offset, byte) in value.enumerated() where at + offset < bytes.count { bytes[at + offset] = byte }
            }
        }
        return bytes
    }

    /// Writes `count` mutants of each file into `directory`, named `<file>-<seed>.<ext>`;
    /// returns their URLs.
    public static func mutants(of files: [URL], count: Int, seed: UInt64, into directory: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var urls: [URL] = []
        for (fileIndex, file) in files.enumerated() {
            let original = [UInt8](try Data(contentsOf: file))
            for index in 0..<count {
                let mutantSeed = seed &+ UInt64(fileIndex) << 32 &+ UInt64(index)
                var mutator = Mutator(seed: mutantSeed)
                let name = "\(file.deletingPathExtension().lastPathComponent)-\(mutantSeed).\(file.pathExtension)"
                let url = directory.appendingPathComponent(name)
                try Data(mutator.mutate(original)).write(to: url)
                urls.append(url)
            }
        }
        return urls
    }
}
