/* The group coordinator and the topic office over raw sockets: garbage and truncated bodies
 * for every new API (the broker closes that connection and keeps serving), and the group
 * rules on a clock the test moves (KIP-394 member ids, generations, session expiry,
 * NOT_COORDINATOR, commits checked against the generation). */
#include "protocol/kw_wire.h" /* hand-made frames */
#include "tests/test_mockbroker_client.h"

typedef void (*enc_fn)(kw_wbuf *wb, int16_t v);

#define ZERO_ENC(name, T)                                                                          \
    static void enc_##name(kw_wbuf *wb, int16_t v) {                                               \
        T m;                                                                                       \
        memset(&m, 0, sizeof m);                                                                   \
        kw_##name##_encode(wb, v, &m);                                                             \
    }
ZERO_ENC(find_coordinator_req, kw_find_coordinator_req)
ZERO_ENC(join_group_req, kw_join_group_req)
ZERO_ENC(sync_group_req, kw_sync_group_req)
ZERO_ENC(heartbeat_req, kw_heartbeat_req)
ZERO_ENC(leave_group_req, kw_leave_group_req)
ZERO_ENC(offset_commit_req, kw_offset_commit_req)
ZERO_ENC(offset_fetch_req, kw_offset_fetch_req)
ZERO_ENC(list_groups_req, kw_list_groups_req)
ZERO_ENC(describe_groups_req, kw_describe_groups_req)
ZERO_ENC(create_topics_req, kw_create_topics_req)
ZERO_ENC(delete_topics_req, kw_delete_topics_req)
ZERO_ENC(create_partitions_req, kw_create_partitions_req)
ZERO_ENC(describe_configs_req, kw_describe_configs_req)
ZERO_ENC(ofle_req, kw_ofle_req)

static const struct {
    int16_t key;
    enc_fn enc;
} new_apis[] = {
    {KW_API_FIND_COORDINATOR, enc_find_coordinator_req},
    {KW_API_JOIN_GROUP, enc_join_group_req},
    {KW_API_SYNC_GROUP, enc_sync_group_req},
    {KW_API_HEARTBEAT, enc_heartbeat_req},
    {KW_API_LEAVE_GROUP, enc_leave_group_req},
    {KW_API_OFFSET_COMMIT, enc_offset_commit_req},
    {KW_API_OFFSET_FETCH, enc_offset_fetch_req},
    {KW_API_LIST_GROUPS, enc_list_groups_req},
    {KW_API_DESCRIBE_GROUPS, enc_describe_groups_req},
    {KW_API_CREATE_TOPICS, enc_create_topics_req},
    {KW_API_DELETE_TOPICS, enc_delete_topics_req},
    {KW_API_CREATE_PARTITIONS, enc_create_partitions_req},
    {KW_API_DESCRIBE_CONFIGS, enc_describe_configs_req},
    {KW_API_OFFSET_FOR_LEADER_EPOCH, enc_ofle_req},
};

/* Sends one request with this body; true when the broker answered it (a frame with our
 * correlation id) or closed the connection (EOF) — anything but silence. */
static bool answered_or_closed(int port, int16_t key, int16_t v, const uint8_t *p, size_t n,
                               bool *closed) {
    int fd = tc_connect(port);
    if (fd < 0)
        return false;
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_wbuf_append(&body, p, n);
    bool ok = tc_send_request(fd, key, v, 77, &body);
    kw_wbuf_free(&body);
    uint8_t *buf = NULL;
    ssize_t r = ok ? tc_recv_frame(fd, &buf, 5000) : -1;
    *closed = r == 0;
    bool good = r == 0 || (r >= 4 && buf[0] == 0 && buf[1] == 0 && buf[2] == 0 && buf[3] == 77);
    free(buf);
    close(fd);
    return good;
}

/* ApiVersions on a fresh connection: the broker still serves. */
static bool still_serves(int port) {
    int fd = tc_connect(port);
    if (fd < 0)
        return false;
    kw_wbuf body;
    kw_wbuf_init(&body);
    bool ok = tc_send_request(fd, KW_API_API_VERSIONS, 0, 5, &body);
    kw_wbuf_free(&body);
    uint8_t *buf = NULL;
    kw_rbuf rb;
    kw_response_header h;
    ok = ok && tc_recv_response(fd, KW_API_API_VERSIONS, 0, 5000, &buf, &rb, &h) > 0 &&
         h.correlation_id == 5;
    free(buf);
    close(fd);
    return ok;
}

