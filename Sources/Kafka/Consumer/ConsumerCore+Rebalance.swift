import CRdKafkaShims
import CRdKafka
import Logging
import Synchronization

/// Rebalance handling, on the polling thread, after `rd_kafka_consumer_poll` returned
/// (the callback only recorded the event and yielded).
///
/// Eager protocols revoke everything and assign anew; cooperative ones add and remove
/// partitions incrementally. On revocation the revoke hook's offsets are committed before
/// the partitions go. A broker may refuse that commit while the group is re-joining
/// (librdkafka's mock answers REBALANCE_IN_PROGRESS, noida-db ILLEGAL_GENERATION; Apache
/// Kafka accepts commits from the current generation then, and answers ILLEGAL_GENERATION
/// once this member's generation has ended): the offsets are kept, and for the partitions
/// the next assignment gives back to this member, reading resumes at them and they are
/// committed under the new generation. The partitions that moved elsewhere are re-read
/// from their last commit (at-least-once: a retried offset can only repeat work).
extension ConsumerCore {
    /// Handles the rebalances the callback recorded (it only copies and yields).
    func handleRebalances(_ handle: OpaquePointer) {
        for rebalance in client.context.takeRebalances() {
            switch rebalance.kind {
            case .assign:
                assign(rebalance, handle)
            case .revoke:
                revoke(rebalance, handle)
            case .failure(let error):
                // librdkafka's rule for an unexpected rebalance error: clear the assignment.
                logger.error("Rebalance failed", metadata: ["kafka.error": "\(error)"])
                // Treated as lost (nothing committed); eager unassign clears it all.
                revoke(KafkaRebalance(kind: .revoke, partitions: rebalance.partitions, isLost: true, isCooperative: false), handle)
                buffer.append(.error(error))
            }
        }
    }

    private typealias KafkaRebalance = RDKafkaCallbackContext.Rebalance

    private func assign(_ rebalance: KafkaRebalance, _ handle: OpaquePointer) {
        let partitions = rebalance.partitions.map(\.topicPartition)
        let retry = takeRetryCommits(for: Set(partitions))
        let list = RDKafkaTopicPartitionList(rebalance.partitions.map { offset in
            retry[offset.topicPartition].map { TopicPartitionOffset(offset.topicPartition, offset: $0) } ?? offset
        })
        let failure: KafkaError? = list.withListPointer { pointer in
            if rebalance.isCooperative {
                return rd_kafka_incremental_assign(handle, pointer).map { KafkaError.consuming($0) }
            }
            let err = rd_kafka_assign(handle, pointer)
            return err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError.rdKafka(err)
        }
        if let failure {
            logger.error("Assign failed", metadata: ["kafka.error": "\(failure)"])
            buffer.append(.error(failure))
            return
        }
        // A partition paused in an earlier assignment may still carry librdkafka's pause
        // flag: resume it explicitly, then let applyPauses pause what should be.
        let added = Set(partitions)
        flow.withLock { state in
            if !rebalance.isCooperative { state.assignment = [] }
            state.assignment.formUnion(added)
            state.applied.subtract(added)
        }
        if !list.isEmpty {
            _ = list.withListPointer { rd_kafka_resume_partitions(handle, $0) }
        }
        applyPauses(handle)
        if !retry.isEmpty {
            commitAfterAssign(retry.map { TopicPartitionOffset($0.key, offset: $0.value) }, handle)
        }
        logger.info("Partitions assigned", metadata: ["kafka.partitions": "\(partitions.sorted())"])
        buffer.append(.partitionsAssigned(partitions))
    }

    private func revoke(_ rebalance: KafkaRebalance, _ handle: OpaquePointer) {
        let partitions = rebalance.partitions.map(\.topicPartition)
        // Records of these partitions not handed out yet are dropped first, so the hook's
        // view of what was delivered is final; the next owner reads them again.
        let dropped = buffer.removeMessages(of: Set(partitions))
        let offsets = revokeHook?(KafkaRevocation(partitions: partitions, isLost: rebalance.isLost)) ?? []
        if rebalance.isLost {
            // Never commit for a lost assignment: other members may own it.
            if !offsets.isEmpty {
                logger.warning("Assignment lost: not committing the revoke hook's offsets", metadata: ["kafka.offsets": "\(offsets)"])
            }
        } else if !offsets.isEmpty {
            do {
                try Self.commit(offsets, handle)
                logger.debug("Committed on revoke", metadata: ["kafka.offsets": "\(offsets)"])
            } catch let error as KafkaError where error.isRetriable || error.code == .illegalGeneration {
                logger.warning("Commit on revoke refused; retrying for the partitions assigned back", metadata: ["kafka.error": "\(error)"])
                retryCommits.withLock { pending in
                    for offset in offsets { pending[offset.topicPartition] = offset.offset }
                }
            } catch let error as KafkaError {
                logger.error("Commit on revoke failed", metadata: ["kafka.error": "\(error)"])
                buffer.append(.error(error))
            } catch {
                logger.error("Commit on revoke failed", metadata: ["kafka.error": "\(error)"])
            }
        }
        let list = RDKafkaTopicPartitionList(rebalance.partitions)
        if rebalance.isCooperative {
            if let error = list.withListPointer({ rd_kafka_incremental_unassign(handle, $0) }) {
                let failure = KafkaError.consuming(error)
                logger.error("Unassign failed", metadata: ["kafka.error": "\(failure)"])
                buffer.append(.error(failure))
            }
        } else {
            _ = rd_kafka_assign(handle, nil)
        }
        flow.withLock { state in
            let removed = rebalance.isCooperative ? Set(partitions) : state.assignment
            state.assignment.subtract(removed)
            state.applied.subtract(removed)
            state.paused.subtract(removed)
        }
        logger.info(
            "Partitions revoked",
            metadata: ["kafka.partitions": "\(partitions.sorted())", "kafka.lost": "\(rebalance.isLost)", "kafka.dropped": "\(dropped)"]
        )
        buffer.append(.partitionsRevoked(partitions, lost: rebalance.isLost))
    }

    /// The offsets of a refused revoke commit for `assigned`; forgets the others.
    private func takeRetryCommits(for assigned: Set<TopicPartition>) -> [TopicPartition: Int64] {
        let pending = retryCommits.withLock { pending in
            defer { pending.removeAll() }
            return pending
        }
        let moved = pending.keys.filter { !assigned.contains($0) }
        if !moved.isEmpty {
            logger.info(
                "Uncommitted revoke offsets dropped for partitions now owned elsewhere",
                metadata: ["kafka.partitions": "\(moved.sorted())"]
            )
        }
        return pending.filter { assigned.contains($0.key) }
    }

    private func commitAfterAssign(_ offsets: [TopicPartitionOffset], _ handle: OpaquePointer) {
        do {
            try Self.commit(offsets, handle)
            logger.debug("Committed the revoke offsets after re-assignment", metadata: ["kafka.offsets": "\(offsets)"])
        } catch let error as KafkaError {
            logger.error("Commit after re-assignment failed", metadata: ["kafka.error": "\(error)"])
            buffer.append(.error(error))
        } catch {
            logger.error("Commit after re-assignment failed", metadata: ["kafka.error": "\(error)"])
        }
    }
}
