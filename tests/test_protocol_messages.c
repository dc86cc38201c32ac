/* Message codec tests: every request and response of every API we speak, at every supported
 * version, round-trips byte-for-byte with its field values preserved; every truncation fails
 * cleanly; trailing bytes and unsupported versions are rejected; a few hand-computed byte
 * layouts pin the version boundaries independently of the encoder. */
#include "protocol/kw.h"
#include "protocol/kw_wire.h" /* the field primitives under test */
#include "tests/test_protocol_util.h"
#include "tests/tu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* A table of codecs so every test walks every API, direction and version the same way.        */

typedef struct codec {
    const char *name; /* also the root of field paths in error messages */
    const char *dir;
    int16_t min, max;
    void (*enc)(kw_wbuf *wb, int16_t v, const any_msg *m);
    kw_err (*dec)(kw_rbuf *rb, int16_t v, kw_arena *a, any_msg *m);
    void (*fill)(any_msg *m);
    void (*check)(int16_t v, const any_msg *want, const any_msg *got);
} codec;

#define WRAP(fn, field)                                                                            \
    static void enc_##fn(kw_wbuf *wb, int16_t v, const any_msg *m) {                               \
        kw_##fn##_encode(wb, v, &m->field);                                                        \
    }                                                                                              \
    static kw_err dec_##fn(kw_rbuf *rb, int16_t v, kw_arena *a, any_msg *m) {                      \
        return kw_##fn##_decode(rb, v, a, &m->field);                                              \
    }

WRAP(api_versions_req, avq)
WRAP(api_versions_resp, avr)
WRAP(metadata_req, mdq)
WRAP(metadata_resp, mdr)
WRAP(produce_req, prq)
WRAP(produce_resp, prr)
WRAP(init_pid_req, ipq)
WRAP(init_pid_resp, ipr)
WRAP(list_offsets_req, loq)
WRAP(list_offsets_resp, lor)
WRAP(fetch_req, ftq)
WRAP(fetch_resp, ftr)

static bool slice_same(kw_slice a, kw_slice b) {
    if (a.len < 0 || b.len < 0)
        return a.len < 0 && b.len < 0;
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, (size_t)a.len) == 0);
}

#define CHECK_SLICE(a, b) CU_ASSERT(slice_same((a), (b)))
static const kw_slice EMPTY = {(const uint8_t *)"", 0};

/* ---- ApiVersions ---- */

static void fill_api_versions_req(any_msg *m) {
    m->avq = (kw_api_versions_req){kw_slice_str("courier"), kw_slice_str("0.1.0-test")};
}
static void check_api_versions_req(int16_t v, const any_msg *w, const any_msg *g) {
    CHECK_SLICE(g->avq.client_software_name, v >= 3 ? w->avq.client_software_name : EMPTY);
    CHECK_SLICE(g->avq.client_software_version, v >= 3 ? w->avq.client_software_version : EMPTY);
}

static kw_api_range av_keys[] = {{0, 3, 8}, {1, 4, 11}, {3, 0, 8}, {18, 0, 3}, {22, 0, 1}};
static void fill_api_versions_resp(any_msg *m) {
    m->avr = (kw_api_versions_resp){
        .error_code = 35, .n_api_keys = 5, .api_keys = av_keys, .throttle_time_ms = 1234};
}
static void check_api_versions_resp(int16_t v, const any_msg *w, const any_msg *g) {
    CU_ASSERT_EQUAL(g->avr.error_code, w->avr.error_code);
    CU_ASSERT_EQUAL_FATAL(g->avr.n_api_keys, w->avr.n_api_keys);
    for (int i = 0; i < g->avr.n_api_keys; i++) {
        CU_ASSERT_EQUAL(g->avr.api_keys[i].api_key, w->avr.api_keys[i].api_key);
        CU_ASSERT_EQUAL(g->avr.api_keys[i].min_version, w->avr.api_keys[i].min_version);
        CU_ASSERT_EQUAL(g->avr.api_keys[i].max_version, w->avr.api_keys[i].max_version);
    }
    CU_ASSERT_EQUAL(g->avr.throttle_time_ms, v >= 1 ? w->avr.throttle_time_ms : 0);
}

/* ---- Metadata ---- */

static kw_slice md_topics[3];
static kw_uuid md_ids[3] = {{{0}}, {{0xa1, 0xb2, 0xc3, 0xd4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0xff}},
                            {{0}}};
static void fill_metadata_req(any_msg *m) {
    md_topics[0] = kw_slice_str("orders");
    md_topics[1] = kw_slice_str("payments");
    md_topics[2] = kw_slice_str("");
    m->mdq = (kw_metadata_req){.n_topics = 3,
                               .topics = md_topics,
                               .topic_ids = md_ids,
                               .allow_auto_topic_creation = false,
                               .include_cluster_authorized_operations = true,
                               .include_topic_authorized_operations = true};
}
static void check_metadata_req(int16_t v, const any_msg *w, const any_msg *g) {
    CU_ASSERT_EQUAL_FATAL(g->mdq.n_topics, w->mdq.n_topics);
    for (int i = 0; i < g->mdq.n_topics; i++) {
        CHECK_SLICE(g->mdq.topics[i], w->mdq.topics[i]);
        if (v >= 10) {
            CU_ASSERT(memcmp(&g->mdq.topic_ids[i], &w->mdq.topic_ids[i], 16) == 0);
        } else {
            CU_ASSERT(g->mdq.topic_ids == NULL);
        }
    }
    CU_ASSERT_EQUAL(g->mdq.allow_auto_topic_creation,
                    v >= 4 ? w->mdq.allow_auto_topic_creation : true);
    CU_ASSERT_EQUAL(g->mdq.include_cluster_authorized_operations,
                    v >= 8 && v <= 10 ? w->mdq.include_cluster_authorized_operations : false);
    CU_ASSERT_EQUAL(g->mdq.include_topic_authorized_operations,
                    v >= 8 ? w->mdq.include_topic_authorized_operations : false);
}

