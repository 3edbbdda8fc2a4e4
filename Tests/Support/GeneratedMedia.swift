import Foundation

/// Media made for these tests (kept out of `fixtures/` for their size), made once per run.
public enum GeneratedMedia {
    private static let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mediad-generated-media")

    /// A 20 s 720p MPEG-4 Part 2 clip: the video pipeline transcodes it (not H.264, so no
    /// remux), which keeps a worker in its `transcode` stage for seconds.
    public static func slowVideo() throws -> URL {
        try make("slow-720p.mp4") { url in
            ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-t", "20", "-c:v", "mpeg4", "-q:v", "5", url.path]
        }
    }

    /// An interlaced 16000 × 16000 black PNG of about 750 KB: within the default pixel cap,
    /// but libvips must decode it whole (about 800 MB).
    public static func interlacedPNG() throws -> URL {
        try make("interlaced-16k.png") { url in
            ["python3", "-c", pngScript, url.path]
        }
    }

    /// A `seconds`-long 720p MPEG-4 Part 2 clip, for a job that must still be running when
    /// something else happens.
    public static func video(seconds: Int) throws -> URL {
        try make("video-\(seconds)s-720p.mp4") { url in
            ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-t", "\(seconds)", "-c:v", "mpeg4", "-q:v", "5", url.path]
        }
    }

    private static func make(_ name: String, command: (URL) -> [String]) throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: url.path) { return url }
        let partial = directory.appendingPathComponent("partial-\(UUID().uuidString)-\(name)")
        let result = try Command.run(command(partial))
        guard result.status == 0 else { throw CommandError(description: "cannot make \(name): \(result.stderr)") }
        try FileManager.default.moveItem(at: partial, to: url)
        return url
    }

    /// Writes an Adam7-interlaced RGB PNG of zeros, streaming the compressor (pure Python,
    /// so the test needs no image tool to make it).
    private static let pngScript = """
        import struct, sys, zlib
        w = h = 16000
        def chunk(kind, data):
            return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff)
        passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
        z = zlib.compressobj(9)
        body = []
        for x0, y0, dx, dy in passes:
            cols = (w - x0 + dx - 1) // dx
            rows = (h - y0 + dy - 1) // dy
            if cols == 0 or rows == 0:
                continue
            row = bytes(1 + 3 * cols)
            block = row * 64
            for start in range(0, rows, 64):
                n = min(64, rows - start)
                body.append(z.compress(block if n == 64 else row * n))
        body.append(z.flush())
        with open(sys.argv[1], 'wb') as f:
            f.write(b'\\x89PNG\\r\\n\\x1a\\n')
            f.write(chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 1)))
            f.write(chunk(b'IDAT', b''.join(body)))
            f.write(chunk(b'IEND', b''))
        """
}
