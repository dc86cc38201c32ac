/* The "consumer" protocol's member metadata and assignment (kw_groups.h has the contract).
 *
 * The bytes a reading club's members fill in themselves: JoinGroup and SyncGroup carry them as
 * opaque bytes, and only the members read them. Layouts from apache/kafka's
 * clients/src/main/resources/common/message/ConsumerProtocolSubscription.json (version 0:
 * Topics []string, UserData nullable bytes; v1+ OwnedPartitions, v2+ GenerationId, v3+ RackId)
 * and ConsumerProtocolAssignment.json (AssignedPartitions [Topic, Partitions []int32],
 * UserData nullable bytes); neither is flexible. A version-0 reader of a newer version stops
 * after the fields it knows, as ConsumerProtocol.deserializeSubscription does.
 */
#include "protocol/kw_wire.h"

#include <string.h>

void kw_consumer_subscription_encode(kw_wbuf *wb, const kw_consumer_subscription *s) {
    kw_write_i16(wb, 0);
    kw_write_array_len(wb, s->n_topics);
    for (int32_t i = 0; i < s->n_topics; i++)
        kw_write_string(wb, s->topics[i]);
    kw_write_nullable_bytes(wb, s->user_data);
}

void kw_consumer_assignment_encode(kw_wbuf *wb, const kw_consumer_assignment *a) {
    kw_write_i16(wb, 0);
    kw_write_array_len(wb, a->n_topics);
    for (int32_t i = 0; i < a->n_topics; i++) {
        const kw_consumer_topic_partitions *t = &a->topics[i];
        kw_write_string(wb, t->topic);
        kw_write_array_len(wb, t->n_partitions);
        for (int32_t k = 0; k < t->n_partitions; k++)
            kw_write_i32(wb, t->partitions[k]);
    }
    kw_write_nullable_bytes(wb, a->user_data);
}

static int16_t read_version(kw_rbuf *rb) {
    int16_t v = kw_read_i16(rb, "version");
    if (!rb->err && v < 0)
        kw_rbuf_fail(rb, KW_ERR__MALFORMED, "version: %d is negative", (int)v);
    return v;
}

kw_err kw_consumer_subscription_decode(kw_rbuf *rb, kw_arena *a, kw_consumer_subscription *s) {
    memset(s, 0, sizeof *s);
    s->user_data = KW_SLICE_NULL;
    s->version = read_version(rb);
    int32_t n = kw_read_array_len(rb, 2, "topics");
    if (n > 0 && !rb->err) {
        s->topics = kw_arena_alloc(a, (size_t)n * sizeof *s->topics);
        if (!s->topics)
            return kw_rbuf_fail(rb, KW_ERR__NO_MEMORY, "topics: out of memory");
    }
    for (int32_t i = 0; i < n && !rb->err; i++)
        s->topics[i] = kw_read_string(rb, "topic");
    s->n_topics = rb->err || n < 0 ? 0 : n;
    /* Version 0 always has user data; a short version-0 writer that stopped after the topics
     * is forgiven as librdkafka forgives it. */
    if (!rb->err && kw_rbuf_remaining(rb) >= 4)
        s->user_data = kw_read_nullable_bytes(rb, "user_data");
    return rb->err;
}

kw_err kw_consumer_assignment_decode(kw_rbuf *rb, kw_arena *a, kw_consumer_assignment *out) {
    memset(out, 0, sizeof *out);
    out->user_data = KW_SLICE_NULL;
    if (kw_rbuf_remaining(rb) == 0)
        return KW_ERR_NONE; /* left out of the assignment */
    out->version = read_version(rb);
    int32_t n = kw_read_array_len(rb, 6, "assigned_partitions");
    if (n > 0 && !rb->err) {
        out->topics = kw_arena_alloc(a, (size_t)n * sizeof *out->topics);
        if (!out->topics)
            return kw_rbuf_fail(rb, KW_ERR__NO_MEMORY, "assigned_partitions: out of memory");
    }
    for (int32_t i = 0; i < n && !rb->err; i++) {
        kw_consumer_topic_partitions *t = &out->topics[i];
        memset(t, 0, sizeof *t);
        t->topic = kw_read_string(rb, "topic");
        int32_t np = kw_read_array_len(rb, 4, "partitions");
        if (np > 0 && !rb->err) {
            t->partitions = kw_arena_alloc(a, (size_t)np * sizeof *t->partitions);
            if (!t->partitions)
                return kw_rbuf_fail(rb, KW_ERR__NO_MEMORY, "partitions: out of memory");
        }
        for (int32_t k = 0; k < np && !rb->err; k++)
            t->partitions[k] = kw_read_i32(rb, "partition");
        t->n_partitions = rb->err || np < 0 ? 0 : np;
        out->n_topics = i + 1;
    }
    if (!rb->err && kw_rbuf_remaining(rb) >= 4)
        out->user_data = kw_read_nullable_bytes(rb, "user_data");
    return rb->err;
}
