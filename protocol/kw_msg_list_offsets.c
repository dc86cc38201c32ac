/* ListOffsets 1–7: "what is the first / last parcel number on this shelf?" — how a consumer
 * (kcat -C -o beginning) finds where to start reading.
 *
 * Fields by version (apache/kafka ListOffsets{Request,Response}.json; flexible from v6):
 *   request:  replica_id, v2+ isolation_level, topics [name, partitions [partition_index,
 *             v4+ current_leader_epoch, timestamp]]   (v0's max_num_offsets is gone from v1)
 *   response: v2+ throttle_time_ms, topics [name, partitions [partition_index, error_code,
 *             timestamp, offset, v4+ leader_epoch]]  (v1+ single offset, no old-style array)
 * v6 is the first flexible version (compact forms, tagged fields after every struct); v7 is v6
 * plus the timestamp -3, "the offset of the largest timestamp" (KIP-734).
 */
#include "protocol/kw.h"
#include "protocol/kw_msg_util.h"

#include <assert.h>

#define LIST_OFFSETS_MIN 1
#define LIST_OFFSETS_MAX 7
#define LIST_OFFSETS_FLEX 6

void kw_list_offsets_req_encode(kw_wbuf *wb, int16_t version, const kw_list_offsets_req *m) {
    assert(version >= LIST_OFFSETS_MIN && version <= LIST_OFFSETS_MAX);
    bool flex = version >= LIST_OFFSETS_FLEX;
    kw_write_i32(wb, m->replica_id);
    if (version >= 2)
        kw_write_i8(wb, m->isolation_level);
    int32_t nt = kw_msg_count(m->n_topics);
    kw_msg_write_len(wb, flex, nt);
    for (int32_t i = 0; i < nt; i++) {
        const kw_list_offsets_req_topic *t = &m->topics[i];
        kw_msg_write_str(wb, flex, t->name);
        int32_t np = kw_msg_count(t->n_partitions);
        kw_msg_write_len(wb, flex, np);
        for (int32_t j = 0; j < np; j++) {
            const kw_list_offsets_req_partition *p = &t->partitions[j];
            kw_write_i32(wb, p->partition_index);
            if (version >= 4)
                kw_write_i32(wb, p->current_leader_epoch);
            kw_write_i64(wb, p->timestamp);
            kw_msg_write_tags(wb, flex);
        }
        kw_msg_write_tags(wb, flex);
    }
    kw_msg_write_tags(wb, flex);
}

kw_err kw_list_offsets_req_decode(kw_rbuf *rb, int16_t version, kw_arena *a,
                                  kw_list_offsets_req *m) {
    *m = (kw_list_offsets_req){0};
    if (rb->err)
        return rb->err;
    if (!kw_msg_version_ok(rb, "ListOffsets request", version, LIST_OFFSETS_MIN, LIST_OFFSETS_MAX))
        return rb->err;
    bool flex = version >= LIST_OFFSETS_FLEX;
    size_t tag = flex ? 1u : 0u;
    kw_path path;
    kw_path_init(&path, "ListOffsets");

    m->replica_id = kw_read_i32(rb, kw_path_leaf(&path, "replica_id"));
    if (version >= 2)
        m->isolation_level = kw_read_i8(rb, kw_path_leaf(&path, "isolation_level"));
    m->topics = kw_msg_read_array(rb, a, flex, flex ? 1 + 1 + tag : 2 + 4, sizeof *m->topics,
                                  &path, "topics", &m->n_topics);
    size_t pmin = 4 + 8 + (version >= 4 ? 4u : 0u) + tag;
    for (int32_t i = 0; i < m->n_topics && !rb->err; i++) {
        kw_list_offsets_req_topic *t = &m->topics[i];
        size_t mark = kw_path_push(&path, "topics", i);
        t->name = kw_msg_read_str(rb, flex, kw_path_leaf(&path, "name"));
        t->partitions = kw_msg_read_array(rb, a, flex, pmin, sizeof *t->partitions, &path,
                                          "partitions", &t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions && !rb->err; j++) {
            kw_list_offsets_req_partition *p = &t->partitions[j];
            size_t mark2 = kw_path_push(&path, "partitions", j);
            p->partition_index = kw_read_i32(rb, kw_path_leaf(&path, "partition_index"));
            p->current_leader_epoch =
                version >= 4 ? kw_read_i32(rb, kw_path_leaf(&path, "current_leader_epoch")) : -1;
            p->timestamp = kw_read_i64(rb, kw_path_leaf(&path, "timestamp"));
            kw_msg_read_tags(rb, flex, kw_path_leaf(&path, "_tagged_fields"));
            kw_path_pop(&path, mark2);
        }
        kw_msg_read_tags(rb, flex, kw_path_leaf(&path, "_tagged_fields"));
        kw_path_pop(&path, mark);
    }
    kw_msg_read_tags(rb, flex, kw_path_leaf(&path, "_tagged_fields"));
    kw_read_expect_end(rb, "ListOffsets request");
    return rb->err;
}

