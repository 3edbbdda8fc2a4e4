#include "rdkafka_shims.h"

rd_kafka_resp_err_t mediad_rdk_produce(rd_kafka_t *rk, const char *topic, int32_t partition,
                                       const void *key, size_t key_length,
                                       const void *value, size_t value_length,
                                       rd_kafka_headers_t *headers, void *opaque) {
    rd_kafka_resp_err_t err;
    if (headers != NULL) {
        err = rd_kafka_producev(rk,
                                RD_KAFKA_V_TOPIC(topic),
                                RD_KAFKA_V_PARTITION(partition),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_KEY(key, key_length),
                                RD_KAFKA_V_VALUE((void *)value, value_length),
                                RD_KAFKA_V_HEADERS(headers),
                                RD_KAFKA_V_OPAQUE(opaque),
                                RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_headers_destroy(headers);
        }
    } else {
        err = rd_kafka_producev(rk,
                                RD_KAFKA_V_TOPIC(topic),
                                RD_KAFKA_V_PARTITION(partition),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_KEY(key, key_length),
                                RD_KAFKA_V_VALUE((void *)value, value_length),
                                RD_KAFKA_V_OPAQUE(opaque),
                                RD_KAFKA_V_END);
    }
    return err;
}
