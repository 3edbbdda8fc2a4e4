import CRabbitMQ
import Foundation

/// librabbitmq memory for one outgoing method or content header (its tables, strings and
/// properties), freed with the pool. Lives on the connection's thread for one call.
final class NativePool {
    private let pool: UnsafeMutablePointer<amqp_pool_t>

    init() {
        pool = .allocate(capacity: 1)
        init_amqp_pool(pool, 4096)
    }

    deinit {
        empty_amqp_pool(pool)
        pool.deallocate()
    }

    private func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        precondition(count > 0)
        guard let raw = amqp_pool_alloc(pool, MemoryLayout<T>.stride * count) else {
            fatalError("librabbitmq could not allocate \(MemoryLayout<T>.stride * count) bytes")
        }
        return raw.bindMemory(to: T.self, capacity: count)
    }

    /// A copy of `bytes` in the pool (empty for none).
    func bytes(_ bytes: some Collection<UInt8>) -> amqp_bytes_t {
        guard !bytes.isEmpty else { return amqp_bytes_t(len: 0, bytes: nil) }
        let memory = allocate(UInt8.self, count: bytes.count)
        _ = UnsafeMutableBufferPointer(start: memory, count: bytes.count).initialize(from: bytes)
        return amqp_bytes_t(len: bytes.count, bytes: UnsafeMutableRawPointer(memory))
    }

    func bytes(_ text: String) -> amqp_bytes_t { bytes(Array(text.utf8)) }

    /// A NUL-terminated copy, for librabbitmq's `const char *` parameters.
    func cString(_ text: String) -> UnsafePointer<CChar> {
        let utf8 = Array(text.utf8CString)
        let memory = allocate(CChar.self, count: utf8.count)
        _ = UnsafeMutableBufferPointer(start: memory, count: utf8.count).initialize(from: utf8)
        return UnsafePointer(memory)
    }

    func table(_ table: AMQPTable) -> amqp_table_t {
        guard !table.isEmpty else { return amqp_table_t(num_entries: 0, entries: nil) }
        let entries = allocate(amqp_table_entry_t.self, count: table.count)
        for (index, entry) in table.enumerated() {
            (entries + index).initialize(to: amqp_table_entry_t(key: bytes(entry.key), value: value(entry.value)))
        }
        return amqp_table_t(num_entries: Int32(table.count), entries: entries)
    }

    func value(_ value: AMQPFieldValue) -> amqp_field_value_t {
        var field = amqp_field_value_t()
        func set(_ kind: Character, _ body: (inout amqp_field_value_t) -> Void) {
            field.kind = kind.asciiValue!
            body(&field)
        }
        switch value {
        case .bool(let flag): set("t") { $0.value.boolean = flag ? 1 : 0 }
        case .int8(let number): set("b") { $0.value.i8 = number }
        case .uint8(let number): set("B") { $0.value.u8 = number }
        case .int16(let number): set("s") { $0.value.i16 = number }
        case .uint16(let number): set("u") { $0.value.u16 = number }
        case .int32(let number): set("I") { $0.value.i32 = number }
        case .uint32(let number): set("i") { $0.value.u32 = number }
        case .int64(let number): set("l") { $0.value.i64 = number }
        case .uint64(let number): set("L") { $0.value.u64 = number }
        case .float(let number): set("f") { $0.value.f32 = number }
        case .double(let number): set("d") { $0.value.f64 = number }
        case .decimal(let scale, let number): set("D") { $0.value.decimal = amqp_decimal_t(decimals: scale, value: number) }
        case .string(let text): set("S") { $0.value.bytes = bytes(text) }
        case .bytes(let data): set("x") { $0.value.bytes = bytes(data) }
        case .timestamp(let seconds): set("T") { $0.value.u64 = seconds }
        case .table(let nested): set("F") { $0.value.table = table(nested) }
        case .array(let values):
            var entries: UnsafeMutablePointer<amqp_field_value_t>?
            if !values.isEmpty {
                let memory = allocate(amqp_field_value_t.self, count: values.count)
                for (index, element) in values.enumerated() { (memory + index).initialize(to: self.value(element)) }
                entries = memory
            }
            set("A") { $0.value.array = amqp_array_t(num_entries: Int32(values.count), entries: entries) }
        case .void: set("V") { _ in }
        }
        return field
    }

    /// The content header for `properties` (flags set for the fields that are not `nil`).
    func properties(_ properties: AMQPProperties) -> amqp_basic_properties_t {
        var native = amqp_basic_properties_t()
        var flags: UInt32 = 0
        func text(_ value: String?, _ flag: Int32, _ field: WritableKeyPath<amqp_basic_properties_t, amqp_bytes_t>) {
            guard let value else { return }
            flags |= UInt32(flag)
            native[keyPath: field] = bytes(value)
        }
        text(properties.contentType, AMQP_BASIC_CONTENT_TYPE_FLAG, \.content_type)
        text(properties.contentEncoding, AMQP_BASIC_CONTENT_ENCODING_FLAG, \.content_encoding)
        text(properties.correlationID, AMQP_BASIC_CORRELATION_ID_FLAG, \.correlation_id)
        text(properties.replyTo, AMQP_BASIC_REPLY_TO_FLAG, \.reply_to)
        text(properties.expiration, AMQP_BASIC_EXPIRATION_FLAG, \.expiration)
        text(properties.messageID, AMQP_BASIC_MESSAGE_ID_FLAG, \.message_id)
        text(properties.type, AMQP_BASIC_TYPE_FLAG, \.type)
        text(properties.userID, AMQP_BASIC_USER_ID_FLAG, \.user_id)
        text(properties.appID, AMQP_BASIC_APP_ID_FLAG, \.app_id)
        if !properties.headers.isEmpty {
            flags |= UInt32(AMQP_BASIC_HEADERS_FLAG)
            native.headers = table(properties.headers)
        }
        if let mode = properties.deliveryMode {
            flags |= UInt32(AMQP_BASIC_DELIVERY_MODE_FLAG)
            native.delivery_mode = mode.rawValue
        }
        if let priority = properties.priority {
            flags |= UInt32(AMQP_BASIC_PRIORITY_FLAG)
            native.priority = priority
        }
        if let timestamp = properties.timestamp {
            flags |= UInt32(AMQP_BASIC_TIMESTAMP_FLAG)
            native.timestamp = UInt64(max(0, timestamp.timeIntervalSince1970.rounded(.down)))
        }
        native._flags = flags
        return native
    }
}