static kw_metadata_broker md_brokers[2];
static int32_t md_rep[3] = {1, 2, 3}, md_isr[2] = {2, 1}, md_off[1] = {3};
static kw_metadata_partition md_parts[2];
static kw_metadata_partition md_parts1[1];
static kw_metadata_topic md_tops[3];
static void fill_metadata_resp(any_msg *m) {
    md_brokers[0] = (kw_metadata_broker){1, kw_slice_str("127.0.0.1"), 39001, KW_SLICE_NULL};
    md_brokers[1] = (kw_metadata_broker){2, kw_slice_str("localhost"), 39002, kw_slice_str("r2")};
    md_parts[0] = (kw_metadata_partition){0, 0, 1, 7, 3, md_rep, 2, md_isr, 1, md_off};
    md_parts[1] = (kw_metadata_partition){9, 1, -1, 4, 3, md_rep, 0, NULL, 0, NULL};
    md_parts1[0] = (kw_metadata_partition){0, 0, 2, 11, 2, md_rep, 2, md_isr, 0, NULL};
    md_tops[0] = (kw_metadata_topic){0, kw_slice_str("orders"), false, 2, md_parts, 0x0f, md_ids[1]};
    md_tops[1] = (kw_metadata_topic){
        0, kw_slice_str("__consumer_offsets"), true, 1, md_parts1, 0x1f, md_ids[0]};
    md_tops[2] =
        (kw_metadata_topic){3, kw_slice_str("missing"), false, 0, NULL, INT32_MIN, md_ids[2]};
    m->mdr = (kw_metadata_resp){.throttle_time_ms = 77,
                                .n_brokers = 2,
                                .brokers = md_brokers,
                                .cluster_id = kw_slice_str("courier-cluster"),
                                .controller_id = 2,
                                .n_topics = 3,
                                .topics = md_tops,
                                .cluster_authorized_operations = 0x7ff};
}
static void check_i32_array(int32_t gn, const int32_t *g, int32_t wn, const int32_t *w) {
    CU_ASSERT_EQUAL_FATAL(gn, wn);
    for (int i = 0; i < gn; i++)
        CU_ASSERT_EQUAL(g[i], w[i]);
}
static void check_metadata_resp(int16_t v, const any_msg *w, const any_msg *g) {
    const kw_metadata_resp *a = &w->mdr, *b = &g->mdr;
    CU_ASSERT_EQUAL(b->throttle_time_ms, v >= 3 ? a->throttle_time_ms : 0);
    CU_ASSERT_EQUAL_FATAL(b->n_brokers, a->n_brokers);
    for (int i = 0; i < b->n_brokers; i++) {
        CU_ASSERT_EQUAL(b->brokers[i].node_id, a->brokers[i].node_id);
        CHECK_SLICE(b->brokers[i].host, a->brokers[i].host);
        CU_ASSERT_EQUAL(b->brokers[i].port, a->brokers[i].port);
        CHECK_SLICE(b->brokers[i].rack, v >= 1 ? a->brokers[i].rack : KW_SLICE_NULL);
    }
    CHECK_SLICE(b->cluster_id, v >= 2 ? a->cluster_id : KW_SLICE_NULL);
    CU_ASSERT_EQUAL(b->controller_id, v >= 1 ? a->controller_id : -1);
    CU_ASSERT_EQUAL_FATAL(b->n_topics, a->n_topics);
    for (int i = 0; i < b->n_topics; i++) {
        const kw_metadata_topic *ta = &a->topics[i], *tb = &b->topics[i];
        CU_ASSERT_EQUAL(tb->error_code, ta->error_code);
        CHECK_SLICE(tb->name, ta->name);
        static const kw_uuid zero;
        CU_ASSERT(memcmp(&tb->topic_id, v >= 10 ? &ta->topic_id : &zero, 16) == 0);
        CU_ASSERT_EQUAL(tb->is_internal, v >= 1 ? ta->is_internal : false);
        CU_ASSERT_EQUAL(tb->topic_authorized_operations,
                        v >= 8 ? ta->topic_authorized_operations : INT32_MIN);
        CU_ASSERT_EQUAL_FATAL(tb->n_partitions, ta->n_partitions);
        for (int j = 0; j < tb->n_partitions; j++) {
            const kw_metadata_partition *pa = &ta->partitions[j], *pb = &tb->partitions[j];
            CU_ASSERT_EQUAL(pb->error_code, pa->error_code);
            CU_ASSERT_EQUAL(pb->partition_index, pa->partition_index);
            CU_ASSERT_EQUAL(pb->leader_id, pa->leader_id);
            CU_ASSERT_EQUAL(pb->leader_epoch, v >= 7 ? pa->leader_epoch : -1);
            check_i32_array(pb->n_replicas, pb->replica_nodes, pa->n_replicas, pa->replica_nodes);
            check_i32_array(pb->n_isr, pb->isr_nodes, pa->n_isr, pa->isr_nodes);
            if (v >= 5)
                check_i32_array(pb->n_offline, pb->offline_replicas, pa->n_offline,
                                pa->offline_replicas);
            else
                CU_ASSERT_EQUAL(pb->n_offline, 0);
        }
    }
    CU_ASSERT_EQUAL(b->cluster_authorized_operations,
                    v >= 8 && v <= 10 ? a->cluster_authorized_operations : INT32_MIN);
}

/* ---- Produce ---- */

static kw_produce_req_partition pr_parts[3];
static kw_produce_req_topic pr_tops[2];
static void fill_produce_req(any_msg *m) {
    pr_parts[0] = (kw_produce_req_partition){0, {(const uint8_t *)"\x00\x01opaque-batch", 14}};
    pr_parts[1] = (kw_produce_req_partition){5, KW_SLICE_NULL};
    pr_parts[2] = (kw_produce_req_partition){2, EMPTY};
    pr_tops[0] = (kw_produce_req_topic){kw_slice_str("orders"), 2, pr_parts};
    pr_tops[1] = (kw_produce_req_topic){kw_slice_str("audit"), 1, pr_parts + 2};
    m->prq = (kw_produce_req){kw_slice_str("txn-1"), -1, 30000, 2, pr_tops};
}
static void check_produce_req(int16_t v, const any_msg *w, const any_msg *g) {
    CHECK_SLICE(g->prq.transactional_id, v >= 3 ? w->prq.transactional_id : KW_SLICE_NULL);
    CU_ASSERT_EQUAL(g->prq.acks, w->prq.acks);
    CU_ASSERT_EQUAL(g->prq.timeout_ms, w->prq.timeout_ms);
    CU_ASSERT_EQUAL_FATAL(g->prq.n_topics, w->prq.n_topics);
    for (int i = 0; i < g->prq.n_topics; i++) {
        CHECK_SLICE(g->prq.topics[i].name, w->prq.topics[i].name);
        CU_ASSERT_EQUAL_FATAL(g->prq.topics[i].n_partitions, w->prq.topics[i].n_partitions);
        for (int j = 0; j < g->prq.topics[i].n_partitions; j++) {
            CU_ASSERT_EQUAL(g->prq.topics[i].partitions[j].index,
                            w->prq.topics[i].partitions[j].index);
            CHECK_SLICE(g->prq.topics[i].partitions[j].records,
                        w->prq.topics[i].partitions[j].records);
        }
    }
}

