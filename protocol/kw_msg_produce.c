/* Produce 0–11: the truck's manifest — which parcels (record batches) go to which partition,
 * and the depot's receipt.
 *
 * Fields by version (apache/kafka Produce{Request,Response}.json; flexible from v9):
 *   request:  v3+ transactional_id (nullable), acks, timeout_ms,
 *             topic_data [name, partition_data [index, records (nullable bytes)]]
 *   response: responses [name, partition_responses [index, error_code, base_offset,
 *             v2+ log_append_time_ms, v5+ log_start_offset, v8+ record_errors [batch_index,
 *             batch_index_error_message (nullable)], v8+ error_message (nullable),
 *             v10+ tagged 0: current_leader [leader_id, leader_epoch]]],
 *             v1+ throttle_time_ms, v10+ tagged 0: node_endpoints [node_id, host, port,
 *             rack (nullable)]
 * v9 is the first flexible version; v10 adds the KIP-951 leader hints; v11 only allows a new
 * error code (TRANSACTION_ABORTABLE, KIP-890). Versions 0–2 (message formats 0 and 1) are
 * decoded and encoded only so a broker can answer them UNSUPPORTED_VERSION, as Kafka 4.x does.
 * The records are carried as opaque bytes here; kw_batch_parse() reads them.
 */
#include "protocol/kw.h"
#include "protocol/kw_msg_util.h"

#include <assert.h>

#define PRODUCE_MIN 0
#define PRODUCE_MAX 11
#define PRODUCE_FLEX 9
#define PRODUCE_LEADER_HINTS 10

void kw_produce_req_encode(kw_wbuf *wb, int16_t version, const kw_produce_req *m) {
    assert(version >= PRODUCE_MIN && version <= PRODUCE_MAX);
    bool flex = version >= PRODUCE_FLEX;
    if (version >= 3)
        kw_msg_write_nstr(wb, flex, m->transactional_id);
    kw_write_i16(wb, m->acks);
    kw_write_i32(wb, m->timeout_ms);
    int32_t nt = kw_msg_count(m->n_topics);
    kw_msg_write_len(wb, flex, nt);
    for (int32_t i = 0; i < nt; i++) {
        const kw_produce_req_topic *t = &m->topics[i];
        kw_msg_write_str(wb, flex, t->name);
        int32_t np = kw_msg_count(t->n_partitions);
        kw_msg_write_len(wb, flex, np);
        for (int32_t j = 0; j < np; j++) {
            kw_write_i32(wb, t->partitions[j].index);
            kw_msg_write_nbytes(wb, flex, t->partitions[j].records);
            kw_msg_write_tags(wb, flex);
        }
        kw_msg_write_tags(wb, flex);
    }
    kw_msg_write_tags(wb, flex);
}

kw_err kw_produce_req_acks(kw_rbuf *rb, int16_t version, int16_t *acks) {
    *acks = 0;
    if (rb->err)
        return rb->err;
    bool flex = version >= PRODUCE_FLEX;
    if (version >= 3)
        kw_msg_read_nstr(rb, flex, "Produce.transactional_id");
    *acks = kw_read_i16(rb, "Produce.acks");
    return rb->err;
}

