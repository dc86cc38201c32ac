/* Each injected fault, the robustness of the front door (garbage, truncated frames, a 2 GiB
 * length prefix, unknown APIs) and the event sink contract. Over real sockets. */
#include "protocol/kw_wire.h" /* hand-made frames */
#include "tests/test_mockbroker_client.h"

#include <pthread.h>

/* Sends ApiVersions at `ver` and returns the response's error code (-1: no answer). */
static int api_versions(int fd, int16_t ver, int32_t corr, int timeout_ms, int32_t *n_keys) {
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_api_versions_req req = {kw_slice_str("mbtest"), kw_slice_str("1.0")};
    if (ver <= 4)
        kw_api_versions_req_encode(&body, ver, &req);
    bool ok = tc_send_request(fd, KW_API_API_VERSIONS, ver, corr, &body);
    kw_wbuf_free(&body);
    if (!ok)
        return -1;
    uint8_t *buf;
    kw_rbuf rb;
    kw_response_header h;
    if (tc_recv_response(fd, KW_API_API_VERSIONS, ver, timeout_ms, &buf, &rb, &h) <= 0)
        return -1;
    int rc = -1;
    kw_arena *a = kw_arena_new();
    kw_api_versions_resp resp;
    int16_t dv = ver > 4 ? 0 : ver;
    if (h.correlation_id == corr && kw_api_versions_resp_decode(&rb, dv, a, &resp) == KW_ERR_NONE) {
        rc = resp.error_code;
        if (n_keys)
            *n_keys = resp.n_api_keys;
    }
    kw_arena_destroy(a);
    free(buf);
    return rc;
}

/* True when a well-behaved client is served by the broker. */
static bool served(mb_cluster *c, int32_t node) {
    int fd = tc_connect(mb_broker_port(c, node));
    if (fd < 0)
        return false;
    int32_t n = 0;
    int rc = api_versions(fd, 3, 77, 5000, &n);
    close(fd);
    return rc == 0 && n >= 6;
}

static bool served_1(void *arg) {
    return served(arg, 1);
}

/* True when the server closed the connection (EOF) within the timeout. */
static bool closed_by_peer(int fd, int timeout_ms) {
    uint8_t b[256];
    int64_t end = tu_now_ms() + timeout_ms;
    while (tu_now_ms() < end) {
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 50) > 0) {
            ssize_t r = recv(fd, b, sizeof b, 0);
            if (r <= 0)
                return true;
        }
    }
    return false;
}

static int log_lines;
static void count_log(int level, const char *line, void *opaque) {
    (void)level;
    (void)line;
    (void)opaque;
    __atomic_fetch_add(&log_lines, 1, __ATOMIC_SEQ_CST);
}