static kw_produce_record_error pr_errs[2];
static kw_produce_resp_partition prr_parts[3];
static kw_metadata_broker pr_endpoints[2];
static kw_produce_resp_topic prr_tops[1];
static void fill_produce_resp(any_msg *m) {
    pr_errs[0] = (kw_produce_record_error){3, kw_slice_str("bad key")};
    pr_errs[1] = (kw_produce_record_error){4, KW_SLICE_NULL};
    prr_parts[0] = (kw_produce_resp_partition){
        0, 0, 1000, 1700000000000LL, 12, 0, NULL, KW_SLICE_NULL, false, -1, -1};
    prr_parts[1] = (kw_produce_resp_partition){
        1, 87, -1, -1, 5, 2, pr_errs, kw_slice_str("invalid record"), false, -1, -1};
    prr_parts[2] = (kw_produce_resp_partition){2, 6, -1, -1, -1, 0, NULL, KW_SLICE_NULL, true, 3, 17};
    prr_tops[0] = (kw_produce_resp_topic){kw_slice_str("orders"), 3, prr_parts};
    pr_endpoints[0] = (kw_metadata_broker){3, kw_slice_str("127.0.0.1"), 39003, KW_SLICE_NULL};
    pr_endpoints[1] = (kw_metadata_broker){4, kw_slice_str("broker-4"), 9092, kw_slice_str("r1")};
    m->prr = (kw_produce_resp){1, prr_tops, 250, 2, pr_endpoints};
}
static void check_produce_resp(int16_t v, const any_msg *w, const any_msg *g) {
    CU_ASSERT_EQUAL(g->prr.throttle_time_ms, v >= 1 ? w->prr.throttle_time_ms : 0);
    CU_ASSERT_EQUAL_FATAL(g->prr.n_node_endpoints, v >= 10 ? w->prr.n_node_endpoints : 0);
    for (int i = 0; i < g->prr.n_node_endpoints; i++) {
        const kw_metadata_broker *ea = &w->prr.node_endpoints[i], *eb = &g->prr.node_endpoints[i];
        CU_ASSERT_EQUAL(eb->node_id, ea->node_id);
        CHECK_SLICE(eb->host, ea->host);
        CU_ASSERT_EQUAL(eb->port, ea->port);
        CHECK_SLICE(eb->rack, ea->rack);
    }
    CU_ASSERT_EQUAL_FATAL(g->prr.n_topics, w->prr.n_topics);
    for (int i = 0; i < g->prr.n_topics; i++) {
        const kw_produce_resp_topic *ta = &w->prr.topics[i], *tb = &g->prr.topics[i];
        CHECK_SLICE(tb->name, ta->name);
        CU_ASSERT_EQUAL_FATAL(tb->n_partitions, ta->n_partitions);
        for (int j = 0; j < tb->n_partitions; j++) {
            const kw_produce_resp_partition *pa = &ta->partitions[j], *pb = &tb->partitions[j];
            CU_ASSERT_EQUAL(pb->index, pa->index);
            CU_ASSERT_EQUAL(pb->error_code, pa->error_code);
            CU_ASSERT_EQUAL(pb->base_offset, pa->base_offset);
            CU_ASSERT_EQUAL(pb->log_append_time_ms, v >= 2 ? pa->log_append_time_ms : -1);
            bool hint = v >= 10 && pa->has_current_leader;
            CU_ASSERT_EQUAL(pb->has_current_leader, hint);
            CU_ASSERT_EQUAL(pb->current_leader_id, hint ? pa->current_leader_id : -1);
            CU_ASSERT_EQUAL(pb->current_leader_epoch, hint ? pa->current_leader_epoch : -1);
            CU_ASSERT_EQUAL(pb->log_start_offset, v >= 5 ? pa->log_start_offset : -1);
            CU_ASSERT_EQUAL_FATAL(pb->n_record_errors, v >= 8 ? pa->n_record_errors : 0);
            for (int k = 0; k < pb->n_record_errors; k++) {
                CU_ASSERT_EQUAL(pb->record_errors[k].batch_index, pa->record_errors[k].batch_index);
                CHECK_SLICE(pb->record_errors[k].message, pa->record_errors[k].message);
            }
            CHECK_SLICE(pb->error_message, v >= 8 ? pa->error_message : KW_SLICE_NULL);
        }
    }
}

/* ---- InitProducerId ---- */

static void fill_init_pid_req(any_msg *m) {
    m->ipq = (kw_init_pid_req){kw_slice_str("txn-7"), 60000, 0x1122334455LL, 7};
}
static void check_init_pid_req(int16_t v, const any_msg *w, const any_msg *g) {
    CHECK_SLICE(g->ipq.transactional_id, w->ipq.transactional_id);
    CU_ASSERT_EQUAL(g->ipq.transaction_timeout_ms, w->ipq.transaction_timeout_ms);
    CU_ASSERT_EQUAL(g->ipq.producer_id, v >= 3 ? w->ipq.producer_id : -1);
    CU_ASSERT_EQUAL(g->ipq.producer_epoch, v >= 3 ? w->ipq.producer_epoch : -1);
}
static void fill_init_pid_resp(any_msg *m) {
    m->ipr = (kw_init_pid_resp){15, 0, 0x123456789abLL, 3};
}
static void check_init_pid_resp(int16_t v, const any_msg *w, const any_msg *g) {
    (void)v;
    CU_ASSERT_EQUAL(g->ipr.throttle_time_ms, w->ipr.throttle_time_ms);
    CU_ASSERT_EQUAL(g->ipr.error_code, w->ipr.error_code);
    CU_ASSERT_EQUAL(g->ipr.producer_id, w->ipr.producer_id);
    CU_ASSERT_EQUAL(g->ipr.producer_epoch, w->ipr.producer_epoch);
}

/* ---- ListOffsets ---- */

static kw_list_offsets_req_partition lo_parts[2];
static kw_list_offsets_req_topic lo_tops[1];
static void fill_list_offsets_req(any_msg *m) {
    lo_parts[0] = (kw_list_offsets_req_partition){0, 5, -2};
    lo_parts[1] = (kw_list_offsets_req_partition){3, 6, -1};
    lo_tops[0] = (kw_list_offsets_req_topic){kw_slice_str("orders"), 2, lo_parts};
    m->loq = (kw_list_offsets_req){-1, 1, 1, lo_tops};
}
static void check_list_offsets_req(int16_t v, const any_msg *w, const any_msg *g) {
    CU_ASSERT_EQUAL(g->loq.replica_id, w->loq.replica_id);
    CU_ASSERT_EQUAL(g->loq.isolation_level, v >= 2 ? w->loq.isolation_level : 0);
    CU_ASSERT_EQUAL_FATAL(g->loq.n_topics, w->loq.n_topics);
    for (int i = 0; i < g->loq.n_topics; i++) {
        CHECK_SLICE(g->loq.topics[i].name, w->loq.topics[i].name);
        CU_ASSERT_EQUAL_FATAL(g->loq.topics[i].n_partitions, w->loq.topics[i].n_partitions);
        for (int j = 0; j < g->loq.topics[i].n_partitions; j++) {
            const kw_list_offsets_req_partition *pa = &w->loq.topics[i].partitions[j];
            const kw_list_offsets_req_partition *pb = &g->loq.topics[i].partitions[j];
            CU_ASSERT_EQUAL(pb->partition_index, pa->partition_index);
            CU_ASSERT_EQUAL(pb->current_leader_epoch, v >= 4 ? pa->current_leader_epoch : -1);
            CU_ASSERT_EQUAL(pb->timestamp, pa->timestamp);
        }
    }
}

static kw_list_offsets_resp_partition lor_parts[2];
static kw_list_offsets_resp_topic lor_tops[2];
static void fill_list_offsets_resp(any_msg *m) {
    lor_parts[0] = (kw_list_offsets_resp_partition){0, 0, -1, 4242, 5};
    lor_parts[1] = (kw_list_offsets_resp_partition){1, 6, 1700000000123LL, -1, 9};
    lor_tops[0] = (kw_list_offsets_resp_topic){kw_slice_str("orders"), 2, lor_parts};
    lor_tops[1] = (kw_list_offsets_resp_topic){kw_slice_str("empty"), 0, NULL};
    m->lor = (kw_list_offsets_resp){33, 2, lor_tops};
}
static void check_list_offsets_resp(int16_t v, const any_msg *w, const any_msg *g) {
    CU_ASSERT_EQUAL(g->lor.throttle_time_ms, v >= 2 ? w->lor.throttle_time_ms : 0);
    CU_ASSERT_EQUAL_FATAL(g->lor.n_topics, w->lor.n_topics);
    for (int i = 0; i < g->lor.n_topics; i++) {
        CHECK_SLICE(g->lor.topics[i].name, w->lor.topics[i].name);
        CU_ASSERT_EQUAL_FATAL(g->lor.topics[i].n_partitions, w->lor.topics[i].n_partitions);
        for (int j = 0; j < g->lor.topics[i].n_partitions; j++) {
            const kw_list_offsets_resp_partition *pa = &w->lor.topics[i].partitions[j];
            const kw_list_offsets_resp_partition *pb = &g->lor.topics[i].partitions[j];
            CU_ASSERT_EQUAL(pb->partition_index, pa->partition_index);
            CU_ASSERT_EQUAL(pb->error_code, pa->error_code);
            CU_ASSERT_EQUAL(pb->timestamp, pa->timestamp);
            CU_ASSERT_EQUAL(pb->offset, pa->offset);
            CU_ASSERT_EQUAL(pb->leader_epoch, v >= 4 ? pa->leader_epoch : -1);
        }
    }
}

