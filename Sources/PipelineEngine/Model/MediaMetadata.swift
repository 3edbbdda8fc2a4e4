/// Facts read from the file itself (EXIF, container, streams). Every field is optional:
/// files carry what they carry, and absent facts are omitted from the JSON.
public struct MediaMetadata: Codable, Sendable, Equatable {
    // MARK: Geometry and pixels
    /// Stored pixel size, before orientation.
    public var width: Int?
    public var height: Int?
    /// EXIF orientation 1–8 (1 when absent for images).
    public var orientation: Int?
    /// Size as displayed, after orientation or rotation is applied.
    public var displayWidth: Int?
    public var displayHeight: Int?
    public var colorSpace: String?
    public var bitDepth: Int?
    public var iccProfile: String?
    public var hasAlpha: Bool?
    public var pages: Int?
    public var format: String?

    // MARK: Capture
    /// ISO 8601; carries the offset when the file recorded one (OffsetTimeOriginal).
    public var takenAt: String?
    public var make: String?
    public var model: String?
    public var lens: String?
    /// Seconds, e.g. 0.008 for 1/125 s.
    public var exposureTime: Double?
    public var fNumber: Double?
    public var iso: Int?
    /// Millimetres.
    public var focalLength: Double?
    public var gps: GeoLocation?

    // MARK: Time-based media
    public var duration: Double?
    public var container: String?
    public var videoCodec: String?
    public var videoProfile: String?
    public var pixelFormat: String?
    public var frameRate: Double?
    /// Bits per second of the whole file.
    public var bitrate: Int?
    /// Clockwise degrees a player rotates the picture by (0, 90, 180, 270).
    public var rotation: Int?
    public var colorPrimaries: String?
    public var colorTransfer: String?
    public var hdr: Bool?
    public var audioCodec: String?
    public var audioChannels: Int?
    public var audioSampleRate: Int?
    public var creationTime: String?

    public init() {}
}

/// Signed decimal degrees (south and west negative), altitude in metres above sea level.
public struct GeoLocation: Codable, Sendable, Equatable {
    public var latitude: Double
    public var longitude: Double
    public var altitude: Double?

    public init(latitude: Double, longitude: Double, altitude: Double? = nil) {
        self.latitude = latitude
        self.longitude = longitude
        self.altitude = altitude
    }
}