static void test_garbage_truncated_and_huge_frames_close_only_that_connection(void) {
    mb_config conf;
    mb_config_init(&conf);
    conf.log_cb = count_log;
    mb_topic_config t = {"t", 1, 1, 0};
    conf.topics = &t;
    conf.n_topics = 1;
    mb_cluster *c;
    char err[200];
    CU_ASSERT_EQUAL_FATAL(mb_cluster_new(&conf, &c, err, sizeof err), MB_OK);
    CU_ASSERT_EQUAL_FATAL(mb_cluster_start(c, err, sizeof err), MB_OK);
    int port = mb_broker_port(c, 1);
    /* A bystander connected before the abuse keeps working after it. */
    int keep = tc_connect(port);
    CU_ASSERT_EQUAL(api_versions(keep, 0, 1, 5000, NULL), 0);

    /* 1. a 2 GiB length prefix */
    int fd = tc_connect(port);
    uint8_t huge[4] = {0x7f, 0xff, 0xff, 0xff};
    tc_send_all(fd, huge, 4);
    CU_ASSERT_TRUE(closed_by_peer(fd, 5000));
    close(fd);
    /* 2. a negative length */
    fd = tc_connect(port);
    uint8_t neg[4] = {0xff, 0xff, 0xff, 0xf0};
    tc_send_all(fd, neg, 4);
    CU_ASSERT_TRUE(closed_by_peer(fd, 5000));
    close(fd);
    /* 3. garbage inside a well-sized frame (a header that claims an absurd client id) */
    fd = tc_connect(port);
    uint8_t garbage[14] = {0, 0, 0, 10, 0, 3, 0, 1, 0, 0, 0, 1, 0x7f, 0x7f};
    tc_send_all(fd, garbage, sizeof garbage);
    CU_ASSERT_TRUE(closed_by_peer(fd, 5000));
    close(fd);
    /* 4. random bytes */
    fd = tc_connect(port);
    uint8_t rnd[64];
    for (size_t i = 0; i < sizeof rnd; i++)
        rnd[i] = (uint8_t)(i * 37 + 11);
    rnd[0] = 0;
    rnd[1] = 0;
    rnd[2] = 0;
    rnd[3] = 60;
    tc_send_all(fd, rnd, sizeof rnd);
    CU_ASSERT_TRUE(closed_by_peer(fd, 5000));
    close(fd);
    /* 5. a truncated frame, then the client goes away */
    fd = tc_connect(port);
    uint8_t trunc[10] = {0, 0, 0, 100, 0, 18, 0, 0, 0, 0};
    tc_send_all(fd, trunc, sizeof trunc);
    close(fd);
    /* 6. a Produce request whose body is cut short (valid header) */
    fd = tc_connect(port);
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_write_i16(&body, 1); /* only acks: no timeout, no topics */
    tc_send_request(fd, KW_API_PRODUCE, 7, 5, &body);
    kw_wbuf_free(&body);
    CU_ASSERT_TRUE(closed_by_peer(fd, 5000));
    close(fd);
    /* 7. an API we do not speak */
    fd = tc_connect(port);
    tc_send_request(fd, 11 /* JoinGroup */, 5, 6, NULL);
    CU_ASSERT_TRUE(closed_by_peer(fd, 5000));
    close(fd);
    /* The broker still serves: a new client and the old one. */
    CU_ASSERT_TRUE(served(c, 1));
    CU_ASSERT_EQUAL(api_versions(keep, 3, 2, 5000, NULL), 0);
    tc_produce_result r = tc_produce(c, 1, "t", 0, 1, 2, "ok", -1, -1, -1);
    CU_ASSERT_EQUAL(r.error, 0);
    CU_ASSERT_TRUE(__atomic_load_n(&log_lines, __ATOMIC_SEQ_CST) >= 6); /* reasons were logged */
    close(keep);
    mb_cluster_destroy(c);
}

