/* Metadata 0–12: the route map — which depot leads which partition.
 *
 * Fields by version (apache/kafka Metadata{Request,Response}.json; flexible from v9):
 *   request:  topics [v10+ topic_id, name (v10+ nullable)] (v0: non-nullable, empty = all;
 *             v1+: nullable, null = all), v4+ allow_auto_topic_creation,
 *             v8–10 include_cluster_authorized_operations, v8+ include_topic_authorized_operations
 *   response: v3+ throttle_time_ms; brokers [node_id, host, port, v1+ rack (nullable)];
 *             v2+ cluster_id (nullable); v1+ controller_id; topics [error_code,
 *             name (v12+ nullable), v10+ topic_id, v1+ is_internal, partitions [error_code,
 *             partition_index, leader_id, v7+ leader_epoch, replica_nodes, isr_nodes,
 *             v5+ offline_replicas], v8+ topic_authorized_operations];
 *             v8–10 cluster_authorized_operations
 * v11 drops the cluster authorized operations (KIP-700, DescribeCluster has them); v12 lets a
 * topic be asked for by id alone. In flexible versions every struct ends with tagged fields.
 */
#include "protocol/kw.h"
#include "protocol/kw_msg_util.h"

#include <assert.h>
#include <string.h>

#define METADATA_MIN 0
#define METADATA_MAX 12
#define METADATA_FLEX 9

static bool has_cluster_ops(int16_t version) {
    return version >= 8 && version <= 10;
}

void kw_metadata_req_encode(kw_wbuf *wb, int16_t version, const kw_metadata_req *m) {
    assert(version >= METADATA_MIN && version <= METADATA_MAX);
    bool flex = version >= METADATA_FLEX;
    int32_t n = m->n_topics;
    if (n < 0 && version == 0)
        n = 0; /* v0 has no null array: an empty one means "all topics" */
    kw_msg_write_len(wb, flex, n < 0 ? -1 : n);
    for (int32_t i = 0; i < n; i++) {
        if (version >= 10) {
            static const kw_uuid zero;
            const kw_uuid *id = m->topic_ids ? &m->topic_ids[i] : &zero;
            kw_wbuf_append(wb, id->b, sizeof id->b);
            kw_msg_write_nstr(wb, flex, m->topics[i]);
        } else {
            kw_msg_write_str(wb, flex, m->topics[i]);
        }
        kw_msg_write_tags(wb, flex);
    }
    if (version >= 4)
        kw_write_bool(wb, m->allow_auto_topic_creation);
    if (has_cluster_ops(version))
        kw_write_bool(wb, m->include_cluster_authorized_operations);
    if (version >= 8)
        kw_write_bool(wb, m->include_topic_authorized_operations);
    kw_msg_write_tags(wb, flex);
}

kw_err kw_metadata_req_decode(kw_rbuf *rb, int16_t version, kw_arena *a, kw_metadata_req *m) {
    *m = (kw_metadata_req){.allow_auto_topic_creation = true};
    if (rb->err)
        return rb->err;
    if (!kw_msg_version_ok(rb, "Metadata request", version, METADATA_MIN, METADATA_MAX))
        return rb->err;
    bool flex = version >= METADATA_FLEX;
    kw_path path;
    kw_path_init(&path, "Metadata");

    /* name (+ topic id, tags) */
    size_t min = (flex ? 1u : 2u) + (version >= 10 ? 16u : 0u) + (flex ? 1u : 0u);
    int32_t n;
    if (version == 0)
        n = kw_msg_read_count(rb, false, min, kw_path_leaf(&path, "topics"));
    else
        n = kw_msg_read_nlen(rb, flex, min, kw_path_leaf(&path, "topics"));
    m->topics = kw_msg_alloc(rb, a, n, sizeof *m->topics, kw_path_leaf(&path, "topics"));
    if (version >= 10)
        m->topic_ids = kw_msg_alloc(rb, a, n, sizeof *m->topic_ids, kw_path_leaf(&path, "topics"));
    m->n_topics = rb->err ? 0 : n;
    for (int32_t i = 0; i < m->n_topics && !rb->err; i++) {
        size_t mark = kw_path_push(&path, "topics", i);
        if (version >= 10) {
            kw_slice id = kw_read_raw(rb, 16, kw_path_leaf(&path, "topic_id"));
            if (!rb->err)
                memcpy(m->topic_ids[i].b, id.p, 16);
            m->topics[i] = kw_msg_read_nstr(rb, flex, kw_path_leaf(&path, "name"));
        } else {
            m->topics[i] = kw_msg_read_str(rb, flex, kw_path_leaf(&path, "name"));
        }
        kw_msg_read_tags(rb, flex, kw_path_leaf(&path, "_tagged_fields"));
        kw_path_pop(&path, mark);
    }
    if (rb->err)
        m->n_topics = 0;
    if (version >= 4)
        m->allow_auto_topic_creation =
            kw_read_bool(rb, kw_path_leaf(&path, "allow_auto_topic_creation"));
    if (has_cluster_ops(version))
        m->include_cluster_authorized_operations =
            kw_read_bool(rb, kw_path_leaf(&path, "include_cluster_authorized_operations"));
    if (version >= 8)
        m->include_topic_authorized_operations =
            kw_read_bool(rb, kw_path_leaf(&path, "include_topic_authorized_operations"));
    kw_msg_read_tags(rb, flex, kw_path_leaf(&path, "_tagged_fields"));
    kw_read_expect_end(rb, "Metadata request");
    return rb->err;
}

