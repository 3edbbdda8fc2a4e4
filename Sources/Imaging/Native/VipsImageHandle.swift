import CVips
import CVipsShims
import PipelineEngine

/// Owns one `VipsImage` reference and drops it in `deinit`. Images are lazy: pixels are
/// computed when a saver pulls them, so holding a handle is cheap until then.
final class VipsImageHandle {
    private let pointer: UnsafeMutablePointer<VipsImage>
    /// The file the pixels come from, to pick this image's lines out of libvips' shared error buffer.
    let source: String?

    /// Takes over a reference the caller owns (a fresh result of a libvips call).
    init(owning pointer: UnsafeMutablePointer<VipsImage>, source: String?) {
        self.pointer = pointer
        self.source = source
    }

    deinit {
        mediad_vips_unref(pointer)
    }

    /// Lends the `VipsImage` to a libvips call; the pointer must not escape `body` (the
    /// handle may drop its reference as soon as `body` returns).
    func withUnsafeImagePointer<Result>(_ body: (UnsafeMutablePointer<VipsImage>) throws(StageFailure) -> Result) throws(StageFailure) -> Result {
        defer { withExtendedLifetime(self) {} }
        return try body(pointer)
    }

    /// Whether a deadline armed on this image (or an image it came from) stopped its computation.
    var wasKilled: Bool { vips_image_iskilled(pointer) != 0 }

    var width: Int { Int(vips_image_get_width(pointer)) }
    var height: Int { Int(vips_image_get_height(pointer)) }
    var bands: Int { Int(vips_image_get_bands(pointer)) }
    var format: VipsBandFormat { vips_image_get_format(pointer) }
    var interpretation: VipsInterpretation { vips_image_get_interpretation(pointer) }
    var hasAlpha: Bool { vips_image_hasalpha(pointer) != 0 }
    var pages: Int { Int(vips_image_get_n_pages(pointer)) }
    /// EXIF orientation 1–8, 1 when absent.
    var orientation: Int { Int(vips_image_get_orientation(pointer)) }

    func hasField(_ name: String) -> Bool {
        vips_image_get_typeof(pointer, name) != 0
    }

    /// A copy of a blob field (`exif-data`, `icc-profile-data`), or nil when absent.
    func blob(_ name: String) -> [UInt8]? {
        guard hasField(name) else { return nil }
        var data: UnsafeRawPointer?
        var length = 0
        guard vips_image_get_blob(pointer, name, &data, &length) == 0, let data, length > 0 else { return nil }
        return Array(UnsafeRawBufferPointer(start: data, count: length))
    }

    func int(_ name: String) -> Int? {
        guard hasField(name) else { return nil }
        var value: Int32 = 0
        guard vips_image_get_int(pointer, name, &value) == 0 else { return nil }
        return Int(value)
    }

    func string(_ name: String) -> String? {
        guard hasField(name) else { return nil }
        var value: UnsafePointer<CChar>?
        guard vips_image_get_string(pointer, name, &value) == 0, let value else { return nil }
        return String(cString: value)
    }

    /// Removes metadata fields so a saver cannot write them (EXIF with GPS, XMP, IPTC).
    func removeFields(where predicate: (String) -> Bool) {
        guard let fields = vips_image_get_fields(pointer) else { return }
        defer { g_strfreev(fields) }
        var names: [String] = []
        var index = 0
        while let field = fields[index] {
            names.append(String(cString: field))
            index += 1
        }
        for name in names where predicate(name) {
            vips_image_remove(pointer, name)
        }
    }

    /// Runs a libvips call that produces a new image from this one.
    func derive(_ context: String, _ body: (UnsafeMutablePointer<VipsImage>, UnsafeMutablePointer<UnsafeMutablePointer<VipsImage>?>) -> Int32) throws(StageFailure) -> VipsImageHandle {
        var out: UnsafeMutablePointer<VipsImage>?
        guard body(pointer, &out) == 0, let out else { throw VipsError.failure(context, file: source) }
        return VipsImageHandle(owning: out, source: source)
    }

    /// Computes every pixel into memory, so that several outputs can be made from one decode.
    func materialise(deadline: Duration) throws(StageFailure) -> VipsImageHandle {
        armDeadline(deadline)
        guard let copy = vips_image_copy_memory(pointer) else {
            throw VipsError.failure("decoding", file: source, killed: wasKilled)
        }
        return VipsImageHandle(owning: copy, source: source)
    }

    /// Stops computation of this image (and images made from it) once `remaining` has passed.
    func armDeadline(_ remaining: Duration) {
        let micros = Int(remaining.components.seconds * 1_000_000 + remaining.components.attoseconds / 1_000_000_000_000)
        mediad_vips_set_deadline(pointer, g_get_monotonic_time() + max(0, micros))
    }

    /// The pixels as tightly packed bytes (8-bit images only).
    func pixelBytes() throws(StageFailure) -> [UInt8] {
        var size = 0
        guard let memory = vips_image_write_to_memory(pointer, &size) else {
            throw VipsError.failure("reading pixels", file: source)
        }
        defer { g_free(memory) }
        return Array(UnsafeRawBufferPointer(start: memory, count: size))
    }
}

extension VipsImageHandle {
    /// Opens a file lazily: only the header is read until pixels are needed.
    static func open(_ path: String, failOn: DecodePolicy.FailOn, sequential: Bool = true) throws(StageFailure) -> VipsImageHandle {
        let access = sequential ? VIPS_ACCESS_SEQUENTIAL : VIPS_ACCESS_RANDOM
        guard let image = mediad_vips_open(path, Int32(access.rawValue), Int32(failOn.vipsValue.rawValue), 0, 1) else {
            throw VipsError.failure("opening the image", file: path)
        }
        return VipsImageHandle(owning: image, source: path)
    }
}

extension DecodePolicy.FailOn {
    var vipsValue: VipsFailOn {
        switch self {
        case .none: VIPS_FAIL_ON_NONE
        case .truncated: VIPS_FAIL_ON_TRUNCATED
        case .error: VIPS_FAIL_ON_ERROR
        case .warning: VIPS_FAIL_ON_WARNING
        }
    }
}