/* ---- Fetch ---- */

static kw_fetch_req_partition ft_parts[2];
static kw_fetch_req_topic ft_tops[2];
static int32_t ft_forgot_parts[3] = {4, 5, 6};
static kw_fetch_forgotten_topic ft_forgot[2];
static void fill_fetch_req(any_msg *m) {
    ft_parts[0] = (kw_fetch_req_partition){0, 3, 100, 7, 1048576, 2};
    ft_parts[1] = (kw_fetch_req_partition){2, 4, 0, 0, 65536, -1};
    ft_tops[0] = (kw_fetch_req_topic){kw_slice_str("orders"), 2, ft_parts};
    ft_tops[1] = (kw_fetch_req_topic){kw_slice_str("none"), 0, NULL};
    ft_forgot[0] = (kw_fetch_forgotten_topic){kw_slice_str("old"), 3, ft_forgot_parts};
    ft_forgot[1] = (kw_fetch_forgotten_topic){kw_slice_str("older"), 0, NULL};
    m->ftq = (kw_fetch_req){.replica_id = -1,
                            .max_wait_ms = 500,
                            .min_bytes = 1,
                            .max_bytes = 52428800,
                            .isolation_level = 1,
                            .session_id = 99,
                            .session_epoch = 3,
                            .n_topics = 2,
                            .topics = ft_tops,
                            .n_forgotten = 2,
                            .forgotten = ft_forgot,
                            .rack_id = kw_slice_str("rack-a")};
}
static void check_fetch_req(int16_t v, const any_msg *w, const any_msg *g) {
    const kw_fetch_req *a = &w->ftq, *b = &g->ftq;
    CU_ASSERT_EQUAL(b->replica_id, a->replica_id);
    CU_ASSERT_EQUAL(b->max_wait_ms, a->max_wait_ms);
    CU_ASSERT_EQUAL(b->min_bytes, a->min_bytes);
    CU_ASSERT_EQUAL(b->max_bytes, a->max_bytes);
    CU_ASSERT_EQUAL(b->isolation_level, a->isolation_level);
    CU_ASSERT_EQUAL(b->session_id, v >= 7 ? a->session_id : 0);
    CU_ASSERT_EQUAL(b->session_epoch, v >= 7 ? a->session_epoch : -1);
    CU_ASSERT_EQUAL_FATAL(b->n_topics, a->n_topics);
    for (int i = 0; i < b->n_topics; i++) {
        CHECK_SLICE(b->topics[i].topic, a->topics[i].topic);
        CU_ASSERT_EQUAL_FATAL(b->topics[i].n_partitions, a->topics[i].n_partitions);
        for (int j = 0; j < b->topics[i].n_partitions; j++) {
            const kw_fetch_req_partition *pa = &a->topics[i].partitions[j];
            const kw_fetch_req_partition *pb = &b->topics[i].partitions[j];
            CU_ASSERT_EQUAL(pb->partition, pa->partition);
            CU_ASSERT_EQUAL(pb->current_leader_epoch, v >= 9 ? pa->current_leader_epoch : -1);
            CU_ASSERT_EQUAL(pb->fetch_offset, pa->fetch_offset);
            CU_ASSERT_EQUAL(pb->last_fetched_epoch, v >= 12 ? pa->last_fetched_epoch : -1);
            CU_ASSERT_EQUAL(pb->log_start_offset, v >= 5 ? pa->log_start_offset : -1);
            CU_ASSERT_EQUAL(pb->partition_max_bytes, pa->partition_max_bytes);
        }
    }
    CU_ASSERT_EQUAL_FATAL(b->n_forgotten, v >= 7 ? a->n_forgotten : 0);
    for (int i = 0; i < b->n_forgotten; i++) {
        CHECK_SLICE(b->forgotten[i].topic, a->forgotten[i].topic);
        check_i32_array(b->forgotten[i].n_partitions, b->forgotten[i].partitions,
                        a->forgotten[i].n_partitions, a->forgotten[i].partitions);
    }
    CHECK_SLICE(b->rack_id, v >= 11 ? a->rack_id : EMPTY);
}

static kw_fetch_aborted_txn ftr_aborted[2] = {{1000, 5}, {1001, 17}};
static kw_fetch_resp_partition ftr_parts[3];
static kw_fetch_resp_topic ftr_tops[1];
static void fill_fetch_resp(any_msg *m) {
    ftr_parts[0] = (kw_fetch_resp_partition){
        0, 0, 120, 118, 3, 2, ftr_aborted, 2, {(const uint8_t *)"records-bytes", 13}};
    ftr_parts[1] = (kw_fetch_resp_partition){1, 1, 50, 50, 0, -1, NULL, -1, KW_SLICE_NULL};
    ftr_parts[2] = (kw_fetch_resp_partition){2, 0, 0, 0, 0, 0, NULL, -1, EMPTY};
    ftr_tops[0] = (kw_fetch_resp_topic){kw_slice_str("orders"), 3, ftr_parts};
    m->ftr = (kw_fetch_resp){.throttle_time_ms = 9,
                             .error_code = 0,
                             .session_id = 1234,
                             .n_topics = 1,
                             .topics = ftr_tops};
}
static void check_fetch_resp(int16_t v, const any_msg *w, const any_msg *g) {
    const kw_fetch_resp *a = &w->ftr, *b = &g->ftr;
    CU_ASSERT_EQUAL(b->throttle_time_ms, a->throttle_time_ms);
    CU_ASSERT_EQUAL(b->error_code, v >= 7 ? a->error_code : 0);
    CU_ASSERT_EQUAL(b->session_id, v >= 7 ? a->session_id : 0);
    CU_ASSERT_EQUAL_FATAL(b->n_topics, a->n_topics);
    for (int i = 0; i < b->n_topics; i++) {
        CHECK_SLICE(b->topics[i].topic, a->topics[i].topic);
        CU_ASSERT_EQUAL_FATAL(b->topics[i].n_partitions, a->topics[i].n_partitions);
        for (int j = 0; j < b->topics[i].n_partitions; j++) {
            const kw_fetch_resp_partition *pa = &a->topics[i].partitions[j];
            const kw_fetch_resp_partition *pb = &b->topics[i].partitions[j];
            CU_ASSERT_EQUAL(pb->partition_index, pa->partition_index);
            CU_ASSERT_EQUAL(pb->error_code, pa->error_code);
            CU_ASSERT_EQUAL(pb->high_watermark, pa->high_watermark);
            CU_ASSERT_EQUAL(pb->last_stable_offset, pa->last_stable_offset);
            CU_ASSERT_EQUAL(pb->log_start_offset, v >= 5 ? pa->log_start_offset : -1);
            CU_ASSERT_EQUAL_FATAL(pb->n_aborted, pa->n_aborted);
            for (int k = 0; k < pb->n_aborted; k++) {
                CU_ASSERT_EQUAL(pb->aborted[k].producer_id, pa->aborted[k].producer_id);
                CU_ASSERT_EQUAL(pb->aborted[k].first_offset, pa->aborted[k].first_offset);
            }
            CU_ASSERT_EQUAL(pb->preferred_read_replica, v >= 11 ? pa->preferred_read_replica : -1);
            CHECK_SLICE(pb->records, pa->records);
        }
    }
}

