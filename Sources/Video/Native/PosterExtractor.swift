import CFFmpeg
import PipelineEngine

/// Finds the poster frame: the most detailed of a few frames around a position that grows
/// with the duration, so short clips and long films both get a representative picture and
/// black intros, fades and title cards lose.
///
/// First only keyframes are looked at (non-key packets are not even decoded: measured
/// 0.3 s instead of 2.8 s at GOP 300). Only when every keyframe near the position is flat
/// (black, a fade) are all frames decoded forward from the keyframe, sampling evenly.
struct PosterExtractor {
    let input: InputFile
    let video: VideoStreamInfo
    let duration: Double?
    let maxPixels: Int64

    /// Half the span of time around the position in which candidates are looked for.
    static let halfWindow = 1.0

    struct Pick {
        var frame: Frame
        var time: Double
        var score: DetailMeter.Score
        /// Whether every frame of the window had to be decoded.
        var fullDecode: Bool
    }

    /// Where to look: `position` of the duration, at most `maxOffset` in, inside the file.
    static func target(duration: Double?, position: Double, maxOffset: Double) -> Double {
        guard let duration, duration > 0 else { return 0 }
        return max(0, min(duration * position, maxOffset, duration - 0.1))
    }

    func pick(position: Double, maxOffset: Double, candidates: Int) throws(StageFailure) -> Pick {
        let target = Self.target(duration: duration, position: position, maxOffset: maxOffset)
        let meter = DetailMeter()
        if let best = try keyframes(around: target, count: max(1, candidates), meter: meter), !best.score.isFlat {
            return best
        }
        let fallback = try allFrames(around: target, count: max(2, candidates), meter: meter)
        guard let fallback else {
            throw StageFailure(.corruptFile, "no frame of the video stream could be decoded")
        }
        return fallback
    }

    private var startTime: Int64 {
        let start = input.stream(video.index).pointee.start_time
        return start == AVCode.noPTS ? 0 : start
    }

    private func seconds(_ timestamp: Int64?, _ timeBase: AVRational) -> Double? {
        timestamp.map { Double($0 - startTime) * timeBase.double }
    }

    /// Phase 1: keyframes from the one before `target - halfWindow` to `target + halfWindow`.
    private func keyframes(around target: Double, count: Int, meter: DetailMeter) throws(StageFailure) -> Pick? {
        let decoder = try Decoder(input: input, stream: video.index, maxPixels: maxPixels, threads: 1, keyframesOnly: true)
        try input.seek(stream: video.index, toSeconds: target - Self.halfWindow)
        let packet = try Packet(), frame = try Frame()
        var best: Pick?
        var seen = 0
        func consider(_ frame: Frame) throws(StageFailure) {
            seen += 1
            let score = try meter.measure(frame)
            if best == nil || best!.score < score {
                let time = seconds(frame.bestTimestamp, decoder.timeBase) ?? target
                best = Pick(frame: try Frame(referencing: frame), time: time, score: score, fullDecode: false)
            }
        }
        var sent = 0
        while seen < count, try input.read(into: packet) {
            try input.deadline.check("looking for a poster frame")
            guard packet.streamIndex == video.index, packet.isKeyframe else { continue }
            let time = seconds(packet.timestamp, decoder.timeBase) ?? 0
            if sent > 0 && time > target + Self.halfWindow { break }
            sent += 1
            try decoder.decode(packet, into: frame, consider)
        }
        try decoder.decode(nil, into: frame, consider)
        return best
    }

    /// Phase 2: every frame from the keyframe before the window, scoring `count` frames spread
    /// across the window; goes on past it (up to 3 × `count` samples) while all are flat.
    private func allFrames(around target: Double, count: Int, meter: DetailMeter) throws(StageFailure) -> Pick? {
        let decoder = try Decoder(input: input, stream: video.index, maxPixels: maxPixels, threads: 0)
        try input.seek(stream: video.index, toSeconds: target - Self.halfWindow)
        let packet = try Packet(), frame = try Frame()
        let windowStart = max(0, target - Self.halfWindow)
        let windowEnd = target + Self.halfWindow
        let step = max(0.04, (windowEnd - windowStart) / Double(count - 1))
        var nextSample = windowStart
        var samples = 0
        var best: Pick?
        var done: Bool {
            guard let best else { return samples >= 3 * count }
            return samples >= 3 * count || (!best.score.isFlat && nextSample > windowEnd)
        }
        func consider(_ frame: Frame) throws(StageFailure) {
            guard !done, let time = seconds(frame.bestTimestamp, decoder.timeBase), time >= nextSample else { return }
            samples += 1
            nextSample = max(nextSample + step, time + step / 2)
            let score = try meter.measure(frame)
            if best == nil || best!.score < score {
                best = Pick(frame: try Frame(referencing: frame), time: time, score: score, fullDecode: true)
            }
        }
        while !done, try input.read(into: packet) {
            try input.deadline.check("looking for a poster frame")
            guard packet.streamIndex == video.index else { continue }
            try decoder.decode(packet, into: frame, consider)
        }
        if !done { try decoder.decode(nil, into: frame, consider) }
        return best
    }
}
