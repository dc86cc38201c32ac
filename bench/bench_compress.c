/* bench_compress — our producer against librdkafka's, per codec, on the same librdkafka mock
 * cluster (3 brokers, one topic of 6 partitions).
 *
 * Load: N keyless messages of 1 KiB of text-like bytes (words drawn from a 64-word list;
 * default N 1,000,000, argv[1] or BENCH_MSGS to change), acks=1, linger.ms=5,
 * batch.size=16384, no idempotence, compression.type none / gzip / snappy / lz4 / zstd at
 * each client's default level, which is the same compression for both: gzip 6, zstd 3, lz4's
 * fast compressor (Kafka's compression.lz4.level 9 means the fast compressor in Java's
 * Lz4BlockOutputStream; librdkafka's default is the fast mode too). For each codec it prints
 * msgs/s and the bytes each producer sent to the brokers (ours: outgoing-byte-total; librdkafka:
 * its statistics' tx_bytes), and both as ratios ours / librdkafka's (msgs/s target >= 0.8).
 *
 * Timing: from the first produce call to the last delivery report (flush). The two producers
 * run one after the other in this process; the mock cluster keeps at most 5 MiB per
 * partition (it drops older data), which is fine for a throughput run.
 *
 *   build/release/bench/bench_compress [MESSAGES]
 *   BENCH_CODECS=gzip,snappy build/release/bench/bench_compress   (only those codecs)
 */
#include "producer/kp.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TOPIC "zbench"
#define PARTITIONS 6
#define MSG_SIZE 1024
#define N_VALUES 4096 /* distinct values, cycled */

static const char *const codecs[] = {"none", "gzip", "snappy", "lz4", "zstd"};
#define N_CODECS (sizeof codecs / sizeof codecs[0])

static char *values; /* N_VALUES x MSG_SIZE bytes of text */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Text-like values: words of a small vocabulary with spaces, a different draw per value. */
static bool make_values(void) {
    static const char *const words[] = {
        "the",     "courier",  "parcel",   "sorting",   "room",    "truck",    "broker",   "kafka",
        "batch",   "linger",   "acks",     "leader",    "replica", "offset",   "topic",    "record",
        "order",   "customer", "shipped",  "delivered", "address", "street",   "city",     "status",
        "payment", "amount",   "currency", "euro",      "dollar",  "item",     "quantity", "price",
        "id",      "user",     "session",  "event",     "click",   "view",     "page",     "search",
        "error",   "warning",  "info",     "debug",     "request", "response", "latency",  "ms",
        "2024",    "12",       "05",       "monday",    "tuesday", "json",     "true",     "false",
        "null",    "value",    "key",      "header",    "trace",   "span",     "service",  "node"};
    values = malloc((size_t)N_VALUES * MSG_SIZE);
    if (!values)
        return false;
    uint64_t s = 0x9E3779B97F4A7C15ULL;
    for (int v = 0; v < N_VALUES; v++) {
        char *p = values + (size_t)v * MSG_SIZE;
        size_t i = 0;
        while (i < MSG_SIZE) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            const char *w = words[s % 64];
            while (*w && i < MSG_SIZE)
                p[i++] = *w++;
            if (i < MSG_SIZE)
                p[i++] = (s >> 20) % 8 == 0 ? ',' : ' ';
        }
    }
    return true;
}

typedef struct result {
    double msgs_per_s;
    long ok, failed;
    double bytes_out;
    char err[1024];
} result;

static _Atomic long ours_ok, ours_failed;

static void ours_cb(const kp_record_metadata *md, kw_err err, void *opaque) {
    (void)md;
    (void)opaque;
    if (err == KW_ERR_NONE)
        atomic_fetch_add_explicit(&ours_ok, 1, memory_order_relaxed);
    else
        atomic_fetch_add(&ours_failed, 1);
}