kw_err kw_produce_req_decode(kw_rbuf *rb, int16_t version, kw_arena *a, kw_produce_req *m) {
    *m = (kw_produce_req){.transactional_id = KW_SLICE_NULL};
    if (rb->err)
        return rb->err;
    if (!kw_msg_version_ok(rb, "Produce request", version, PRODUCE_MIN, PRODUCE_MAX))
        return rb->err;
    bool flex = version >= PRODUCE_FLEX;
    size_t tag = flex ? 1u : 0u; /* bytes an empty tagged-field section takes */
    kw_path path;
    kw_path_init(&path, "Produce");

    if (version >= 3)
        m->transactional_id =
            kw_msg_read_nstr(rb, flex, kw_path_leaf(&path, "transactional_id"));
    m->acks = kw_read_i16(rb, kw_path_leaf(&path, "acks"));
    m->timeout_ms = kw_read_i32(rb, kw_path_leaf(&path, "timeout_ms"));
    /* name, partition_data (+ tags); compact forms take at least one byte each */
    size_t tmin = flex ? 1 + 1 + tag : 2 + 4;
    m->topics = kw_msg_read_array(rb, a, flex, tmin, sizeof *m->topics, &path, "topic_data",
                                  &m->n_topics);
    size_t pmin = flex ? 4 + 1 + tag : 4 + 4;
    for (int32_t i = 0; i < m->n_topics && !rb->err; i++) {
        kw_produce_req_topic *t = &m->topics[i];
        size_t mark = kw_path_push(&path, "topic_data", i);
        t->name = kw_msg_read_str(rb, flex, kw_path_leaf(&path, "name"));
        t->partitions = kw_msg_read_array(rb, a, flex, pmin, sizeof *t->partitions, &path,
                                          "partition_data", &t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions && !rb->err; j++) {
            size_t mark2 = kw_path_push(&path, "partition_data", j);
            t->partitions[j].index = kw_read_i32(rb, kw_path_leaf(&path, "index"));
            t->partitions[j].records =
                kw_msg_read_nbytes(rb, flex, kw_path_leaf(&path, "records"));
            kw_msg_read_tags(rb, flex, kw_path_leaf(&path, "_tagged_fields"));
            kw_path_pop(&path, mark2);
        }
        kw_msg_read_tags(rb, flex, kw_path_leaf(&path, "_tagged_fields"));
        kw_path_pop(&path, mark);
    }
    kw_msg_read_tags(rb, flex, kw_path_leaf(&path, "_tagged_fields"));
    kw_read_expect_end(rb, "Produce request");
    return rb->err;
}

/* The CurrentLeader struct (leader_id, leader_epoch, its own empty tags) as tagged field 0. */
static void write_current_leader(kw_wbuf *wb, const kw_produce_resp_partition *p) {
    kw_write_uvarint(wb, 1); /* one tagged field */
    kw_write_uvarint(wb, 0); /* tag 0 */
    kw_write_uvarint(wb, 4 + 4 + 1);
    kw_write_i32(wb, p->current_leader_id);
    kw_write_i32(wb, p->current_leader_epoch);
    kw_write_empty_tagged_fields(wb);
}

/* NodeEndpoints as the response's tagged field 0 (the section's count is written here too). */
static void write_node_endpoints(kw_wbuf *wb, const kw_produce_resp *m) {
    kw_wbuf v;
    kw_wbuf_init(&v);
    kw_write_compact_array_len(&v, m->n_node_endpoints);
    for (int32_t i = 0; i < m->n_node_endpoints; i++) {
        const kw_metadata_broker *e = &m->node_endpoints[i];
        kw_write_i32(&v, e->node_id);
        kw_msg_write_str(&v, true, e->host);
        kw_write_i32(&v, e->port);
        kw_write_compact_string(&v, e->rack);
        kw_write_empty_tagged_fields(&v);
    }
    kw_write_uvarint(wb, 1);
    kw_msg_write_tag(wb, 0, &v);
    kw_wbuf_free(&v);
}

