/* Real clients accept what our encoders write. A minimal responder on a loopback socket (port
 * 0), built only from the codec, answers ApiVersions (at the version asked, v3 flexible for
 * librdkafka), Metadata (any version 0-8) for one broker and one topic, InitProducerId and
 * Produce (offsets counted per partition, records checked with kw_batch_parse). kcat
 * (librdkafka 2.0.2) and kafka-python must list the topic and get their records acknowledged.
 * Not a broker: it keeps no log, any other API closes the connection, and the test counts
 * what was asked. */
#include "protocol/kw.h"
#include "tests/tu.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNS 16
#define TOPIC "courier-interop"

typedef struct conn {
    int fd;
    uint8_t buf[65536];
    size_t len;
} conn;

typedef struct responder {
    int lfd;
    int port;
    atomic_int stop;
    pthread_t thread;
    /* counts by the responder thread, read after join */
    int api_versions[4]; /* by version */
    int metadata[9];     /* by version */
    int init_pid[6];     /* by version */
    int produce[9];      /* by version */
    int records;         /* records received in valid batches */
    int64_t last_pid;    /* producer id on the last batch */
    int64_t next_offset[8];
    int other; /* requests for APIs we do not answer */
    int bad;   /* requests we could not decode */
    char last_error[200];
    conn conns[MAX_CONNS];
} responder;

