import Foundation
import MediaProcessing
import MediadTestSupport
import Testing

@Suite("ManifestCoding's timestamps")
struct ManifestCodingTests {
    @Test("formatted like ISO8601DateFormatter with milliseconds, for 10,000 seeded dates from 1970 to 2100")
    func formatsLikeFoundation() {
        let reference = ISO8601DateFormatter()
        reference.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var seeded = Mutator(seed: 2026)
        for _ in 0..<10_000 {
            let milliseconds = Double(seeded.next() % 4_102_444_800_000)
            let date = Date(timeIntervalSince1970: milliseconds / 1000)
            #expect(ManifestCoding.timestamp(date) == reference.string(from: date))
            // And between milliseconds, as `Date()` is.
            let between = Date(timeIntervalSince1970: milliseconds / 1000 + Double(seeded.next() % 1000) / 1_000_000)
            #expect(ManifestCoding.timestamp(between) == reference.string(from: between))
        }
    }

    @Test("parses what it writes, plain seconds, offsets and longer fractions; refuses what is not RFC 3339")
    func parses() throws {
        let date = Date(timeIntervalSince1970: 1_795_000_000.123)
        #expect(ManifestCoding.date(ManifestCoding.timestamp(date)).map { abs($0.timeIntervalSince1970 - 1_795_000_000.123) < 1e-6 } == true)
        #expect(ManifestCoding.date("2026-11-21T06:00:00Z")?.timeIntervalSince1970 == 1_795_240_800)
        #expect(ManifestCoding.date("2026-11-21T07:30:00+01:30")?.timeIntervalSince1970 == 1_795_240_800)
        #expect(ManifestCoding.date("2026-11-21T06:00:00.5Z")?.timeIntervalSince1970 == 1_795_240_800.5)
        #expect(ManifestCoding.date("2026-11-21T06:00:00.123456Z").map { abs($0.timeIntervalSince1970 - 1_795_240_800.123456) < 1e-6 } == true)
        for bad in ["", "2026-11-21", "2026-11-21 06:00:00Z", "2026-13-21T06:00:00Z", "2026-11-21T06:00:00", "2026-11-21T06:00:00.Z", "2026-11-21T06:00:00Zjunk"] {
            #expect(ManifestCoding.date(bad) == nil, "\(bad)")
        }
        struct Stamped: Codable, Equatable { var at: Date }
        let encoded = try ManifestCoding.encoder().encode(Stamped(at: Date(timeIntervalSince1970: 1_795_240_800.25)))
        #expect(String(decoding: encoded, as: UTF8.self) == #"{"at":"2026-11-21T06:00:00.250Z"}"#)
        #expect(try ManifestCoding.decoder().decode(Stamped.self, from: encoded) == Stamped(at: Date(timeIntervalSince1970: 1_795_240_800.25)))
    }
}
