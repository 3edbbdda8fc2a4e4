import Foundation
import MediadTestSupport
import PipelineEngine
import Testing

@Suite("Thumbnails and previews")
struct ThumbnailTests {
    @Test("the default pipeline: 250 px short-side WebP, 1440 px short-side JPEG, never upscaled")
    func defaultSizes() async throws {
        let harness = try ImageHarness()
        let rich = try await harness.process(fixture: "exif-rich.jpg")
        #expect(rich.status == .succeeded)
        let thumbnail = try rich.derivative("thumbnail")
        #expect(thumbnail.kind == .thumbnail && thumbnail.contentType == "image/webp")
        #expect(thumbnail.width == 375 && thumbnail.height == 250)
        let preview = try rich.derivative("preview")
        #expect(preview.kind == .preview && preview.contentType == "image/jpeg")
        #expect(preview.width == 1200 && preview.height == 800, "a 1200x800 source is not upscaled to 1440")

        // The files really have the reported size, content and checksum.
        for derivative in [thumbnail, preview] {
            let file = try harness.file(of: derivative)
            let decoded = try RGBImage.decode(file)
            #expect(decoded.width == derivative.width && decoded.height == derivative.height)
            #expect(try await Command.check(["sha256sum", file.path]).text.hasPrefix(derivative.sha256 ?? "-"))
            let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber
            #expect(size?.int64Value == derivative.bytes)
        }

        let panorama = try await harness.process(fixture: "panorama.jpg")
        #expect(try panorama.derivative("thumbnail").height == 250)
        #expect(try panorama.derivative("thumbnail").width == 2000)
        #expect(try panorama.derivative("preview").height == 1440)

        let portrait = try await harness.process(fixture: "orientation-8.jpg")
        #expect(try portrait.derivative("thumbnail").width == 300, "300x200 display size: short side 200 < 250, kept")
    }

    /// The displayed picture has a red square top-left and a green one top-right.
    @Test("EXIF orientations 1–8 are applied to the pixels", arguments: 1...8)
    func orientation(_ orientation: Int) async throws {
        let harness = try ImageHarness()
        let data = try await harness.process(fixture: "orientation-\(orientation).jpg")
        for name in ["thumbnail", "preview"] {
            let derivative = try data.derivative(name)
            #expect(derivative.width == 300 && derivative.height == 200)
            let image = try RGBImage.decode(try harness.file(of: derivative))
            let topLeft = image.average(x: 10, y: 10, size: 30)
            let topRight = image.average(x: 260, y: 10, size: 30)
            let bottomLeft = image.average(x: 10, y: 160, size: 30)
            #expect(topLeft.r > 200 && topLeft.g < 60 && topLeft.b < 60, "\(name): top-left should be red, is \(topLeft)")
            #expect(topRight.g > 200 && topRight.r < 60, "\(name): top-right should be green, is \(topRight)")
            #expect(abs(bottomLeft.r - bottomLeft.g) < 20 && bottomLeft.r > 90 && bottomLeft.r < 170, "\(name): bottom-left should be grey, is \(bottomLeft)")
        }
    }

    @Test("Display P3 is converted through its profile: sRGB red stays red, not dull")
    func displayP3() async throws {
        let harness = try ImageHarness()
        let data = try await harness.process(fixture: "display-p3.png")
        let image = try RGBImage.decode(try harness.file(of: try data.derivative("preview")))
        let red = image.average(x: 30, y: 30, size: 40), green = image.average(x: 130, y: 30, size: 40), blue = image.average(x: 230, y: 30, size: 40)
        #expect(red.r > 245 && red.g < 12 && red.b < 12, "red is \(red)")
        #expect(green.g > 245 && green.r < 12 && green.b < 12, "green is \(green)")
        #expect(blue.b > 245 && blue.r < 12 && blue.g < 12, "blue is \(blue)")
    }

