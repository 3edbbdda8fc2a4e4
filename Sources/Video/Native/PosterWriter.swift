import CFFmpeg
import Foundation
import PipelineEngine

/// Turns the chosen frame into the poster file: scaled to fit, tone-mapped when HDR,
/// rotated as the player would, converted to 8-bit sRGB, and encoded by libavcodec (mjpeg,
/// png or libwebp), so the Video module needs no image library.
struct PosterWriter {
    var format: ImageFormat
    var quality: Int
    var maxSize: Int

    /// The encoder, pixel layout and file extension for a poster format. AVIF posters are
    /// written as JPEG (libavcodec's AV1 encoders are far too slow for one still).
    var encoding: (encoder: String, output: FilterChains.Output, format: ImageFormat) {
        switch format {
        case .png: ("png", .rgb24, .png)
        case .webp where avcodec_find_encoder_by_name("libwebp") != nil: ("libwebp", .rgb24, .webp)
        default: ("mjpeg", .jpeg, .jpeg)
        }
    }

    /// JPEG quality (1–100, libjpeg's scale) as an mjpeg quantiser scale (1–31). libavcodec's
    /// mjpeg tables are its MPEG-1 intra matrix × q / 8, about 1/1.47 of the JPEG standard
    /// tables (geometric mean), so q ≈ 0.118 × libjpeg's scaling percentage.
    static func mjpegScale(quality: Int) -> Int32 {
        let q = Double(min(100, max(1, quality)))
        let percent = q < 50 ? 5000 / q : 200 - 2 * q
        return Int32(min(31, max(1, (0.118 * percent).rounded())))
    }

    /// Writes `frame` to `url` (through a temporary name); returns the poster's size.
    func write(
        _ frame: Frame, video: VideoStreamInfo, to url: URL, deadline: Deadline, zscaleAvailable: Bool
    ) throws(StageFailure) -> (width: Int, height: Int) {
        let encoding = encoding
        let size = FilterChains.posterSize(display: video.displaySize, maxSize: maxSize)
        let description = FilterChains.video(
            source: (Int(frame.width), Int(frame.height)), target: size, rotation: video.rotation,
            toneMapping: FilterChains.toneMapping(for: video, zscaleAvailable: zscaleAvailable), output: encoding.output)
        let aspect = frame.pointer.pointee.sample_aspect_ratio
        let graph = try FilterGraph(
            audio: false,
            sourceArguments: "video_size=\(frame.width)x\(frame.height):pix_fmt=\(frame.pixelFormatName):time_base=1/25"
                + ":pixel_aspect=\(aspect.isValid ? aspect.num : 1)/\(aspect.isValid ? aspect.den : 1)",
            description: description)
        let input = try Frame(referencing: frame)
        input.pointer.pointee.pts = 0
        try graph.push(input)
        try graph.push(nil)
        let picture = try Frame()
        guard try graph.pull(into: picture) else {
            throw StageFailure(.internalError, "the poster filter chain produced no picture")
        }
        try deadline.check("converting the poster frame")

        let scale = Self.mjpegScale(quality: quality)
        var options = AVOptions()
        if encoding.encoder == "libwebp" { options.set("quality", String(quality)) }
        let encoder = try Encoder(name: encoding.encoder, options: options, deadline: deadline) { context in
            context.pointee.width = picture.width
            context.pointee.height = picture.height
            context.pointee.pix_fmt = AVPixelFormat(rawValue: picture.pixelFormat)
            context.pointee.time_base = AVRational(num: 1, den: 25)
            context.pointee.sample_aspect_ratio = AVRational(num: 1, den: 1)
            if encoding.encoder == "mjpeg" {
                context.pointee.color_range = AVCOL_RANGE_JPEG
                context.pointee.flags |= AV_CODEC_FLAG_QSCALE
                context.pointee.global_quality = scale * FF_QP2LAMBDA
                context.pointee.qmin = 1
                context.pointee.qmax = 31
            }
        }
        picture.pointer.pointee.quality = scale * FF_QP2LAMBDA
        picture.pointer.pointee.pts = 0
        var bytes: [UInt8] = []
        let packet = try Packet()
        let collect: (Packet) throws(StageFailure) -> Void = { packet in
            let data = packet.pointer.pointee
            if let payload = data.data, data.size > 0 {
                bytes.append(contentsOf: UnsafeBufferPointer(start: payload, count: Int(data.size)))
            }
        }
        try encoder.encode(picture, into: packet, collect)
        try encoder.encode(nil, into: packet, collect)
        guard !bytes.isEmpty else { throw StageFailure(.encodeFailed, "the \(encoding.encoder) encoder produced no poster") }
        try FileOutput.writeAtomically(Data(bytes), to: url)
        return (Int(picture.width), Int(picture.height))
    }
}
