import Foundation
import PipelineEngine

/// The `metadata` stage for images: geometry and colour from the header, EXIF through
/// libexif (from the block libvips extracts for JPEG, HEIC/AVIF, WebP, PNG and TIFF),
/// and the ICC profile's name.
public struct ImageMetadataStage: StageRunner {
    public init() {}

    public func run(_ stage: StageDefinition, job: JobContext) throws(StageFailure) {
        guard case .metadata(let spec) = stage.kind else { return }
        try VipsRuntime.start()
        let image = try RenderCache.of(job).header(of: job.file)
        ImageFacts.fillGeometry(of: image, into: &job.metadata)
        if let profile = image.blob("icc-profile-data") {
            job.metadata.iccProfile = ICCProfile.description(profile) ?? "unnamed profile"
        }
        guard let block = image.blob("exif-data") ?? tiffBlock(job), let exif = ExifDocument(block: block) else { return }
        let facts = ExifFacts(exif)
        job.metadata.make = facts.make
        job.metadata.model = facts.model
        job.metadata.lens = facts.lens
        job.metadata.takenAt = facts.takenAt
        job.metadata.exposureTime = facts.exposureTime
        job.metadata.fNumber = facts.fNumber
        job.metadata.iso = facts.iso
        job.metadata.focalLength = facts.focalLength
        if spec.includeLocation {
            job.metadata.gps = facts.gps
        }
    }

    /// A TIFF file is itself an EXIF structure, and libvips does not extract its block:
    /// hand libexif the file's head (where IFDs live in practice) behind an `Exif` header.
    private func tiffBlock(_ job: JobContext) -> [UInt8]? {
        guard job.sniffed.format == "tiff", let handle = try? FileHandle(forReadingFrom: job.file) else { return nil }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: Self.tiffExifWindow), !head.isEmpty else { return nil }
        return Array("Exif".utf8) + [0, 0] + Array(head)
    }

    /// How much of a TIFF is read for its EXIF tags: bounded, whatever the file size.
    static let tiffExifWindow = 16 << 20
}