void kw_list_offsets_resp_encode(kw_wbuf *wb, int16_t version, const kw_list_offsets_resp *m) {
    assert(version >= LIST_OFFSETS_MIN && version <= LIST_OFFSETS_MAX);
    bool flex = version >= LIST_OFFSETS_FLEX;
    if (version >= 2)
        kw_write_i32(wb, m->throttle_time_ms);
    int32_t nt = kw_msg_count(m->n_topics);
    kw_msg_write_len(wb, flex, nt);
    for (int32_t i = 0; i < nt; i++) {
        const kw_list_offsets_resp_topic *t = &m->topics[i];
        kw_msg_write_str(wb, flex, t->name);
        int32_t np = kw_msg_count(t->n_partitions);
        kw_msg_write_len(wb, flex, np);
        for (int32_t j = 0; j < np; j++) {
            const kw_list_offsets_resp_partition *p = &t->partitions[j];
            kw_write_i32(wb, p->partition_index);
            kw_write_i16(wb, p->error_code);
            kw_write_i64(wb, p->timestamp);
            kw_write_i64(wb, p->offset);
            if (version >= 4)
                kw_write_i32(wb, p->leader_epoch);
            kw_msg_write_tags(wb, flex);
        }
        kw_msg_write_tags(wb, flex);
    }
    kw_msg_write_tags(wb, flex);
}

kw_err kw_list_offsets_resp_decode(kw_rbuf *rb, int16_t version, kw_arena *a,
                                   kw_list_offsets_resp *m) {
    *m = (kw_list_offsets_resp){0};
    if (rb->err)
        return rb->err;
    if (!kw_msg_version_ok(rb, "ListOffsets response", version, LIST_OFFSETS_MIN, LIST_OFFSETS_MAX))
        return rb->err;
    bool flex = version >= LIST_OFFSETS_FLEX;
    size_t tag = flex ? 1u : 0u;
    kw_path path;
    kw_path_init(&path, "ListOffsets");

    if (version >= 2)
        m->throttle_time_ms = kw_read_i32(rb, kw_path_leaf(&path, "throttle_time_ms"));
    m->topics = kw_msg_read_array(rb, a, flex, flex ? 1 + 1 + tag : 2 + 4, sizeof *m->topics,
                                  &path, "topics", &m->n_topics);
    size_t pmin = 4 + 2 + 8 + 8 + (version >= 4 ? 4u : 0u) + tag;
    for (int32_t i = 0; i < m->n_topics && !rb->err; i++) {
        kw_list_offsets_resp_topic *t = &m->topics[i];
        size_t mark = kw_path_push(&path, "topics", i);
        t->name = kw_msg_read_str(rb, flex, kw_path_leaf(&path, "name"));
        t->partitions = kw_msg_read_array(rb, a, flex, pmin, sizeof *t->partitions, &path,
                                          "partitions", &t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions && !rb->err; j++) {
            kw_list_offsets_resp_partition *p = &t->partitions[j];
            size_t mark2 = kw_path_push(&path, "partitions", j);
            p->partition_index = kw_read_i32(rb, kw_path_leaf(&path, "partition_index"));
            p->error_code = kw_read_i16(rb, kw_path_leaf(&path, "error_code"));
            p->timestamp = kw_read_i64(rb, kw_path_leaf(&path, "timestamp"));
            p->offset = kw_read_i64(rb, kw_path_leaf(&path, "offset"));
            p->leader_epoch =
                version >= 4 ? kw_read_i32(rb, kw_path_leaf(&path, "leader_epoch")) : -1;
            kw_msg_read_tags(rb, flex, kw_path_leaf(&path, "_tagged_fields"));
            kw_path_pop(&path, mark2);
        }
        kw_msg_read_tags(rb, flex, kw_path_leaf(&path, "_tagged_fields"));
        kw_path_pop(&path, mark);
    }
    kw_msg_read_tags(rb, flex, kw_path_leaf(&path, "_tagged_fields"));
    kw_read_expect_end(rb, "ListOffsets response");
    return rb->err;
}