static void run_ours(const char *bootstrap, const char *codec, long n, result *r) {
    memset(r, 0, sizeof *r);
    atomic_store(&ours_ok, 0);
    atomic_store(&ours_failed, 0);
    char err[256];
    kp_conf *c = kp_conf_new();
    const char *kv[][2] = {{"bootstrap.servers", bootstrap},
                           {"acks", "1"},
                           {"linger.ms", "5"},
                           {"batch.size", "16384"},
                           {"enable.idempotence", "false"},
                           {"value.serializer", "bytes"},
                           {"compression.type", codec}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (kp_conf_set(c, kv[i][0], kv[i][1], err, sizeof err) != KW_ERR_NONE) {
            snprintf(r->err, sizeof r->err, "config: %s", err);
            kp_conf_destroy(c);
            return;
        }
    kp_producer *p = kp_producer_new(c, err, sizeof err);
    kp_conf_destroy(c);
    if (!p) {
        snprintf(r->err, sizeof r->err, "%s", err);
        return;
    }
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        kp_record rec = {.topic = TOPIC,
                         .partition = KP_PARTITION_ANY,
                         .value = values + (size_t)(i % N_VALUES) * MSG_SIZE,
                         .value_len = MSG_SIZE,
                         .timestamp_ms = KP_TIMESTAMP_NOW};
        kw_err e = kp_produce(p, &rec, ours_cb, NULL, NULL);
        if (e != KW_ERR_NONE) {
            snprintf(r->err, sizeof r->err, "kp_produce: %s", kw_err_name(e));
            break;
        }
    }
    kw_err fe = kp_flush(p, 600000);
    double t1 = now_s();
    if (fe != KW_ERR_NONE && !r->err[0])
        snprintf(r->err, sizeof r->err, "kp_flush: %s", kw_err_name(fe));
    r->ok = atomic_load(&ours_ok);
    r->failed = atomic_load(&ours_failed);
    r->msgs_per_s = (double)r->ok / (t1 - t0);
    kp_metrics m;
    kp_metrics_get(p, &m);
    r->bytes_out = m.outgoing_byte_total;
    kp_producer_destroy(p);
}

typedef struct rk_state {
    long ok, failed;
    char first_err[256];
    double tx_bytes; /* the latest statistics' tx_bytes */
} rk_state;

static void rk_on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    rk_state *d = opaque;
    if (m->err) {
        if (d->failed++ == 0)
            snprintf(d->first_err, sizeof d->first_err, "%s", rd_kafka_err2str(m->err));
    } else {
        d->ok++;
    }
}

/* librdkafka's statistics JSON: the top-level "tx_bytes" (bytes sent to all brokers). */
static int rk_on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque) {
    (void)rk;
    (void)len;
    rk_state *d = opaque;
    const char *p = strstr(json, "\"tx_bytes\":");
    if (p)
        d->tx_bytes = atof(p + 11);
    return 0;
}

static void run_librdkafka(const char *bootstrap, const char *codec, long n, result *r) {
    memset(r, 0, sizeof *r);
    char err[512];
    rk_state st = {0};
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *kv[][2] = {{"bootstrap.servers", bootstrap},
                           {"acks", "1"},
                           {"linger.ms", "5"},
                           {"batch.size", "16384"},
                           {"enable.idempotence", "false"},
                           {"compression.codec", codec},
                           {"queue.buffering.max.kbytes", "32768"},
                           {"queue.buffering.max.messages", "1000000"},
                           {"statistics.interval.ms", "100"},
                           {"log_level", "3"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], err, sizeof err) != RD_KAFKA_CONF_OK) {
            snprintf(r->err, sizeof r->err, "config: %s", err);
            rd_kafka_conf_destroy(conf);
            return;
        }
    rd_kafka_conf_set_dr_msg_cb(conf, rk_on_dr);
    rd_kafka_conf_set_stats_cb(conf, rk_on_stats);
    rd_kafka_conf_set_opaque(conf, &st);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        snprintf(r->err, sizeof r->err, "%s", err);
        return;
    }
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        for (;;) {
            rd_kafka_resp_err_t e = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(TOPIC),
                RD_KAFKA_V_VALUE(values + (size_t)(i % N_VALUES) * MSG_SIZE, MSG_SIZE),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(rk, 1); /* as our kp_produce blocks on buffer.memory */
                continue;
            }
            if (e)
                snprintf(r->err, sizeof r->err, "produce: %s", rd_kafka_err2str(e));
            break;
        }
        if (r->err[0])
            break;
        if ((i & 1023) == 0)
            rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 600000);
    double t1 = now_s();
    /* Two more statistics intervals, so tx_bytes counts the last requests. */
    for (double end = now_s() + 0.35; now_s() < end;)
        rd_kafka_poll(rk, 50);
    r->ok = st.ok;
    r->failed = st.failed;
    if (st.failed && !r->err[0])
        snprintf(r->err, sizeof r->err, "first failure: %s", st.first_err);
    r->msgs_per_s = (double)r->ok / (t1 - t0);
    r->bytes_out = st.tx_bytes;
    rd_kafka_destroy(rk);
}

