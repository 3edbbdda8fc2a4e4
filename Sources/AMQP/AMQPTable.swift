/// A value in an AMQP 0-9-1 field table (message headers, queue and exchange arguments),
/// with RabbitMQ's type letters.
public enum AMQPFieldValue: Sendable, Hashable {
    /// `t`
    case bool(Bool)
    /// `b`
    case int8(Int8)
    /// `B`
    case uint8(UInt8)
    /// `s` (RabbitMQ's letter for a signed 16-bit integer)
    case int16(Int16)
    /// `u`
    case uint16(UInt16)
    /// `I`
    case int32(Int32)
    /// `i`
    case uint32(UInt32)
    /// `l`
    case int64(Int64)
    /// `L`
    case uint64(UInt64)
    /// `f`
    case float(Float)
    /// `d`
    case double(Double)
    /// `D`: `value × 10^-scale`.
    case decimal(scale: UInt8, value: UInt32)
    /// `S`, a long string. One that is not valid UTF-8 is read as `.bytes`.
    case string(String)
    /// `x`, a byte array.
    case bytes([UInt8])
    /// `T`: seconds since 1970-01-01T00:00:00Z.
    case timestamp(UInt64)
    /// `F`, a nested table.
    case table(AMQPTable)
    /// `A`
    case array([AMQPFieldValue])
    /// `V`
    case void

    /// The text of a `.string`, or of `.bytes` that are UTF-8.
    public var stringValue: String? {
        switch self {
        case .string(let text): text
        case .bytes(let bytes): String(validating: bytes, as: UTF8.self)
        default: nil
        }
    }

    /// Any integer kind (and a timestamp) as `Int64`, when it fits.
    public var intValue: Int64? {
        switch self {
        case .int8(let value): Int64(value)
        case .uint8(let value): Int64(value)
        case .int16(let value): Int64(value)
        case .uint16(let value): Int64(value)
        case .int32(let value): Int64(value)
        case .uint32(let value): Int64(value)
        case .int64(let value): value
        case .uint64(let value), .timestamp(let value): Int64(exactly: value)
        default: nil
        }
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The bytes of `.bytes`, or the UTF-8 of `.string`.
    public var bytesValue: [UInt8]? {
        switch self {
        case .bytes(let bytes): bytes
        case .string(let text): Array(text.utf8)
        default: nil
        }
    }

    public var tableValue: AMQPTable? {
        if case .table(let table) = self { return table }
        return nil
    }

    public var arrayValue: [AMQPFieldValue]? {
        if case .array(let values) = self { return values }
        return nil
    }
}

extension AMQPFieldValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByFloatLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    /// Integer literals are `l` (64-bit), which RabbitMQ accepts for every numeric argument.
    public init(integerLiteral value: Int64) { self = .int64(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: AMQPFieldValue...) { self = .array(elements) }
    public init(floatLiteral value: Double) { self = .double(value) }
}

/// An AMQP field table: named values in wire order. Keys are short strings (at most 255
/// bytes of UTF-8); a key appears once (assigning through the subscript replaces it).
public struct AMQPTable: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    public struct Entry: Sendable, Hashable {
        public var key: String
        public var value: AMQPFieldValue

        public init(key: String, value: AMQPFieldValue) {
            self.key = key
            self.value = value
        }
    }

    public private(set) var entries: [Entry]

    public init() {
        entries = []
    }

    public init(_ entries: [Entry]) {
        self.entries = []
        for entry in entries { self[entry.key] = entry.value }
    }

    public init(dictionaryLiteral elements: (String, AMQPFieldValue)...) {
        self.init(elements.map { Entry(key: $0.0, value: $0.1) })
    }

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }
    public var keys: [String] { entries.map(\.key) }

    /// The value for `key`; assigning `nil` removes it, assigning a value replaces it in
    /// place or appends it.
    public subscript(key: String) -> AMQPFieldValue? {
        get { entries.first { $0.key == key }?.value }
        set {
            let index = entries.firstIndex { $0.key == key }
            switch (index, newValue) {
            case (let index?, let value?): entries[index].value = value
            case (let index?, nil): entries.remove(at: index)
            case (nil, let value?): entries.append(Entry(key: key, value: value))
            case (nil, nil): break
            }
        }
    }

    /// This table with `other`'s entries added, `other` winning for keys in both.
    public func merging(_ other: AMQPTable) -> AMQPTable {
        var merged = self
        for entry in other { merged[entry.key] = entry.value }
        return merged
    }

    public func makeIterator() -> IndexingIterator<[Entry]> { entries.makeIterator() }

    public var description: String {
        "[" + entries.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "]"
    }
}