/* As Kafka (ApiVersionsRequest.getErrorResponse): the error and only the ApiVersions entry. */
static void test_api_versions_unknown_version_answers_unsupported_with_ranges(void) {
    mb_cluster *c = tc_cluster(NULL, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    int fd = tc_connect(mb_broker_port(c, 1));
    int32_t n = 0;
    CU_ASSERT_EQUAL(api_versions(fd, 9, 1, 5000, &n), KW_ERR_UNSUPPORTED_VERSION);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(api_versions(fd, 0, 2, 5000, NULL), 0); /* the client retries v0 */
    close(fd);
    mb_cluster_destroy(c);
}

/* ApiVersions v3+ client software name/version are checked as Kafka does
 * (ApiVersionsRequest.isValid): INVALID_REQUEST with no ranges, and the connection stays. */
static int api_versions_as(int fd, int16_t ver, const char *name, const char *version,
                           int32_t *n_keys) {
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_api_versions_req req = {kw_slice_str(name), kw_slice_str(version)};
    kw_api_versions_req_encode(&body, ver, &req);
    bool ok = tc_send_request(fd, KW_API_API_VERSIONS, ver, 77, &body);
    kw_wbuf_free(&body);
    uint8_t *buf;
    kw_rbuf rb;
    kw_response_header h;
    if (!ok || tc_recv_response(fd, KW_API_API_VERSIONS, ver, 5000, &buf, &rb, &h) <= 0)
        return -1;
    int rc = -1;
    kw_arena *a = kw_arena_new();
    kw_api_versions_resp resp;
    if (h.correlation_id == 77 && kw_api_versions_resp_decode(&rb, ver, a, &resp) == KW_ERR_NONE) {
        rc = resp.error_code;
        *n_keys = resp.n_api_keys;
    }
    kw_arena_destroy(a);
    free(buf);
    return rc;
}

static void test_api_versions_checks_client_software_name_and_version(void) {
    mb_cluster *c = tc_cluster(NULL, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    int fd = tc_connect(mb_broker_port(c, 1));
    static const struct {
        const char *name, *version;
        bool ok;
    } cases[] = {
        {"librdkafka", "2.0.2", true},      {"apache-kafka-java", "3.9.0", true},
        {"a", "1", true},                   {"courier-producer", "0.2.0-rc.1", true},
        {"", "1.0", false},                 {"bad name", "1.0", false},
        {"-leading", "1.0", false},         {"trailing.", "1.0", false},
        {"ok", "1.0+build", false},         {"ok", "", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int16_t v = 3; v <= 4; v++) {
            int32_t n = -1;
            int rc = api_versions_as(fd, v, cases[i].name, cases[i].version, &n);
            if (rc != (cases[i].ok ? 0 : KW_ERR_INVALID_REQUEST))
                fprintf(stderr, "\n'%s' '%s' v%d: error %d\n", cases[i].name, cases[i].version, v,
                        rc);
            CU_ASSERT_EQUAL(rc, cases[i].ok ? 0 : KW_ERR_INVALID_REQUEST);
            CU_ASSERT(cases[i].ok ? n >= 6 : n == 0);
        }
    }
    /* v0-2 carry no software fields: nothing to check */
    int32_t n = 0;
    CU_ASSERT_EQUAL(api_versions(fd, 2, 5, 5000, &n), 0);
    close(fd);
    mb_cluster_destroy(c);
}

static void test_pipelined_requests_are_answered_in_order(void) {
    mb_cluster *c = tc_cluster(NULL, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    int fd = tc_connect(mb_broker_port(c, 1));
    /* ApiVersions v0, Metadata v0 and ApiVersions v1 in one write, as kafka-python does. */
    kw_wbuf all, body;
    kw_wbuf_init(&all);
    kw_wbuf_init(&body);
    for (int i = 0; i < 3; i++) {
        int16_t key = i == 1 ? KW_API_METADATA : KW_API_API_VERSIONS;
        int16_t ver = i == 2 ? 1 : 0;
        kw_wbuf_reset(&body);
        if (key == KW_API_METADATA) {
            kw_metadata_req mr = {0, NULL, true, false, false, NULL};
            kw_metadata_req_encode(&body, 0, &mr);
        }
        size_t st = kw_frame_begin(&all);
        kw_request_header h = {key, ver, 100 + i, kw_slice_str("pipe")};
        kw_request_header_encode(&all, &h);
        kw_wbuf_append(&all, body.p, body.len);
        kw_frame_end(&all, st);
    }
    CU_ASSERT_TRUE(tc_send_all(fd, all.p, all.len));
    for (int i = 0; i < 3; i++) {
        uint8_t *buf;
        ssize_t n = tc_recv_frame(fd, &buf, 5000);
        CU_ASSERT_FATAL(n >= 4);
        int32_t corr = (int32_t)(((uint32_t)buf[0] << 24) | ((uint32_t)buf[1] << 16) |
                                 ((uint32_t)buf[2] << 8) | buf[3]);
        CU_ASSERT_EQUAL(corr, 100 + i);
        free(buf);
    }
    kw_wbuf_free(&all);
    kw_wbuf_free(&body);
    close(fd);
    mb_cluster_destroy(c);
}

static bool refused(void *arg) {
    int fd = tc_connect(*(int *)arg);
    if (fd < 0)
        return true;
    close(fd);
    return false;
}

static void test_broker_down_closes_sockets_elects_and_up_serves_again(void) {
    mb_cluster *c = tc_cluster(NULL, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    int port = mb_broker_port(c, 1);
    int fd = tc_connect(port);
    CU_ASSERT_EQUAL(api_versions(fd, 0, 1, 5000, NULL), 0);
    CU_ASSERT_EQUAL(mb_broker_down(c, 1), MB_OK);
    CU_ASSERT_FALSE(mb_broker_is_up(c, 1));
    CU_ASSERT_TRUE(closed_by_peer(fd, 5000));
    close(fd);
    CU_ASSERT_TRUE(tu_wait_until(refused, &port, 5000));
    mb_partition_info in = tc_info(c, "t", 0);
    CU_ASSERT_EQUAL(in.leader, 2);
    CU_ASSERT_EQUAL(in.n_isr, 2);
    CU_ASSERT_EQUAL(mb_broker_up(c, 1), MB_OK);
    CU_ASSERT_TRUE(tu_wait_until(served_1, c, 5000));
    CU_ASSERT_EQUAL(mb_broker_port(c, 1), port); /* same port */
    mb_cluster_destroy(c);
}

static void test_rtt_delays_every_response_by_the_clock(void) {
    mb_cluster *c = tc_cluster(&tc_fake_clock, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    CU_ASSERT_EQUAL(mb_broker_set_rtt(c, 1, 1000), MB_OK);
    int fd = tc_connect(mb_broker_port(c, 1));
    kw_wbuf empty;
    kw_wbuf_init(&empty);
    tc_send_request(fd, KW_API_API_VERSIONS, 0, 1, &empty);
    CU_ASSERT_TRUE(tc_wait_requests(c, 1, KW_API_API_VERSIONS, 1));
    uint8_t *buf;
    CU_ASSERT_EQUAL(tc_recv_frame(fd, &buf, 200), -1); /* held back */
    tc_advance_ms(999);
    CU_ASSERT_EQUAL(tc_recv_frame(fd, &buf, 100), -1);
    tc_advance_ms(1);
    ssize_t n = tc_recv_frame(fd, &buf, 5000);
    CU_ASSERT_TRUE(n > 0);
    free(buf);
    CU_ASSERT_EQUAL(mb_broker_set_rtt(c, 1, 0), MB_OK);
    CU_ASSERT_EQUAL(api_versions(fd, 0, 2, 5000, NULL), 0);
    close(fd);
    mb_cluster_destroy(c);
}

static _Atomic int dropped_events;
static void count_dropped(const mb_event *ev, void *opaque) {
    (void)opaque;
    if (ev->kind == MB_EV_RESPONSE_DROPPED)
        atomic_fetch_add(&dropped_events, 1);
}
static bool two_dropped(void *arg) {
    (void)arg;
    return atomic_load(&dropped_events) >= 2;
}

static void test_dropped_response_stalls_connection_but_batches_are_appended(void) {
    atomic_store(&dropped_events, 0);
    mb_cluster *c = tc_cluster(NULL, 0, 0, count_dropped, NULL);
    CU_ASSERT_FATAL(c != NULL);
    CU_ASSERT_EQUAL(mb_broker_drop_responses(c, 1, 1), MB_OK);
    int fd = tc_connect(mb_broker_port(c, 1));
    size_t blen;
    uint8_t *b = tc_make_batch(3, "drop", -1, -1, -1, &blen);
    CU_ASSERT_TRUE(tc_produce_send(fd, 1, "t", 0, 1, 5000, b, blen));
    CU_ASSERT_TRUE(tc_produce_send(fd, 2, "t", 0, 1, 5000, b, blen));
    /* The first answer is dropped; the second cannot overtake it on the same connection. */
    CU_ASSERT_TRUE(tu_wait_until(two_dropped, NULL, 5000));
    uint8_t byte;
    CU_ASSERT_EQUAL(recv(fd, &byte, 1, MSG_DONTWAIT), -1); /* nothing was sent */
    CU_ASSERT_EQUAL(tc_info(c, "t", 0).log_end_offset, 6); /* ...but both were appended */
    /* Only one response was to be dropped: a new connection is answered normally. */
    tc_produce_result r = tc_produce(c, 1, "t", 0, 1, 1, "after", -1, -1, -1);
    CU_ASSERT_TRUE(r.answered);
    CU_ASSERT_EQUAL(r.error, 0);
    CU_ASSERT_EQUAL(r.base_offset, 6);
    free(b);
    close(fd);
    mb_cluster_destroy(c);
}

static void test_pushed_errors_fail_next_requests_in_order(void) {
    mb_cluster *c = tc_cluster(NULL, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    kw_err errs[2] = {KW_ERR_NOT_LEADER_OR_FOLLOWER, KW_ERR_REQUEST_TIMED_OUT};
    CU_ASSERT_EQUAL(mb_push_request_errors(c, KW_API_PRODUCE, NULL, -1, errs, 2), MB_OK);
    CU_ASSERT_EQUAL(tc_produce(c, 1, "t", 0, 1, 1, "p", -1, -1, -1).error,
                    KW_ERR_NOT_LEADER_OR_FOLLOWER);
    CU_ASSERT_EQUAL(tc_produce(c, 1, "t", 0, 1, 1, "p", -1, -1, -1).error,
                    KW_ERR_REQUEST_TIMED_OUT);
    CU_ASSERT_EQUAL(tc_produce(c, 1, "t", 0, 1, 1, "p", -1, -1, -1).error, 0);
    /* Per partition: only partition 1 fails. */
    kw_err one = KW_ERR_KAFKA_STORAGE_ERROR;
    CU_ASSERT_EQUAL(mb_push_request_errors(c, KW_API_PRODUCE, "t", 1, &one, 1), MB_OK);
    CU_ASSERT_EQUAL(tc_produce(c, 1, "t", 0, 1, 1, "p", -1, -1, -1).error, 0);
    CU_ASSERT_EQUAL(tc_produce(c, 2, "t", 1, 1, 1, "p", -1, -1, -1).error,
                    KW_ERR_KAFKA_STORAGE_ERROR);
    CU_ASSERT_EQUAL(tc_produce(c, 2, "t", 1, 1, 1, "p", -1, -1, -1).error, 0);
    CU_ASSERT_EQUAL(tc_info(c, "t", 1).log_end_offset, 1); /* the failed one was not appended */
    /* InitProducerId as a whole */
    kw_err cna = KW_ERR_COORDINATOR_NOT_AVAILABLE;
    CU_ASSERT_EQUAL(mb_push_request_errors(c, KW_API_INIT_PRODUCER_ID, NULL, -1, &cna, 1), MB_OK);
    CU_ASSERT_EQUAL(tc_init_pid(c, 1), -1);
    CU_ASSERT_TRUE(tc_init_pid(c, 1) >= 0);
    mb_cluster_destroy(c);
}

static void test_move_leader_bumps_epoch_and_redirects_produce(void) {
    mb_cluster *c = tc_cluster(NULL, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    CU_ASSERT_EQUAL(tc_produce(c, 1, "t", 0, -1, 2, "m", -1, -1, -1).error, 0);
    CU_ASSERT_EQUAL(mb_partition_move_leader(c, "t", 0, 3), MB_OK);
    mb_partition_info in = tc_info(c, "t", 0);
    CU_ASSERT_EQUAL(in.leader, 3);
    CU_ASSERT_EQUAL(in.leader_epoch, 1);
    CU_ASSERT_EQUAL(tc_produce(c, 1, "t", 0, 1, 1, "m", -1, -1, -1).error,
                    KW_ERR_NOT_LEADER_OR_FOLLOWER);
    tc_produce_result r = tc_produce(c, 3, "t", 0, -1, 1, "m", -1, -1, -1);
    CU_ASSERT_EQUAL(r.error, 0);
    CU_ASSERT_EQUAL(r.base_offset, 2);
    mb_broker_down(c, 2);
    CU_ASSERT_EQUAL(mb_partition_move_leader(c, "t", 0, 2), MB_ERR_NOT_IN_ISR);
    CU_ASSERT_EQUAL(mb_partition_move_leader(c, "nope", 0, 1), MB_ERR_UNKNOWN_TOPIC);
    CU_ASSERT_EQUAL(mb_partition_move_leader(c, "t", 9, 1), MB_ERR_UNKNOWN_PARTITION);
    CU_ASSERT_EQUAL(mb_partition_move_leader(c, "t", 0, 99), MB_ERR_UNKNOWN_BROKER);
    mb_cluster_destroy(c);
}

typedef struct isr_wait2 {
    mb_cluster *c;
    int32_t n;
} isr_wait2;
static bool p0_isr_is(void *arg) {
    isr_wait2 *w = arg;
    mb_partition_info in;
    mb_partition_info_get(w->c, "t", 0, &in);
    return in.n_isr == w->n;
}

static void test_isolated_broker_stops_replicating_and_heals(void) {
    mb_cluster *c = tc_cluster(&tc_fake_clock, 0, 500, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    CU_ASSERT_EQUAL(mb_broker_isolate(c, 3), MB_OK);
    CU_ASSERT_TRUE(served(c, 3)); /* clients still reach it */
    CU_ASSERT_EQUAL(tc_produce(c, 1, "t", 0, 1, 4, "iso", -1, -1, -1).error, 0);
    tc_advance_ms(600);
    isr_wait2 w = {c, 2};
    CU_ASSERT_TRUE(tu_wait_until(p0_isr_is, &w, 5000));
    mb_partition_info in = tc_info(c, "t", 0);
    CU_ASSERT_EQUAL(in.replica_log_end[1], 4);
    CU_ASSERT_EQUAL(in.replica_log_end[2], 0); /* broker 3 copied nothing */
    CU_ASSERT_EQUAL(in.high_watermark, 4);
    CU_ASSERT_EQUAL(mb_broker_heal(c, 3), MB_OK);
    w.n = 3;
    CU_ASSERT_TRUE(tu_wait_until(p0_isr_is, &w, 5000));
    CU_ASSERT_EQUAL(tc_info(c, "t", 0).replica_log_end[2], 4);
    mb_cluster_destroy(c);
}

/* The sink runs without the cluster lock: it may call the inspection API. */
typedef struct sink_state {
    mb_cluster *c;
    _Atomic int counts[MB_EV__COUNT];
    _Atomic int inspected;
    _Atomic int seq;
    _Atomic int produce_received_at, produce_appended_at, produce_answered_at;
} sink_state;

static void sink(const mb_event *ev, void *opaque) {
    sink_state *s = opaque;
    atomic_fetch_add(&s->counts[ev->kind], 1);
    int n = atomic_fetch_add(&s->seq, 1) + 1;
    if (ev->kind == MB_EV_REQUEST_RECEIVED && ev->api_key == KW_API_PRODUCE)
        atomic_store(&s->produce_received_at, n);
    if (ev->kind == MB_EV_RECORDS_APPENDED)
        atomic_store(&s->produce_appended_at, n);
    if (ev->kind == MB_EV_RESPONSE_SENT && ev->api_key == KW_API_PRODUCE)
        atomic_store(&s->produce_answered_at, n);
    mb_cluster *c = __atomic_load_n(&s->c, __ATOMIC_ACQUIRE);
    if (c && ev->topic && ev->partition >= 0 && ev->kind != MB_EV_TOPIC_CREATED) {
        mb_partition_info in;
        if (mb_partition_info_get(c, ev->topic, ev->partition, &in) == MB_OK)
            atomic_fetch_add(&s->inspected, 1);
    }
}

static bool saw_hw(void *arg) {
    sink_state *s = arg;
    return atomic_load(&s->counts[MB_EV_HW_ADVANCED]) > 0 &&
           atomic_load(&s->counts[MB_EV_RESPONSE_SENT]) > 0;
}

static void test_events_reach_the_sink_without_locks_held(void) {
    static sink_state s;
    memset(&s, 0, sizeof s);
    mb_cluster *c = tc_cluster(NULL, 0, 0, sink, &s);
    CU_ASSERT_FATAL(c != NULL);
    __atomic_store_n(&s.c, c, __ATOMIC_RELEASE);
    CU_ASSERT_EQUAL(tc_produce(c, 1, "t", 0, -1, 2, "ev", -1, -1, -1).error, 0);
    CU_ASSERT_TRUE(tu_wait_until(saw_hw, &s, 5000));
    mb_broker_down(c, 2);
    mb_partition_move_leader(c, "t", 0, 3);
    CU_ASSERT_TRUE(atomic_load(&s.counts[MB_EV_REQUEST_RECEIVED]) >= 1);
    CU_ASSERT_TRUE(atomic_load(&s.counts[MB_EV_RECORDS_APPENDED]) == 1);
    CU_ASSERT_TRUE(atomic_load(&s.counts[MB_EV_REPLICA_FETCHED]) >= 2);
    CU_ASSERT_TRUE(atomic_load(&s.counts[MB_EV_BROKER_DOWN]) == 1);
    CU_ASSERT_TRUE(atomic_load(&s.counts[MB_EV_LEADER_CHANGED]) >= 2);
    CU_ASSERT_TRUE(atomic_load(&s.counts[MB_EV_ISR_CHANGED]) >= 1);
    CU_ASSERT_TRUE(atomic_load(&s.counts[MB_EV_FAULT_INJECTED]) >= 2);
    CU_ASSERT_TRUE(atomic_load(&s.inspected) > 0);
    /* Causal order: received, appended, answered. */
    CU_ASSERT_TRUE(atomic_load(&s.produce_received_at) > 0);
    CU_ASSERT_TRUE(atomic_load(&s.produce_received_at) < atomic_load(&s.produce_appended_at));
    CU_ASSERT_TRUE(atomic_load(&s.produce_appended_at) < atomic_load(&s.produce_answered_at));
    __atomic_store_n(&s.c, NULL, __ATOMIC_RELEASE);
    mb_cluster_destroy(c);
}

static bool some_log_lines(void *arg) {
    (void)arg;
    return atomic_load(&tc_log_lines) > 0;
}

/* Random bodies behind valid headers, for every API and version we serve: each either gets an
 * answer or closes its connection; the broker never crashes and keeps serving. */
static void test_random_bodies_for_every_api_never_crash_the_broker(void) {
    mb_cluster *c = tc_cluster(NULL, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    unsigned seed = 12345;
    int frames = 0;
    int fd = tc_connect(mb_broker_port(c, 1));
    for (int round = 0; round < 600; round++) {
        const kw_api_range *r = &kw_supported_apis[(size_t)round % kw_supported_api_count];
        int16_t v = (int16_t)(r->min_version + round % (r->max_version - r->min_version + 1));
        kw_wbuf body;
        kw_wbuf_init(&body);
        int len = (int)(rand_r(&seed) % 300);
        for (int i = 0; i < len; i++) {
            /* Mostly small bytes, so lengths and counts look plausible. */
            uint8_t b = (uint8_t)(rand_r(&seed) % 7 == 0 ? rand_r(&seed) : rand_r(&seed) % 4);
            kw_wbuf_append(&body, &b, 1);
        }
        if (fd < 0)
            fd = tc_connect(mb_broker_port(c, 1));
        if (!tc_send_request(fd, r->api_key, v, round, &body)) {
            close(fd);
            fd = -1;
        }
        kw_wbuf_free(&body);
        frames++;
        if (round % 50 == 49 && fd >= 0) {
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0)
        close(fd);
    CU_ASSERT_EQUAL(frames, 600);
    CU_ASSERT_TRUE(tu_wait_until(served_1, c, 5000));
    CU_ASSERT_TRUE(tu_wait_until(some_log_lines, NULL, 5000)); /* the refusals were logged */
    CU_ASSERT_EQUAL(tc_produce(c, 1, "t", 0, -1, 1, "after", -1, -1, -1).error, 0);
    mb_cluster_destroy(c);
}

static _Atomic int last_sent_error[64];
static void record_sent_errors(const mb_event *ev, void *opaque) {
    (void)opaque;
    if (ev->kind == MB_EV_RESPONSE_SENT && ev->api_key >= 0 && ev->api_key < 64)
        atomic_store(&last_sent_error[ev->api_key], ev->error);
}

/* Receives a ListOffsets v5 or Fetch v11 answer for one partition; returns its error code. */
static int16_t recv_partition_error(int fd, int16_t key, int16_t ver) {
    uint8_t *buf;
    kw_rbuf rb;
    kw_response_header h;
    if (tc_recv_response(fd, key, ver, 5000, &buf, &rb, &h) <= 0)
        return -1;
    kw_arena *a = kw_arena_new();
    int16_t e = -1;
    if (key == KW_API_LIST_OFFSETS) {
        kw_list_offsets_resp m;
        if (kw_list_offsets_resp_decode(&rb, ver, a, &m) == KW_ERR_NONE)
            e = m.topics[0].partitions[0].error_code;
    } else {
        kw_fetch_resp m;
        if (kw_fetch_resp_decode(&rb, ver, a, &m) == KW_ERR_NONE)
            e = m.topics[0].partitions[0].error_code;
    }
    kw_arena_destroy(a);
    free(buf);
    return e;
}

/* The response.sent event carries the error its answer carries: a whole-request Produce error
 * (every partition has it) and a partition's error in ListOffsets and Fetch. */
static void test_response_sent_event_carries_the_answers_error(void) {
    for (int i = 0; i < 64; i++)
        atomic_store(&last_sent_error[i], -1);
    mb_cluster *c = tc_cluster(NULL, 0, 0, record_sent_errors, NULL);
    CU_ASSERT_FATAL(c != NULL);
    kw_err ner = KW_ERR_NOT_ENOUGH_REPLICAS, kse = KW_ERR_KAFKA_STORAGE_ERROR;
    CU_ASSERT_EQUAL(mb_push_request_errors(c, KW_API_PRODUCE, NULL, -1, &ner, 1), MB_OK);
    CU_ASSERT_EQUAL(tc_produce(c, 1, "t", 0, 1, 1, "e", -1, -1, -1).error, ner);
    CU_ASSERT_EQUAL(atomic_load(&last_sent_error[KW_API_PRODUCE]), ner);
    int fd = tc_connect(mb_broker_port(c, 1));
    CU_ASSERT_EQUAL(mb_push_request_errors(c, KW_API_LIST_OFFSETS, "t", 0, &kse, 1), MB_OK);
    kw_list_offsets_req_partition lp = {0, -1, -1};
    kw_list_offsets_req_topic lt = {kw_slice_str("t"), 1, &lp};
    kw_list_offsets_req lreq = {-1, 0, 1, &lt};
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_list_offsets_req_encode(&body, 5, &lreq);
    CU_ASSERT_TRUE(tc_send_request(fd, KW_API_LIST_OFFSETS, 5, 1, &body));
    CU_ASSERT_EQUAL(recv_partition_error(fd, KW_API_LIST_OFFSETS, 5), kse);
    CU_ASSERT_EQUAL(atomic_load(&last_sent_error[KW_API_LIST_OFFSETS]), kse);
    CU_ASSERT_EQUAL(mb_push_request_errors(c, KW_API_FETCH, "t", 0, &kse, 1), MB_OK);
    tc_fetch f;
    tc_fetch_init(&f, 0, 0, 0);
    kw_wbuf_reset(&body);
    kw_fetch_req_encode(&body, 11, &f.req);
    CU_ASSERT_TRUE(tc_send_request(fd, KW_API_FETCH, 11, 2, &body));
    CU_ASSERT_EQUAL(recv_partition_error(fd, KW_API_FETCH, 11), kse);
    CU_ASSERT_EQUAL(atomic_load(&last_sent_error[KW_API_FETCH]), kse);
    kw_wbuf_free(&body);
    close(fd);
    mb_cluster_destroy(c);
}

void suite_mockbroker_faults(void);
void suite_mockbroker_faults(void) {
    tu_suite("mockbroker_faults");
    tu_test("test_garbage_truncated_and_huge_frames_close_only_that_connection",
            test_garbage_truncated_and_huge_frames_close_only_that_connection);
    tu_test("test_api_versions_unknown_version_answers_unsupported_with_ranges",
            test_api_versions_unknown_version_answers_unsupported_with_ranges);
    tu_test("test_api_versions_checks_client_software_name_and_version",
            test_api_versions_checks_client_software_name_and_version);
    tu_test("test_pipelined_requests_are_answered_in_order",
            test_pipelined_requests_are_answered_in_order);
    tu_test("test_broker_down_closes_sockets_elects_and_up_serves_again",
            test_broker_down_closes_sockets_elects_and_up_serves_again);
    tu_test("test_rtt_delays_every_response_by_the_clock",
            test_rtt_delays_every_response_by_the_clock);
    tu_test("test_dropped_response_stalls_connection_but_batches_are_appended",
            test_dropped_response_stalls_connection_but_batches_are_appended);
    tu_test("test_pushed_errors_fail_next_requests_in_order",
            test_pushed_errors_fail_next_requests_in_order);
    tu_test("test_move_leader_bumps_epoch_and_redirects_produce",
            test_move_leader_bumps_epoch_and_redirects_produce);
    tu_test("test_isolated_broker_stops_replicating_and_heals",
            test_isolated_broker_stops_replicating_and_heals);
    tu_test("test_random_bodies_for_every_api_never_crash_the_broker",
            test_random_bodies_for_every_api_never_crash_the_broker);
    tu_test("test_events_reach_the_sink_without_locks_held",
            test_events_reach_the_sink_without_locks_held);
    tu_test("test_response_sent_event_carries_the_answers_error",
            test_response_sent_event_carries_the_answers_error);
}