#define CODEC(label, dir, fn, lo, hi)                                                              \
    { label, dir, lo, hi, enc_##fn, dec_##fn, fill_##fn, check_##fn }

static const codec codecs[] = {
    CODEC("ApiVersions", "request", api_versions_req, 0, 4),
    CODEC("ApiVersions", "response", api_versions_resp, 0, 4),
    CODEC("Metadata", "request", metadata_req, 0, 12),
    CODEC("Metadata", "response", metadata_resp, 0, 12),
    CODEC("Produce", "request", produce_req, 0, 11),
    CODEC("Produce", "response", produce_resp, 0, 11),
    CODEC("InitProducerId", "request", init_pid_req, 0, 5),
    CODEC("InitProducerId", "response", init_pid_resp, 0, 5),
    CODEC("ListOffsets", "request", list_offsets_req, 1, 7),
    CODEC("ListOffsets", "response", list_offsets_resp, 1, 7),
    CODEC("Fetch", "request", fetch_req, 4, 12),
    CODEC("Fetch", "response", fetch_resp, 4, 12),
};
#define N_CODECS (sizeof codecs / sizeof codecs[0])

/* Encodes the codec's sample message at version v into wb (reset first). */
static void encode_sample(const codec *c, int16_t v, kw_wbuf *wb) {
    any_msg m;
    memset(&m, 0, sizeof m);
    c->fill(&m);
    kw_wbuf_reset(wb);
    c->enc(wb, v, &m);
    CU_ASSERT_FATAL(!wb->oom);
}

/* Decodes exactly `len` bytes from a private heap copy, so ASan sees any over-read. */
static kw_err decode_copy(const codec *c, int16_t v, const uint8_t *p, size_t len, kw_arena *a,
                          any_msg *out, kw_rbuf *rb) {
    uint8_t *copy = malloc(len ? len : 1);
    CU_ASSERT_FATAL(copy != NULL);
    if (len)
        memcpy(copy, p, len);
    kw_rbuf_init(rb, copy, len, "test");
    kw_err err = c->dec(rb, v, a, out);
    free(copy);
    return err;
}

/* ------------------------------------------------------------------------------------------ */

static void test_every_message_round_trips_at_every_version(void) {
    kw_arena *a = kw_arena_new();
    kw_wbuf wb1, wb2;
    kw_wbuf_init(&wb1);
    kw_wbuf_init(&wb2);
    int checked = 0;
    for (size_t i = 0; i < N_CODECS; i++) {
        const codec *c = &codecs[i];
        for (int16_t v = c->min; v <= c->max; v++) {
            any_msg want, got;
            memset(&want, 0, sizeof want);
            c->fill(&want);
            encode_sample(c, v, &wb1);
            kw_rbuf rb;
            kw_rbuf_init(&rb, wb1.p, wb1.len, "test");
            kw_err err = c->dec(&rb, v, a, &got);
            if (err != KW_ERR_NONE)
                fprintf(stderr, "\n%s %s v%d: %s\n", c->name, c->dir, v, rb.errmsg);
            CU_ASSERT_EQUAL_FATAL(err, KW_ERR_NONE);
            CU_ASSERT_EQUAL(rb.pos, wb1.len);
            c->check(v, &want, &got);
            kw_wbuf_reset(&wb2);
            c->enc(&wb2, v, &got);
            CU_ASSERT_EQUAL_FATAL(wb2.len, wb1.len);
            CU_ASSERT(wb1.len == 0 || memcmp(wb1.p, wb2.p, wb1.len) == 0);
            kw_arena_reset(a);
            checked++;
        }
    }
    /* 5 + 5 + 13 + 13 + 12 + 12 + 6 + 6 + 7 + 7 + 9 + 9 versions */
    CU_ASSERT_EQUAL(checked, 104);
    kw_wbuf_free(&wb1);
    kw_wbuf_free(&wb2);
    kw_arena_destroy(a);
}

/* Each version that adds a field makes the encoding grow: a guard against a version gate
 * that is off by one in both encoder and decoder at once. */
static void test_versions_that_add_fields_grow_the_encoding(void) {
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    /* expected growth per version step of the sample messages, from the JSON schemas */
    static const struct {
        size_t codec;
        int16_t v;
        long delta; /* len(v) - len(v-1) */
    } steps[] = {
        {1, 1, 4}, /* ApiVersions resp v1: throttle_time_ms */
        {2, 4, 1}, /* Metadata req v4: allow_auto_topic_creation */
        {2, 8, 2}, /* Metadata req v8: two include_* flags */
        {3, 1,
         (2 + 4) + 4 + 3}, /* Metadata resp v1: racks (null, "r2"), controller, is_internal x3 */
        {3, 2, 2 + 15},    /* v2: cluster_id */
        {3, 3, 4},         /* v3: throttle */
        {3, 4, 0},         /* v4: same as v3 */
        {3, 5, 3 * 4 + 4}, /* v5: offline_replicas arrays x3 + one element */
        {3, 6, 0},
        {3, 7, 3 * 4},     /* v7: leader_epoch x3 partitions */
        {3, 8, 3 * 4 + 4}, /* v8: topic ops x3 + cluster ops */
        {4, 3, 2 + 5},     /* Produce req v3: transactional_id */
        {5, 1, 4},         /* Produce resp v1: throttle_time_ms */
        {5, 2, 3 * 8},     /* v2: log_append_time_ms x3 */
        {5, 5, 3 * 8},     /* Produce resp v5: log_start_offset x3 */
        {5, 8,
         (4 + 2) + 4 + (4 + 2 + 7) + (4 + 2) + (2 + 14) + (4 + 2)}, /* v8 record_errors, msg */
        {5, 10, (3 + 9 - 1) + (3 + 1 + (4 + 10 + 4 + 1 + 1) + (4 + 9 + 4 + 3 + 1) - 1)},
        /* v10: CurrentLeader on the third partition, NodeEndpoints (2) at the end */
        {5, 11, 0},    /* v11: same as v10 */
        {3, 10, 3 * 16}, /* Metadata resp v10: topic_id x3 */
        {3, 11, -4},     /* v11: no cluster_authorized_operations */
        {3, 12, 0},      /* v12: name nullable, same bytes */
        {2, 10, 3 * 16}, /* Metadata req v10: topic_id x3 */
        {2, 11, -1},     /* v11: no include_cluster_authorized_operations */
        {0, 4, 0},       /* ApiVersions req v4: same as v3 */
        {1, 4, 0},       /* ApiVersions resp v4: same as v3 */
        {8, 7, 0},       /* ListOffsets req v7: same as v6 */
        {9, 7, 0},       /* ListOffsets resp v7: same as v6 */
        {8, 2, 1},                                        /* ListOffsets req v2: isolation_level */
        {8, 4, 2 * 4},                                    /* v4: current_leader_epoch x2 */
        {9, 2, 4},                                        /* ListOffsets resp v2: throttle */
        {9, 4, 2 * 4},                                    /* v4: leader_epoch x2 */
        {10, 5, 2 * 8},                                   /* Fetch req v5: log_start_offset x2 */
        {10, 7, 8 + 4 + (2 + 3 + 4 + 12) + (2 + 5 + 4)},  /* v7: session + forgotten */
        {10, 9, 2 * 4},                                   /* v9: current_leader_epoch */
        {10, 11, 2 + 6},                                  /* v11: rack_id */
        {11, 5, 3 * 8},                                   /* Fetch resp v5: log_start_offset x3 */
        {11, 7, 2 + 4},                                   /* v7: error_code + session_id */
        {11, 11, 3 * 4},                                  /* v11: preferred_read_replica x3 */
        {0, 3, (1 + 7) + (1 + 10) + 1}, /* ApiVersions req v3: compact strings + tags */
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        const codec *c = &codecs[steps[i].codec];
        encode_sample(c, (int16_t)(steps[i].v - 1), &wb);
        size_t before = wb.len;
        encode_sample(c, steps[i].v, &wb);
        long delta = (long)wb.len - (long)before;
        if (delta != steps[i].delta)
            fprintf(stderr, "\n%s %s v%d grew by %ld, expected %ld\n", c->name, c->dir, steps[i].v,
                    delta, steps[i].delta);
        CU_ASSERT_EQUAL(delta, steps[i].delta);
    }
    kw_wbuf_free(&wb);
}

static void test_truncation_at_every_byte_fails_cleanly(void) {
    kw_arena *a = kw_arena_new();
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    long cuts = 0;
    for (size_t i = 0; i < N_CODECS; i++) {
        const codec *c = &codecs[i];
        for (int16_t v = c->min; v <= c->max; v++) {
            encode_sample(c, v, &wb);
            for (size_t cut = 0; cut < wb.len; cut++) {
                any_msg got;
                kw_rbuf rb;
                kw_err err = decode_copy(c, v, wb.p, cut, a, &got, &rb);
                CU_ASSERT(err == KW_ERR__TRUNCATED || err == KW_ERR__MALFORMED);
                CU_ASSERT_EQUAL(err, rb.err);
                /* the message names the field by its path under the API's name */
                if (!strstr(rb.errmsg, c->name)) {
                    fprintf(stderr, "\n%s %s v%d cut %zu: '%s'\n", c->name, c->dir, v, cut,
                            rb.errmsg);
                    CU_FAIL("error message does not name the field");
                }
                kw_arena_reset(a);
                cuts++;
            }
        }
    }
    CU_ASSERT(cuts > 3000);
    kw_wbuf_free(&wb);
    kw_arena_destroy(a);
}

static void test_trailing_bytes_are_rejected(void) {
    kw_arena *a = kw_arena_new();
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    for (size_t i = 0; i < N_CODECS; i++) {
        const codec *c = &codecs[i];
        for (int16_t v = c->min; v <= c->max; v++) {
            encode_sample(c, v, &wb);
            kw_write_i8(&wb, 0);
            any_msg got;
            kw_rbuf rb;
            kw_err err = decode_copy(c, v, wb.p, wb.len, a, &got, &rb);
            CU_ASSERT_EQUAL(err, KW_ERR__MALFORMED);
            CU_ASSERT(strstr(rb.errmsg, "trailing") != NULL);
            kw_arena_reset(a);
        }
    }
    kw_wbuf_free(&wb);
    kw_arena_destroy(a);
}

static void test_unsupported_version_fails_cleanly(void) {
    kw_arena *a = kw_arena_new();
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    for (size_t i = 0; i < N_CODECS; i++) {
        const codec *c = &codecs[i];
        encode_sample(c, c->max, &wb);
        int16_t bad[] = {(int16_t)(c->min - 1), (int16_t)(c->max + 1), INT16_MAX, INT16_MIN};
        for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
            any_msg got;
            kw_rbuf rb;
            kw_err err = decode_copy(c, bad[k], wb.p, wb.len, a, &got, &rb);
            CU_ASSERT_EQUAL(err, KW_ERR__UNSUPPORTED_API);
            CU_ASSERT(strstr(rb.errmsg, c->name) != NULL);
            CU_ASSERT(strstr(rb.errmsg, "not supported") != NULL);
        }
    }
    kw_wbuf_free(&wb);
    kw_arena_destroy(a);
}

