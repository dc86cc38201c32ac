/* A hostile broker: a raw socket server that answers ApiVersions properly and then sends
 * garbage (truncated Metadata, an absurd frame size, a wrong correlation id). The producer
 * must log, drop the connection, retry, and fail kp_produce with a clear error after
 * max.block.ms — never crash or hang. */
#include "producer/kp.h"
#include "protocol/kw_wire.h" /* hand-made hostile answers */
#include "tests/tu.h"

#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef enum { BAD_TRUNCATED, BAD_HUGE_FRAME, BAD_CORRELATION } bad_kind;

typedef struct hostile {
    int lfd;
    int port;
    bad_kind kind;
    _Atomic bool stop;
    _Atomic int metadata_requests;
    pthread_t thread;
} hostile;

static bool read_full(int fd, void *p, size_t n) {
    uint8_t *b = p;
    while (n > 0) {
        ssize_t r = recv(fd, b, n, 0);
        if (r <= 0)
            return false;
        b += r;
        n -= (size_t)r;
    }
    return true;
}

static void send_frame(int fd, const kw_wbuf *wb) {
    ssize_t w = send(fd, wb->p, wb->len, MSG_NOSIGNAL);
    (void)w;
}

/* Serves one connection until it closes. */
static void serve(hostile *h, int fd) {
    for (;;) {
        uint8_t hdr[4];
        if (!read_full(fd, hdr, 4))
            return;
        int32_t len = (int32_t)((uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
                                (uint32_t)hdr[2] << 8 | hdr[3]);
        if (len <= 0 || len > (1 << 20))
            return;
        uint8_t *body = malloc((size_t)len);
        if (!body || !read_full(fd, body, (size_t)len)) {
            free(body);
            return;
        }
        kw_rbuf rb;
        kw_rbuf_init(&rb, body, (size_t)len, "request");
        kw_request_header rh;
        kw_request_header_decode(&rb, &rh);
        free(body);
        kw_wbuf wb;
        kw_wbuf_init(&wb);
        size_t start = kw_frame_begin(&wb);
        if (rh.api_key == KW_API_API_VERSIONS) {
            kw_response_header resp_h = {rh.correlation_id};
            kw_response_header_encode(&wb, &resp_h, 0);
            kw_api_range ranges[] = {{KW_API_PRODUCE, 3, 8},
                                     {KW_API_METADATA, 0, 8},
                                     {KW_API_API_VERSIONS, 0, 3},
                                     {KW_API_INIT_PRODUCER_ID, 0, 1}};
            kw_api_versions_resp r = {0, 4, ranges, 0};
            kw_api_versions_resp_encode(&wb, rh.api_version, &r);
            kw_frame_end(&wb, start);
        } else {
            atomic_fetch_add(&h->metadata_requests, 1);
            if (h->kind == BAD_HUGE_FRAME) {
                kw_wbuf_reset(&wb);
                kw_write_i32(&wb, 0x7fffffff);
                kw_write_i32(&wb, rh.correlation_id);
            } else {
                kw_response_header resp_h = {h->kind == BAD_CORRELATION ? rh.correlation_id + 7
                                                                        : rh.correlation_id};
                kw_response_header_encode(&wb, &resp_h,
                                          kw_response_header_version(rh.api_key, rh.api_version));
                kw_write_i32(&wb, 0); /* throttle or broker count... */
                kw_write_i32(&wb, 5); /* then a count that promises more than is there */
                kw_write_i16(&wb, 3);
                kw_frame_end(&wb, start);
            }
        }
        send_frame(fd, &wb);
        kw_wbuf_free(&wb);
    }
}

static void *hostile_main(void *arg) {
    hostile *h = arg;
    while (!atomic_load(&h->stop)) {
        struct pollfd pfd = {h->lfd, POLLIN, 0};
        if (poll(&pfd, 1, 50) <= 0)
            continue;
        int fd = accept(h->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        struct timeval tv = {0, 200000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        serve(h, fd);
        close(fd);
    }
    return NULL;
}

static bool hostile_start(hostile *h, bad_kind kind) {
    memset(h, 0, sizeof *h);
    h->kind = kind;
    h->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (h->lfd < 0 || bind(h->lfd, (struct sockaddr *)&a, sizeof a) || listen(h->lfd, 8) ||
        getsockname(h->lfd, (struct sockaddr *)&a, &al))
        return false;
    h->port = ntohs(a.sin_port);
    return pthread_create(&h->thread, NULL, hostile_main, h) == 0;
}

static void hostile_stop(hostile *h) {
    atomic_store(&h->stop, true);
    pthread_join(h->thread, NULL);
    close(h->lfd);
}

static void quiet(int level, const char *msg, void *o) {
    (void)level;
    (void)msg;
    (void)o;
}

static void against(bad_kind kind) {
    hostile h;
    CU_ASSERT_FATAL(hostile_start(&h, kind));
    kp_conf *c = kp_conf_new();
    char boot[64], err[256];
    snprintf(boot, sizeof boot, "127.0.0.1:%d", h.port);
    kp_conf_set(c, "bootstrap.servers", boot, err, sizeof err);
    kp_conf_set(c, "max.block.ms", "600", err, sizeof err);
    kp_conf_set(c, "retry.backoff.ms", "20", err, sizeof err);
    kp_conf_set(c, "reconnect.backoff.ms", "10", err, sizeof err);
    if (!getenv("TP_VERBOSE"))
        kp_conf_set_log_cb(c, quiet, NULL);
    kp_producer *p = kp_producer_new(c, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    kp_record r = {.topic = "t",
                   .partition = KP_PARTITION_ANY,
                   .value = "v",
                   .value_len = 1,
                   .timestamp_ms = KP_TIMESTAMP_NOW};
    int64_t t0 = tu_now_ms();
    CU_ASSERT_EQUAL(kp_produce(p, &r, NULL, NULL, NULL), KW_ERR__METADATA_TIMEOUT);
    int64_t took = tu_now_ms() - t0;
    CU_ASSERT(took >= 590 && took < 5000);
    CU_ASSERT(atomic_load(&h.metadata_requests) >= 2); /* it kept asking */
    CU_ASSERT_EQUAL(kp_close(p, 2000), KW_ERR_NONE);
    kp_producer_destroy(p);
    kp_conf_destroy(c);
    hostile_stop(&h);
}

static void test_truncated_metadata_is_survived(void) {
    against(BAD_TRUNCATED);
}

static void test_absurd_frame_size_is_survived(void) {
    against(BAD_HUGE_FRAME);
}

static void test_wrong_correlation_id_is_survived(void) {
    against(BAD_CORRELATION);
}

void suite_producer_hostile(void);
void suite_producer_hostile(void) {
    tu_suite("producer_hostile");
    tu_test("test_truncated_metadata_is_survived", test_truncated_metadata_is_survived);
    tu_test("test_absurd_frame_size_is_survived", test_absurd_frame_size_is_survived);
    tu_test("test_wrong_correlation_id_is_survived", test_wrong_correlation_id_is_survived);
}