/// Copies librabbitmq's decoded values into Swift values (nothing points into its pools after).
enum NativeDecoding {
    static func bytes(_ bytes: amqp_bytes_t) -> [UInt8] {
        guard let pointer = bytes.bytes, bytes.len > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: bytes.len))
    }

    /// A short string as text (AMQP does not promise UTF-8; invalid sequences are repaired).
    static func string(_ bytes: amqp_bytes_t) -> String {
        String(decoding: self.bytes(bytes), as: UTF8.self)
    }

    static func table(_ table: amqp_table_t) -> AMQPTable {
        guard let entries = table.entries, table.num_entries > 0 else { return [:] }
        var result = AMQPTable()
        for index in 0..<Int(table.num_entries) {
            let entry = entries[index]
            result[string(entry.key)] = value(entry.value)
        }
        return result
    }

    static func value(_ field: amqp_field_value_t) -> AMQPFieldValue {
        switch Character(Unicode.Scalar(field.kind)) {
        case "t": .bool(field.value.boolean != 0)
        case "b": .int8(field.value.i8)
        case "B": .uint8(field.value.u8)
        case "s": .int16(field.value.i16)
        case "u": .uint16(field.value.u16)
        case "I": .int32(field.value.i32)
        case "i": .uint32(field.value.u32)
        case "l": .int64(field.value.i64)
        case "L": .uint64(field.value.u64)
        case "f": .float(field.value.f32)
        case "d": .double(field.value.f64)
        case "D": .decimal(scale: field.value.decimal.decimals, value: field.value.decimal.value)
        case "S":
            if let text = String(validating: bytes(field.value.bytes), as: UTF8.self) { .string(text) } else { .bytes(bytes(field.value.bytes)) }
        case "x": .bytes(bytes(field.value.bytes))
        case "T": .timestamp(field.value.u64)
        case "F": .table(table(field.value.table))
        case "A": .array(array(field.value.array))
        default: .void
        }
    }

    static func array(_ array: amqp_array_t) -> [AMQPFieldValue] {
        guard let entries = array.entries, array.num_entries > 0 else { return [] }
        return (0..<Int(array.num_entries)).map { value(entries[$0]) }
    }

    static func properties(_ native: amqp_basic_properties_t) -> AMQPProperties {
        let flags = native._flags
        func has(_ flag: Int32) -> Bool { flags & UInt32(flag) != 0 }
        func text(_ flag: Int32, _ value: amqp_bytes_t) -> String? { has(flag) ? string(value) : nil }
        return AMQPProperties(
            contentType: text(AMQP_BASIC_CONTENT_TYPE_FLAG, native.content_type),
            contentEncoding: text(AMQP_BASIC_CONTENT_ENCODING_FLAG, native.content_encoding),
            headers: has(AMQP_BASIC_HEADERS_FLAG) ? table(native.headers) : [:],
            deliveryMode: has(AMQP_BASIC_DELIVERY_MODE_FLAG) ? AMQPProperties.DeliveryMode(rawValue: native.delivery_mode) : nil,
            priority: has(AMQP_BASIC_PRIORITY_FLAG) ? native.priority : nil,
            correlationID: text(AMQP_BASIC_CORRELATION_ID_FLAG, native.correlation_id),
            replyTo: text(AMQP_BASIC_REPLY_TO_FLAG, native.reply_to),
            expiration: text(AMQP_BASIC_EXPIRATION_FLAG, native.expiration),
            messageID: text(AMQP_BASIC_MESSAGE_ID_FLAG, native.message_id),
            timestamp: has(AMQP_BASIC_TIMESTAMP_FLAG) ? Date(timeIntervalSince1970: TimeInterval(native.timestamp)) : nil,
            type: text(AMQP_BASIC_TYPE_FLAG, native.type),
            userID: text(AMQP_BASIC_USER_ID_FLAG, native.user_id),
            appID: text(AMQP_BASIC_APP_ID_FLAG, native.app_id)
        )
    }
}