void kw_metadata_resp_encode(kw_wbuf *wb, int16_t version, const kw_metadata_resp *m) {
    assert(version >= METADATA_MIN && version <= METADATA_MAX);
    bool flex = version >= METADATA_FLEX;
    if (version >= 3)
        kw_write_i32(wb, m->throttle_time_ms);
    int32_t nb = kw_msg_count(m->n_brokers);
    kw_msg_write_len(wb, flex, nb);
    for (int32_t i = 0; i < nb; i++) {
        const kw_metadata_broker *b = &m->brokers[i];
        kw_write_i32(wb, b->node_id);
        kw_msg_write_str(wb, flex, b->host);
        kw_write_i32(wb, b->port);
        if (version >= 1)
            kw_msg_write_nstr(wb, flex, b->rack);
        kw_msg_write_tags(wb, flex);
    }
    if (version >= 2)
        kw_msg_write_nstr(wb, flex, m->cluster_id);
    if (version >= 1)
        kw_write_i32(wb, m->controller_id);
    int32_t nt = kw_msg_count(m->n_topics);
    kw_msg_write_len(wb, flex, nt);
    for (int32_t i = 0; i < nt; i++) {
        const kw_metadata_topic *t = &m->topics[i];
        kw_write_i16(wb, t->error_code);
        if (version >= 12)
            kw_msg_write_nstr(wb, flex, t->name);
        else
            kw_msg_write_str(wb, flex, t->name);
        if (version >= 10)
            kw_wbuf_append(wb, t->topic_id.b, sizeof t->topic_id.b);
        if (version >= 1)
            kw_write_bool(wb, t->is_internal);
        int32_t np = kw_msg_count(t->n_partitions);
        kw_msg_write_len(wb, flex, np);
        for (int32_t j = 0; j < np; j++) {
            const kw_metadata_partition *p = &t->partitions[j];
            kw_write_i16(wb, p->error_code);
            kw_write_i32(wb, p->partition_index);
            kw_write_i32(wb, p->leader_id);
            if (version >= 7)
                kw_write_i32(wb, p->leader_epoch);
            kw_msg_write_i32_array(wb, flex, p->n_replicas, p->replica_nodes);
            kw_msg_write_i32_array(wb, flex, p->n_isr, p->isr_nodes);
            if (version >= 5)
                kw_msg_write_i32_array(wb, flex, p->n_offline, p->offline_replicas);
            kw_msg_write_tags(wb, flex);
        }
        if (version >= 8)
            kw_write_i32(wb, t->topic_authorized_operations);
        kw_msg_write_tags(wb, flex);
    }
    if (has_cluster_ops(version))
        kw_write_i32(wb, m->cluster_authorized_operations);
    kw_msg_write_tags(wb, flex);
}

/* One partition of a topic; the path already names the topic. */
static void read_partition(kw_rbuf *rb, int16_t version, kw_arena *a, kw_path *path,
                           kw_metadata_partition *p) {
    bool flex = version >= METADATA_FLEX;
    p->error_code = kw_read_i16(rb, kw_path_leaf(path, "error_code"));
    p->partition_index = kw_read_i32(rb, kw_path_leaf(path, "partition_index"));
    p->leader_id = kw_read_i32(rb, kw_path_leaf(path, "leader_id"));
    p->leader_epoch = version >= 7 ? kw_read_i32(rb, kw_path_leaf(path, "leader_epoch")) : -1;
    p->replica_nodes = kw_msg_read_i32_array(rb, a, flex, path, "replica_nodes", &p->n_replicas);
    p->isr_nodes = kw_msg_read_i32_array(rb, a, flex, path, "isr_nodes", &p->n_isr);
    if (version >= 5)
        p->offline_replicas =
            kw_msg_read_i32_array(rb, a, flex, path, "offline_replicas", &p->n_offline);
    kw_msg_read_tags(rb, flex, kw_path_leaf(path, "_tagged_fields"));
}

