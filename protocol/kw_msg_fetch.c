/* Fetch 4–12: reading parcels back off a shelf (kcat -C, and followers copying a leader).
 *
 * Fields by version (apache/kafka Fetch{Request,Response}.json; flexible from v12):
 *   request:  replica_id, max_wait_ms, min_bytes, v3+ max_bytes, v4+ isolation_level,
 *             v7+ session_id, session_epoch, topics [topic, partitions [partition,
 *             v9+ current_leader_epoch, fetch_offset, v12+ last_fetched_epoch,
 *             v5+ log_start_offset,
 *             partition_max_bytes]], v7+ forgotten_topics_data [topic, partitions []int32],
 *             v11+ rack_id
 *   response: v1+ throttle_time_ms, v7+ error_code, session_id, responses [topic,
 *             partitions [partition_index, error_code, high_watermark, v4+ last_stable_offset,
 *             v5+ log_start_offset, v4+ aborted_transactions (nullable) [producer_id,
 *             first_offset], v11+ preferred_read_replica, records (nullable)]]
 * v12 is the first flexible version. Its tagged fields (request: cluster_id; response
 * partitions: diverging_epoch, current_leader, snapshot_id) are skipped when read and not
 * written: a broker without KRaft followers or tiered storage has nothing to put there.
 */
#include "protocol/kw.h"
#include "protocol/kw_msg_util.h"

#include <assert.h>

#define FETCH_MIN 4
#define FETCH_MAX 12
#define FETCH_FLEX 12

void kw_fetch_req_encode(kw_wbuf *wb, int16_t version, const kw_fetch_req *m) {
    assert(version >= FETCH_MIN && version <= FETCH_MAX);
    bool flex = version >= FETCH_FLEX;
    kw_write_i32(wb, m->replica_id);
    kw_write_i32(wb, m->max_wait_ms);
    kw_write_i32(wb, m->min_bytes);
    kw_write_i32(wb, m->max_bytes);      /* v3+ */
    kw_write_i8(wb, m->isolation_level); /* v4+ */
    if (version >= 7) {
        kw_write_i32(wb, m->session_id);
        kw_write_i32(wb, m->session_epoch);
    }
    int32_t nt = kw_msg_count(m->n_topics);
    kw_msg_write_len(wb, flex, nt);
    for (int32_t i = 0; i < nt; i++) {
        const kw_fetch_req_topic *t = &m->topics[i];
        kw_msg_write_str(wb, flex, t->topic);
        int32_t np = kw_msg_count(t->n_partitions);
        kw_msg_write_len(wb, flex, np);
        for (int32_t j = 0; j < np; j++) {
            const kw_fetch_req_partition *p = &t->partitions[j];
            kw_write_i32(wb, p->partition);
            if (version >= 9)
                kw_write_i32(wb, p->current_leader_epoch);
            kw_write_i64(wb, p->fetch_offset);
            if (version >= 12)
                kw_write_i32(wb, p->last_fetched_epoch);
            if (version >= 5)
                kw_write_i64(wb, p->log_start_offset);
            kw_write_i32(wb, p->partition_max_bytes);
            kw_msg_write_tags(wb, flex);
        }
        kw_msg_write_tags(wb, flex);
    }
    if (version >= 7) {
        int32_t nf = kw_msg_count(m->n_forgotten);
        kw_msg_write_len(wb, flex, nf);
        for (int32_t i = 0; i < nf; i++) {
            kw_msg_write_str(wb, flex, m->forgotten[i].topic);
            kw_msg_write_i32_array(wb, flex, m->forgotten[i].n_partitions,
                                   m->forgotten[i].partitions);
            kw_msg_write_tags(wb, flex);
        }
    }
    if (version >= 11)
        kw_msg_write_str(wb, flex, m->rack_id);
    kw_msg_write_tags(wb, flex);
}

