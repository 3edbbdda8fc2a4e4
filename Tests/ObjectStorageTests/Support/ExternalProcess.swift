import Foundation
import NIOPosix

/// Paths of the repository the tests run from, found from this source file.
enum Repository {
    static let root: URL = {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                return directory
            }
            directory = directory.deletingLastPathComponent()
        }
        fatalError("Package.swift not found above \(#filePath)")
    }()

    /// A helper script under `scripts/storage/`.
    static func script(_ name: String) -> String {
        root.appendingPathComponent("scripts/storage/\(name)").path
    }

    /// The Python interpreter: `MEDIAD_PYTHON`, else `python3` from `PATH`.
    static var python: [String] {
        if let python = ProcessInfo.processInfo.environment["MEDIAD_PYTHON"], !python.isEmpty {
            return [python]
        }
        return ["/usr/bin/env", "python3"]
    }
}

/// A failure of a helper process, with what it printed on stderr.
struct ExternalProcessError: Error, CustomStringConvertible {
    var description: String
}

/// Runs short-lived helper processes (the botocore reference script).
enum ExternalProcess {
    /// Runs a Python script with `input` on stdin and returns its stdout; fails
    /// loudly (with stderr) when it exits non-zero.
    static func runPython(_ script: String, arguments: [String] = [], input: Data) async throws -> Data {
        let command = Repository.python + [script] + arguments
        return try await NIOThreadPool.singleton.runIfActive {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: command[0])
            process.arguments = Array(command.dropFirst())
            let stdin = Pipe()
            let stdout = Pipe()
            let stderr = Pipe()
            process.standardInput = stdin
            process.standardOutput = stdout
            process.standardError = stderr
            try process.run()
            let writer = Thread {
                stdin.fileHandleForWriting.write(input)
                try? stdin.fileHandleForWriting.close()
            }
            writer.start()
            let errorBox = DataBox()
            let errorReader = Thread { errorBox.data = stderr.fileHandleForReading.readDataToEndOfFile() }
            errorReader.start()
            let output = stdout.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            while !errorBox.isSet { Thread.sleep(forTimeInterval: 0.01) }
            guard process.terminationStatus == 0 else {
                let message = String(decoding: errorBox.data, as: UTF8.self)
                throw ExternalProcessError(
                    description: "\(command.joined(separator: " ")) exited with \(process.terminationStatus): \(message)")
            }
            return output
        }
    }
}

/// Hands data from a reader thread back to the waiting one.
final class DataBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Data?
    var data: Data {
        get { lock.withLock { value ?? Data() } }
        set { lock.withLock { value = newValue } }
    }
    var isSet: Bool { lock.withLock { value != nil } }
}
