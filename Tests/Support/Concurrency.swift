import Synchronization

/// A flag tasks can share.
public final class Flag: Sendable {
    private let storage = Atomic<Bool>(false)

    public init() {}

    public var isSet: Bool { storage.load(ordering: .acquiring) }

    public func set() { storage.store(true, ordering: .releasing) }
}

/// A condition a test polled for did not come true in time.
public struct WaitTimeout: Error, CustomStringConvertible {
    public var description: String

    public init(description: String) {
        self.description = description
    }
}
