/* Produce 3–8: the truck's manifest — which parcels (record batches) go to which partition,
 * and the depot's receipt.
 *
 * Fields by version (apache/kafka Produce{Request,Response}.json; flexible only from v9):
 *   request:  v3+ transactional_id (nullable), acks, timeout_ms,
 *             topic_data [name, partition_data [index, records (nullable bytes)]]
 *   response: responses [name, partition_responses [index, error_code, base_offset,
 *             v2+ log_append_time_ms, v5+ log_start_offset, v8+ record_errors [batch_index,
 *             batch_index_error_message (nullable)], v8+ error_message (nullable)]],
 *             v1+ throttle_time_ms (last)
 * The records are carried as opaque bytes here; kw_batch_parse() reads them.
 */
#include "protocol/kw.h"
#include "protocol/kw_msg_util.h"

#include <assert.h>

#define PRODUCE_MIN 3
#define PRODUCE_MAX 8

void kw_produce_req_encode(kw_wbuf *wb, int16_t version, const kw_produce_req *m) {
    assert(version >= PRODUCE_MIN && version <= PRODUCE_MAX);
    (void)version; /* versions 3-8 share one request layout */
    kw_write_nullable_string(wb, m->transactional_id);
    kw_write_i16(wb, m->acks);
    kw_write_i32(wb, m->timeout_ms);
    int32_t nt = kw_msg_count(m->n_topics);
    kw_write_array_len(wb, nt);
    for (int32_t i = 0; i < nt; i++) {
        const kw_produce_req_topic *t = &m->topics[i];
        kw_write_string(wb, t->name);
        int32_t np = kw_msg_count(t->n_partitions);
        kw_write_array_len(wb, np);
        for (int32_t j = 0; j < np; j++) {
            kw_write_i32(wb, t->partitions[j].index);
            kw_write_nullable_bytes(wb, t->partitions[j].records);
        }
    }
}

kw_err kw_produce_req_decode(kw_rbuf *rb, int16_t version, kw_arena *a, kw_produce_req *m) {
    *m = (kw_produce_req){.transactional_id = KW_SLICE_NULL};
    if (rb->err)
        return rb->err;
    if (!kw_msg_version_ok(rb, "Produce request", version, PRODUCE_MIN, PRODUCE_MAX))
        return rb->err;
    kw_path path;
    kw_path_init(&path, "Produce");

    m->transactional_id = kw_read_nullable_string(rb, kw_path_leaf(&path, "transactional_id"));
    m->acks = kw_read_i16(rb, kw_path_leaf(&path, "acks"));
    m->timeout_ms = kw_read_i32(rb, kw_path_leaf(&path, "timeout_ms"));
    m->topics = kw_msg_read_array(rb, a, false, 2 + 4, sizeof *m->topics, &path, "topic_data",
                                  &m->n_topics);
    for (int32_t i = 0; i < m->n_topics && !rb->err; i++) {
        kw_produce_req_topic *t = &m->topics[i];
        size_t mark = kw_path_push(&path, "topic_data", i);
        t->name = kw_read_string(rb, kw_path_leaf(&path, "name"));
        t->partitions = kw_msg_read_array(rb, a, false, 4 + 4, sizeof *t->partitions, &path,
                                          "partition_data", &t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions && !rb->err; j++) {
            size_t mark2 = kw_path_push(&path, "partition_data", j);
            t->partitions[j].index = kw_read_i32(rb, kw_path_leaf(&path, "index"));
            t->partitions[j].records = kw_read_nullable_bytes(rb, kw_path_leaf(&path, "records"));
            kw_path_pop(&path, mark2);
        }
        kw_path_pop(&path, mark);
    }
    kw_read_expect_end(rb, "Produce request");
    return rb->err;
}