/* A decoder handed a buffer that already failed does nothing and keeps the first error. */
static void test_decoder_keeps_an_earlier_error(void) {
    kw_arena *a = kw_arena_new();
    uint8_t b[4] = {0, 0, 0, 0};
    kw_rbuf rb;
    kw_rbuf_init(&rb, b, sizeof b, "test");
    kw_rbuf_fail(&rb, KW_ERR__BAD_CRC, "earlier");
    kw_metadata_req m;
    CU_ASSERT_EQUAL(kw_metadata_req_decode(&rb, 1, a, &m), KW_ERR__BAD_CRC);
    CU_ASSERT_EQUAL(rb.pos, 0);
    kw_arena_destroy(a);
}

/* ------------------------------------------------------------------------------------------ */
/* Exact layouts, computed by hand from the schemas (not by our encoder).                       */

static void expect_bytes(const kw_wbuf *wb, const uint8_t *want, size_t n) {
    CU_ASSERT_EQUAL_FATAL(wb->len, n);
    if (memcmp(wb->p, want, n) != 0) {
        fprintf(stderr, "\ngot:  ");
        for (size_t i = 0; i < wb->len; i++)
            fprintf(stderr, "%02x ", wb->p[i]);
        fprintf(stderr, "\nwant: ");
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "%02x ", want[i]);
        fprintf(stderr, "\n");
        CU_FAIL("bytes differ");
    }
}

static void test_metadata_all_topics_is_empty_in_v0_and_null_from_v1(void) {
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    kw_metadata_req all = {.n_topics = -1, .allow_auto_topic_creation = true};
    kw_metadata_req_encode(&wb, 0, &all);
    expect_bytes(&wb, (const uint8_t[]){0, 0, 0, 0}, 4);
    kw_wbuf_reset(&wb);
    kw_metadata_req_encode(&wb, 1, &all);
    expect_bytes(&wb, (const uint8_t[]){0xff, 0xff, 0xff, 0xff}, 4);
    kw_wbuf_reset(&wb);
    kw_metadata_req_encode(&wb, 4, &all);
    expect_bytes(&wb, (const uint8_t[]){0xff, 0xff, 0xff, 0xff, 1}, 5);

    kw_arena *a = kw_arena_new();
    kw_metadata_req m;
    kw_rbuf rb;
    /* v1+: null means all topics */
    kw_rbuf_init(&rb, (const uint8_t[]){0xff, 0xff, 0xff, 0xff}, 4, "test");
    CU_ASSERT_EQUAL(kw_metadata_req_decode(&rb, 1, a, &m), KW_ERR_NONE);
    CU_ASSERT_EQUAL(m.n_topics, -1);
    /* v0: the array is not nullable */
    kw_rbuf_init(&rb, (const uint8_t[]){0xff, 0xff, 0xff, 0xff}, 4, "test");
    CU_ASSERT_EQUAL(kw_metadata_req_decode(&rb, 0, a, &m), KW_ERR__MALFORMED);
    CU_ASSERT(strstr(rb.errmsg, "Metadata.topics") != NULL);
    kw_arena_destroy(a);
    kw_wbuf_free(&wb);
}

