/* Every version we advertise is served (a client may pick any of them), and Fetch long-polls
 * on the cluster clock: it waits up to max_wait_ms for data, answers early when the high
 * watermark moves, and a paused clock makes it wait indefinitely. A frame larger than the
 * receive buffer is read whole. */
#include "tests/test_mockbroker_client.h"

/* Encodes a minimal valid request of api_key at version v into body. */
/* Requests of the group and admin APIs (group "h" is coordinated by broker 2, so the
 * JoinGroup sent to broker 1 is answered NOT_COORDINATOR at once; the group suites test the
 * protocol itself). */
static void minimal_group_request(int16_t key, int16_t v, kw_wbuf *body) {
    static kw_join_group_protocol jp = {{(const uint8_t *)"range", 5}, {(const uint8_t *)"", 0}};
    static int32_t p0 = 0;
    static kw_offset_commit_req_partition ocp = {0, 1, -1, {NULL, -1}};
    static kw_offset_commit_req_topic oct = {{(const uint8_t *)"t", 1}, 1, &ocp};
    static kw_offset_fetch_req_topic oft = {{(const uint8_t *)"t", 1}, 1, &p0};
    static kw_slice names[1];
    static kw_creatable_topic ctt;
    static kw_ofle_req_partition olp = {0, -1, 0};
    static kw_ofle_req_topic olt = {{(const uint8_t *)"t", 1}, 1, &olp};
    static kw_describe_configs_resource dcr = {KW_RESOURCE_TOPIC, {(const uint8_t *)"t", 1}, -1,
                                               NULL};
    static kw_create_partitions_topic cpt = {{(const uint8_t *)"none", 4}, 2, -1, NULL};
    static char tname[16];
    kw_slice h = kw_slice_str("h"), simple = kw_slice_str("g"); /* broker 2, broker 1 */
    switch (key) {
    case KW_API_FIND_COORDINATOR: {
        kw_find_coordinator_req r = {kw_slice_str("g"), 0};
        kw_find_coordinator_req_encode(body, v, &r);
        break;
    }
    case KW_API_JOIN_GROUP: {
        kw_join_group_req r = {h, 10000, 10000, kw_slice_str(""), KW_SLICE_NULL,
                               kw_slice_str("consumer"), 1, &jp};
        kw_join_group_req_encode(body, v, &r);
        break;
    }
    case KW_API_SYNC_GROUP: {
        kw_sync_group_req r = {simple, 1, kw_slice_str("m"), KW_SLICE_NULL, 0, NULL};
        kw_sync_group_req_encode(body, v, &r);
        break;
    }
    case KW_API_HEARTBEAT: {
        kw_heartbeat_req r = {simple, 1, kw_slice_str("m"), KW_SLICE_NULL};
        kw_heartbeat_req_encode(body, v, &r);
        break;
    }
    case KW_API_LEAVE_GROUP: {
        kw_leave_group_req r = {simple, kw_slice_str("m")};
        kw_leave_group_req_encode(body, v, &r);
        break;
    }
    case KW_API_OFFSET_COMMIT: {
        kw_offset_commit_req r = {simple, -1, kw_slice_str(""), KW_SLICE_NULL, -1, 1, &oct};
        kw_offset_commit_req_encode(body, v, &r);
        break;
    }
    case KW_API_OFFSET_FETCH: {
        kw_offset_fetch_req r = {simple, 1, &oft};
        kw_offset_fetch_req_encode(body, v, &r);
        break;
    }
    case KW_API_LIST_GROUPS: {
        kw_list_groups_req r = {0};
        kw_list_groups_req_encode(body, v, &r);
        break;
    }
    case KW_API_DESCRIBE_GROUPS: {
        names[0] = simple;
        kw_describe_groups_req r = {1, names, false};
        kw_describe_groups_req_encode(body, v, &r);
        break;
    }
    case KW_API_CREATE_TOPICS:
    case KW_API_DELETE_TOPICS: {
        snprintf(tname, sizeof tname, "ct%d", (int)v);
        names[0] = kw_slice_str(tname);
        if (key == KW_API_DELETE_TOPICS) {
            kw_delete_topics_req r = {1, names, 5000};
            kw_delete_topics_req_encode(body, v, &r);
            break;
        }
        ctt = (kw_creatable_topic){names[0], 1, 1, 0, NULL, 0, NULL};
        kw_create_topics_req r = {1, &ctt, 5000, false};
        kw_create_topics_req_encode(body, v, &r);
        break;
    }
    case KW_API_OFFSET_FOR_LEADER_EPOCH: {
        kw_ofle_req r = {-1, 1, &olt};
        kw_ofle_req_encode(body, v, &r);
        break;
    }
    case KW_API_DESCRIBE_CONFIGS: {
        kw_describe_configs_req r = {1, &dcr, false};
        kw_describe_configs_req_encode(body, v, &r);
        break;
    }
    case KW_API_CREATE_PARTITIONS: {
        kw_create_partitions_req r = {1, &cpt, 5000, false};
        kw_create_partitions_req_encode(body, v, &r);
        break;
    }
    default:
        break;
    }
}