    @Test("wide gamut can be kept: P3 pixels with the P3 profile attached")
    func preserveP3() async throws {
        let harness = try ImageHarness(yaml: """
            name: wide
            version: 1
            match: {mediaTypes: [image]}
            stages:
              - stage: thumbnail
                fit: long-side
                size: 150
                format: jpeg
                colour: preserve
            """)
        let data = try await harness.process(TestPaths.image("display-p3.png"))
        let file = try harness.file(of: try data.derivative("thumbnail"))
        #expect(try ExifTool.metadataGroups(file).contains("ICC_Profile"))
        let description = try await Command.check(["exiftool", "-s3", "-ProfileDescription", file.path]).text
        #expect(description.localizedCaseInsensitiveContains("p3"))
        let red = try RGBImage.decode(file).average(x: 10, y: 10, size: 20)
        #expect(red.r < 245 && red.g > 30, "still P3-encoded numbers (about 234, 51, 35), got \(red)")
    }

    @Test("CMYK and 16-bit sources come out as 8-bit sRGB with the right colours")
    func cmykAnd16Bit() async throws {
        let harness = try ImageHarness()
        // The reference: libvips' plain ICC transform through the embedded CMYK profile, resized
        // by vipsthumbnail. A naive CMYK→RGB conversion (no profile) lands far from it.
        let scratch = try TestPaths.temporaryDirectory("cmyk")
        defer { try? FileManager.default.removeItem(at: scratch) }
        try await Command.check(["vips", "icc_transform", TestPaths.image("cmyk.jpg").path, scratch.appendingPathComponent("srgb.png").path, "srgb", "--embedded"])
        try await Command.check(["vipsthumbnail", scratch.appendingPathComponent("srgb.png").path, "--size", "x250", "-o", scratch.appendingPathComponent("ref.png").path])
        let reference = try RGBImage.decode(scratch.appendingPathComponent("ref.png"))
        let cmyk = try RGBImage.decode(try harness.file(of: try await harness.process(fixture: "cmyk.jpg").derivative("thumbnail")))
        #expect(cmyk.width == reference.width && cmyk.height == reference.height)
        for (x, y) in [(0, 0), (120, 100), (300, 180), (200, 40)] {
            let expected = reference.average(x: x, y: y, size: 64), actual = cmyk.average(x: x, y: y, size: 64)
            #expect(abs(expected.r - actual.r) < 8 && abs(expected.g - actual.g) < 8 && abs(expected.b - actual.b) < 8, "at \(x),\(y): \(actual) vs \(expected)")
        }

        let sixteen = try await harness.process(fixture: "rgb16.png")
        let file = try harness.file(of: try sixteen.derivative("preview"))
        let bits = try await Command.check(["ffprobe", "-v", "error", "-show_entries", "stream=pix_fmt", "-of", "csv=p=0", file.path]).text
        #expect(bits.hasPrefix("yuvj420p") || bits.hasPrefix("yuvj444p"), "8-bit JPEG, got \(bits)")
        let red = try RGBImage.decode(file).average(x: 5, y: 5, size: 40)
        #expect(red.r > 240 && red.g < 20 && red.b < 20, "the 16-bit red square, got \(red)")
    }

    /// Untagged and sRGB-tagged sources skip the (no-op) ICC transform: the same pixels with
    /// or without an sRGB profile must give the same output, and no profile is left in it.
    @Test("an sRGB-tagged photo comes out as the same pixels untagged, without its profile")
    func srgbTagged() async throws {
        let scratch = try TestPaths.temporaryDirectory("srgb")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let untagged = scratch.appendingPathComponent("untagged.png"), tagged = scratch.appendingPathComponent("tagged.png")
        try await Command.check(["vips", "copy", TestPaths.image("orientation-1.jpg").path, untagged.path])
        // icc_transform to sRGB from an untagged sRGB image attaches libvips' sRGB profile.
        try await Command.check(["vips", "icc_transform", untagged.path, tagged.path, "srgb", "--input-profile", "srgb"])
        #expect(try await Command.check(["vipsheader", "-f", "icc-profile-data", tagged.path]).text.isEmpty == false)
        let harness = try ImageHarness()
        let plain = try RGBImage.decode(try harness.file(of: try await harness.process(untagged, fileId: "untagged").derivative("preview")))
        let file = try harness.file(of: try await harness.process(tagged, fileId: "tagged").derivative("preview"))
        let withProfile = try RGBImage.decode(file)
        #expect(try !ExifTool.metadataGroups(file).contains("ICC_Profile"))
        for (x, y) in [(10, 10), (260, 10), (10, 160), (150, 100)] {
            let a = plain.average(x: x, y: y, size: 30), b = withProfile.average(x: x, y: y, size: 30)
            #expect(abs(a.r - b.r) <= 2 && abs(a.g - b.g) <= 2 && abs(a.b - b.b) <= 2, "at \(x),\(y): \(b) vs \(a)")
        }
    }

