import PipelineEngine

/// A resize expressed the way libvips' `thumbnail` takes it: a bounding box in display
/// orientation, plus crop and size rules.
struct ThumbnailRequest: Equatable {
    var width: Int
    var height: Int
    var crop: CropFocus?
    var upscale: Bool

    /// libvips' largest coordinate: an "unbounded" side of the box.
    static let unbounded = 10_000_000

    /// The box for `fit` on an image of `displayWidth` × `displayHeight`, with the long side
    /// capped at `maxSide` (a 1:20 panorama must not become a 28800-px "thumbnail").
    init(fit: ThumbnailFit, displayWidth: Int, displayHeight: Int, upscale: Bool, maxSide: Int) {
        self.upscale = upscale
        switch fit {
        case .shortSide(let size):
            // The short side becomes `size`: leave the other side of the box open.
            if displayWidth <= displayHeight {
                width = size
                height = min(Self.unbounded, maxSide)
            } else {
                width = min(Self.unbounded, maxSide)
                height = size
            }
            crop = nil
        case .longSide(let size):
            width = size
            height = size
            crop = nil
        case .inside(let boxWidth, let boxHeight):
            width = boxWidth
            height = boxHeight
            crop = nil
        case .cover(let boxWidth, let boxHeight, let focus):
            width = boxWidth
            height = boxHeight
            crop = focus
        }
        width = min(width, maxSide)
        height = min(height, maxSide)
    }

    init(width: Int, height: Int, crop: CropFocus? = nil, upscale: Bool = false) {
        self.width = width
        self.height = height
        self.crop = crop
        self.upscale = upscale
    }

    /// The size the output will have for a source of the given display size.
    func outputSize(displayWidth: Int, displayHeight: Int) -> (width: Int, height: Int) {
        if crop != nil { return (width, height) }
        var scale = min(Double(width) / Double(displayWidth), Double(height) / Double(displayHeight))
        if !upscale { scale = min(scale, 1) }
        return (max(1, Int((Double(displayWidth) * scale).rounded())), max(1, Int((Double(displayHeight) * scale).rounded())))
    }
}

extension ImageFormat {
    /// The largest side each encoder accepts.
    var maxSide: Int {
        switch self {
        case .webp: 16383
        case .avif: 8192
        case .jpeg, .png: 65500
        }
    }
}