static void test_api_versions_v3_is_flexible_and_v0_is_not(void) {
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    kw_api_versions_req q = {kw_slice_str("a"), kw_slice_str("1")};
    kw_api_versions_req_encode(&wb, 2, &q);
    CU_ASSERT_EQUAL(wb.len, 0);
    kw_api_versions_req_encode(&wb, 3, &q);
    expect_bytes(&wb, (const uint8_t[]){2, 'a', 2, '1', 0}, 5);

    kw_api_range k[] = {{18, 0, 3}};
    kw_api_versions_resp r = {
        .error_code = 0, .n_api_keys = 1, .api_keys = k, .throttle_time_ms = 0};
    kw_wbuf_reset(&wb);
    kw_api_versions_resp_encode(&wb, 3, &r);
    expect_bytes(&wb, (const uint8_t[]){0, 0, 2, 0, 18, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0}, 15);
    kw_wbuf_reset(&wb);
    kw_api_versions_resp_encode(&wb, 0, &r);
    expect_bytes(&wb, (const uint8_t[]){0, 0, 0, 0, 0, 1, 0, 18, 0, 0, 0, 3}, 12);

    /* a v3 response with unknown tagged fields (as a newer broker sends) still decodes */
    const uint8_t tagged[] = {0, 0, 2, 0, 18, 0, 0, 0,    3,   0,
                              0, 0, 0, 0, 1,  0, 2, 0xaa, 0xbb}; /* one tag: 0, size 2 */
    kw_arena *a = kw_arena_new();
    kw_rbuf rb;
    kw_rbuf_init(&rb, tagged, sizeof tagged, "test");
    kw_api_versions_resp got;
    CU_ASSERT_EQUAL(kw_api_versions_resp_decode(&rb, 3, a, &got), KW_ERR_NONE);
    CU_ASSERT_EQUAL(got.n_api_keys, 1);
    CU_ASSERT_EQUAL(got.api_keys[0].max_version, 3);

    /* a null client_software_name is malformed (the field is not nullable) */
    kw_rbuf_init(&rb, (const uint8_t[]){0, 2, '1', 0}, 4, "test");
    kw_api_versions_req gq;
    CU_ASSERT_EQUAL(kw_api_versions_req_decode(&rb, 3, a, &gq), KW_ERR__MALFORMED);
    CU_ASSERT(strstr(rb.errmsg, "client_software_name") != NULL);
    kw_arena_destroy(a);
    kw_wbuf_free(&wb);
}

static void test_produce_response_v5_carries_log_start_offset_before_throttle(void) {
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    kw_produce_resp_partition p = {.index = 1,
                                   .error_code = 0,
                                   .base_offset = 2,
                                   .log_append_time_ms = -1,
                                   .log_start_offset = 0};
    kw_produce_resp_topic t = {kw_slice_str("t"), 1, &p};
    kw_produce_resp r = {.n_topics = 1, .topics = &t, .throttle_time_ms = 7};
    kw_produce_resp_encode(&wb, 5, &r);
    const uint8_t want[] = {0,    0,    0,    1,    0,    1,    't',  0,
                            0,    0,    1,                   /* topic "t", 1 partition */
                            0,    0,    0,    1,    0,    0, /* index 1, error 0 */
                            0,    0,    0,    0,    0,    0,    0,    2,    /* base_offset 2 */
                            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* append time -1 */
                            0,    0,    0,    0,    0,    0,    0,    0,    /* log_start_offset 0 */
                            0,    0,    0,    7};                           /* throttle 7 */
    expect_bytes(&wb, want, sizeof want);
    kw_wbuf_free(&wb);
}

static void test_list_offsets_v1_has_no_isolation_level_and_v2_does(void) {
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    kw_list_offsets_req_partition p = {
        .partition_index = 0, .current_leader_epoch = 5, .timestamp = -2};
    kw_list_offsets_req_topic t = {kw_slice_str("t"), 1, &p};
    kw_list_offsets_req r = {-1, 0, 1, &t};
    kw_list_offsets_req_encode(&wb, 1, &r);
    const uint8_t v1[] = {0xff, 0xff, 0xff, 0xff, 0,    0,    0,    1,    0,
                          1,    't',  0,    0,    0,    1,    0,    0,    0,
                          0,    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};
    expect_bytes(&wb, v1, sizeof v1);
    kw_wbuf_reset(&wb);
    kw_list_offsets_req_encode(&wb, 2, &r);
    const uint8_t v2[] = {0xff, 0xff, 0xff, 0xff, 0,    0,    0,    0,   1, 0,
                          1,    't',  0,    0,    0,    1,    0,    0,   0, 0,
                          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};
    expect_bytes(&wb, v2, sizeof v2);
    kw_wbuf_free(&wb);
}

static void test_fetch_response_null_aborted_transactions_survive(void) {
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    kw_fetch_resp_partition p = {.partition_index = 0,
                                 .high_watermark = 1,
                                 .last_stable_offset = 1,
                                 .log_start_offset = 0,
                                 .n_aborted = -1,
                                 .preferred_read_replica = -1,
                                 .records = KW_SLICE_NULL};
    kw_fetch_resp_topic t = {kw_slice_str("t"), 1, &p};
    kw_fetch_resp r = {.n_topics = 1, .topics = &t};
    kw_fetch_resp_encode(&wb, 4, &r);
    const uint8_t
        want[] = {0,    0,    0,    0,   0, 0, 0, 1, 0, 1,    't',  0,    0,    0,
                  1,    0,    0,    0,   0, 0, 0, 0, 0, 0,    0,    0,    0,    0,
                  1,    0,    0,    0,   0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, /* aborted: null */
                  0xff, 0xff, 0xff, 0xff};                                      /* records: null */
    expect_bytes(&wb, want, sizeof want);
    kw_arena *a = kw_arena_new();
    kw_rbuf rb;
    kw_rbuf_init(&rb, wb.p, wb.len, "test");
    kw_fetch_resp got;
    CU_ASSERT_EQUAL(kw_fetch_resp_decode(&rb, 4, a, &got), KW_ERR_NONE);
    CU_ASSERT_EQUAL(got.topics[0].partitions[0].n_aborted, -1);
    CU_ASSERT_EQUAL(got.topics[0].partitions[0].records.len, -1);
    CU_ASSERT_EQUAL(got.topics[0].partitions[0].log_start_offset, -1); /* v4: not on the wire */
    kw_arena_destroy(a);
    kw_wbuf_free(&wb);
}

/* A broker that does not speak ApiVersions v3 answers with UNSUPPORTED_VERSION in a v0 body
 * (KIP-511, Java's ApiVersionsResponse.parse falls back the same way). */
