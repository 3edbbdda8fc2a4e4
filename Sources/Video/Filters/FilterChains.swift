/// Builds the libavfilter chains the poster and transcode stages run, as strings, so the
/// choices (order, tone mapping, rotation) are readable and testable without FFmpeg.
///
/// Order matters for cost: pictures are scaled first, in the source's own pixel format and
/// orientation, so tone mapping (float RGB) and rotation (a transpose) touch the small
/// picture, not the 4K one.
enum FilterChains {
    /// What the chain ends in.
    enum Output: Equatable {
        /// 8-bit 4:2:0, limited range, for H.264.
        case yuv420p
        /// 8-bit 4:2:0 full-range BT.601, the JPEG (JFIF) convention.
        case jpeg
        /// 8-bit RGB for PNG and WebP.
        case rgb24
    }

    /// How HDR is brought to SDR.
    enum ToneMapping: Equatable {
        /// zscale linearises (PQ or HLG, BT.2020), the `tonemap` filter compresses highlights
        /// (Möbius: keeps in-range contrast and colour, rolls off the rest), zscale converts to
        /// BT.709 primaries, transfer and matrix.
        case zscale(transfer: String, primaries: String?, matrix: String?, range: String?)
        /// No zscale in this FFmpeg build: colours are converted without tone mapping.
        case unavailable
    }

    /// - Parameters:
    ///   - source: stored size of the decoded frames.
    ///   - target: output size in display orientation (after `rotation`).
    ///   - rotation: clockwise quarter turns to apply, in degrees.
    static func video(
        source: (width: Int, height: Int), target: (width: Int, height: Int), rotation: Int,
        toneMapping: ToneMapping?, output: Output
    ) -> String {
        var filters: [String] = []
        let stored = rotation % 180 == 0 ? target : (target.height, target.width)
        if stored.0 != source.width || stored.1 != source.height {
            filters.append("scale=w=\(stored.0):h=\(stored.1)")
        }
        switch toneMapping {
        case .zscale(let transfer, let primaries, let matrix, let range):
            var input = ["tin=\(transfer)"]
            if let primaries { input.append("pin=\(primaries)") }
            if let matrix { input.append("min=\(matrix)") }
            if let range { input.append("rin=\(range)") }
            filters.append("zscale=\(input.joined(separator: ":")):t=linear:npl=100")
            filters.append("format=gbrpf32le")
            filters.append("zscale=p=bt709")
            filters.append("tonemap=tonemap=mobius:desat=0")
            filters.append("zscale=t=bt709:m=bt709:r=tv")
            filters.append("format=yuv420p")
        case .unavailable:
            filters.append("colorspace=all=bt709:format=yuv420p:fast=1")
        case nil:
            break
        }
        switch rotation {
        case 90: filters.append("transpose=clock")
        case 180: filters.append(contentsOf: ["hflip", "vflip"])
        case 270: filters.append("transpose=cclock")
        default: break
        }
        switch output {
        case .yuv420p:
            filters.append("format=yuv420p")
            filters.append("setsar=1")
        case .jpeg:
            // JPEG decoders assume BT.601 full range whatever the video used.
            filters.append("scale=out_color_matrix=bt601:out_range=full")
            filters.append("format=yuvj420p")
            filters.append("setsar=1")
        case .rgb24:
            filters.append("format=rgb24")
            filters.append("setsar=1")
        }
        return filters.joined(separator: ",")
    }

    /// The tone mapping an HDR stream needs, or nil for SDR. Names are FFmpeg's
    /// (`smpte2084`, `bt2020nc`), which zscale also takes.
    static func toneMapping(for video: VideoStreamInfo, zscaleAvailable: Bool) -> ToneMapping? {
        guard video.isHDR, let transfer = video.colorTransfer else { return nil }
        guard zscaleAvailable else { return .unavailable }
        // Only names zscale knows; an unknown one is left to the frame's own tags.
        let primaries = video.colorPrimaries.flatMap { ["bt709", "bt2020", "smpte432", "smpte431", "bt470bg", "smpte170m"].contains($0) ? $0 : nil }
        let matrix = video.colorSpace.flatMap { ["bt709", "bt2020nc", "bt2020c", "bt470bg", "smpte170m"].contains($0) ? $0 : nil }
        let range = video.colorRange.flatMap { ["tv", "pc"].contains($0) ? $0 : nil }
        return .zscale(transfer: transfer, primaries: primaries, matrix: matrix, range: range)
    }

    /// The audio chain for AAC: resampled (swresample) to `sampleRate`, planar float,
    /// down- or up-mixed to `channels`.
    static func audio(sampleRate: Int, channelLayout: String) -> String {
        "aresample=\(sampleRate),aformat=sample_fmts=fltp:sample_rates=\(sampleRate):channel_layouts=\(channelLayout)"
    }

    /// The output size of a poster in display orientation: the long side capped at `maxSize`.
    static func posterSize(display: (width: Int, height: Int), maxSize: Int) -> (width: Int, height: Int) {
        let longSide = max(display.width, display.height)
        guard longSide > maxSize, maxSize > 0 else { return display }
        let scale = Double(maxSize) / Double(longSide)
        return (max(2, Int((Double(display.width) * scale).rounded())), max(2, Int((Double(display.height) * scale).rounded())))
    }
}
