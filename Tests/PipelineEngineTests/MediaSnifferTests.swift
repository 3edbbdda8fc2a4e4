import Foundation
import MediadTestSupport
import PipelineEngine
import Testing

@Suite("Sniffing by magic bytes")
struct MediaSnifferTests {
    @Test(
        "fixtures are identified by content, not by name",
        arguments: [
            ("exif-rich.jpg", "image/jpeg", MediaType.image), ("alpha.png", "image/png", .image),
            ("animated.gif", "image/gif", .image), ("photo.webp", "image/webp", .image),
            ("photo.tiff", "image/tiff", .image), ("photo.heic", "image/heic", .image),
            ("photo.avif", "image/avif", .image), ("text.jpg", "text/plain", .other),
            ("empty.jpg", "application/x-empty", .other), ("vector.svg", "image/svg+xml", .image),
        ] as [(String, String, MediaType)]
    )
    func fixtures(name: String, contentType: String, mediaType: MediaType) throws {
        let type = try MediaSniffer.sniff(file: TestPaths.image(name))
        #expect(type.contentType == contentType)
        #expect(type.mediaType == mediaType)
    }

    private func ftyp(_ major: String, _ compatible: [String] = []) -> [UInt8] {
        let brands = ([major, "\0\0\0\0"] + compatible).flatMap { Array($0.utf8) }
        let size = 8 + brands.count
        return [0, 0, 0, UInt8(size)] + Array("ftyp".utf8) + brands + [0, 0, 0, 8] + Array("mdat".utf8)
    }

    @Test("ISO base media brands decide between photo, video and audio")
    func isoBrands() {
        #expect(MediaSniffer.sniff(ftyp("isom", ["isom", "avc1", "mp41"])).contentType == "video/mp4")
        #expect(MediaSniffer.sniff(ftyp("qt  ", ["qt  "])).contentType == "video/quicktime")
        #expect(MediaSniffer.sniff(ftyp("heic", ["mif1", "heic"])).contentType == "image/heic")
        #expect(MediaSniffer.sniff(ftyp("mif1", ["mif1", "avif"])).contentType == "image/avif")
        #expect(MediaSniffer.sniff(ftyp("M4A ", ["M4A ", "isom"])).mediaType == .audio)
    }

    @Test("other containers and audio")
    func otherSignatures() {
        #expect(MediaSniffer.sniff([0x1A, 0x45, 0xDF, 0xA3] + Array("....webm".utf8)).contentType == "video/webm")
        #expect(MediaSniffer.sniff([0x1A, 0x45, 0xDF, 0xA3] + Array("....matroska".utf8)).contentType == "video/x-matroska")
        #expect(MediaSniffer.sniff(Array("RIFF\0\0\0\0WAVEfmt ".utf8)).contentType == "audio/wav")
        #expect(MediaSniffer.sniff(Array("ID3\u{4}\0\0\0\0\0\0".utf8)).contentType == "audio/mpeg")
        #expect(MediaSniffer.sniff(Array("%PDF-1.7\n".utf8)).contentType == "application/pdf")
        #expect(MediaSniffer.sniff([0x00, 0x01, 0x02, 0xFE, 0x80]).contentType == "application/octet-stream")
        #expect(MediaSniffer.sniff(Array("#EXTM3U\n#EXT-X-VERSION:3\n".utf8)).contentType == "text/plain")
    }
}