void kw_produce_resp_encode(kw_wbuf *wb, int16_t version, const kw_produce_resp *m) {
    assert(version >= PRODUCE_MIN && version <= PRODUCE_MAX);
    bool flex = version >= PRODUCE_FLEX;
    bool hints = version >= PRODUCE_LEADER_HINTS;
    int32_t nt = kw_msg_count(m->n_topics);
    kw_msg_write_len(wb, flex, nt);
    for (int32_t i = 0; i < nt; i++) {
        const kw_produce_resp_topic *t = &m->topics[i];
        kw_msg_write_str(wb, flex, t->name);
        int32_t np = kw_msg_count(t->n_partitions);
        kw_msg_write_len(wb, flex, np);
        for (int32_t j = 0; j < np; j++) {
            const kw_produce_resp_partition *p = &t->partitions[j];
            kw_write_i32(wb, p->index);
            kw_write_i16(wb, p->error_code);
            kw_write_i64(wb, p->base_offset);
            if (version >= 2)
                kw_write_i64(wb, p->log_append_time_ms);
            if (version >= 5)
                kw_write_i64(wb, p->log_start_offset);
            if (version >= 8) {
                int32_t ne = kw_msg_count(p->n_record_errors);
                kw_msg_write_len(wb, flex, ne);
                for (int32_t k = 0; k < ne; k++) {
                    kw_write_i32(wb, p->record_errors[k].batch_index);
                    kw_msg_write_nstr(wb, flex, p->record_errors[k].message);
                    kw_msg_write_tags(wb, flex);
                }
                kw_msg_write_nstr(wb, flex, p->error_message);
            }
            if (hints && p->has_current_leader)
                write_current_leader(wb, p);
            else
                kw_msg_write_tags(wb, flex);
        }
        kw_msg_write_tags(wb, flex);
    }
    if (version >= 1)
        kw_write_i32(wb, m->throttle_time_ms);
    if (hints && m->n_node_endpoints > 0)
        write_node_endpoints(wb, m);
    else
        kw_msg_write_tags(wb, flex);
}

static bool read_partition_tag(kw_rbuf *sub, uint32_t tag, void *arg) {
    kw_produce_resp_partition *p = arg;
    if (tag != 0)
        return false;
    p->has_current_leader = true;
    p->current_leader_id = kw_read_i32(sub, "Produce.current_leader.leader_id");
    p->current_leader_epoch = kw_read_i32(sub, "Produce.current_leader.leader_epoch");
    kw_read_tagged_fields(sub, "Produce.current_leader._tagged_fields");
    return true;
}

typedef struct resp_tag_ctx {
    kw_produce_resp *m;
    kw_arena *a;
} resp_tag_ctx;

static bool read_resp_tag(kw_rbuf *sub, uint32_t tag, void *arg) {
    resp_tag_ctx *ctx = arg;
    kw_produce_resp *m = ctx->m;
    if (tag != 0)
        return false;
    kw_path path;
    kw_path_init(&path, "Produce");
    /* node_id, host, port, rack, tags */
    m->node_endpoints = kw_msg_read_array(sub, ctx->a, true, 4 + 1 + 4 + 1 + 1,
                                          sizeof *m->node_endpoints, &path, "node_endpoints",
                                          &m->n_node_endpoints);
    for (int32_t i = 0; i < m->n_node_endpoints && !sub->err; i++) {
        kw_metadata_broker *e = &m->node_endpoints[i];
        size_t mark = kw_path_push(&path, "node_endpoints", i);
        e->node_id = kw_read_i32(sub, kw_path_leaf(&path, "node_id"));
        e->host = kw_msg_read_str(sub, true, kw_path_leaf(&path, "host"));
        e->port = kw_read_i32(sub, kw_path_leaf(&path, "port"));
        e->rack = kw_read_compact_string(sub, kw_path_leaf(&path, "rack"));
        kw_read_tagged_fields(sub, kw_path_leaf(&path, "_tagged_fields"));
        kw_path_pop(&path, mark);
    }
    if (sub->err)
        m->n_node_endpoints = 0;
    return true;
}

