/* A tiny blocking Kafka client for the mock cluster's tests: real sockets, the real codec.
 * Static functions only (each test file that includes it gets its own copy). */
#ifndef COURIER_TESTS_MOCKBROKER_CLIENT_H
#define COURIER_TESTS_MOCKBROKER_CLIENT_H

#include "mockbroker/mb.h"
#include "tests/tu.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TC_UNUSED __attribute__((unused))

/* ---- a manual clock: time moves only when the test says so ---- */
static _Atomic int64_t tc_fake_now_us = 1000000000;
static TC_UNUSED int64_t tc_fake_now(void *o) {
    (void)o;
    return atomic_load(&tc_fake_now_us);
}
static TC_UNUSED int64_t tc_fake_wall(void *o, int64_t sim) {
    (void)o;
    (void)sim;
    return 2000; /* re-check every 2 ms of wall time */
}
static TC_UNUSED const kw_clock tc_fake_clock = {tc_fake_now, tc_fake_wall, NULL, NULL};
static TC_UNUSED void tc_advance_ms(int64_t ms) {
    atomic_fetch_add(&tc_fake_now_us, ms * 1000);
}

/* ---- connections ---- */
static TC_UNUSED int tc_connect(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static TC_UNUSED bool tc_send_all(int fd, const void *p, size_t n) {
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        b += w;
        n -= (size_t)w;
    }
    return true;
}

/* Receives exactly n bytes within timeout_ms. Returns n, 0 on EOF, -1 on timeout/error. */
static TC_UNUSED ssize_t tc_recv_all(int fd, void *p, size_t n, int timeout_ms) {
    uint8_t *b = p;
    size_t got = 0;
    int64_t end = tu_now_ms() + timeout_ms;
    while (got < n) {
        int left = (int)(end - tu_now_ms());
        if (left <= 0)
            return -1;
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, left) <= 0)
            return -1;
        ssize_t r = recv(fd, b + got, n - got, 0);
        if (r == 0)
            return 0;
        if (r < 0)
            return -1;
        got += (size_t)r;
    }
    return (ssize_t)n;
}

/* Sends one request frame: header + body produced by the caller into `body`. */
static TC_UNUSED bool tc_send_request(int fd, int16_t key, int16_t ver, int32_t corr,
                                      const kw_wbuf *body) {
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    size_t st = kw_frame_begin(&wb);
    kw_request_header h = {key, ver, corr, kw_slice_str("mb-test")};
    kw_request_header_encode(&wb, &h);
    if (body && body->len)
        kw_wbuf_append(&wb, body->p, body->len);
    kw_frame_end(&wb, st);
    bool ok = tc_send_all(fd, wb.p, wb.len);
    kw_wbuf_free(&wb);
    return ok;
}

/* Receives one response frame into *buf (malloc'd; caller frees). Returns the payload size,
 * 0 on EOF, -1 on timeout. */
static TC_UNUSED ssize_t tc_recv_frame(int fd, uint8_t **buf, int timeout_ms) {
    uint8_t sz[4];
    *buf = NULL;
    ssize_t r = tc_recv_all(fd, sz, 4, timeout_ms);
    if (r <= 0)
        return r;
    uint32_t n = ((uint32_t)sz[0] << 24) | ((uint32_t)sz[1] << 16) | ((uint32_t)sz[2] << 8) | sz[3];
    *buf = malloc(n ? n : 1);
    r = tc_recv_all(fd, *buf, n, timeout_ms);
    if (r <= 0) {
        free(*buf);
        *buf = NULL;
        return r;
    }
    return (ssize_t)n;
}

/* Receives one response frame of API `key` at version `ver` and decodes its header: *buf is
 * the malloc'd frame (caller frees), *rb reads the body that follows the header. Returns the
 * frame size, 0 on EOF, -1 on timeout (then *buf is NULL and nothing is decoded). */
static TC_UNUSED ssize_t tc_recv_response(int fd, int16_t key, int16_t ver, int timeout_ms,
                                          uint8_t **buf, kw_rbuf *rb, kw_response_header *h) {
    ssize_t n = tc_recv_frame(fd, buf, timeout_ms);
    if (n <= 0)
        return n;
    kw_rbuf_init(rb, *buf, (size_t)n, "test");
    kw_response_header_decode(rb, h, kw_response_header_version(key, ver));
    return n;
}