kw_err kw_fetch_req_decode(kw_rbuf *rb, int16_t version, kw_arena *a, kw_fetch_req *m) {
    *m = (kw_fetch_req){.max_bytes = INT32_MAX, .session_epoch = -1, .rack_id = kw_slice_str("")};
    if (rb->err)
        return rb->err;
    if (!kw_msg_version_ok(rb, "Fetch request", version, FETCH_MIN, FETCH_MAX))
        return rb->err;
    bool flex = version >= FETCH_FLEX;
    size_t tag = flex ? 1u : 0u;
    kw_path path;
    kw_path_init(&path, "Fetch");

    m->replica_id = kw_read_i32(rb, kw_path_leaf(&path, "replica_id"));
    m->max_wait_ms = kw_read_i32(rb, kw_path_leaf(&path, "max_wait_ms"));
    m->min_bytes = kw_read_i32(rb, kw_path_leaf(&path, "min_bytes"));
    m->max_bytes = kw_read_i32(rb, kw_path_leaf(&path, "max_bytes"));
    m->isolation_level = kw_read_i8(rb, kw_path_leaf(&path, "isolation_level"));
    if (version >= 7) {
        m->session_id = kw_read_i32(rb, kw_path_leaf(&path, "session_id"));
        m->session_epoch = kw_read_i32(rb, kw_path_leaf(&path, "session_epoch"));
    }
    m->topics = kw_msg_read_array(rb, a, flex, flex ? 1 + 1 + tag : 2 + 4, sizeof *m->topics,
                                  &path, "topics", &m->n_topics);
    /* partition, fetch_offset, partition_max_bytes (+ leader epoch, last fetched epoch,
     * log start offset, tags) */
    size_t pmin = 4 + 8 + 4 + (version >= 9 ? 4u : 0u) + (version >= 12 ? 4u : 0u) +
                  (version >= 5 ? 8u : 0u) + tag;
    for (int32_t i = 0; i < m->n_topics && !rb->err; i++) {
        kw_fetch_req_topic *t = &m->topics[i];
        size_t mark = kw_path_push(&path, "topics", i);
        t->topic = kw_msg_read_str(rb, flex, kw_path_leaf(&path, "topic"));
        t->partitions = kw_msg_read_array(rb, a, flex, pmin, sizeof *t->partitions, &path,
                                          "partitions", &t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions && !rb->err; j++) {
            kw_fetch_req_partition *p = &t->partitions[j];
            size_t mark2 = kw_path_push(&path, "partitions", j);
            p->partition = kw_read_i32(rb, kw_path_leaf(&path, "partition"));
            p->current_leader_epoch =
                version >= 9 ? kw_read_i32(rb, kw_path_leaf(&path, "current_leader_epoch")) : -1;
            p->fetch_offset = kw_read_i64(rb, kw_path_leaf(&path, "fetch_offset"));
            p->last_fetched_epoch =
                version >= 12 ? kw_read_i32(rb, kw_path_leaf(&path, "last_fetched_epoch")) : -1;
            p->log_start_offset =
                version >= 5 ? kw_read_i64(rb, kw_path_leaf(&path, "log_start_offset")) : -1;
            p->partition_max_bytes = kw_read_i32(rb, kw_path_leaf(&path, "partition_max_bytes"));
            kw_msg_read_tags(rb, flex, kw_path_leaf(&path, "_tagged_fields"));
            kw_path_pop(&path, mark2);
        }
        kw_msg_read_tags(rb, flex, kw_path_leaf(&path, "_tagged_fields"));
        kw_path_pop(&path, mark);
    }
    if (version >= 7) {
        m->forgotten = kw_msg_read_array(rb, a, flex, flex ? 1 + 1 + tag : 2 + 4,
                                         sizeof *m->forgotten, &path, "forgotten_topics_data",
                                         &m->n_forgotten);
        for (int32_t i = 0; i < m->n_forgotten && !rb->err; i++) {
            kw_fetch_forgotten_topic *f = &m->forgotten[i];
            size_t mark = kw_path_push(&path, "forgotten_topics_data", i);
            f->topic = kw_msg_read_str(rb, flex, kw_path_leaf(&path, "topic"));
            f->partitions =
                kw_msg_read_i32_array(rb, a, flex, &path, "partitions", &f->n_partitions);
            kw_msg_read_tags(rb, flex, kw_path_leaf(&path, "_tagged_fields"));
            kw_path_pop(&path, mark);
        }
    }
    if (version >= 11)
        m->rack_id = kw_msg_read_str(rb, flex, kw_path_leaf(&path, "rack_id"));
    kw_msg_read_tags(rb, flex, kw_path_leaf(&path, "_tagged_fields"));
    kw_read_expect_end(rb, "Fetch request");
    return rb->err;
}

void kw_fetch_resp_encode(kw_wbuf *wb, int16_t version, const kw_fetch_resp *m) {
    assert(version >= FETCH_MIN && version <= FETCH_MAX);
    bool flex = version >= FETCH_FLEX;
    kw_write_i32(wb, m->throttle_time_ms); /* v1+ */
    if (version >= 7) {
        kw_write_i16(wb, m->error_code);
        kw_write_i32(wb, m->session_id);
    }
    int32_t nt = kw_msg_count(m->n_topics);
    kw_msg_write_len(wb, flex, nt);
    for (int32_t i = 0; i < nt; i++) {
        const kw_fetch_resp_topic *t = &m->topics[i];
        kw_msg_write_str(wb, flex, t->topic);
        int32_t np = kw_msg_count(t->n_partitions);
        kw_msg_write_len(wb, flex, np);
        for (int32_t j = 0; j < np; j++) {
            const kw_fetch_resp_partition *p = &t->partitions[j];
            kw_write_i32(wb, p->partition_index);
            kw_write_i16(wb, p->error_code);
            kw_write_i64(wb, p->high_watermark);
            kw_write_i64(wb, p->last_stable_offset); /* v4+ */
            if (version >= 5)
                kw_write_i64(wb, p->log_start_offset);
            /* aborted_transactions (v4+) is nullable: a negative count is null */
            kw_msg_write_len(wb, flex, p->n_aborted < 0 ? -1 : p->n_aborted);
            for (int32_t k = 0; k < p->n_aborted; k++) {
                kw_write_i64(wb, p->aborted[k].producer_id);
                kw_write_i64(wb, p->aborted[k].first_offset);
                kw_msg_write_tags(wb, flex);
            }
            if (version >= 11)
                kw_write_i32(wb, p->preferred_read_replica);
            kw_msg_write_nbytes(wb, flex, p->records);
            kw_msg_write_tags(wb, flex);
        }
        kw_msg_write_tags(wb, flex);
    }
    kw_msg_write_tags(wb, flex);
}

