import Foundation

/// Paths and tools shared by mediad's test suites.
public enum TestPaths {
    /// The package root, found from this file's location.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static let fixtures = root.appendingPathComponent("fixtures")
    public static let images = fixtures.appendingPathComponent("images")
    public static let pipelines = root.appendingPathComponent("pipelines")
    public static let schemas = root.appendingPathComponent("schemas")

    public static func image(_ name: String) -> URL { images.appendingPathComponent(name) }

    /// A fresh directory, removed by the caller with `removeItem`.
    public static func temporaryDirectory(_ label: String = "test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mediad-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// A finished external command.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: Data
    public var stderr: String

    public var text: String { String(decoding: stdout, as: UTF8.self) }
}

public struct CommandError: Error, CustomStringConvertible {
    public var description: String

    public init(description: String) {
        self.description = description
    }
}

/// Runs reference tools (`sha256sum`, `exiftool`, `ffmpeg`, `python3`) that tests compare against.
public enum Command {
    /// - Throws: `CommandError` if the program cannot start (a missing tool fails the test, never skips it).
    @discardableResult
    public static func run(
        _ arguments: [String], input: Data? = nil, currentDirectory: URL? = nil, environment: [String: String] = [:]
    ) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        let out = Pipe(), err = Pipe(), inPipe = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inPipe
        do {
            try process.run()
        } catch {
            throw CommandError(description: "cannot run \(arguments.joined(separator: " ")): \(error)")
        }
        if let input { inPipe.fileHandleForWriting.write(input) }
        try? inPipe.fileHandleForWriting.close()
        // Read both pipes concurrently so a chatty stderr cannot block the child; on a
        // thread of its own, as the dispatch pool's threads are the cooperative pool's too.
        nonisolated(unsafe) var errorData = Data()
        let group = DispatchGroup()
        group.enter()
        Thread {
            errorData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }.start()
        let outputData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: outputData, stderr: String(decoding: errorData, as: UTF8.self))
    }

    /// Runs and requires exit status 0.
    public static func check(_ arguments: [String], input: Data? = nil) throws -> CommandResult {
        let result = try run(arguments, input: input)
        guard result.status == 0 else {
            throw CommandError(description: "\(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)")
        }
        return result
    }

    /// `run`, for async tests: the child is awaited on a thread of its own (`onOwnThread`).
    @discardableResult
    public static func run(
        _ arguments: [String], input: Data? = nil, currentDirectory: URL? = nil, environment: [String: String] = [:]
    ) async throws -> CommandResult {
        try await onOwnThread { try run(arguments, input: input, currentDirectory: currentDirectory, environment: environment) }
    }

    /// `check`, for async tests: the child is awaited on a thread of its own.
    @discardableResult
    public static func check(_ arguments: [String], input: Data? = nil) async throws -> CommandResult {
        try await onOwnThread { try check(arguments, input: input) }
    }
}

/// Decoded pixels from an independent decoder (FFmpeg), for checking what mediad wrote.
public struct RGBImage: Sendable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]

    /// Decodes any image FFmpeg reads (JPEG, WebP, PNG) to 8-bit RGB.
    public static func decode(_ file: URL) throws -> RGBImage {
        let probe = try Command.check([
            "ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "csv=p=0", file.path,
        ]).text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").compactMap { Int($0) }
        guard probe.count == 2 else { throw CommandError(description: "ffprobe gave no size for \(file.path)") }
        let raw = try Command.check(["ffmpeg", "-v", "error", "-i", file.path, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]).stdout
        guard raw.count == probe[0] * probe[1] * 3 else {
            throw CommandError(description: "ffmpeg decoded \(raw.count) bytes for \(probe[0])x\(probe[1])")
        }
        return RGBImage(width: probe[0], height: probe[1], pixels: [UInt8](raw))
    }

    /// The mean colour of a square region, so compression noise does not decide a test.
    public func average(x: Int, y: Int, size: Int) -> (r: Double, g: Double, b: Double) {
        var sum = (0.0, 0.0, 0.0)
        var count = 0.0
        for row in max(0, y)..<min(height, y + size) {
            for column in max(0, x)..<min(width, x + size) {
                let index = (row * width + column) * 3
                sum.0 += Double(pixels[index])
                sum.1 += Double(pixels[index + 1])
                sum.2 += Double(pixels[index + 2])
                count += 1
            }
        }
        return (sum.0 / count, sum.1 / count, sum.2 / count)
    }
}

/// Reads metadata with ExifTool, the independent reference for "no EXIF/GPS left".
public enum ExifTool {
    /// Tag groups present in a file, other than the file system's and the container's own.
    public static func metadataGroups(_ file: URL) throws -> Set<String> {
        let json = try Command.check(["exiftool", "-j", "-G1", "-a", file.path]).stdout
        guard let list = try JSONSerialization.jsonObject(with: json) as? [[String: Any]], let tags = list.first else { return [] }
        let ignored: Set<String> = ["ExifTool", "System", "File", "Composite", "RIFF", "JFIF", "PNG", "SourceFile", "QuickTime", "Meta", "ItemList", "HEIF", "PNG-pHYs"]
        return Set(tags.keys.compactMap { key -> String? in
            guard let group = key.split(separator: ":").first.map(String.init), key.contains(":") else { return nil }
            return ignored.contains(group) ? nil : group
        })
    }
}

import Logging

extension Logger {
    /// Warnings and errors only: test output shows what went wrong, not every processed file.
    public static var quiet: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return logger
    }
}