/* Decodes a group or admin API's answer (any error code is an answer). */
static kw_err decode_group_response(int16_t key, int16_t v, kw_rbuf *rb, kw_arena *a) {
    union {
        kw_find_coordinator_resp fc;
        kw_join_group_resp jg;
        kw_sync_group_resp sg;
        kw_group_simple_resp simple;
        kw_offset_commit_resp oc;
        kw_offset_fetch_resp of;
        kw_list_groups_resp lg;
        kw_describe_groups_resp dg;
        kw_topic_results_resp tr;
        kw_ofle_resp ol;
        kw_describe_configs_resp dc;
    } m;
    switch (key) {
    case KW_API_FIND_COORDINATOR:
        return kw_find_coordinator_resp_decode(rb, v, a, &m.fc);
    case KW_API_JOIN_GROUP:
        return kw_join_group_resp_decode(rb, v, a, &m.jg);
    case KW_API_SYNC_GROUP:
        return kw_sync_group_resp_decode(rb, v, a, &m.sg);
    case KW_API_HEARTBEAT:
        return kw_heartbeat_resp_decode(rb, v, a, &m.simple);
    case KW_API_LEAVE_GROUP:
        return kw_leave_group_resp_decode(rb, v, a, &m.simple);
    case KW_API_OFFSET_COMMIT: {
        kw_err e = kw_offset_commit_resp_decode(rb, v, a, &m.oc);
        return !e && m.oc.topics[0].partitions[0].error_code ? KW_ERR__MALFORMED : e;
    }
    case KW_API_OFFSET_FETCH: {
        kw_err e = kw_offset_fetch_resp_decode(rb, v, a, &m.of);
        return !e && m.of.topics[0].partitions[0].committed_offset != 1 ? KW_ERR__MALFORMED : e;
    }
    case KW_API_LIST_GROUPS:
        return kw_list_groups_resp_decode(rb, v, a, &m.lg);
    case KW_API_DESCRIBE_GROUPS:
        return kw_describe_groups_resp_decode(rb, v, a, &m.dg);
    case KW_API_CREATE_TOPICS: {
        kw_err e = kw_create_topics_resp_decode(rb, v, a, &m.tr);
        return !e && m.tr.topics[0].error_code ? KW_ERR__MALFORMED : e;
    }
    case KW_API_DELETE_TOPICS: {
        kw_err e = kw_delete_topics_resp_decode(rb, v, a, &m.tr);
        return !e && m.tr.topics[0].error_code ? KW_ERR__MALFORMED : e;
    }
    case KW_API_CREATE_PARTITIONS:
        return kw_create_partitions_resp_decode(rb, v, a, &m.tr);
    case KW_API_OFFSET_FOR_LEADER_EPOCH: {
        kw_err e = kw_ofle_resp_decode(rb, v, a, &m.ol);
        return !e && m.ol.topics[0].partitions[0].error_code ? KW_ERR__MALFORMED : e;
    }
    case KW_API_DESCRIBE_CONFIGS: {
        kw_err e = kw_describe_configs_resp_decode(rb, v, a, &m.dc);
        return !e && (m.dc.results[0].error_code || m.dc.results[0].n_configs < 3)
                   ? KW_ERR__MALFORMED
                   : e;
    }
    default:
        return KW_ERR__UNSUPPORTED_API;
    }
}

