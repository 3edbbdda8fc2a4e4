#ifndef MEDIAD_RDKAFKA_SHIMS_H
#define MEDIAD_RDKAFKA_SHIMS_H

// What Swift cannot call in librdkafka: the variadic rd_kafka_producev() and its
// RD_KAFKA_V_*() macros. Everything else is called directly from Sources/Kafka/RDKafka.
#include <stddef.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>

/// Enqueues one message for `topic` through rd_kafka_producev(), copying key and value
/// (RD_KAFKA_MSG_F_COPY), so the caller's buffers may be freed as soon as this returns.
///
/// - `partition`: a partition number, or -1 (RD_KAFKA_PARTITION_UA) to let the
///   configured partitioner choose from the key.
/// - `key`/`value`: NULL with length 0 sends a null key/value (a tombstone for values).
/// - `headers`: NULL, or a list made by rd_kafka_headers_new(). It is consumed in every
///   case: librdkafka owns it on success, and this function destroys it on failure
///   (rd_kafka_producev leaves it to the caller then).
/// - `opaque`: the per-message opaque handed back as `rkmessage->_private` in the
///   delivery report callback.
///
/// Returns RD_KAFKA_RESP_ERR_NO_ERROR, or why the message was not enqueued
/// (e.g. RD_KAFKA_RESP_ERR__QUEUE_FULL, RD_KAFKA_RESP_ERR__FATAL).
rd_kafka_resp_err_t mediad_rdk_produce(rd_kafka_t *rk, const char *topic, int32_t partition,
                                       const void *key, size_t key_length,
                                       const void *value, size_t value_length,
                                       rd_kafka_headers_t *headers, void *opaque);

#endif
