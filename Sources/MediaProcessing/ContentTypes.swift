import Foundation
import PipelineEngine

/// Compares a declared content type with the sniffed one, tolerating the usual aliases.
enum ContentTypes {
    static let aliases: [String: String] = [
        "image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png",
        "image/heic-sequence": "image/heic", "image/heif": "image/heic", "image/x-tiff": "image/tiff",
        "video/x-m4v": "video/mp4", "audio/x-wav": "audio/wav", "audio/wave": "audio/wav", "audio/x-m4a": "audio/mp4",
        "audio/mp3": "audio/mpeg",
    ]

    static func normalise(_ type: String) -> String {
        let base = type.split(separator: ";").first.map { String($0) } ?? type
        let lower = base.trimmingCharacters(in: .whitespaces).lowercased()
        return aliases[lower] ?? lower
    }

    static func agree(declared: String, sniffed: SniffedType) -> Bool {
        let declared = normalise(declared)
        if declared == "application/octet-stream" || declared.isEmpty { return true }
        return declared == normalise(sniffed.contentType)
    }
}
