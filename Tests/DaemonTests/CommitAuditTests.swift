import Foundation
import Kafka
import Testing

/// The fault tests' at-least-once check must be able to fail: it flags a commit that passed
/// a message answered only later, or never.
@Suite("CommitAudit, the at-least-once check of the fault tests")
struct CommitAuditTests {
    func outcome(_ fileId: String, at milliseconds: Int64) -> Outcome? {
        Outcome(KafkaMessage(
            topic: "media.processed", partition: 0, offset: 0, key: Array(fileId.utf8),
            value: Array(#"{"data":{"fileId":"\#(fileId)","status":"succeeded"}}"#.utf8),
            timestamp: .init(kind: .createTime, millisecondsSince1970: milliseconds)))
    }

    @Test("a commit past an unanswered or later-answered message is a violation; one up to the answered ones is not")
    func flagsPrematureCommits() throws {
        let audit = CommitAudit(partitions: 1)
        for offset in Int64(0)..<4 {
            audit.sent(DeliveryReport(topic: "file.uploaded", partition: 0, offset: offset), fileId: "f\(offset)")
        }
        let outcomes = try Dictionary(uniqueKeysWithValues: [("f0", 100), ("f1", 100), ("f2", 900)].map { ($0.0, try #require(outcome($0.0, at: $0.1))) })
        audit.record(CommitAudit.Sample(at: 500, committed: [0: 2]))
        #expect(audit.violations(outcomes: Array(outcomes.values)).isEmpty)
        audit.record(CommitAudit.Sample(at: 600, committed: [0: 4]))
        let found = audit.violations(outcomes: Array(outcomes.values))
        #expect(found.count == 2, "f2 was answered after the sample, f3 never: \(found)")
        #expect(audit.ends == [0: 4])
    }
}
