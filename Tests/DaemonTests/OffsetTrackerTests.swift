import Daemon
import Testing

@Suite("Offset tracking for at-least-once commits")
struct OffsetTrackerTests {
    let p0 = OffsetTracker.Partition(topic: "file.uploaded", partition: 0)
    let p1 = OffsetTracker.Partition(topic: "file.uploaded", partition: 1)

    func owning(_ partitions: OffsetTracker.Partition...) -> OffsetTracker {
        let tracker = OffsetTracker()
        tracker.assigned(partitions)
        return tracker
    }

    @Test("commits stop below the lowest unfinished message, whatever finished after it")
    func outOfOrder() {
        let tracker = owning(p0)
        for offset in Int64(10)...14 { #expect(tracker.started(p0, offset: offset)) }
        tracker.finished(p0, offset: 12)
        tracker.finished(p0, offset: 14)
        #expect(tracker.committable() == [p0: 10], "10 is still running: nothing past it may be committed")
        tracker.finished(p0, offset: 10)
        #expect(tracker.committable() == [p0: 11])
        tracker.finished(p0, offset: 11)
        tracker.finished(p0, offset: 13)
        #expect(tracker.committable() == [p0: 15], "all done: the next offset to read")
        #expect(tracker.inFlight == 0)
    }

    @Test("partitions are independent, and a commit is not repeated")
    func partitions() {
        let tracker = owning(p0, p1)
        #expect(tracker.started(p0, offset: 5))
        #expect(tracker.started(p1, offset: 100))
        tracker.finished(p1, offset: 100)
        let first = tracker.committable()
        #expect(first == [p0: 5, p1: 101])
        tracker.didCommit(first)
        #expect(tracker.committable().isEmpty)
        tracker.finished(p0, offset: 5)
        #expect(tracker.committable() == [p0: 6])
    }

    @Test("a revoked partition is forgotten: late outcomes are not committed by this member")
    func revoke() {
        let tracker = owning(p0)
        #expect(tracker.started(p0, offset: 1))
        #expect(tracker.started(p0, offset: 2))
        tracker.finished(p0, offset: 1)
        #expect(tracker.committable() == [p0: 2])
        #expect(tracker.revoke([p0]) == [p0: 2], "what was settled is handed to the revocation's commit")
        tracker.finished(p0, offset: 2)
        #expect(tracker.committable().isEmpty)
        #expect(!tracker.isTracking(p0))
    }

    @Test("a message fetched before its partition was revoked and started after is refused: commits never pass the revocation's unanswered offsets")
    func startAfterRevoke() {
        let tracker = owning(p0)
        for offset in Int64(13)...15 { #expect(tracker.started(p0, offset: offset)) }
        // The consumer handed out 16 just before the revocation; the job loop starts it after.
        #expect(tracker.revoke([p0]) == [p0: 13])
        #expect(!tracker.started(p0, offset: 16), "its partition is no longer owned")
        #expect(tracker.committable().isEmpty, "nothing for p0, least of all 16 or 17 while 13–15 are unanswered")
        #expect(tracker.inFlight == 0)

        // Assigned back: reading resumes at the commit, and tracking starts afresh.
        tracker.assigned([p0])
        #expect(tracker.started(p0, offset: 13))
        #expect(tracker.committable() == [p0: 13])
    }

    @Test("random completion order never commits past an unfinished offset")
    func randomised() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let tracker = owning(p0)
            let offsets = Array(Int64(0)..<200)
            for offset in offsets { #expect(tracker.started(p0, offset: offset)) }
            var unfinished = Set(offsets)
            for offset in offsets.shuffled(using: &generator) {
                tracker.finished(p0, offset: offset)
                unfinished.remove(offset)
                let next = tracker.committable()[p0] ?? 0
                #expect(next == (unfinished.min() ?? 200))
                #expect(!unfinished.contains { $0 < next })
            }
        }
    }
}
