/// One object by name: the source of a copy.
public struct ObjectAddress: Sendable, Hashable, CustomStringConvertible {
    /// The bucket holding the object.
    public var bucket: String
    /// The object's key, exactly as stored.
    public var key: String

    /// Names an object.
    public init(bucket: String, key: String) {
        self.bucket = bucket
        self.key = key
    }

    public var description: String { "\(bucket)/\(key)" }
}
