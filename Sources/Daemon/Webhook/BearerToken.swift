/// The shared secret a store sends as `Authorization: Bearer <token>` (MinIO adds the
/// `Bearer ` itself when its auth_token is a single word).
struct BearerToken: Sendable {
    private let expected: [UInt8]

    init(_ token: String) {
        expected = Array(token.utf8)
    }

    /// Whether an `Authorization` value carries the token. The comparison reads every byte of
    /// the expected token whatever the value, so its time says nothing of how much matched.
    func accepts(_ authorization: String?) -> Bool {
        guard let authorization, let space = authorization.firstIndex(of: " "),
              authorization[..<space].lowercased() == "bearer"
        else { return false }
        let given = Array(authorization[space...].drop { $0 == " " }.utf8)
        var difference = given.count == expected.count ? 0 : 1
        for index in expected.indices {
            let byte = index < given.count ? given[index] : 0
            difference |= Int(byte ^ expected[index])
        }
        return difference == 0
    }
}
