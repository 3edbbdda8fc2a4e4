import Foundation
import MediadTestSupport
import PipelineEngine
import Testing

@Suite("Image metadata (libexif and the header)")
struct ImageMetadataTests {
    @Test("rich EXIF: camera, lens, capture settings, time with offset, GPS", arguments: ["exif-rich.jpg", "photo.webp", "photo.heic", "photo.avif", "photo-exif.png", "photo.tiff", "cmyk.jpg"])
    func richExif(fixture: String) async throws {
        let data = try await ImageHarness().process(fixture: fixture)
        let metadata = data.metadata
        #expect(data.status == .succeeded, "\(data.errors)")
        #expect(metadata.make == "Canon")
        #expect(metadata.model == "Canon EOS R5")
        #expect(metadata.lens == "Canon RF24-105mm F4 L IS USM")
        #expect(metadata.takenAt == "2023-07-14T18:42:07.25+02:00")
        #expect(metadata.exposureTime == 1.0 / 250)
        #expect(metadata.fNumber == 5.6)
        #expect(metadata.iso == 200)
        #expect(metadata.focalLength == 50)
        let gps = try #require(metadata.gps)
        #expect(abs(gps.latitude - 48.8583701) < 1e-6)
        #expect(abs(gps.longitude - 2.2944813) < 1e-6)
        #expect(gps.altitude == 35.5)
    }

    @Test("southern and western coordinates are negative; below sea level is negative; no offset means local time")
    func southWest() async throws {
        let metadata = try await ImageHarness().process(fixture: "gps-south-west.jpg").metadata
        #expect(metadata.make == "Apple")
        #expect(metadata.model == "iPhone 15 Pro")
        #expect(metadata.takenAt == "2024-01-02T03:04:05")
        #expect(metadata.gps == GeoLocation(latitude: -22.9519, longitude: -43.2105, altitude: -12))
        #expect(metadata.iso == 640)
        #expect(metadata.exposureTime == 1.0 / 60)
        #expect(metadata.fNumber == 1.8)
        #expect(metadata.focalLength == 6.9)
    }

    @Test("geometry, colour space, bit depth, alpha, pages and profile names")
    func headerFacts() async throws {
        let harness = try ImageHarness()
        let rich = try await harness.process(fixture: "exif-rich.jpg").metadata
        #expect(rich.width == 1200 && rich.height == 800 && rich.orientation == 1)
        #expect(rich.colorSpace == "srgb" && rich.bitDepth == 8 && rich.hasAlpha == false && rich.pages == 1)
        #expect(rich.format == "jpeg")

        let rotated = try await harness.process(fixture: "orientation-6.jpg").metadata
        #expect(rotated.width == 200 && rotated.height == 300)
        #expect(rotated.orientation == 6)
        #expect(rotated.displayWidth == 300 && rotated.displayHeight == 200)

        let sixteen = try await harness.process(fixture: "rgb16.png").metadata
        #expect(sixteen.bitDepth == 16)
        #expect(sixteen.colorSpace == "rgb16")

        let alpha = try await harness.process(fixture: "alpha.png").metadata
        #expect(alpha.hasAlpha == true)

        let gif = try await harness.process(fixture: "animated.gif").metadata
        #expect(gif.pages == 6)

        let cmyk = try await harness.process(fixture: "cmyk.jpg").metadata
        #expect(cmyk.colorSpace == "cmyk")
        #expect(cmyk.iccProfile != nil)

        let p3 = try await harness.process(fixture: "display-p3.png").metadata
        let p3Name = try #require(p3.iccProfile)
        #expect(p3Name.localizedCaseInsensitiveContains("p3"), "ICC description was \(p3Name)")
    }

    @Test("a pipeline can keep locations out of the output")
    func noLocation() async throws {
        let harness = try ImageHarness(yaml: """
            name: private
            version: 1
            match: {mediaTypes: [image]}
            stages:
              - stage: metadata
                includeLocation: false
            """)
        let metadata = try await harness.process(TestPaths.image("exif-rich.jpg")).metadata
        #expect(metadata.gps == nil)
        #expect(metadata.make == "Canon")
    }
}