static void minimal_request(int16_t key, int16_t v, kw_wbuf *body, uint8_t *batch, size_t blen) {
    switch (key) {
    case KW_API_API_VERSIONS: {
        kw_api_versions_req r = {kw_slice_str("mbtest"), kw_slice_str("1")};
        kw_api_versions_req_encode(body, v, &r);
        break;
    }
    case KW_API_METADATA: {
        kw_slice t = kw_slice_str("t");
        kw_metadata_req r = {1, &t, false, false, false, NULL};
        kw_metadata_req_encode(body, v, &r);
        break;
    }
    case KW_API_PRODUCE: {
        static kw_produce_req_partition pp;
        static kw_produce_req_topic pt;
        pp = (kw_produce_req_partition){0, {batch, (int32_t)blen}};
        pt = (kw_produce_req_topic){kw_slice_str("t"), 1, &pp};
        kw_produce_req r = {KW_SLICE_NULL, 1, 5000, 1, &pt};
        kw_produce_req_encode(body, v, &r);
        break;
    }
    case KW_API_INIT_PRODUCER_ID: {
        kw_init_pid_req r = {KW_SLICE_NULL, 60000, -1, -1};
        kw_init_pid_req_encode(body, v, &r);
        break;
    }
    case KW_API_LIST_OFFSETS: {
        static kw_list_offsets_req_partition lp;
        static kw_list_offsets_req_topic lt;
        lp = (kw_list_offsets_req_partition){0, -1, -1};
        lt = (kw_list_offsets_req_topic){kw_slice_str("t"), 1, &lp};
        kw_list_offsets_req r = {-1, 0, 1, &lt};
        kw_list_offsets_req_encode(body, v, &r);
        break;
    }
    case KW_API_FETCH: {
        tc_fetch f;
        tc_fetch_init(&f, 0, 0, 0);
        kw_fetch_req_encode(body, v, &f.req);
        break;
    }
    default:
        minimal_group_request(key, v, body);
        break;
    }
}

/* Decodes a response body; returns true when it decodes with no bytes left over. */
static bool decode_response(int16_t key, int16_t v, kw_rbuf *rb, kw_arena *a) {
    kw_err e = KW_ERR__UNSUPPORTED_API;
    switch (key) {
    case KW_API_API_VERSIONS: {
        kw_api_versions_resp m;
        e = kw_api_versions_resp_decode(rb, v, a, &m);
        if (!e && m.error_code)
            e = KW_ERR__MALFORMED;
        break;
    }
    case KW_API_METADATA: {
        kw_metadata_resp m;
        e = kw_metadata_resp_decode(rb, v, a, &m);
        if (!e && (m.n_topics != 1 || m.topics[0].error_code || m.n_brokers != 3))
            e = KW_ERR__MALFORMED;
        break;
    }
    case KW_API_PRODUCE: {
        kw_produce_resp m;
        e = kw_produce_resp_decode(rb, v, a, &m);
        /* v0-2 are advertised (KAFKA-18659) but refused, as Kafka 4.x does */
        if (!e && m.topics[0].partitions[0].error_code != (v < 3 ? KW_ERR_UNSUPPORTED_VERSION : 0))
            e = KW_ERR__MALFORMED;
        break;
    }
    case KW_API_INIT_PRODUCER_ID: {
        kw_init_pid_resp m;
        e = kw_init_pid_resp_decode(rb, v, a, &m);
        if (!e && (m.error_code || m.producer_id < 0))
            e = KW_ERR__MALFORMED;
        break;
    }
    case KW_API_LIST_OFFSETS: {
        kw_list_offsets_resp m;
        e = kw_list_offsets_resp_decode(rb, v, a, &m);
        if (!e && m.topics[0].partitions[0].error_code)
            e = KW_ERR__MALFORMED;
        break;
    }
    case KW_API_FETCH: {
        kw_fetch_resp m;
        e = kw_fetch_resp_decode(rb, v, a, &m);
        if (!e &&
            (m.topics[0].partitions[0].error_code || m.topics[0].partitions[0].records.len <= 0))
            e = KW_ERR__MALFORMED;
        break;
    }
    default:
        e = decode_group_response(key, v, rb, a);
        break;
    }
    return e == KW_ERR_NONE;
}