/* A Fetch request (max_bytes 1 MiB, no session, v11 rack "") for one partition of topic "t"
 * from `offset`, waiting up to max_wait_ms for min_bytes 1. Fill with tc_fetch_init; send
 * f.req. The struct points into itself: do not copy it. */
typedef struct tc_fetch {
    kw_fetch_req_partition part;
    kw_fetch_req_topic topic;
    kw_fetch_req req;
} tc_fetch;

static TC_UNUSED void tc_fetch_init(tc_fetch *f, int32_t partition, int64_t offset,
                                    int32_t max_wait_ms) {
    f->part = (kw_fetch_req_partition){partition, -1, offset, -1, 1 << 20, -1};
    f->topic = (kw_fetch_req_topic){kw_slice_str("t"), 1, &f->part};
    f->req = (kw_fetch_req){0};
    f->req.replica_id = -1;
    f->req.max_wait_ms = max_wait_ms;
    f->req.min_bytes = 1;
    f->req.max_bytes = 1 << 20;
    f->req.session_epoch = -1;
    f->req.n_topics = 1;
    f->req.topics = &f->topic;
    f->req.rack_id = kw_slice_str("");
}

/* ---- batches ---- */
/* Builds a batch of n records "key-<i>"/"value-<i>" into a malloc'd buffer. */
static TC_UNUSED uint8_t *tc_make_batch(int n, const char *prefix, int64_t pid, int16_t epoch,
                                        int32_t seq, size_t *len) {
    size_t cap = 64 + (size_t)n * 64;
    uint8_t *buf = malloc(cap);
    kw_batch_writer w;
    kw_batch_writer_init(&w, buf, cap);
    for (int i = 0; i < n; i++) {
        char k[32], v[48];
        snprintf(k, sizeof k, "%s-k%d", prefix, i);
        snprintf(v, sizeof v, "%s-v%d", prefix, i);
        kw_batch_writer_append(&w, 1700000000000 + i, kw_slice_str(k), kw_slice_str(v), NULL, 0);
    }
    *len = kw_batch_writer_close(&w, pid, epoch, seq);
    return buf;
}

typedef struct tc_produce_result {
    int16_t error;
    int64_t base_offset;
    bool answered;
} tc_produce_result;

/* Sends a Produce v7 with one batch to topic/partition on an open connection. */
static TC_UNUSED bool tc_produce_send(int fd, int32_t corr, const char *topic, int32_t part,
                                      int16_t acks, int32_t timeout_ms, const uint8_t *batch,
                                      size_t blen) {
    kw_produce_req_partition pp = {part, {batch, (int32_t)blen}};
    kw_produce_req_topic pt = {kw_slice_str(topic), 1, &pp};
    kw_produce_req req = {KW_SLICE_NULL, acks, timeout_ms, 1, &pt};
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_produce_req_encode(&body, 7, &req);
    bool ok = tc_send_request(fd, KW_API_PRODUCE, 7, corr, &body);
    kw_wbuf_free(&body);
    return ok;
}

/* Waits for a Produce v7 response; answered=false on timeout. */
static TC_UNUSED tc_produce_result tc_produce_recv(int fd, int32_t corr, int timeout_ms) {
    tc_produce_result res = {-1, -1, false};
    uint8_t *buf;
    kw_rbuf rb;
    kw_response_header h;
    if (tc_recv_response(fd, KW_API_PRODUCE, 7, timeout_ms, &buf, &rb, &h) <= 0)
        return res;
    kw_arena *a = kw_arena_new();
    kw_produce_resp resp;
    if (kw_produce_resp_decode(&rb, 7, a, &resp) == KW_ERR_NONE && h.correlation_id == corr &&
        resp.n_topics == 1 && resp.topics[0].n_partitions == 1) {
        res.answered = true;
        res.error = resp.topics[0].partitions[0].error_code;
        res.base_offset = resp.topics[0].partitions[0].base_offset;
    }
    kw_arena_destroy(a);
    free(buf);
    return res;
}

