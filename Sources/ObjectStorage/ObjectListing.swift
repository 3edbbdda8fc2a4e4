/// An asynchronous sequence over every object of a listing, fetching one page at a
/// time so that listing a million keys holds one page in memory.
public struct ObjectListing: AsyncSequence, Sendable {
    public typealias Element = ObjectInfo
    public typealias Failure = ObjectStorageError

    let store: any ObjectStore
    let bucket: String
    let prefix: String?
    let startAfter: String?
    let pageSize: Int?

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(listing: self)
    }

    /// Iterates a listing page by page.
    public struct AsyncIterator: AsyncIteratorProtocol, Sendable {
        public typealias Element = ObjectInfo
        public typealias Failure = ObjectStorageError

        let listing: ObjectListing
        var page: [ObjectInfo] = []
        var index = 0
        var continuationToken: String?
        var fetchedFirstPage = false

        public mutating func next() async throws(ObjectStorageError) -> ObjectInfo? {
            while index >= page.count {
                if fetchedFirstPage && continuationToken == nil { return nil }
                let result = try await listing.store.listPage(
                    bucket: listing.bucket,
                    prefix: listing.prefix,
                    startAfter: fetchedFirstPage ? nil : listing.startAfter,
                    continuationToken: continuationToken,
                    maxKeys: listing.pageSize
                )
                fetchedFirstPage = true
                continuationToken = result.continuationToken
                page = result.objects
                index = 0
            }
            defer { index += 1 }
            return page[index]
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(ObjectStorageError)
            -> ObjectInfo?
        {
            try await next()
        }
    }
}
