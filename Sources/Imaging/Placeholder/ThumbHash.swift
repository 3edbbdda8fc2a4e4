import Foundation

/// ThumbHash (https://evanw.github.io/thumbhash/): a ~25-byte description of an image that
/// a client decodes into a blurry placeholder with the right colours, aspect ratio and alpha,
/// shown while the real thumbnail loads.
///
/// The image is turned into luminance, two chroma channels and alpha, each summarised by a
/// few low-frequency cosine (DCT) coefficients quantised to 4 bits.
public enum ThumbHash {
    /// Encodes an RGBA image of at most 100 × 100 pixels (larger inputs only cost time).
    /// - Precondition: `rgba.count == width * height * 4`.
    public static func encode(width w: Int, height h: Int, rgba: [UInt8]) -> [UInt8] {
        precondition(w > 0 && h > 0 && w <= 100 && h <= 100 && rgba.count == w * h * 4, "ThumbHash takes RGBA up to 100x100")
        let pixels = w * h

        // Average colour, weighted by alpha.
        var averageR = 0.0, averageG = 0.0, averageB = 0.0, averageA = 0.0
        for index in 0..<pixels {
            let alpha = Double(rgba[index * 4 + 3]) / 255
            averageR += alpha / 255 * Double(rgba[index * 4])
            averageG += alpha / 255 * Double(rgba[index * 4 + 1])
            averageB += alpha / 255 * Double(rgba[index * 4 + 2])
            averageA += alpha
        }
        if averageA > 0 {
            averageR /= averageA
            averageG /= averageA
            averageB /= averageA
        }
        let hasAlpha = averageA < Double(pixels)
        // Fewer luminance terms when alpha needs room.
        let luminanceLimit = hasAlpha ? 5.0 : 7.0
        let longest = Double(max(w, h))
        let lx = max(1, jsRound(luminanceLimit * Double(w) / longest))
        let ly = max(1, jsRound(luminanceLimit * Double(h) / longest))

        // RGBA → LPQA, composited over the average colour so transparent pixels don't skew it.
        var l = [Double](repeating: 0, count: pixels)
        var p = l, q = l, a = l
        for index in 0..<pixels {
            let alpha = Double(rgba[index * 4 + 3]) / 255
            let r = averageR * (1 - alpha) + alpha / 255 * Double(rgba[index * 4])
            let g = averageG * (1 - alpha) + alpha / 255 * Double(rgba[index * 4 + 1])
            let b = averageB * (1 - alpha) + alpha / 255 * Double(rgba[index * 4 + 2])
            l[index] = (r + g + b) / 3
            p[index] = (r + g) / 2 - b
            q[index] = r - g
            a[index] = alpha
        }

        let luminance = encodeChannel(l, width: w, height: h, nx: max(3, lx), ny: max(3, ly))
        let yellowBlue = encodeChannel(p, width: w, height: h, nx: 3, ny: 3)
        let redGreen = encodeChannel(q, width: w, height: h, nx: 3, ny: 3)
        let alphaChannel = hasAlpha ? encodeChannel(a, width: w, height: h, nx: 5, ny: 5) : nil

        let isLandscape = w > h
        let header24 = jsRound(63 * luminance.dc)
            | jsRound(31.5 + 31.5 * yellowBlue.dc) << 6
            | jsRound(31.5 + 31.5 * redGreen.dc) << 12
            | jsRound(31 * luminance.scale) << 18
            | (hasAlpha ? 1 : 0) << 23
        let header16 = (isLandscape ? ly : lx)
            | jsRound(63 * yellowBlue.scale) << 3
            | jsRound(63 * redGreen.scale) << 9
            | (isLandscape ? 1 : 0) << 15
        var hash: [UInt8] = [
            UInt8(header24 & 255), UInt8((header24 >> 8) & 255), UInt8(header24 >> 16),
            UInt8(header16 & 255), UInt8(header16 >> 8),
        ]
        if let alphaChannel {
            hash.append(UInt8(jsRound(15 * alphaChannel.dc) | jsRound(15 * alphaChannel.scale) << 4))
        }
        let acStart = hash.count
        var factors = luminance.ac + yellowBlue.ac + redGreen.ac
        if let alphaChannel { factors += alphaChannel.ac }
        hash += [UInt8](repeating: 0, count: (factors.count + 1) / 2)
        for (index, factor) in factors.enumerated() {
            hash[acStart + index / 2] |= UInt8(jsRound(15 * factor)) << ((index & 1) * 4)
        }
        return hash
    }

    private struct Channel {
        var dc: Double
        var ac: [Double]
        var scale: Double
    }

    /// The DCT terms of one channel: the constant term and the normalised varying terms,
    /// keeping only the triangle of low frequencies (cx·ny < nx·(ny − cy)).
    private static func encodeChannel(_ channel: [Double], width w: Int, height h: Int, nx: Int, ny: Int) -> Channel {
        var dc = 0.0
        var ac: [Double] = []
        var scale = 0.0
        var fx = [Double](repeating: 0, count: w)
        for cy in 0..<ny {
            var cx = 0
            while cx * ny < nx * (ny - cy) {
                var f = 0.0
                for x in 0..<w {
                    fx[x] = cos(Double.pi / Double(w) * Double(cx) * (Double(x) + 0.5))
                }
                for y in 0..<h {
                    let fy = cos(Double.pi / Double(h) * Double(cy) * (Double(y) + 0.5))
                    for x in 0..<w {
                        f += channel[x + y * w] * fx[x] * fy
                    }
                }
                f /= Double(w * h)
                if cx > 0 || cy > 0 {
                    ac.append(f)
                    scale = max(scale, abs(f))
                } else {
                    dc = f
                }
                cx += 1
            }
        }
        if scale > 0 {
            ac = ac.map { 0.5 + 0.5 / scale * $0 }
        }
        return Channel(dc: dc, ac: ac, scale: scale)
    }

    /// Rounds half up, like the reference implementation's `Math.round`.
    private static func jsRound(_ value: Double) -> Int {
        Int((value + 0.5).rounded(.down))
    }
}