/* Whether codec is one of the comma-separated names in list. */
static bool codec_listed(const char *list, const char *codec) {
    size_t n = strlen(codec);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, codec, n))
            return true;
        if (!e)
            break;
        p = e + 1;
    }
    return false;
}

int main(int argc, char **argv) {
    long n = 1000000;
    const char *env = getenv("BENCH_MSGS");
    if (argc > 1)
        n = atol(argv[1]);
    else if (env)
        n = atol(env);
    if (n <= 0 || !make_values()) {
        fprintf(stderr, "usage: bench_compress [MESSAGES > 0]\n");
        return 2;
    }
    char err[256];
    rd_kafka_conf_t *hc = rd_kafka_conf_new();
    rd_kafka_conf_set(hc, "log_level", "0", err, sizeof err);
    rd_kafka_t *host = rd_kafka_new(RD_KAFKA_PRODUCER, hc, err, sizeof err);
    rd_kafka_mock_cluster_t *mc = host ? rd_kafka_mock_cluster_new(host, 3) : NULL;
    if (!mc || rd_kafka_mock_topic_create(mc, TOPIC, PARTITIONS, 3)) {
        fprintf(stderr, "bench_compress: cannot start librdkafka's mock cluster\n");
        return 1;
    }
    const char *boot = rd_kafka_mock_cluster_bootstraps(mc);
    printf("bench_compress: %ld messages of %d bytes of text, acks=1 linger.ms=5 "
           "batch.size=16384, librdkafka mock cluster (3 brokers, %d partitions) at %s\n",
           n, MSG_SIZE, PARTITIONS, boot);
    printf("  %-6s | %12s %12s %6s | %14s %14s %6s\n", "codec", "ours msg/s", "rdkafka", "ratio",
           "ours bytes out", "rdkafka bytes", "ratio");
    fflush(stdout);
    bool ok = true;
    const char *only = getenv("BENCH_CODECS");
    for (size_t c = 0; c < N_CODECS; c++) {
        if (only && !codec_listed(only, codecs[c]))
            continue;
        result ours, theirs;
        run_ours(boot, codecs[c], n, &ours);
        run_librdkafka(boot, codecs[c], n, &theirs);
        printf("  %-6s | %12.0f %12.0f %6.2f | %14.0f %14.0f %6.2f%s%s%s%s\n", codecs[c],
               ours.msgs_per_s, theirs.msgs_per_s,
               theirs.msgs_per_s > 0 ? ours.msgs_per_s / theirs.msgs_per_s : 0, ours.bytes_out,
               theirs.bytes_out, theirs.bytes_out > 0 ? ours.bytes_out / theirs.bytes_out : 0,
               ours.err[0] ? "  ours: " : "", ours.err, theirs.err[0] ? "  librdkafka: " : "",
               theirs.err);
        fflush(stdout);
        if (ours.ok != n || theirs.ok != n || ours.err[0] || theirs.err[0])
            ok = false;
    }
    printf("  msgs/s ratio target >= 0.80; bytes ratio < 1 means fewer bytes on the wire than "
           "librdkafka\n");
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(host);
    free(values);
    if (!ok)
        fprintf(stderr, "bench_compress: not every message was acknowledged\n");
    return ok ? 0 : 1;
}
