import Foundation
import Imaging
import MediadTestSupport
import PipelineEngine
import Testing

@Suite("ThumbHash placeholders")
struct ThumbHashTests {
    /// Deterministic test images: gradients, a hard edge, and partial transparency.
    static func pattern(_ kind: Int, width: Int, height: Int) -> [UInt8] {
        var rgba: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width {
                switch kind {
                case 0: rgba += [UInt8(x * 255 / max(1, width - 1)), UInt8(y * 255 / max(1, height - 1)), 128, 255]
                case 1: rgba += x < width / 2 ? [220, 30, 40, 255] : [20, 60, 200, 255]
                default: rgba += [UInt8((x * 7) % 256), 180, UInt8((y * 5) % 256), UInt8(x * 255 / max(1, width - 1))]
                }
            }
        }
        return rgba
    }

    @Test(
        "the encoder matches an independent implementation (PyPI `thumbhash-python`)",
        arguments: [(0, 100, 75), (1, 64, 64), (2, 100, 40), (0, 30, 100), (2, 1, 1)]
    )
    func reference(kind: Int, width: Int, height: Int) throws {
        let rgba = Self.pattern(kind, width: width, height: height)
        let ours = ThumbHash.encode(width: width, height: height, rgba: rgba)
        let script = "import sys, json\nfrom thumbhash.encode import rgba_to_thumbhash\nw, h, px = json.load(sys.stdin)\nprint(json.dumps(list(rgba_to_thumbhash(w, h, px))))"
        let input = try JSONSerialization.data(withJSONObject: [width, height, rgba.map(Int.init)])
        let output = try Command.check(["python3", "-c", script], input: input).stdout
        let theirs = try JSONDecoder().decode([UInt8].self, from: output)
        #expect(ours == theirs)
    }

    @Test("the placeholder stage hashes the oriented image: landscape flag and colours")
    func stage() async throws {
        let harness = try ImageHarness()
        let data = try await harness.process(fixture: "orientation-6.jpg")
        let placeholder = try data.derivative("thumbhash")
        #expect(placeholder.kind == .placeholder && placeholder.key == nil)
        let hash = try #require(Data(base64Encoded: placeholder.data ?? ""))
        #expect(hash.count >= 5 && hash.count <= 25)
        #expect(hash[4] & 0x80 != 0, "the displayed 300x200 picture is landscape")
        #expect(placeholder.width == 100 && placeholder.height == 67)
    }
}
