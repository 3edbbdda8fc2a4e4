import Foundation
import PipelineEngine

/// Rejects images before decoding when the header alone says they are unusable: not
/// decodable, a disabled loader, or more pixels than the pipeline allows (decompression
/// bombs declare gigapixels in a few hundred bytes).
public struct ImageInspector: MediaInspector {
    public init() {}

    public func inspect(_ job: JobContext) throws(StageFailure) {
        try VipsRuntime.start()
        // The header stays open for the job: the metadata stage and the renders read it again.
        let image = try RenderCache.of(job).header(of: job.file, failOn: job.pipeline.decode.failOn)
        if let loader = image.string("vips-loader"), let name = VipsRuntime.untrustedLoaderName(loader),
           !job.pipeline.decode.untrustedLoaders.contains(name)
        {
            throw StageFailure(.loaderDisabled, "the \(name) loader is disabled for untrusted input; enable it in the pipeline's decode.untrustedLoaders")
        }
        let pixels = Int64(image.width) * Int64(image.height) * Int64(max(1, image.pages))
        let limit = job.pipeline.limits.maxPixels
        guard pixels <= limit else {
            throw StageFailure(
                .tooManyPixels,
                "the image declares \(image.width)x\(image.height)\(image.pages > 1 ? "x\(image.pages) pages" : "") = \(pixels) pixels; pipeline '\(job.pipeline.name)' allows \(limit)")
        }
        ImageFacts.fillGeometry(of: image, into: &job.metadata)
    }
}

extension VipsRuntime {
    /// Maps a `vips-loader` value (`svgload`, `pdfload_source`) to the pipeline's loader name, if untrusted.
    static func untrustedLoaderName(_ loader: String) -> String? {
        let base = loader.components(separatedBy: "load").first ?? loader
        return untrustedLoaderClasses[base] != nil ? base : nil
    }
}

/// Header facts shared by the inspector and the metadata stage.
enum ImageFacts {
    static func fillGeometry(of image: VipsImageHandle, into metadata: inout MediaMetadata) {
        let orientation = image.orientation
        metadata.width = image.width
        metadata.height = image.height
        metadata.orientation = orientation
        let swaps = orientation >= 5
        metadata.displayWidth = swaps ? image.height : image.width
        metadata.displayHeight = swaps ? image.width : image.height
        metadata.pages = max(1, image.pages)
        metadata.hasAlpha = image.hasAlpha
        metadata.bitDepth = image.bitsPerSample
        metadata.colorSpace = image.colourSpaceName
        if let loader = image.loaderName {
            metadata.format = loader
        }
    }
}