void kw_produce_resp_encode(kw_wbuf *wb, int16_t version, const kw_produce_resp *m) {
    assert(version >= PRODUCE_MIN && version <= PRODUCE_MAX);
    int32_t nt = kw_msg_count(m->n_topics);
    kw_write_array_len(wb, nt);
    for (int32_t i = 0; i < nt; i++) {
        const kw_produce_resp_topic *t = &m->topics[i];
        kw_write_string(wb, t->name);
        int32_t np = kw_msg_count(t->n_partitions);
        kw_write_array_len(wb, np);
        for (int32_t j = 0; j < np; j++) {
            const kw_produce_resp_partition *p = &t->partitions[j];
            kw_write_i32(wb, p->index);
            kw_write_i16(wb, p->error_code);
            kw_write_i64(wb, p->base_offset);
            kw_write_i64(wb, p->log_append_time_ms); /* v2+: every version we speak */
            if (version >= 5)
                kw_write_i64(wb, p->log_start_offset);
            if (version >= 8) {
                int32_t ne = kw_msg_count(p->n_record_errors);
                kw_write_array_len(wb, ne);
                for (int32_t k = 0; k < ne; k++) {
                    kw_write_i32(wb, p->record_errors[k].batch_index);
                    kw_write_nullable_string(wb, p->record_errors[k].message);
                }
                kw_write_nullable_string(wb, p->error_message);
            }
        }
    }
    kw_write_i32(wb, m->throttle_time_ms); /* v1+: every version we speak */
}

static void read_resp_partition(kw_rbuf *rb, int16_t version, kw_arena *a, kw_path *path,
                                kw_produce_resp_partition *p) {
    p->index = kw_read_i32(rb, kw_path_leaf(path, "index"));
    p->error_code = kw_read_i16(rb, kw_path_leaf(path, "error_code"));
    p->base_offset = kw_read_i64(rb, kw_path_leaf(path, "base_offset"));
    p->log_append_time_ms = kw_read_i64(rb, kw_path_leaf(path, "log_append_time_ms"));
    p->log_start_offset =
        version >= 5 ? kw_read_i64(rb, kw_path_leaf(path, "log_start_offset")) : -1;
    p->error_message = KW_SLICE_NULL;
    if (version < 8)
        return;
    p->record_errors = kw_msg_read_array(rb, a, false, 4 + 2, sizeof *p->record_errors, path,
                                         "record_errors", &p->n_record_errors);
    for (int32_t k = 0; k < p->n_record_errors && !rb->err; k++) {
        size_t mark = kw_path_push(path, "record_errors", k);
        p->record_errors[k].batch_index = kw_read_i32(rb, kw_path_leaf(path, "batch_index"));
        p->record_errors[k].message =
            kw_read_nullable_string(rb, kw_path_leaf(path, "batch_index_error_message"));
        kw_path_pop(path, mark);
    }
    p->error_message = kw_read_nullable_string(rb, kw_path_leaf(path, "error_message"));
}

kw_err kw_produce_resp_decode(kw_rbuf *rb, int16_t version, kw_arena *a, kw_produce_resp *m) {
    *m = (kw_produce_resp){0};
    if (rb->err)
        return rb->err;
    if (!kw_msg_version_ok(rb, "Produce response", version, PRODUCE_MIN, PRODUCE_MAX))
        return rb->err;
    kw_path path;
    kw_path_init(&path, "Produce");

    m->topics =
        kw_msg_read_array(rb, a, false, 2 + 4, sizeof *m->topics, &path, "responses", &m->n_topics);
    /* index, error_code, base_offset, log_append_time (+ log_start_offset, v8 extras) */
    size_t pmin = 4 + 2 + 8 + 8 + (version >= 5 ? 8u : 0u) + (version >= 8 ? 6u : 0u);
    for (int32_t i = 0; i < m->n_topics && !rb->err; i++) {
        kw_produce_resp_topic *t = &m->topics[i];
        size_t mark = kw_path_push(&path, "responses", i);
        t->name = kw_read_string(rb, kw_path_leaf(&path, "name"));
        t->partitions = kw_msg_read_array(rb, a, false, pmin, sizeof *t->partitions, &path,
                                          "partition_responses", &t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions && !rb->err; j++) {
            size_t mark2 = kw_path_push(&path, "partition_responses", j);
            read_resp_partition(rb, version, a, &path, &t->partitions[j]);
            kw_path_pop(&path, mark2);
        }
        kw_path_pop(&path, mark);
    }
    m->throttle_time_ms = kw_read_i32(rb, kw_path_leaf(&path, "throttle_time_ms"));
    kw_read_expect_end(rb, "Produce response");
    return rb->err;
}