static void read_topic(kw_rbuf *rb, int16_t version, kw_arena *a, kw_path *path,
                       kw_metadata_topic *t) {
    bool flex = version >= METADATA_FLEX;
    t->error_code = kw_read_i16(rb, kw_path_leaf(path, "error_code"));
    if (version >= 12)
        t->name = kw_msg_read_nstr(rb, flex, kw_path_leaf(path, "name"));
    else
        t->name = kw_msg_read_str(rb, flex, kw_path_leaf(path, "name"));
    if (version >= 10) {
        kw_slice id = kw_read_raw(rb, 16, kw_path_leaf(path, "topic_id"));
        if (!rb->err)
            memcpy(t->topic_id.b, id.p, 16);
    }
    if (version >= 1)
        t->is_internal = kw_read_bool(rb, kw_path_leaf(path, "is_internal"));
    /* error_code, partition_index, leader_id, replica_nodes, isr_nodes (+ epoch, offline,
     * tags) */
    size_t arr = flex ? 1u : 4u;
    size_t min = 2 + 4 + 4 + 2 * arr + (version >= 7 ? 4u : 0u) + (version >= 5 ? arr : 0u) +
                 (flex ? 1u : 0u);
    t->partitions = kw_msg_read_array(rb, a, flex, min, sizeof *t->partitions, path, "partitions",
                                      &t->n_partitions);
    for (int32_t j = 0; j < t->n_partitions && !rb->err; j++) {
        size_t mark = kw_path_push(path, "partitions", j);
        read_partition(rb, version, a, path, &t->partitions[j]);
        kw_path_pop(path, mark);
    }
    t->topic_authorized_operations =
        version >= 8 ? kw_read_i32(rb, kw_path_leaf(path, "topic_authorized_operations"))
                     : INT32_MIN;
    kw_msg_read_tags(rb, flex, kw_path_leaf(path, "_tagged_fields"));
}

kw_err kw_metadata_resp_decode(kw_rbuf *rb, int16_t version, kw_arena *a, kw_metadata_resp *m) {
    *m = (kw_metadata_resp){.cluster_id = KW_SLICE_NULL,
                            .controller_id = -1,
                            .cluster_authorized_operations = INT32_MIN};
    if (rb->err)
        return rb->err;
    if (!kw_msg_version_ok(rb, "Metadata response", version, METADATA_MIN, METADATA_MAX))
        return rb->err;
    bool flex = version >= METADATA_FLEX;
    kw_path path;
    kw_path_init(&path, "Metadata");

    if (version >= 3)
        m->throttle_time_ms = kw_read_i32(rb, kw_path_leaf(&path, "throttle_time_ms"));

    /* node_id, host, port (+ rack, tags) */
    size_t bmin = flex ? 4 + 1 + 4 + 1 + 1 : 4 + 2 + 4 + (version >= 1 ? 2u : 0u);
    m->brokers = kw_msg_read_array(rb, a, flex, bmin, sizeof *m->brokers, &path, "brokers",
                                   &m->n_brokers);
    for (int32_t i = 0; i < m->n_brokers && !rb->err; i++) {
        kw_metadata_broker *b = &m->brokers[i];
        size_t mark = kw_path_push(&path, "brokers", i);
        b->node_id = kw_read_i32(rb, kw_path_leaf(&path, "node_id"));
        b->host = kw_msg_read_str(rb, flex, kw_path_leaf(&path, "host"));
        b->port = kw_read_i32(rb, kw_path_leaf(&path, "port"));
        b->rack =
            version >= 1 ? kw_msg_read_nstr(rb, flex, kw_path_leaf(&path, "rack")) : KW_SLICE_NULL;
        kw_msg_read_tags(rb, flex, kw_path_leaf(&path, "_tagged_fields"));
        kw_path_pop(&path, mark);
    }
    if (version >= 2)
        m->cluster_id = kw_msg_read_nstr(rb, flex, kw_path_leaf(&path, "cluster_id"));
    if (version >= 1)
        m->controller_id = kw_read_i32(rb, kw_path_leaf(&path, "controller_id"));

    /* error_code, name, partitions (+ topic id, is_internal, authorized operations, tags) */
    size_t tmin = flex ? 2 + 1 + 1 + 1 : 2 + 2 + 4;
    tmin += (version >= 10 ? 16u : 0u) + (version >= 1 ? 1u : 0u) + (version >= 8 ? 4u : 0u);
    m->topics =
        kw_msg_read_array(rb, a, flex, tmin, sizeof *m->topics, &path, "topics", &m->n_topics);
    for (int32_t i = 0; i < m->n_topics && !rb->err; i++) {
        size_t mark = kw_path_push(&path, "topics", i);
        read_topic(rb, version, a, &path, &m->topics[i]);
        kw_path_pop(&path, mark);
    }
    if (has_cluster_ops(version))
        m->cluster_authorized_operations =
            kw_read_i32(rb, kw_path_leaf(&path, "cluster_authorized_operations"));
    kw_msg_read_tags(rb, flex, kw_path_leaf(&path, "_tagged_fields"));
    kw_read_expect_end(rb, "Metadata response");
    return rb->err;
}