/* Connects to a broker, produces n records and waits for the answer. */
static TC_UNUSED tc_produce_result tc_produce(mb_cluster *c, int32_t node, const char *topic,
                                              int32_t part, int16_t acks, int n, const char *prefix,
                                              int64_t pid, int16_t epoch, int32_t seq) {
    tc_produce_result res = {-1, -1, false};
    int fd = tc_connect(mb_broker_port(c, node));
    if (fd < 0)
        return res;
    size_t blen;
    uint8_t *b = tc_make_batch(n, prefix, pid, epoch, seq, &blen);
    if (tc_produce_send(fd, 42, topic, part, acks, 5000, b, blen) && acks != 0)
        res = tc_produce_recv(fd, 42, 5000);
    free(b);
    close(fd);
    return res;
}

/* InitProducerId v1 on a broker: returns the producer id (or -1). */
static TC_UNUSED int64_t tc_init_pid(mb_cluster *c, int32_t node) {
    int fd = tc_connect(mb_broker_port(c, node));
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_init_pid_req req = {KW_SLICE_NULL, 60000, -1, -1};
    kw_init_pid_req_encode(&body, 1, &req);
    tc_send_request(fd, KW_API_INIT_PRODUCER_ID, 1, 7, &body);
    kw_wbuf_free(&body);
    uint8_t *buf;
    kw_rbuf rb;
    kw_response_header h;
    int64_t pid = -1;
    if (tc_recv_response(fd, KW_API_INIT_PRODUCER_ID, 1, 5000, &buf, &rb, &h) > 0) {
        kw_init_pid_resp resp;
        kw_arena *a = kw_arena_new();
        if (kw_init_pid_resp_decode(&rb, 1, a, &resp) == KW_ERR_NONE && !resp.error_code)
            pid = resp.producer_id;
        kw_arena_destroy(a);
        free(buf);
    }
    close(fd);
    return pid;
}

typedef struct tc_req_wait {
    mb_cluster *c;
    int32_t node;
    int16_t key;
    int64_t n;
} tc_req_wait;
static TC_UNUSED bool tc_req_seen(void *arg) {
    tc_req_wait *w = arg;
    return mb_broker_request_count(w->c, w->node, w->key) >= w->n;
}
/* Waits until a broker has received n requests of an API (so clock moves come after). */
static TC_UNUSED bool tc_wait_requests(mb_cluster *c, int32_t node, int16_t key, int64_t n) {
    tc_req_wait w = {c, node, key, n};
    return tu_wait_until(tc_req_seen, &w, 5000);
}

/* A partition's info (asserting the call works). */
static TC_UNUSED mb_partition_info tc_info(mb_cluster *c, const char *topic, int32_t part) {
    mb_partition_info in;
    int rc = mb_partition_info_get(c, topic, part, &in);
    CU_ASSERT_EQUAL(rc, MB_OK);
    return in;
}

/* Log lines of the clusters started by tc_cluster (counted, not printed: tests provoke many). */
static _Atomic int tc_log_lines;
static TC_UNUSED void tc_quiet_log(int level, const char *line, void *opaque) {
    (void)level;
    (void)line;
    (void)opaque;
    atomic_fetch_add(&tc_log_lines, 1);
}

/* Starts a cluster: 3 brokers, topic "t" (3 partitions, replication 3, min ISR min_isr),
 * on the given clock (NULL = monotonic). */
static TC_UNUSED mb_cluster *tc_cluster(const kw_clock *clk, int16_t min_isr, int64_t lag_max_ms,
                                        mb_event_cb cb, void *opaque) {
    mb_config conf;
    mb_config_init(&conf);
    static mb_topic_config topics[1];
    topics[0] = (mb_topic_config){"t", 3, 3, min_isr};
    conf.topics = topics;
    conf.n_topics = 1;
    conf.clock = clk;
    conf.event_cb = cb;
    conf.event_opaque = opaque;
    conf.log_cb = tc_quiet_log;
    if (lag_max_ms > 0)
        conf.replica_lag_time_max_ms = lag_max_ms;
    mb_cluster *c = NULL;
    char err[256];
    if (mb_cluster_new(&conf, &c, err, sizeof err) != MB_OK) {
        fprintf(stderr, "mb_cluster_new: %s\n", err);
        return NULL;
    }
    if (mb_cluster_start(c, err, sizeof err) != MB_OK) {
        fprintf(stderr, "mb_cluster_start: %s\n", err);
        mb_cluster_destroy(c);
        return NULL;
    }
    return c;
}

#endif
