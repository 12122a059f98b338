/*
 * corr_op.h: turning a correlation entry into the struct op sinks read, and
 * the pooled strings an entry keeps for that.
 *
 * An entry keeps the names that repeat across thousands of operations
 * (exchange, routing key, topic, server, method, namespace, version, reply
 * queue) as ONE pooled string, its "shape", and each leg's connection
 * identity as another; both are read back here when the op is built.
 */
#ifndef OSLOTRACE_DISSECT_CORR_OP_H
#define OSLOTRACE_DISSECT_CORR_OP_H

#include "common/strpool.h"
#include "dissect/amqp_message.h"
#include "dissect/corr_table.h"
#include "dissect/op.h"
#include "dissect/rpc_msg.h"

/* The request's shape as one pooled string; NULL when the pool is full. */
struct strpool_str *corr_op_shape(struct strpool *sp, const struct rpc_msg *r);
/* The connection keys interned last, a slot per flow id (hashed: ids are
 * not spread evenly), each holding a reference: an operation on a connection
 * seen before takes one more reference to its key instead of hashing the
 * ~130 bytes again (checked byte for byte, since the client's address and
 * name can still change). Zeroed to start; corr_conn_memo_free() drops the
 * references (64 strings at most, well inside the pool's headroom). */
#define CORR_CONN_MEMO_BITS 6
#define CORR_CONN_MEMO (1u << CORR_CONN_MEMO_BITS)
struct corr_conn_memo {
    struct strpool_str *key[CORR_CONN_MEMO];
};
void corr_conn_memo_free(struct strpool *sp, struct corr_conn_memo *memo);

/* A connection's identity (id, client address, connection name), pooled; NULL when full or !ci. */
struct strpool_str *corr_op_conn(struct strpool *sp, struct corr_conn_memo *memo,
                                 const struct amqp_conn_info *ci);

/* Room for the ids an op shows as text while it is handed out. */
struct corr_op_text {
    char msg[CORR_ID_TEXT], uid[CORR_ID_TEXT], req[CORR_ID_TEXT], greq[CORR_ID_TEXT],
        mid[CORR_ID_TEXT];
};

/* Fills *out from e as it stands (nothing changes in e but the order of its
 * packets); out's strings point into e, the pool and *t. */
void corr_op_build(struct corr_entry *e, enum op_status status, struct op *out,
                   struct corr_op_text *t);

#endif