static void send_all(int fd, const uint8_t *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* Builds and sends the response to one request frame; false to close the connection. */
static bool answer(responder *r, int fd, const uint8_t *frame, size_t len) {
    kw_rbuf rb;
    kw_rbuf_init(&rb, frame, len, "interop request");
    kw_request_header h;
    if (kw_request_header_decode(&rb, &h) != KW_ERR_NONE) {
        r->bad++;
        snprintf(r->last_error, sizeof r->last_error, "%s", rb.errmsg);
        return false;
    }
    kw_arena *a = kw_arena_new();
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    size_t start = kw_frame_begin(&wb);
    kw_response_header rh = {h.correlation_id};
    bool ok = true;
    if (h.api_key == KW_API_API_VERSIONS) {
        kw_api_versions_resp resp = {.error_code = 0,
                                     .n_api_keys = (int32_t)kw_supported_api_count,
                                     .api_keys = (kw_api_range *)kw_supported_apis};
        int16_t v = h.api_version;
        kw_api_versions_req req;
        if (v > 3) {
            /* KIP-511: UNSUPPORTED_VERSION in a v0 body, with our ranges */
            resp.error_code = KW_ERR_UNSUPPORTED_VERSION;
            v = 0;
        } else if (kw_api_versions_req_decode(&rb, v, a, &req) != KW_ERR_NONE) {
            r->bad++;
            snprintf(r->last_error, sizeof r->last_error, "%s", rb.errmsg);
            ok = false;
        } else {
            r->api_versions[v]++;
        }
        kw_response_header_encode(&wb, &rh, kw_response_header_version(h.api_key, v));
        kw_api_versions_resp_encode(&wb, v, &resp);
    } else if (h.api_key == KW_API_METADATA && h.api_version >= 0 && h.api_version <= 8) {
        kw_metadata_req req;
        if (kw_metadata_req_decode(&rb, h.api_version, a, &req) != KW_ERR_NONE) {
            r->bad++;
            snprintf(r->last_error, sizeof r->last_error, "%s", rb.errmsg);
            ok = false;
        }
        r->metadata[h.api_version]++;
        int32_t reps[1] = {1};
        kw_metadata_partition parts[2] = {{0, 0, 1, 0, 1, reps, 1, reps, 0, NULL},
                                          {0, 1, 1, 0, 1, reps, 1, reps, 0, NULL}};
        kw_metadata_topic topic = {.name = kw_slice_str(TOPIC),
                                   .n_partitions = 2,
                                   .partitions = parts,
                                   .topic_authorized_operations = INT32_MIN};
        kw_metadata_broker broker = {1, kw_slice_str("127.0.0.1"), r->port, KW_SLICE_NULL};
        kw_metadata_resp resp = {.n_brokers = 1,
                                 .brokers = &broker,
                                 .cluster_id = kw_slice_str("courier-interop-cluster"),
                                 .controller_id = 1,
                                 .n_topics = 1,
                                 .topics = &topic,
                                 .cluster_authorized_operations = INT32_MIN};
        kw_response_header_encode(&wb, &rh, kw_response_header_version(h.api_key, h.api_version));
        kw_metadata_resp_encode(&wb, h.api_version, &resp);
    } else if (h.api_key == KW_API_INIT_PRODUCER_ID && h.api_version >= 0 && h.api_version <= 5) {
        kw_init_pid_req req;
        ok = kw_init_pid_req_decode(&rb, h.api_version, a, &req) == KW_ERR_NONE;
        r->init_pid[h.api_version]++;
        kw_init_pid_resp resp = {0, 0, 4242, 0};
        kw_response_header_encode(&wb, &rh, kw_response_header_version(h.api_key, h.api_version));
        kw_init_pid_resp_encode(&wb, h.api_version, &resp);
    } else if (h.api_key == KW_API_PRODUCE && h.api_version >= 3 && h.api_version <= 8) {
        kw_produce_req req;
        ok = kw_produce_req_decode(&rb, h.api_version, a, &req) == KW_ERR_NONE && req.n_topics == 1;
        r->produce[h.api_version]++;
        kw_produce_resp_partition rp[8];
        int32_t np = ok ? req.topics[0].n_partitions : 0;
        for (int32_t i = 0; ok && i < np && i < 8; i++) {
            const kw_produce_req_partition *p = &req.topics[0].partitions[i];
            int32_t idx = p->index & 7, count = 0;
            size_t off = 0, used;
            kw_batch b;
            char eb[160];
            while (p->records.len > 0 && off < (size_t)p->records.len) {
                if (kw_batch_parse(p->records.p + off, (size_t)p->records.len - off, true, &b,
                                   &used, eb, sizeof eb) != KW_ERR_NONE) {
                    snprintf(r->last_error, sizeof r->last_error, "%s", eb);
                    r->bad++;
                    break;
                }
                count += b.record_count;
                r->last_pid = b.producer_id;
                off += used;
            }
            rp[i] = (kw_produce_resp_partition){.index = p->index,
                                                .error_code = 0,
                                                .base_offset = r->next_offset[idx],
                                                .log_append_time_ms = -1,
                                                .log_start_offset = 0,
                                                .error_message = KW_SLICE_NULL};
            r->next_offset[idx] += count;
            r->records += count;
        }
        kw_produce_resp_topic rt = {ok ? req.topics[0].name : KW_SLICE_NULL, np < 8 ? np : 8, rp};
        kw_produce_resp resp = {.n_topics = 1, .topics = &rt};
        if (ok && req.acks == 0)
            ok = false; /* acks=0: no response; not expected from these clients */
        kw_response_header_encode(&wb, &rh, kw_response_header_version(h.api_key, h.api_version));
        kw_produce_resp_encode(&wb, h.api_version, &resp);
    } else {
        r->other++;
        ok = false;
    }
    kw_frame_end(&wb, start);
    if (ok && !wb.oom)
        send_all(fd, wb.p, wb.len);
    kw_wbuf_free(&wb);
    kw_arena_destroy(a);
    return ok;
}

static void *responder_main(void *arg) {
    responder *r = arg;
    for (int i = 0; i < MAX_CONNS; i++)
        r->conns[i].fd = -1;
    while (!atomic_load(&r->stop)) {
        struct pollfd pfd[MAX_CONNS + 1];
        int map[MAX_CONNS + 1], n = 0;
        pfd[n] = (struct pollfd){r->lfd, POLLIN, 0};
        map[n++] = -1;
        for (int i = 0; i < MAX_CONNS; i++)
            if (r->conns[i].fd >= 0) {
                pfd[n] = (struct pollfd){r->conns[i].fd, POLLIN, 0};
                map[n++] = i;
            }
        if (poll(pfd, (nfds_t)n, 20) <= 0)
            continue;
        for (int k = 0; k < n; k++) {
            if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (map[k] < 0) {
                int fd = accept(r->lfd, NULL, NULL);
                int slot = -1;
                for (int i = 0; i < MAX_CONNS && fd >= 0; i++)
                    if (r->conns[i].fd < 0) {
                        slot = i;
                        break;
                    }
                if (slot < 0) {
                    if (fd >= 0)
                        close(fd);
                    continue;
                }
                r->conns[slot].fd = fd;
                r->conns[slot].len = 0;
                continue;
            }
            conn *c = &r->conns[map[k]];
            ssize_t got = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
            bool keep = got > 0;
            if (keep)
                c->len += (size_t)got;
            int32_t flen;
            char eb[160];
            while (keep) {
                int rc = kw_frame_peek(c->buf, c->len, 1 << 16, &flen, eb, sizeof eb);
                if (rc == 0)
                    break;
                if (rc < 0 || !answer(r, c->fd, c->buf + 4, (size_t)flen)) {
                    keep = false;
                    break;
                }
                size_t used = 4 + (size_t)flen;
                memmove(c->buf, c->buf + used, c->len - used);
                c->len -= used;
            }
            if (!keep) {
                close(c->fd);
                c->fd = -1;
            }
        }
    }
    for (int i = 0; i < MAX_CONNS; i++)
        if (r->conns[i].fd >= 0)
            close(r->conns[i].fd);
    return NULL;
}

static responder *responder_start(void) {
    responder *r = calloc(1, sizeof *r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    r->lfd = socket(AF_INET, SOCK_STREAM, 0);
    CU_ASSERT_FATAL(r->lfd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CU_ASSERT_FATAL(bind(r->lfd, (struct sockaddr *)&sa, sizeof sa) == 0);
    CU_ASSERT_FATAL(listen(r->lfd, 16) == 0);
    socklen_t sl = sizeof sa;
    CU_ASSERT_FATAL(getsockname(r->lfd, (struct sockaddr *)&sa, &sl) == 0);
    r->port = ntohs(sa.sin_port);
    CU_ASSERT_FATAL(pthread_create(&r->thread, NULL, responder_main, r) == 0);
    return r;
}

static void responder_stop(responder *r) {
    atomic_store(&r->stop, 1);
    pthread_join(r->thread, NULL);
    close(r->lfd);
    if (r->bad)
        fprintf(stderr, "\nresponder could not decode a request: %s\n", r->last_error);
}

/* Runs a shell command and returns its stdout+stderr (malloc'd) and exit status. */
static char *run(const char *cmd, int *status) {
    FILE *p = popen(cmd, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    size_t cap = 1 << 16, n = 0;
    char *out = malloc(cap);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    size_t got;
    while ((got = fread(out + n, 1, cap - 1 - n, p)) > 0)
        n += got;
    out[n] = '\0';
    *status = pclose(p);
    return out;
}

static void test_kcat_lists_a_topic_from_our_api_versions_v3_and_metadata(void) {
    responder *r = responder_start();
    char cmd[256];
    snprintf(cmd, sizeof cmd,
             "timeout 30 kcat -L -b 127.0.0.1:%d -m 10 -X client.id=courier-interop 2>&1", r->port);
    int status;
    char *out = run(cmd, &status);
    responder_stop(r);
    if (status != 0 || !strstr(out, "topic \"" TOPIC "\" with 2 partitions"))
        fprintf(stderr, "\nkcat said:\n%s\n", out);
    CU_ASSERT_EQUAL(status, 0);
    CU_ASSERT(strstr(out, "topic \"" TOPIC "\" with 2 partitions") != NULL);
    CU_ASSERT(strstr(out, "broker 1 at 127.0.0.1") != NULL);
    /* librdkafka took our flexible v3 answer: it never fell back to v0 */
    CU_ASSERT(r->api_versions[3] >= 1);
    CU_ASSERT_EQUAL(r->api_versions[0], 0);
    int md = 0;
    for (int v = 0; v <= 8; v++)
        md += r->metadata[v];
    CU_ASSERT(md >= 1);
    CU_ASSERT_EQUAL(r->bad, 0);
    free(out);
    free(r);
}

static void test_kafka_python_lists_a_topic_from_our_v0_answers(void) {
    responder *r = responder_start();
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "timeout 40 /usr/bin/python3 -c \"from kafka import KafkaConsumer; "
             "c = KafkaConsumer(bootstrap_servers='127.0.0.1:%d', client_id='courier-interop', "
             "request_timeout_ms=10000, api_version_auto_timeout_ms=10000); "
             "print('topics:', sorted(c.topics())); c.close()\" 2>&1",
             r->port);
    int status;
    char *out = run(cmd, &status);
    responder_stop(r);
    if (status != 0 || !strstr(out, "topics: ['" TOPIC "']"))
        fprintf(stderr, "\nkafka-python said:\n%s\n", out);
    CU_ASSERT_EQUAL(status, 0);
    CU_ASSERT(strstr(out, "topics: ['" TOPIC "']") != NULL);
    CU_ASSERT(r->api_versions[0] >= 1); /* kafka-python does not negotiate: v0 */
    CU_ASSERT(r->metadata[0] + r->metadata[1] >= 1);
    CU_ASSERT_EQUAL(r->bad, 0);
    free(out);
    free(r);
}

static void test_kcat_gets_its_idempotent_records_acknowledged(void) {
    responder *r = responder_start();
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "printf 'one\\ntwo\\nthree\\n' | timeout 30 kcat -P -b 127.0.0.1:%d -t " TOPIC
             " -p 0 -X enable.idempotence=true -X acks=all -X message.timeout.ms=10000 "
             "-X client.id=courier-interop 2>&1",
             r->port);
    int status;
    char *out = run(cmd, &status);
    responder_stop(r);
    int produce = 0;
    for (int v = 0; v <= 8; v++)
        produce += r->produce[v];
    if (status != 0 || strstr(out, "Delivery failed") || r->records != 3)
        fprintf(stderr, "\nkcat said (%d records, %d Produce requests):\n%s\n", r->records, produce,
                out);
    CU_ASSERT_EQUAL(status, 0);
    CU_ASSERT(strstr(out, "Delivery failed") == NULL);
    CU_ASSERT(strstr(out, "underflow") == NULL);
    /* librdkafka 2.0 speaks InitProducerId up to v4 (flexible, KIP-360 fields) */
    CU_ASSERT(r->init_pid[4] >= 1);
    CU_ASSERT(produce >= 1);
    CU_ASSERT_EQUAL(r->records, 3);
    CU_ASSERT_EQUAL(r->last_pid, 4242); /* the producer id our InitProducerId answer gave */
    CU_ASSERT_EQUAL(r->bad, 0);
    free(out);
    free(r);
}

static void test_kafka_python_gets_offsets_from_our_produce_answers(void) {
    responder *r = responder_start();
    char cmd[768];
    snprintf(cmd, sizeof cmd,
             "timeout 40 /usr/bin/python3 -c \"from kafka import KafkaProducer; "
             "p = KafkaProducer(bootstrap_servers='127.0.0.1:%d', acks='all', "
             "client_id='courier-interop', request_timeout_ms=10000, "
             "api_version_auto_timeout_ms=10000); "
             "fs = [p.send('" TOPIC "', value=v, partition=1) for v in (b'a', b'b', b'c')]; "
             "print('offsets:', [f.get(timeout=20).offset for f in fs]); p.close()\" 2>&1",
             r->port);
    int status;
    char *out = run(cmd, &status);
    responder_stop(r);
    if (status != 0 || !strstr(out, "offsets: [0, 1, 2]"))
        fprintf(stderr, "\nkafka-python said:\n%s\n", out);
    CU_ASSERT_EQUAL(status, 0);
    CU_ASSERT(strstr(out, "offsets: [0, 1, 2]") != NULL);
    CU_ASSERT_EQUAL(r->records, 3);
    CU_ASSERT_EQUAL(r->bad, 0);
    free(out);
    free(r);
}

void suite_protocol_interop(void);
void suite_protocol_interop(void) {
    tu_suite("protocol_interop");
    tu_test("test_kcat_lists_a_topic_from_our_api_versions_v3_and_metadata",
            test_kcat_lists_a_topic_from_our_api_versions_v3_and_metadata);
    tu_test("test_kafka_python_lists_a_topic_from_our_v0_answers",
            test_kafka_python_lists_a_topic_from_our_v0_answers);
    tu_test("test_kcat_gets_its_idempotent_records_acknowledged",
            test_kcat_gets_its_idempotent_records_acknowledged);
    tu_test("test_kafka_python_gets_offsets_from_our_produce_answers",
            test_kafka_python_gets_offsets_from_our_produce_answers);
}
