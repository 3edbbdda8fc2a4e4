import ArgumentParser
import Foundation
import ObjectStorage

/// `mediad storage ...`: the object-store client on its own, to try a store without the daemon.
struct StorageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage",
        abstract: "Copy and list objects with mediad's S3 client.",
        subcommands: [Copy.self, List.self, MakeBucket.self]
    )

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cp",
            abstract: "Copy a file to or from S3 (s3://bucket/key), or a directory tree with --recursive.")

        @OptionGroup var storage: StorageOptions

        @Argument(help: "Source: a local path or s3://bucket/key.")
        var source: String

        @Argument(help: "Destination: a local path or s3://bucket/key.")
        var destination: String

        @Flag(name: .long, help: "Copy every file under a directory or every object under a prefix.")
        var recursive = false

        @Option(name: .long, help: "Files in flight at once with --recursive.")
        var concurrency = 8

        func run() async throws {
            let from = try ObjectLocation.parse(source)
            let to = try ObjectLocation.parse(destination)
            try await storage.withStore { store in
                let transfer = ObjectTransfer(store: store)
                guard recursive else {
                    let info = try await transfer.copy(from: from, to: to)
                    print("\(source) → \(destination) (\(info.size) bytes)")
                    return
                }
                let pairs = try await RecursiveCopy.plan(from: from, to: to, store: store)
                let copied = try await RecursiveCopy.run(pairs, transfer: transfer, concurrency: max(1, concurrency))
                print("\(pairs.count) file(s), \(copied) bytes: \(source) → \(destination)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List objects under s3://bucket/prefix.")

        @OptionGroup var storage: StorageOptions

        @Argument(help: "s3://bucket/prefix")
        var location: String

        func run() async throws {
            guard case .object(let bucket, let prefix) = try ObjectLocation.parse(location) else {
                throw ValidationError("ls takes s3://bucket/prefix")
            }
            try await storage.withStore { store in
                for try await object in store.list(bucket: bucket, prefix: prefix.isEmpty ? nil : prefix) {
                    print("\(object.size)\t\(object.key)")
                }
            }
        }
    }
}

extension StorageCommand {
    struct MakeBucket: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "mb", abstract: "Create a bucket (s3://bucket).")

        @OptionGroup var storage: StorageOptions

        @Argument(help: "s3://bucket")
        var location: String

        func run() async throws {
            guard case .object(let bucket, _) = try ObjectLocation.parse(location) else {
                throw ValidationError("mb takes s3://bucket")
            }
            try await storage.withStore { store in try await store.createBucket(bucket) }
            print("created s3://\(bucket)")
        }
    }
}

/// Directory ↔ prefix copies, several files at a time.
enum RecursiveCopy {
    static func plan(from: ObjectLocation, to: ObjectLocation, store: any ObjectStore) async throws -> [(ObjectLocation, ObjectLocation)] {
        switch (from, to) {
        case (.file(let directory), .object(let bucket, let prefix)):
            let base = directory.standardizedFileURL.path
            return SourceFiles.regularFiles(under: directory).map { file in
                let relative = String(file.standardizedFileURL.path.dropFirst(base.count)).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
                return (.file(file), .object(bucket: bucket, key: join(prefix, relative)))
            }
        case (.object(let bucket, let prefix), .file(let directory)):
            var pairs: [(ObjectLocation, ObjectLocation)] = []
            for try await object in store.list(bucket: bucket, prefix: prefix.isEmpty ? nil : prefix) {
                let relative = String(object.key.dropFirst(prefix.count)).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
                pairs.append((.object(bucket: bucket, key: object.key), .file(directory.appendingPathComponent(relative))))
            }
            return pairs
        default:
            throw ValidationError("--recursive copies a directory to s3://bucket/prefix or back")
        }
    }

    static func run(_ pairs: [(ObjectLocation, ObjectLocation)], transfer: ObjectTransfer, concurrency: Int) async throws -> Int64 {
        try await withThrowingTaskGroup(of: Int64.self) { group in
            var iterator = pairs.makeIterator()
            var total: Int64 = 0
            for _ in 0..<concurrency {
                guard let (from, to) = iterator.next() else { break }
                group.addTask { try await transfer.copy(from: from, to: to).size }
            }
            while let size = try await group.next() {
                total += size
                if let (from, to) = iterator.next() {
                    group.addTask { try await transfer.copy(from: from, to: to).size }
                }
            }
            return total
        }
    }

    private static func join(_ prefix: String, _ relative: String) -> String {
        guard !prefix.isEmpty else { return relative }
        return prefix.hasSuffix("/") ? prefix + relative : prefix + "/" + relative
    }
}