    @Test(
        "outputs carry no metadata: no EXIF, no GPS, no XMP (ExifTool checks)",
        arguments: ["exif-rich.jpg", "photo.webp", "photo.heic", "photo.tiff", "photo-exif.png", "gps-south-west.jpg"]
    )
    func noMetadataLeaks(fixture: String) async throws {
        let harness = try ImageHarness(yaml: """
            name: all-formats
            version: 1
            match: {mediaTypes: [image]}
            stages:
              - {stage: thumbnail, name: jpeg, size: 120, format: jpeg}
              - {stage: thumbnail, name: webp, size: 120, format: webp}
              - {stage: thumbnail, name: avif, size: 120, format: avif}
              - {stage: thumbnail, name: png, size: 120, format: png}
            """)
        let data = try await harness.process(fixture: fixture)
        #expect(data.derivatives.count == 4, "\(data.errors)")
        for derivative in data.derivatives {
            let groups = try ExifTool.metadataGroups(try harness.file(of: derivative))
            #expect(groups.isEmpty, "\(fixture) → \(derivative.name) still has \(groups.sorted())")
        }
    }

    @Test("cover crops to the exact box; animated input gives its first frame")
    func coverAndAnimation() async throws {
        let harness = try ImageHarness(yaml: """
            name: square
            version: 1
            match: {mediaTypes: [image]}
            stages:
              - {stage: thumbnail, name: square, fit: cover, width: 96, height: 96, crop: attention, format: webp}
              - {stage: thumbnail, name: box, fit: inside, width: 100, height: 40, format: png}
            """)
        let rich = try await harness.process(fixture: "exif-rich.jpg")
        #expect(try rich.derivative("square").width == 96 && rich.derivative("square").height == 96)
        #expect(try rich.derivative("box").width == 60 && rich.derivative("box").height == 40)
        let gif = try await harness.process(fixture: "animated.gif")
        let square = try RGBImage.decode(try harness.file(of: try gif.derivative("square")))
        #expect(square.width == 96 && square.height == 96)
        let frames = try await Command.check(["ffprobe", "-v", "error", "-count_frames", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", try harness.file(of: try gif.derivative("box")).path]).text
        #expect(frames.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
    }

    @Test("alpha survives in WebP and is flattened onto white in JPEG")
    func alpha() async throws {
        let harness = try ImageHarness()
        let data = try await harness.process(fixture: "alpha.png")
        let preview = try RGBImage.decode(try harness.file(of: try data.derivative("preview")))
        let transparentSide = preview.average(x: 280, y: 100, size: 20)
        #expect(transparentSide.r > 245 && transparentSide.g > 245 && transparentSide.b > 245, "white where transparent, got \(transparentSide)")
        let opaqueSide = preview.average(x: 20, y: 100, size: 20)
        #expect(opaqueSide.r > 240 && abs(opaqueSide.g - 128) < 12 && opaqueSide.b < 15)
        let pixelFormat = try await Command.check(["ffprobe", "-v", "error", "-show_entries", "stream=pix_fmt", "-of", "csv=p=0", try harness.file(of: try data.derivative("thumbnail")).path]).text
        #expect(pixelFormat.contains("yuva420p") || pixelFormat.contains("argb"), "WebP keeps alpha, got \(pixelFormat)")
    }
}
