#ifndef MEDIAD_RABBITMQ_SHIMS_H
#define MEDIAD_RABBITMQ_SHIMS_H

// What Swift cannot call in librabbitmq: the variadic amqp_login_with_properties(), whose
// SASL credentials follow as C varargs. Everything else is called directly from
// Sources/AMQP/Native.
#include <amqp.h>

/// amqp_login_with_properties() with the PLAIN mechanism: `username` and `password` are
/// the SASL PLAIN credentials. `client_properties` is merged into librabbitmq's defaults
/// (recursively for `capabilities`); NULL keeps the defaults.
///
/// Returns the handshake's reply: AMQP_RESPONSE_NORMAL, a library error
/// (AMQP_STATUS_* in `library_error`) or the broker's connection.close
/// (AMQP_RESPONSE_SERVER_EXCEPTION, e.g. ACCESS_REFUSED for bad credentials).
amqp_rpc_reply_t mediad_amqp_login_plain(amqp_connection_state_t state, const char *vhost,
                                         int channel_max, int frame_max, int heartbeat,
                                         const amqp_table_t *client_properties,
                                         const char *username, const char *password);

#endif