static void read_resp_partition(kw_rbuf *rb, int16_t version, kw_arena *a, kw_path *path,
                                kw_produce_resp_partition *p) {
    bool flex = version >= PRODUCE_FLEX;
    p->index = kw_read_i32(rb, kw_path_leaf(path, "index"));
    p->error_code = kw_read_i16(rb, kw_path_leaf(path, "error_code"));
    p->base_offset = kw_read_i64(rb, kw_path_leaf(path, "base_offset"));
    p->log_append_time_ms =
        version >= 2 ? kw_read_i64(rb, kw_path_leaf(path, "log_append_time_ms")) : -1;
    p->log_start_offset =
        version >= 5 ? kw_read_i64(rb, kw_path_leaf(path, "log_start_offset")) : -1;
    p->error_message = KW_SLICE_NULL;
    p->current_leader_id = -1;
    p->current_leader_epoch = -1;
    if (version >= 8) {
        p->record_errors = kw_msg_read_array(rb, a, flex, flex ? 4 + 1 + 1 : 4 + 2,
                                             sizeof *p->record_errors, path, "record_errors",
                                             &p->n_record_errors);
        for (int32_t k = 0; k < p->n_record_errors && !rb->err; k++) {
            size_t mark = kw_path_push(path, "record_errors", k);
            p->record_errors[k].batch_index = kw_read_i32(rb, kw_path_leaf(path, "batch_index"));
            p->record_errors[k].message =
                kw_msg_read_nstr(rb, flex, kw_path_leaf(path, "batch_index_error_message"));
            kw_msg_read_tags(rb, flex, kw_path_leaf(path, "_tagged_fields"));
            kw_path_pop(path, mark);
        }
        p->error_message = kw_msg_read_nstr(rb, flex, kw_path_leaf(path, "error_message"));
    }
    if (version >= PRODUCE_LEADER_HINTS)
        kw_msg_read_tags_with(rb, kw_path_leaf(path, "_tagged_fields"), read_partition_tag, p);
    else
        kw_msg_read_tags(rb, flex, kw_path_leaf(path, "_tagged_fields"));
}

kw_err kw_produce_resp_decode(kw_rbuf *rb, int16_t version, kw_arena *a, kw_produce_resp *m) {
    *m = (kw_produce_resp){0};
    if (rb->err)
        return rb->err;
    if (!kw_msg_version_ok(rb, "Produce response", version, PRODUCE_MIN, PRODUCE_MAX))
        return rb->err;
    bool flex = version >= PRODUCE_FLEX;
    size_t tag = flex ? 1u : 0u;
    kw_path path;
    kw_path_init(&path, "Produce");

    m->topics = kw_msg_read_array(rb, a, flex, flex ? 1 + 1 + tag : 2 + 4, sizeof *m->topics,
                                  &path, "responses", &m->n_topics);
    /* index, error_code, base_offset (+ log_append_time, log_start_offset, v8 extras, tags) */
    size_t pmin = 4 + 2 + 8 + (version >= 2 ? 8u : 0u) + (version >= 5 ? 8u : 0u) +
                  (version >= 8 ? (flex ? 2u : 6u) : 0u) + tag;
    for (int32_t i = 0; i < m->n_topics && !rb->err; i++) {
        kw_produce_resp_topic *t = &m->topics[i];
        size_t mark = kw_path_push(&path, "responses", i);
        t->name = kw_msg_read_str(rb, flex, kw_path_leaf(&path, "name"));
        t->partitions = kw_msg_read_array(rb, a, flex, pmin, sizeof *t->partitions, &path,
                                          "partition_responses", &t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions && !rb->err; j++) {
            size_t mark2 = kw_path_push(&path, "partition_responses", j);
            read_resp_partition(rb, version, a, &path, &t->partitions[j]);
            kw_path_pop(&path, mark2);
        }
        kw_msg_read_tags(rb, flex, kw_path_leaf(&path, "_tagged_fields"));
        kw_path_pop(&path, mark);
    }
    if (version >= 1)
        m->throttle_time_ms = kw_read_i32(rb, kw_path_leaf(&path, "throttle_time_ms"));
    if (version >= PRODUCE_LEADER_HINTS) {
        resp_tag_ctx ctx = {m, a};
        kw_msg_read_tags_with(rb, kw_path_leaf(&path, "_tagged_fields"), read_resp_tag, &ctx);
    } else {
        kw_msg_read_tags(rb, flex, kw_path_leaf(&path, "_tagged_fields"));
    }
    kw_read_expect_end(rb, "Produce response");
    if (rb->err)
        m->n_node_endpoints = 0;
    return rb->err;
}
