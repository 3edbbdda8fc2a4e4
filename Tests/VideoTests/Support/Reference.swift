import Foundation

/// The `ffprobe`/`ffmpeg` programs as the independent reference the outputs are checked
/// against (the module itself never runs them).
enum Reference {
    struct Probe: Decodable {
        struct Stream: Decodable {
            struct SideData: Decodable {
                var side_data_type: String?
                var rotation: Int?
            }

            var codec_type: String
            var codec_name: String?
            var profile: String?
            var pix_fmt: String?
            var width: Int?
            var height: Int?
            var channels: Int?
            var sample_rate: String?
            var color_transfer: String?
            var color_primaries: String?
            var color_space: String?
            var side_data_list: [SideData]?
            var nb_frames: String?

            var rotation: Int { side_data_list?.compactMap(\.rotation).first ?? 0 }
        }

        struct Format: Decodable {
            var format_name: String
            var duration: String?
        }

        var streams: [Stream]
        var format: Format

        var video: Stream? { streams.first { $0.codec_type == "video" } }
        var audio: Stream? { streams.first { $0.codec_type == "audio" } }
        var duration: Double { Double(format.duration ?? "") ?? 0 }
    }

    static func probe(_ url: URL) throws -> Probe {
        let output = try run("/usr/bin/ffprobe", ["-v", "error", "-show_streams", "-show_format", "-of", "json", url.path])
        return try JSONDecoder().decode(Probe.self, from: output)
    }

    /// Decodes an image (or a video's first frame) to 8-bit RGB with the ffmpeg program.
    static func rgbPixels(_ url: URL) throws -> [UInt8] {
        [UInt8](try run("/usr/bin/ffmpeg", ["-v", "error", "-i", url.path, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]))
    }

    static func run(_ tool: String, _ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ReferenceError(description: "\(tool) \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
        }
        return data
    }

    /// Top-level ISO BMFF box types, in file order (read here, independently of the module).
    static func topLevelBoxes(_ url: URL) throws -> [String] {
        let data = [UInt8](try Data(contentsOf: url))
        var boxes: [String] = []
        var offset = 0
        while offset + 8 <= data.count {
            var size = Int(data[offset]) << 24 | Int(data[offset + 1]) << 16 | Int(data[offset + 2]) << 8 | Int(data[offset + 3])
            boxes.append(String(decoding: data[offset + 4..<offset + 8], as: UTF8.self))
            if size == 1 {
                size = data[offset + 8..<offset + 16].reduce(0) { $0 << 8 | Int($1) }
            } else if size == 0 {
                size = data.count - offset
            }
            guard size >= 8 else { break }
            offset += size
        }
        return boxes
    }
}

/// Brightness and colour statistics of an RGB picture.
struct PictureStats {
    var p99Luma: Double
    var meanLuma: Double
    var lumaDeviation: Double
    /// Mean of max(R,G,B) − min(R,G,B): 0 for grey pictures.
    var saturation: Double

    init(rgb: [UInt8]) {
        var lumas: [Double] = []
        lumas.reserveCapacity(rgb.count / 3)
        var saturation = 0.0
        for i in stride(from: 0, to: rgb.count - 2, by: 3) {
            let r = Double(rgb[i]), g = Double(rgb[i + 1]), b = Double(rgb[i + 2])
            lumas.append(0.2126 * r + 0.7152 * g + 0.0722 * b)
            saturation += max(r, g, b) - min(r, g, b)
        }
        let count = Double(max(1, lumas.count))
        let mean = lumas.reduce(0, +) / count
        meanLuma = mean
        lumaDeviation = (lumas.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / count).squareRoot()
        p99Luma = lumas.sorted()[Int(Double(lumas.count - 1) * 0.99)]
        self.saturation = saturation / count
    }
}

struct ReferenceError: Error, CustomStringConvertible {
    var description: String
}
