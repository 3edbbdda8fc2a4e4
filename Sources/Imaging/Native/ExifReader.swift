import CExif
import CExifShims
import Foundation
import PipelineEngine

/// Owns a parsed libexif `ExifData` and reads typed values from it.
final class ExifDocument {
    private let data: UnsafeMutablePointer<ExifData>
    private let byteOrder: ExifByteOrder

    /// Parses an EXIF block as libvips hands it over (starting with `Exif\0\0`); nil if it holds nothing.
    init?(block: [UInt8]) {
        // PNG's eXIf chunk (and some HEIC writers) hold bare TIFF data: libexif wants the APP1 header.
        let isBareTIFF = block.starts(with: [0x49, 0x49, 0x2A, 0x00]) || block.starts(with: [0x4D, 0x4D, 0x00, 0x2A])
        let block = isBareTIFF ? Array("Exif".utf8) + [0, 0] + block : block
        guard !block.isEmpty, block.count < Int(UInt32.max),
              let data = block.withUnsafeBufferPointer({ exif_data_new_from_data($0.baseAddress, UInt32($0.count)) })
        else { return nil }
        self.data = data
        self.byteOrder = exif_data_get_byte_order(data)
    }

    deinit {
        exif_data_unref(data)
    }

    /// The IFDs of an EXIF block.
    enum Directory: Int32 {
        case primary = 0      // IFD0: camera make, model, orientation
        case exif = 2         // capture settings
        case gps = 3
    }

    private func entry(_ directory: Directory, _ tag: Int32) -> UnsafeMutablePointer<ExifEntry>? {
        mediad_exif_entry(data, directory.rawValue, tag)
    }

    func string(_ directory: Directory, _ tag: Int32) -> String? {
        guard let entry = entry(directory, tag), let bytes = entry.pointee.data, entry.pointee.size > 0 else { return nil }
        let buffer = UnsafeBufferPointer(start: bytes, count: Int(entry.pointee.size))
        // ASCII values end in NUL and are often padded with spaces or NULs.
        let text = String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    /// Numeric values of any integer or rational format, as doubles.
    func numbers(_ directory: Directory, _ tag: Int32) -> [Double] {
        guard let entry = entry(directory, tag), let bytes = entry.pointee.data else { return [] }
        let format = entry.pointee.format
        let size = Int(exif_format_get_size(format))
        guard size > 0 else { return [] }
        let count = min(Int(entry.pointee.components), Int(entry.pointee.size) / size)
        return (0..<count).compactMap { index -> Double? in
            let pointer = bytes + index * size
            switch format {
            case EXIF_FORMAT_SHORT: return Double(exif_get_short(pointer, byteOrder))
            case EXIF_FORMAT_SSHORT: return Double(exif_get_sshort(pointer, byteOrder))
            case EXIF_FORMAT_LONG: return Double(exif_get_long(pointer, byteOrder))
            case EXIF_FORMAT_SLONG: return Double(exif_get_slong(pointer, byteOrder))
            case EXIF_FORMAT_BYTE, EXIF_FORMAT_UNDEFINED: return Double(pointer.pointee)
            case EXIF_FORMAT_SBYTE: return Double(Int8(bitPattern: pointer.pointee))
            case EXIF_FORMAT_RATIONAL:
                let value = exif_get_rational(pointer, byteOrder)
                return value.denominator == 0 ? nil : Double(value.numerator) / Double(value.denominator)
            case EXIF_FORMAT_SRATIONAL:
                let value = exif_get_srational(pointer, byteOrder)
                return value.denominator == 0 ? nil : Double(value.numerator) / Double(value.denominator)
            default: return nil
            }
        }
    }

    func number(_ directory: Directory, _ tag: Int32) -> Double? {
        numbers(directory, tag).first
    }
}

/// The EXIF facts mediad reports, read from a block with libexif.
struct ExifFacts: Equatable {
    var make: String?
    var model: String?
    var lens: String?
    var takenAt: String?
    var exposureTime: Double?
    var fNumber: Double?
    var iso: Int?
    var focalLength: Double?
    var orientation: Int?
    var gps: GeoLocation?