static void test_api_versions_v3_reply_in_a_v0_body_is_understood(void) {
    kw_arena *a = kw_arena_new();
    kw_api_versions_resp m;
    kw_rbuf rb;
    const uint8_t v0_err[] = {0, 35, 0, 0, 0, 1, 0, 18, 0, 0, 0, 2};
    kw_rbuf_init(&rb, v0_err, sizeof v0_err, "test");
    CU_ASSERT_EQUAL(kw_api_versions_resp_decode(&rb, 3, a, &m), KW_ERR_NONE);
    CU_ASSERT_EQUAL(m.error_code, KW_ERR_UNSUPPORTED_VERSION);
    CU_ASSERT_EQUAL_FATAL(m.n_api_keys, 1);
    CU_ASSERT_EQUAL(m.api_keys[0].api_key, 18);
    CU_ASSERT_EQUAL(m.api_keys[0].max_version, 2);

    /* the same v0 body without the error is not a v3 reply */
    const uint8_t v0_ok[] = {0, 0, 0, 0, 0, 1, 0, 18, 0, 0, 0, 2};
    kw_rbuf_init(&rb, v0_ok, sizeof v0_ok, "test");
    CU_ASSERT_NOT_EQUAL(kw_api_versions_resp_decode(&rb, 3, a, &m), KW_ERR_NONE);

    /* librdkafka 2.0.2's mock: 1-byte count without the +1, no tagged fields. Neither v3 nor
     * v0; it fails, but the error code is still there for the client to retry with v0. */
    const uint8_t mock[] = {0, 35, 1, 0, 18, 0, 0, 0, 2, 0, 0, 0, 0};
    kw_rbuf_init(&rb, mock, sizeof mock, "test");
    CU_ASSERT_EQUAL(kw_api_versions_resp_decode(&rb, 3, a, &m), KW_ERR__MALFORMED);
    CU_ASSERT(strstr(rb.errmsg, "ApiVersions") != NULL);
    CU_ASSERT_EQUAL(m.error_code, KW_ERR_UNSUPPORTED_VERSION);
    CU_ASSERT_EQUAL(m.n_api_keys, 0);
    kw_arena_destroy(a);
}

/* ------------------------------------------------------------------------------------------ */
/* Error messages name the field by its path; hostile counts fail before allocating.           */

static void test_error_names_the_nested_field_path(void) {
    kw_arena *a = kw_arena_new();
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    const codec *c = &codecs[3]; /* Metadata response */
    encode_sample(c, 8, &wb);
    bool seen_isr = false, seen_rack = false;
    for (size_t cut = 0; cut < wb.len; cut++) {
        any_msg got;
        kw_rbuf rb;
        decode_copy(c, 8, wb.p, cut, a, &got, &rb);
        if (strstr(rb.errmsg, "Metadata.topics[1].partitions[0].isr_nodes"))
            seen_isr = true;
        if (strstr(rb.errmsg, "Metadata.brokers[1].rack"))
            seen_rack = true;
        kw_arena_reset(a);
    }
    CU_ASSERT(seen_isr);
    CU_ASSERT(seen_rack);
    kw_wbuf_free(&wb);
    kw_arena_destroy(a);
}

/* Indices of several digits are named right (the path formats them by hand). */
static void test_error_path_names_multi_digit_indices(void) {
    static kw_produce_req_partition parts[120];
    for (int i = 0; i < 120; i++)
        parts[i] = (kw_produce_req_partition){i, KW_SLICE_NULL};
    parts[119].records = kw_slice_str("0123456789");
    kw_produce_req_topic t = {kw_slice_str("t"), 120, parts};
    kw_produce_req r = {KW_SLICE_NULL, 1, 1000, 1, &t};
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    kw_produce_req_encode(&wb, 3, &r);
    kw_arena *a = kw_arena_new();
    kw_rbuf rb;
    kw_produce_req m;
    /* cut inside the records of the last partition (the array count check still passes) */
    kw_rbuf_init(&rb, wb.p, wb.len - 2, "test");
    CU_ASSERT_EQUAL(kw_produce_req_decode(&rb, 3, a, &m), KW_ERR__TRUNCATED);
    CU_ASSERT(strstr(rb.errmsg, "Produce.topic_data[0].partition_data[119].records") != NULL);
    kw_arena_destroy(a);
    kw_wbuf_free(&wb);
}

static void test_hostile_array_count_fails_without_allocating(void) {
    kw_arena *a = kw_arena_new();
    /* Produce response v8: 1 topic "t", then a partition count of 0x7fffffff */
    const uint8_t b[] = {0, 0, 0, 1, 0, 1, 't', 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0};
    kw_rbuf rb;
    kw_rbuf_init(&rb, b, sizeof b, "test");
    kw_produce_resp m;
    kw_err err = kw_produce_resp_decode(&rb, 8, a, &m);
    CU_ASSERT(err == KW_ERR__TRUNCATED || err == KW_ERR__MALFORMED);
    CU_ASSERT(strstr(rb.errmsg, "Produce.responses[0].partition_responses") != NULL);
    /* a negative count other than -1 is malformed, and -1 in a non-nullable array too */
    const uint8_t neg[] = {0xff, 0xff, 0xff, 0xfe};
    kw_rbuf_init(&rb, neg, sizeof neg, "test");
    kw_list_offsets_resp lo;
    CU_ASSERT_EQUAL(kw_list_offsets_resp_decode(&rb, 1, a, &lo), KW_ERR__MALFORMED);
    const uint8_t null_arr[] = {0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
    kw_rbuf_init(&rb, null_arr, sizeof null_arr, "test");
    CU_ASSERT_EQUAL(kw_list_offsets_resp_decode(&rb, 2, a, &lo), KW_ERR__MALFORMED);
    CU_ASSERT(strstr(rb.errmsg, "ListOffsets.topics") != NULL);
    kw_arena_destroy(a);
}

void suite_protocol_messages(void);
void suite_protocol_messages(void) {
    tu_suite("protocol_messages");
    tu_test("test_every_message_round_trips_at_every_version",
            test_every_message_round_trips_at_every_version);
    tu_test("test_versions_that_add_fields_grow_the_encoding",
            test_versions_that_add_fields_grow_the_encoding);
    tu_test("test_truncation_at_every_byte_fails_cleanly",
            test_truncation_at_every_byte_fails_cleanly);
    tu_test("test_trailing_bytes_are_rejected", test_trailing_bytes_are_rejected);
    tu_test("test_unsupported_version_fails_cleanly", test_unsupported_version_fails_cleanly);
    tu_test("test_decoder_keeps_an_earlier_error", test_decoder_keeps_an_earlier_error);
    tu_test("test_metadata_all_topics_is_empty_in_v0_and_null_from_v1",
            test_metadata_all_topics_is_empty_in_v0_and_null_from_v1);
    tu_test("test_api_versions_v3_is_flexible_and_v0_is_not",
            test_api_versions_v3_is_flexible_and_v0_is_not);
    tu_test("test_api_versions_v3_reply_in_a_v0_body_is_understood",
            test_api_versions_v3_reply_in_a_v0_body_is_understood);
    tu_test("test_produce_response_v5_carries_log_start_offset_before_throttle",
            test_produce_response_v5_carries_log_start_offset_before_throttle);
    tu_test("test_list_offsets_v1_has_no_isolation_level_and_v2_does",
            test_list_offsets_v1_has_no_isolation_level_and_v2_does);
    tu_test("test_fetch_response_null_aborted_transactions_survive",
            test_fetch_response_null_aborted_transactions_survive);
    tu_test("test_error_names_the_nested_field_path", test_error_names_the_nested_field_path);
    tu_test("test_error_path_names_multi_digit_indices", test_error_path_names_multi_digit_indices);
    tu_test("test_hostile_array_count_fails_without_allocating",
            test_hostile_array_count_fails_without_allocating);
}
