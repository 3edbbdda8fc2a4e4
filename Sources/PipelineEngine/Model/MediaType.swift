/// The broad kind of a file, which decides the pipeline family.
public enum MediaType: String, Codable, Sendable, CaseIterable {
    case image
    case video
    case audio
    case other
}