    // Tag numbers from the EXIF 2.32 specification.
    private enum Tag {
        static let make: Int32 = 0x010F, model: Int32 = 0x0110, orientation: Int32 = 0x0112
        static let exposureTime: Int32 = 0x829A, fNumber: Int32 = 0x829D, iso: Int32 = 0x8827
        static let photographicSensitivity: Int32 = 0x8827, recommendedExposureIndex: Int32 = 0x8832
        static let dateTimeOriginal: Int32 = 0x9003, offsetTimeOriginal: Int32 = 0x9011, subSecTimeOriginal: Int32 = 0x9291
        static let focalLength: Int32 = 0x920A, lensMake: Int32 = 0xA433, lensModel: Int32 = 0xA434
        static let gpsLatitudeRef: Int32 = 1, gpsLatitude: Int32 = 2, gpsLongitudeRef: Int32 = 3, gpsLongitude: Int32 = 4
        static let gpsAltitudeRef: Int32 = 5, gpsAltitude: Int32 = 6
    }

    init(_ exif: ExifDocument) {
        make = exif.string(.primary, Tag.make)
        model = exif.string(.primary, Tag.model)
        if let value = exif.number(.primary, Tag.orientation), (1...8).contains(Int(value)) {
            orientation = Int(value)
        }
        let lensModel = exif.string(.exif, Tag.lensModel)
        let lensMake = exif.string(.exif, Tag.lensMake)
        if let lensModel {
            lens = lensMake.map { lensModel.hasPrefix($0) ? lensModel : "\($0) \(lensModel)" } ?? lensModel
        }
        exposureTime = exif.number(.exif, Tag.exposureTime)
        fNumber = exif.number(.exif, Tag.fNumber)
        if let value = exif.number(.exif, Tag.iso) ?? exif.number(.exif, Tag.recommendedExposureIndex), value > 0 {
            iso = Int(value)
        }
        focalLength = exif.number(.exif, Tag.focalLength)
        takenAt = Self.timestamp(
            exif.string(.exif, Tag.dateTimeOriginal),
            subSeconds: exif.string(.exif, Tag.subSecTimeOriginal),
            offset: exif.string(.exif, Tag.offsetTimeOriginal))
        gps = Self.location(exif)
    }

    /// `2023:05:01 14:30:00` + `.25` + `+02:00` → `2023-05-01T14:30:00.25+02:00`. Without an
    /// offset the time stays local (no `Z`): the camera did not say which zone it was in.
    static func timestamp(_ value: String?, subSeconds: String?, offset: String?) -> String? {
        guard let value, value.count >= 19 else { return nil }
        let chars = Array(value)
        let datePart = String(chars[0..<10]).replacingOccurrences(of: ":", with: "-")
        let timePart = String(chars[11..<19])
        let pattern = #"^\d{4}-\d{2}-\d{2}$"#
        guard datePart.range(of: pattern, options: .regularExpression) != nil,
              timePart.range(of: #"^\d{2}:\d{2}:\d{2}$"#, options: .regularExpression) != nil,
              datePart != "0000-00-00"
        else { return nil }
        var text = "\(datePart)T\(timePart)"
        if let subSeconds, subSeconds.allSatisfy(\.isNumber), !subSeconds.isEmpty {
            text += ".\(subSeconds)"
        }
        if let offset, offset.range(of: #"^[+-]\d{2}:\d{2}$"#, options: .regularExpression) != nil {
            text += offset
        }
        return text
    }

    static func location(_ exif: ExifDocument) -> GeoLocation? {
        func degrees(_ tag: Int32, _ refTag: Int32, negative: String) -> Double? {
            let parts = exif.numbers(.gps, tag)
            guard parts.count == 3 else { return nil }
            let value = parts[0] + parts[1] / 60 + parts[2] / 3600
            let ref = exif.string(.gps, refTag)?.uppercased()
            return ref == negative ? -value : value
        }
        guard let latitude = degrees(Tag.gpsLatitude, Tag.gpsLatitudeRef, negative: "S"),
              let longitude = degrees(Tag.gpsLongitude, Tag.gpsLongitudeRef, negative: "W"),
              abs(latitude) <= 90, abs(longitude) <= 180,
              !(latitude == 0 && longitude == 0)
        else { return nil }
        var altitude = exif.number(.gps, Tag.gpsAltitude)
        // Altitude reference is a BYTE: 1 means below sea level.
        if let ref = exif.numbers(.gps, Tag.gpsAltitudeRef).first, ref == 1, let value = altitude {
            altitude = -value
        }
        return GeoLocation(latitude: latitude.rounded(toPlaces: 7), longitude: longitude.rounded(toPlaces: 7), altitude: altitude)
    }
}