static void test_every_advertised_version_of_every_api_is_served(void) {
    mb_cluster *c = tc_cluster(NULL, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    CU_ASSERT_EQUAL(tc_produce(c, 1, "t", 0, -1, 3, "seed", -1, -1, -1).error, 0);
    int fd = tc_connect(mb_broker_port(c, 1));
    size_t blen;
    uint8_t *batch = tc_make_batch(2, "ver", -1, -1, -1, &blen);
    int served = 0, expected = 0;
    int32_t corr = 1000;
    for (size_t i = 0; i < kw_supported_api_count; i++) {
        const kw_api_range *r = &kw_supported_apis[i];
        for (int16_t v = r->min_version; v <= r->max_version; v++, corr++) {
            expected++;
            kw_wbuf body;
            kw_wbuf_init(&body);
            minimal_request(r->api_key, v, &body, batch, blen);
            CU_ASSERT_TRUE(tc_send_request(fd, r->api_key, v, corr, &body));
            kw_wbuf_free(&body);
            uint8_t *buf;
            kw_rbuf rb;
            kw_response_header h;
            if (tc_recv_response(fd, r->api_key, v, 5000, &buf, &rb, &h) <= 0) {
                fprintf(stderr, "%s v%d: no answer\n", kw_api_name(r->api_key), v);
                close(fd);
                fd = tc_connect(mb_broker_port(c, 1));
                continue;
            }
            kw_arena *a = kw_arena_new();
            if (h.correlation_id == corr && decode_response(r->api_key, v, &rb, a))
                served++;
            else
                fprintf(stderr, "%s v%d: bad answer (%s)\n", kw_api_name(r->api_key), v, rb.errmsg);
            kw_arena_destroy(a);
            free(buf);
        }
    }
    CU_ASSERT_TRUE(expected >= 30);
    CU_ASSERT_EQUAL(served, expected);
    free(batch);
    close(fd);
    mb_cluster_destroy(c);
}

/* Sends a Fetch v11 for t-0 from `offset` with max_wait_ms. */
static void send_fetch(int fd, int32_t corr, int64_t offset, int32_t max_wait) {
    tc_fetch f;
    tc_fetch_init(&f, 0, offset, max_wait);
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_fetch_req_encode(&body, 11, &f.req);
    tc_send_request(fd, KW_API_FETCH, 11, corr, &body);
    kw_wbuf_free(&body);
}

/* Receives a Fetch v11 answer; returns the records' byte count (-1: none came). */
static int32_t recv_fetch(int fd, int32_t corr, int timeout_ms) {
    uint8_t *buf;
    kw_rbuf rb;
    kw_response_header h;
    if (tc_recv_response(fd, KW_API_FETCH, 11, timeout_ms, &buf, &rb, &h) <= 0)
        return -1;
    kw_arena *a = kw_arena_new();
    kw_fetch_resp m;
    int32_t len = -2;
    if (kw_fetch_resp_decode(&rb, 11, a, &m) == KW_ERR_NONE && h.correlation_id == corr &&
        m.topics[0].partitions[0].error_code == 0)
        len = m.topics[0].partitions[0].records.len;
    kw_arena_destroy(a);
    free(buf);
    return len;
}

static void test_fetch_waits_on_the_cluster_clock_and_wakes_on_new_data(void) {
    mb_cluster *c = tc_cluster(&tc_fake_clock, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    int fd = tc_connect(mb_broker_port(c, 1));
    /* Nothing to read: the answer waits max_wait_ms of cluster time (the clock stands still:
     * however long the wall clock runs, nothing times out). */
    send_fetch(fd, 1, 0, 500);
    CU_ASSERT_TRUE(tc_wait_requests(c, 1, KW_API_FETCH, 1));
    CU_ASSERT_EQUAL(recv_fetch(fd, 1, 300), -1);
    tc_advance_ms(500);
    CU_ASSERT_EQUAL(recv_fetch(fd, 1, 5000), 0); /* empty records, not null */
    /* Waiting again: new committed data answers at once. */
    send_fetch(fd, 2, 0, 10000);
    CU_ASSERT_TRUE(tc_wait_requests(c, 1, KW_API_FETCH, 2));
    CU_ASSERT_EQUAL(recv_fetch(fd, 2, 100), -1);
    CU_ASSERT_EQUAL(tc_produce(c, 1, "t", 0, -1, 5, "late", -1, -1, -1).error, 0);
    CU_ASSERT_TRUE(recv_fetch(fd, 2, 5000) > 0);
    /* Beyond the log end: OFFSET_OUT_OF_RANGE at once. */
    send_fetch(fd, 3, 99, 10000);
    CU_ASSERT_EQUAL(recv_fetch(fd, 3, 5000), -2);
    close(fd);
    mb_cluster_destroy(c);
}

/* A frame several times the 64 KiB receive chunk arrives in many reads: the broker sizes its
 * buffer from the frame's length prefix and serves it whole. */
static void test_frame_larger_than_the_receive_buffer_is_served(void) {
    mb_cluster *c = tc_cluster(NULL, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    tc_produce_result r = tc_produce(c, 1, "t", 0, 1, 30000, "big", -1, -1, -1);
    CU_ASSERT_TRUE(r.answered);
    CU_ASSERT_EQUAL(r.error, 0);
    CU_ASSERT_EQUAL(r.base_offset, 0);
    CU_ASSERT_EQUAL(tc_info(c, "t", 0).log_end_offset, 30000);
    mb_cluster_destroy(c);
}

/* KIP-951: from Produce v10 a NOT_LEADER_OR_FOLLOWER answer names the partition's leader and
 * epoch (CurrentLeader) and that leader's endpoint (NodeEndpoints), from the cluster's
 * metadata, as KafkaApis.handleProduceRequest; v9 has no place for them. */
static void test_produce_v10_not_leader_answer_names_the_leader(void) {
    mb_cluster *c = tc_cluster(NULL, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    mb_partition_info in = tc_info(c, "t", 0);
    CU_ASSERT_FATAL(in.leader >= 1);
    int32_t other = in.leader % 3 + 1;
    int fd = tc_connect(mb_broker_port(c, other));
    size_t blen;
    uint8_t *batch = tc_make_batch(1, "hint", -1, -1, -1, &blen);
    for (int16_t v = 9; v <= 11; v++) {
        kw_produce_req_partition pp = {0, {batch, (int32_t)blen}};
        kw_produce_req_topic pt = {kw_slice_str("t"), 1, &pp};
        kw_produce_req req = {KW_SLICE_NULL, 1, 5000, 1, &pt};
        kw_wbuf body;
        kw_wbuf_init(&body);
        kw_produce_req_encode(&body, v, &req);
        CU_ASSERT_TRUE(tc_send_request(fd, KW_API_PRODUCE, v, 70 + v, &body));
        kw_wbuf_free(&body);
        uint8_t *buf;
        kw_rbuf rb;
        kw_response_header h;
        CU_ASSERT_FATAL(tc_recv_response(fd, KW_API_PRODUCE, v, 5000, &buf, &rb, &h) > 0);
        kw_arena *a = kw_arena_new();
        kw_produce_resp resp;
        CU_ASSERT_EQUAL_FATAL(kw_produce_resp_decode(&rb, v, a, &resp), KW_ERR_NONE);
        CU_ASSERT_EQUAL(h.correlation_id, 70 + v);
        const kw_produce_resp_partition *p = &resp.topics[0].partitions[0];
        CU_ASSERT_EQUAL(p->error_code, KW_ERR_NOT_LEADER_OR_FOLLOWER);
        if (v >= 10) {
            CU_ASSERT_TRUE(p->has_current_leader);
            CU_ASSERT_EQUAL(p->current_leader_id, in.leader);
            CU_ASSERT_EQUAL(p->current_leader_epoch, in.leader_epoch);
            CU_ASSERT_EQUAL_FATAL(resp.n_node_endpoints, 1);
            CU_ASSERT_EQUAL(resp.node_endpoints[0].node_id, in.leader);
            CU_ASSERT_EQUAL(resp.node_endpoints[0].port, mb_broker_port(c, in.leader));
            CU_ASSERT(kw_slice_eq(resp.node_endpoints[0].host, "127.0.0.1"));
        } else {
            CU_ASSERT_FALSE(p->has_current_leader);
            CU_ASSERT_EQUAL(p->current_leader_id, -1);
            CU_ASSERT_EQUAL(resp.n_node_endpoints, 0);
        }
        kw_arena_destroy(a);
        free(buf);
    }
    /* the leader itself accepts the same batch and gives no hint */
    int lfd = tc_connect(mb_broker_port(c, in.leader));
    kw_produce_req_partition pp = {0, {batch, (int32_t)blen}};
    kw_produce_req_topic pt = {kw_slice_str("t"), 1, &pp};
    kw_produce_req req = {KW_SLICE_NULL, 1, 5000, 1, &pt};
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_produce_req_encode(&body, 11, &req);
    CU_ASSERT_TRUE(tc_send_request(lfd, KW_API_PRODUCE, 11, 99, &body));
    kw_wbuf_free(&body);
    uint8_t *buf;
    kw_rbuf rb;
    kw_response_header h;
    CU_ASSERT_FATAL(tc_recv_response(lfd, KW_API_PRODUCE, 11, 5000, &buf, &rb, &h) > 0);
    kw_arena *a = kw_arena_new();
    kw_produce_resp resp;
    CU_ASSERT_EQUAL_FATAL(kw_produce_resp_decode(&rb, 11, a, &resp), KW_ERR_NONE);
    CU_ASSERT_EQUAL(resp.topics[0].partitions[0].error_code, 0);
    CU_ASSERT_FALSE(resp.topics[0].partitions[0].has_current_leader);
    CU_ASSERT_EQUAL(resp.n_node_endpoints, 0);
    kw_arena_destroy(a);
    free(buf);
    close(lfd);
    free(batch);
    close(fd);
    mb_cluster_destroy(c);
}

/* Metadata v10+ carries topic ids (KIP-516): each topic has a random, non-zero id that stays
 * the same; from v12 a topic can be asked for by id alone (null name), and an unknown id is
 * answered UNKNOWN_TOPIC_ID (100) with a null name. */
static kw_err metadata_call(int fd, int16_t v, int32_t corr, kw_slice name, const kw_uuid *id,
                            kw_arena *a, kw_metadata_resp *out, uint8_t **buf) {
    kw_slice names[1] = {name};
    kw_uuid ids[1] = {{{0}}};
    if (id)
        ids[0] = *id;
    kw_metadata_req req = {1, names, true, false, false, ids};
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_metadata_req_encode(&body, v, &req);
    bool ok = tc_send_request(fd, KW_API_METADATA, v, corr, &body);
    kw_wbuf_free(&body);
    kw_rbuf rb;
    kw_response_header h;
    if (!ok || tc_recv_response(fd, KW_API_METADATA, v, 5000, buf, &rb, &h) <= 0)
        return KW_ERR__TRANSPORT;
    kw_err e = kw_metadata_resp_decode(&rb, v, a, out);
    return e ? e : h.correlation_id == corr ? KW_ERR_NONE : KW_ERR__MALFORMED;
}

static void test_metadata_topic_ids_from_v10_and_lookup_by_id_from_v12(void) {
    mb_cluster *c = tc_cluster(NULL, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    int fd = tc_connect(mb_broker_port(c, 1));
    kw_arena *a = kw_arena_new();
    static const kw_uuid zero;
    kw_metadata_resp r;
    uint8_t *buf;
    CU_ASSERT_EQUAL_FATAL(metadata_call(fd, 10, 1, kw_slice_str("t"), NULL, a, &r, &buf), 0);
    CU_ASSERT_EQUAL_FATAL(r.n_topics, 1);
    kw_uuid id = r.topics[0].topic_id;
    CU_ASSERT(memcmp(&id, &zero, sizeof id) != 0);
    CU_ASSERT_EQUAL(r.topics[0].error_code, 0);
    free(buf);
    for (int16_t v = 11; v <= 12; v++) { /* the same id every time */
        CU_ASSERT_EQUAL_FATAL(metadata_call(fd, v, 2, kw_slice_str("t"), NULL, a, &r, &buf), 0);
        CU_ASSERT(memcmp(&r.topics[0].topic_id, &id, sizeof id) == 0);
        free(buf);
    }
    /* by id alone */
    CU_ASSERT_EQUAL_FATAL(metadata_call(fd, 12, 3, KW_SLICE_NULL, &id, a, &r, &buf), 0);
    CU_ASSERT_EQUAL(r.topics[0].error_code, 0);
    CU_ASSERT(kw_slice_eq(r.topics[0].name, "t"));
    CU_ASSERT_EQUAL(r.topics[0].n_partitions, 3);
    free(buf);
    kw_uuid other = id;
    other.b[15] ^= 0xff;
    CU_ASSERT_EQUAL_FATAL(metadata_call(fd, 12, 4, KW_SLICE_NULL, &other, a, &r, &buf), 0);
    CU_ASSERT_EQUAL(r.topics[0].error_code, 100);
    CU_ASSERT_EQUAL(r.topics[0].name.len, -1);
    CU_ASSERT(memcmp(&r.topics[0].topic_id, &other, sizeof other) == 0);
    free(buf);
    /* another topic, another id */
    CU_ASSERT_EQUAL_FATAL(metadata_call(fd, 12, 5, kw_slice_str("u"), NULL, a, &r, &buf), 0);
    CU_ASSERT_EQUAL(r.topics[0].error_code, 0); /* auto-created */
    CU_ASSERT(memcmp(&r.topics[0].topic_id, &id, sizeof id) != 0);
    CU_ASSERT(memcmp(&r.topics[0].topic_id, &zero, sizeof id) != 0);
    free(buf);
    kw_arena_destroy(a);
    close(fd);
    mb_cluster_destroy(c);
}

void suite_mockbroker_protocol(void);
void suite_mockbroker_protocol(void) {
    tu_suite("mockbroker_protocol");
    tu_test("test_every_advertised_version_of_every_api_is_served",
            test_every_advertised_version_of_every_api_is_served);
    tu_test("test_fetch_waits_on_the_cluster_clock_and_wakes_on_new_data",
            test_fetch_waits_on_the_cluster_clock_and_wakes_on_new_data);
    tu_test("test_frame_larger_than_the_receive_buffer_is_served",
            test_frame_larger_than_the_receive_buffer_is_served);
    tu_test("test_produce_v10_not_leader_answer_names_the_leader",
            test_produce_v10_not_leader_answer_names_the_leader);
    tu_test("test_metadata_topic_ids_from_v10_and_lookup_by_id_from_v12",
            test_metadata_topic_ids_from_v10_and_lookup_by_id_from_v12);
}