static void test_garbage_and_truncated_bodies_for_every_new_api_broker_keeps_serving(void) {
    mb_cluster *c = tc_cluster(NULL, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    int port = mb_broker_port(c, 1);
    uint32_t seed = 12345;
    int sent = 0, closed_n = 0, silent = 0;
    for (size_t i = 0; i < sizeof new_apis / sizeof new_apis[0]; i++) {
        const kw_api_range *rg = kw_api_supported(new_apis[i].key);
        CU_ASSERT_PTR_NOT_NULL_FATAL(rg);
        for (int16_t v = rg->min_version; v <= rg->max_version; v++) {
            kw_wbuf wb;
            kw_wbuf_init(&wb);
            new_apis[i].enc(&wb, v);
            /* every truncation of a valid body, and the body with a byte of trailing garbage */
            for (size_t cut = 0; cut < wb.len; cut++) {
                bool closed;
                silent += !answered_or_closed(port, new_apis[i].key, v, wb.p, cut, &closed);
                closed_n += closed;
                sent++;
            }
            kw_write_i8(&wb, 0x5a);
            bool closed;
            silent += !answered_or_closed(port, new_apis[i].key, v, wb.p, wb.len, &closed);
            closed_n += closed;
            sent++;
            /* random garbage bodies */
            for (int k = 0; k < 8; k++) {
                uint8_t g[64];
                size_t n = 1 + (seed % sizeof g);
                for (size_t j = 0; j < n; j++) {
                    seed = seed * 1103515245u + 12345u;
                    g[j] = (uint8_t)(seed >> 16);
                }
                silent += !answered_or_closed(port, new_apis[i].key, v, g, n, &closed);
                sent++;
            }
            kw_wbuf_free(&wb);
        }
        CU_ASSERT_TRUE(still_serves(port));
    }
    fprintf(stderr, "\n    %d bad bodies sent, %d closed the connection, %d unanswered\n", sent,
            closed_n, silent);
    CU_ASSERT_EQUAL(silent, 0);
    CU_ASSERT_TRUE(closed_n > 0);
    CU_ASSERT_TRUE(still_serves(port));
    CU_ASSERT_EQUAL(tc_produce(c, 1, "t", 0, -1, 3, "after", -1, -1, -1).error, 0);
    mb_cluster_destroy(c);
}

/* ---- the group rules on the test's clock ---- */

typedef struct gclient {
    int fd;
    int32_t corr;
} gclient;

static kw_arena *g_arena;

static bool send_recv(gclient *gc, int16_t key, int16_t ver, kw_wbuf *body, uint8_t **buf,
                      kw_rbuf *rb) {
    int32_t corr = ++gc->corr;
    if (!tc_send_request(gc->fd, key, ver, corr, body))
        return false;
    kw_response_header h;
    if (tc_recv_response(gc->fd, key, ver, 10000, buf, rb, &h) <= 0)
        return false;
    return h.correlation_id == corr;
}

static int16_t join(gclient *gc, int16_t ver, const char *group, const char *member,
                    kw_join_group_resp *out, uint8_t **buf) {
    static kw_join_group_protocol proto = {{(const uint8_t *)"range", 5}, {(const uint8_t *)"m", 1}};
    kw_join_group_req req = {kw_slice_str(group), 6000, 6000, kw_slice_str(member), KW_SLICE_NULL,
                             kw_slice_str("consumer"), 1, &proto};
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_join_group_req_encode(&body, ver, &req);
    kw_rbuf rb;
    bool ok = send_recv(gc, KW_API_JOIN_GROUP, ver, &body, buf, &rb);
    kw_wbuf_free(&body);
    if (!ok || kw_join_group_resp_decode(&rb, ver, g_arena, out))
        return -999;
    return out->error_code;
}

static int16_t heartbeat(gclient *gc, const char *group, int32_t gen, kw_slice member) {
    kw_heartbeat_req req = {kw_slice_str(group), gen, member, KW_SLICE_NULL};
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_heartbeat_req_encode(&body, 1, &req);
    uint8_t *buf = NULL;
    kw_rbuf rb;
    kw_group_simple_resp resp;
    bool ok = send_recv(gc, KW_API_HEARTBEAT, 1, &body, &buf, &rb) &&
              !kw_heartbeat_resp_decode(&rb, 1, g_arena, &resp);
    kw_wbuf_free(&body);
    free(buf);
    return ok ? resp.error_code : -999;
}

static int16_t commit(gclient *gc, const char *group, int32_t gen, kw_slice member, int64_t off) {
    kw_offset_commit_req_partition p = {0, off, -1, KW_SLICE_NULL};
    kw_offset_commit_req_topic t = {kw_slice_str("t"), 1, &p};
    kw_offset_commit_req req = {kw_slice_str(group), gen, member, KW_SLICE_NULL, -1, 1, &t};
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_offset_commit_req_encode(&body, 2, &req);
    uint8_t *buf = NULL;
    kw_rbuf rb;
    kw_offset_commit_resp resp;
    bool ok = send_recv(gc, KW_API_OFFSET_COMMIT, 2, &body, &buf, &rb) &&
              !kw_offset_commit_resp_decode(&rb, 2, g_arena, &resp) && resp.n_topics == 1;
    kw_wbuf_free(&body);
    int16_t e = ok ? resp.topics[0].partitions[0].error_code : -999;
    free(buf);
    return e;
}

static _Atomic int group_events[MB_EV__COUNT];

static void count_events(const mb_event *ev, void *opaque) {
    (void)opaque;
    if (ev->kind >= 0 && ev->kind < MB_EV__COUNT)
        atomic_fetch_add(&group_events[ev->kind], 1);
}

static void test_group_rules_member_id_generation_session_coordinator(void) {
    g_arena = kw_arena_new();
    for (int i = 0; i < MB_EV__COUNT; i++)
        atomic_store(&group_events[i], 0);
    mb_config conf;
    mb_config_init(&conf);
    static mb_topic_config topics[1] = {{"t", 3, 3, 0}};
    conf.topics = topics;
    conf.n_topics = 1;
    conf.clock = &tc_fake_clock;
    conf.log_cb = tc_quiet_log;
    conf.group_initial_rebalance_delay_ms = 0;
    conf.event_cb = count_events;
    mb_cluster *c = NULL;
    char err[256];
    CU_ASSERT_FATAL(mb_cluster_new(&conf, &c, err, sizeof err) == MB_OK);
    CU_ASSERT_FATAL(mb_cluster_start(c, err, sizeof err) == MB_OK);
    const char *group = "g"; /* coordinated by broker 1 (abs(hash) % 50 = 3 → (3 % 3) + 1) */
    CU_ASSERT_EQUAL(mb_group_coordinator_id(c, group), 1);
    gclient a = {tc_connect(mb_broker_port(c, 1)), 0};
    gclient other = {tc_connect(mb_broker_port(c, 2)), 100};

    /* another broker is not the coordinator */
    kw_join_group_resp jr;
    uint8_t *buf = NULL;
    CU_ASSERT_EQUAL(join(&other, 5, group, "", &jr, &buf), KW_ERR_NOT_COORDINATOR);
    free(buf);
    /* KIP-394: v5 without a member id gets one with MEMBER_ID_REQUIRED, then joins with it */
    CU_ASSERT_EQUAL(join(&a, 5, group, "", &jr, &buf), KW_ERR_MEMBER_ID_REQUIRED);
    char mid[256];
    kw_slice_cstr(jr.member_id, mid, sizeof mid);
    CU_ASSERT_TRUE(strlen(mid) > 10);
    CU_ASSERT_PTR_NOT_NULL(strstr(mid, "mb-test-"));
    free(buf);
    CU_ASSERT_EQUAL(join(&a, 5, group, mid, &jr, &buf), 0);
    CU_ASSERT_EQUAL(jr.generation_id, 1);
    CU_ASSERT_TRUE(kw_slice_eq(jr.leader, mid));
    CU_ASSERT_EQUAL(jr.n_members, 1);
    CU_ASSERT_TRUE(kw_slice_eq(jr.protocol_name, "range"));
    free(buf);
    kw_slice m = kw_slice_str(mid);
    /* CompletingRebalance: a commit is REBALANCE_IN_PROGRESS */
    CU_ASSERT_EQUAL(commit(&a, group, 1, m, 5), KW_ERR_REBALANCE_IN_PROGRESS);
    /* the leader's SyncGroup makes the group Stable */
    kw_sync_group_assignment as = {m, {(const uint8_t *)"ASSIGN", 6}};
    kw_sync_group_req sreq = {kw_slice_str(group), 1, m, KW_SLICE_NULL, 1, &as};
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_sync_group_req_encode(&body, 1, &sreq);
    kw_rbuf rb;
    kw_sync_group_resp sr;
    CU_ASSERT_TRUE(send_recv(&a, KW_API_SYNC_GROUP, 1, &body, &buf, &rb));
    kw_wbuf_free(&body);
    CU_ASSERT_EQUAL(kw_sync_group_resp_decode(&rb, 1, g_arena, &sr), 0);
    CU_ASSERT_EQUAL(sr.error_code, 0);
    CU_ASSERT_TRUE(kw_slice_eq(sr.assignment, "ASSIGN"));
    free(buf);
    CU_ASSERT_EQUAL(heartbeat(&a, group, 1, m), 0);
    CU_ASSERT_EQUAL(heartbeat(&a, group, 7, m), KW_ERR_ILLEGAL_GENERATION);
    CU_ASSERT_EQUAL(heartbeat(&a, group, 1, kw_slice_str("stranger")), KW_ERR_UNKNOWN_MEMBER_ID);
    CU_ASSERT_EQUAL(commit(&a, group, 1, m, 42), 0);
    CU_ASSERT_EQUAL(commit(&a, group, 0, m, 43), KW_ERR_ILLEGAL_GENERATION);
    int64_t off = -1;
    CU_ASSERT_EQUAL(mb_group_committed(c, group, "t", 0, &off), MB_OK);
    CU_ASSERT_EQUAL(off, 42);
    /* the session: 5 s of silence is fine, 7 s expires the member (session.timeout.ms 6000) */
    tc_advance_ms(5000);
    CU_ASSERT_EQUAL(heartbeat(&a, group, 1, m), 0);
    tc_advance_ms(7000);
    CU_ASSERT_EQUAL(heartbeat(&a, group, 1, m), KW_ERR_UNKNOWN_MEMBER_ID);
    mb_group_info gi[2];
    CU_ASSERT_EQUAL(mb_groups_list(c, gi, 2), 1);
    CU_ASSERT_STRING_EQUAL(gi[0].state, "Empty");
    CU_ASSERT_EQUAL(gi[0].members, 0);
    CU_ASSERT_EQUAL(gi[0].generation, 2);
    /* the committed offset outlives the members; a commit from outside (generation -1) is
     * allowed while the group is Empty */
    CU_ASSERT_EQUAL(commit(&a, group, -1, kw_slice_str(""), 50), 0);
    CU_ASSERT_EQUAL(mb_group_committed(c, group, "t", 0, &off), MB_OK);
    CU_ASSERT_EQUAL(off, 50);
    /* the coordinator's broker goes down: the group moves, its offsets with it */
    CU_ASSERT_EQUAL(mb_broker_down(c, 1), MB_OK);
    int32_t now_coord = mb_group_coordinator_id(c, group);
    CU_ASSERT_TRUE(now_coord == 2 || now_coord == 3);
    gclient b = {tc_connect(mb_broker_port(c, now_coord)), 200};
    kw_offset_fetch_req_topic ft = {kw_slice_str("t"), 1, (int32_t[]){0}};
    kw_offset_fetch_req freq = {kw_slice_str(group), 1, &ft};
    kw_wbuf_init(&body);
    kw_offset_fetch_req_encode(&body, 5, &freq);
    kw_offset_fetch_resp fr;
    CU_ASSERT_TRUE(send_recv(&b, KW_API_OFFSET_FETCH, 5, &body, &buf, &rb));
    kw_wbuf_free(&body);
    CU_ASSERT_EQUAL(kw_offset_fetch_resp_decode(&rb, 5, g_arena, &fr), 0);
    CU_ASSERT_EQUAL(fr.error_code, 0);
    CU_ASSERT_EQUAL(fr.topics[0].partitions[0].committed_offset, 50);
    free(buf);
    close(a.fd);
    close(other.fd);
    close(b.fd);
    mb_cluster_destroy(c);
    kw_arena_destroy(g_arena);
    /* every change was an event (the trace and the view read these) */
    static const mb_event_kind kinds[] = {MB_EV_GROUP_MEMBER_JOINED, MB_EV_GROUP_REBALANCING,
                                          MB_EV_GROUP_REBALANCED,    MB_EV_GROUP_ASSIGNED,
                                          MB_EV_OFFSET_COMMITTED,    MB_EV_GROUP_MEMBER_EXPIRED};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (atomic_load(&group_events[kinds[i]]) < 1)
            fprintf(stderr, "\n    no %s event\n", mb_event_kind_name(kinds[i]));
        CU_ASSERT_TRUE(atomic_load(&group_events[kinds[i]]) >= 1);
    }
    CU_ASSERT_EQUAL(atomic_load(&group_events[MB_EV_OFFSET_COMMITTED]), 2); /* 42, then 50 */
}

void suite_mockbroker_groups(void);
void suite_mockbroker_groups(void) {
    tu_suite("mockbroker_groups");
    tu_test("garbage and truncated bodies for every new API: the broker keeps serving",
            test_garbage_and_truncated_bodies_for_every_new_api_broker_keeps_serving);
    tu_test("group rules: member ids, generations, session, coordinator",
            test_group_rules_member_id_generation_session_coordinator);
}