static void read_resp_partition(kw_rbuf *rb, int16_t version, kw_arena *a, kw_path *path,
                                kw_fetch_resp_partition *p) {
    bool flex = version >= FETCH_FLEX;
    p->partition_index = kw_read_i32(rb, kw_path_leaf(path, "partition_index"));
    p->error_code = kw_read_i16(rb, kw_path_leaf(path, "error_code"));
    p->high_watermark = kw_read_i64(rb, kw_path_leaf(path, "high_watermark"));
    p->last_stable_offset = kw_read_i64(rb, kw_path_leaf(path, "last_stable_offset"));
    p->log_start_offset =
        version >= 5 ? kw_read_i64(rb, kw_path_leaf(path, "log_start_offset")) : -1;
    int32_t na = kw_msg_read_nlen(rb, flex, 8 + 8 + (flex ? 1u : 0u),
                                  kw_path_leaf(path, "aborted_transactions"));
    p->aborted =
        kw_msg_alloc(rb, a, na, sizeof *p->aborted, kw_path_leaf(path, "aborted_transactions"));
    p->n_aborted = rb->err ? 0 : na;
    for (int32_t k = 0; k < na && !rb->err; k++) {
        size_t mark = kw_path_push(path, "aborted_transactions", k);
        p->aborted[k].producer_id = kw_read_i64(rb, kw_path_leaf(path, "producer_id"));
        p->aborted[k].first_offset = kw_read_i64(rb, kw_path_leaf(path, "first_offset"));
        kw_msg_read_tags(rb, flex, kw_path_leaf(path, "_tagged_fields"));
        kw_path_pop(path, mark);
    }
    p->preferred_read_replica =
        version >= 11 ? kw_read_i32(rb, kw_path_leaf(path, "preferred_read_replica")) : -1;
    p->records = kw_msg_read_nbytes(rb, flex, kw_path_leaf(path, "records"));
    kw_msg_read_tags(rb, flex, kw_path_leaf(path, "_tagged_fields"));
}

kw_err kw_fetch_resp_decode(kw_rbuf *rb, int16_t version, kw_arena *a, kw_fetch_resp *m) {
    *m = (kw_fetch_resp){0};
    if (rb->err)
        return rb->err;
    if (!kw_msg_version_ok(rb, "Fetch response", version, FETCH_MIN, FETCH_MAX))
        return rb->err;
    bool flex = version >= FETCH_FLEX;
    size_t tag = flex ? 1u : 0u;
    kw_path path;
    kw_path_init(&path, "Fetch");

    m->throttle_time_ms = kw_read_i32(rb, kw_path_leaf(&path, "throttle_time_ms"));
    if (version >= 7) {
        m->error_code = kw_read_i16(rb, kw_path_leaf(&path, "error_code"));
        m->session_id = kw_read_i32(rb, kw_path_leaf(&path, "session_id"));
    }
    m->topics = kw_msg_read_array(rb, a, flex, flex ? 1 + 1 + tag : 2 + 4, sizeof *m->topics,
                                  &path, "responses", &m->n_topics);
    /* partition_index, error_code, high_watermark, last_stable_offset, aborted, records
     * (+ log_start_offset, preferred_read_replica, tags) */
    size_t pmin = 4 + 2 + 8 + 8 + (flex ? 1u + 1u : 4u + 4u) + (version >= 5 ? 8u : 0u) +
                  (version >= 11 ? 4u : 0u) + tag;
    for (int32_t i = 0; i < m->n_topics && !rb->err; i++) {
        kw_fetch_resp_topic *t = &m->topics[i];
        size_t mark = kw_path_push(&path, "responses", i);
        t->topic = kw_msg_read_str(rb, flex, kw_path_leaf(&path, "topic"));
        t->partitions = kw_msg_read_array(rb, a, flex, pmin, sizeof *t->partitions, &path,
                                          "partitions", &t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions && !rb->err; j++) {
            size_t mark2 = kw_path_push(&path, "partitions", j);
            read_resp_partition(rb, version, a, &path, &t->partitions[j]);
            kw_path_pop(&path, mark2);
        }
        kw_msg_read_tags(rb, flex, kw_path_leaf(&path, "_tagged_fields"));
        kw_path_pop(&path, mark);
    }
    kw_msg_read_tags(rb, flex, kw_path_leaf(&path, "_tagged_fields"));
    kw_read_expect_end(rb, "Fetch response");
    return rb->err;
}
