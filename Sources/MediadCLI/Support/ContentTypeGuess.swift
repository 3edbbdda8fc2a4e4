/// What a local file's extension claims, used as the "declared" type that sniffing checks.
enum ContentTypeGuess {
    static func fromExtension(_ ext: String) -> String? {
        let table: [String: String] = [
            "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp",
            "tif": "image/tiff", "tiff": "image/tiff", "heic": "image/heic", "heif": "image/heif", "avif": "image/avif",
            "bmp": "image/bmp", "svg": "image/svg+xml", "pdf": "application/pdf", "mp4": "video/mp4", "m4v": "video/mp4",
            "mov": "video/quicktime", "webm": "video/webm", "mkv": "video/x-matroska", "avi": "video/x-msvideo",
            "mp3": "audio/mpeg", "m4a": "audio/mp4", "wav": "audio/wav", "flac": "audio/flac", "ogg": "audio/ogg",
            "txt": "text/plain",
        ]
        return table[ext.lowercased()]
    }
}
