import CFFmpeg
import PipelineEngine

/// Measures how much detail a decoded picture has, to prefer a real frame over a black,
/// faded or single-colour one as the poster. Works on a small grey copy (swscale), so a
/// 4K frame costs about as much as a 360p one.
final class DetailMeter {
    /// The grey copy's width; enough to see edges, small enough to be free.
    static let width: Int32 = 160

    private var scaler: OpaquePointer?
    private var buffer: [UInt8] = []

    struct Score: Comparable {
        /// Mean absolute difference between neighbouring pixels (edges, texture).
        var gradient: Double
        /// Standard deviation of the brightness (contrast).
        var contrast: Double

        /// A frame with almost no edges and no contrast: black, a fade, a flat colour.
        var isFlat: Bool { gradient < 1.5 && contrast < 6 }

        static func < (a: Score, b: Score) -> Bool { a.gradient + a.contrast / 8 < b.gradient + b.contrast / 8 }
    }

    init() {}

    deinit { sws_freeContext(scaler) }

    func measure(_ frame: Frame) throws(StageFailure) -> Score {
        let width = Self.width
        let sourceWidth = frame.width, sourceHeight = frame.height
        guard sourceWidth > 0, sourceHeight > 0 else { return Score(gradient: 0, contrast: 0) }
        let height = max(2, Int32((Double(sourceHeight) * Double(width) / Double(sourceWidth)).rounded()))
        scaler = sws_getCachedContext(
            scaler, sourceWidth, sourceHeight, AVPixelFormat(rawValue: frame.pixelFormat),
            width, height, AV_PIX_FMT_GRAY8, SWS_AREA, nil, nil, nil)
        guard let scaler else {
            throw StageFailure(.internalError, "cannot measure a \(sourceWidth)x\(sourceHeight) frame")
        }
        let count = Int(width * height)
        if buffer.count != count { buffer = [UInt8](repeating: 0, count: count) }
        let scaled = buffer.withUnsafeMutableBufferPointer { pixels -> Int32 in
            var planes: [UnsafeMutablePointer<UInt8>?] = [pixels.baseAddress, nil, nil, nil]
            var strides: [Int32] = [width, 0, 0, 0]
            let data = frame.pointer.pointer(to: \.data)!
            let lines = frame.pointer.pointer(to: \.linesize)!
            return data.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { source in
                lines.withMemoryRebound(to: Int32.self, capacity: 8) { sourceStrides in
                    sws_scale(scaler, source, sourceStrides, 0, sourceHeight, &planes, &strides)
                }
            }
        }
        guard scaled > 0 else { return Score(gradient: 0, contrast: 0) }
        return Self.score(buffer, width: Int(width), height: Int(height))
    }

    /// The score of a grey picture stored row by row.
    static func score(_ pixels: [UInt8], width: Int, height: Int) -> Score {
        var sum = 0.0, sumSquares = 0.0, edges = 0.0
        for y in 0..<height {
            let row = y * width
            for x in 0..<width {
                let value = Double(pixels[row + x])
                sum += value
                sumSquares += value * value
                if x + 1 < width { edges += abs(value - Double(pixels[row + x + 1])) }
                if y + 1 < height { edges += abs(value - Double(pixels[row + width + x])) }
            }
        }
        let count = Double(width * height)
        let mean = sum / count
        let variance = max(0, sumSquares / count - mean * mean)
        return Score(gradient: edges / (2 * count), contrast: variance.squareRoot())
    }
}
