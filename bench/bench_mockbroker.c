/* bench_mockbroker — how fast is our mock cluster compared with librdkafka's own mock?
 *
 * Both clusters get the same load from librdkafka's producer over loopback: 3 brokers, one
 * topic of 6 partitions with replication 3, records of 100 B, 1 KB and 10 KB, each with
 * acks=1 linger.ms=5 and with acks=all + idempotence. Each point sends BENCH_BYTES of values
 * (default 40 MB; BENCH_MSGS=N or argv[1] fixes the count instead). Ours runs twice: with
 * retention unlimited (the mock cluster's default) and with 5 MiB per partition in 1 MiB
 * segments, as librdkafka's mock keeps (rdkafka_mock.c: max_size 5 MiB per partition).
 * The machine is shared: the three clusters alternate over 3 rounds and the medians are
 * compared. Prints msgs/s and the ratios ours / librdkafka's (target >= 1.0). BENCH_SIZE=1024
 * runs one record size only.
 *
 *   build/release/bench/bench_mockbroker [MESSAGES]
 */
#include "mockbroker/mb.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TOPIC "bench"
#define PARTITIONS 6
#define REPLICATION 3
static int msg_size = 100;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct bench_dr {
    long ok, failed;
    char first_err[128];
} bench_dr;

static void on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    bench_dr *d = opaque;
    if (m->err) {
        if (d->failed++ == 0)
            snprintf(d->first_err, sizeof d->first_err, "%s", rd_kafka_err2str(m->err));
    } else {
        d->ok++;
    }
}

/* Produces n messages to bootstrap with the given acks/idempotence; returns msgs/s, or -1. */
static double run_load(const char *bootstrap, long n, const char *acks, bool idempotent) {
    char err[512];
    bench_dr dr = {0};
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err) ||
        rd_kafka_conf_set(conf, "acks", acks, err, sizeof err) ||
        rd_kafka_conf_set(conf, "enable.idempotence", idempotent ? "true" : "false", err,
                          sizeof err) ||
        rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof err) ||
        rd_kafka_conf_set(conf, "queue.buffering.max.messages", "500000", err, sizeof err) ||
        rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err)) {
        fprintf(stderr, "bench: config: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_dr);
    rd_kafka_conf_set_opaque(conf, &dr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "bench: producer: %s\n", err);
        return -1;
    }
    /* Warm up: metadata and connections before the clock starts. */
    rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_VALUE("warmup", 6),
                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    rd_kafka_flush(rk, 10000);
    dr.ok = 0;
    char *payload = malloc((size_t)msg_size);
    memset(payload, 'x', (size_t)msg_size);
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(TOPIC),
                                      RD_KAFKA_V_VALUE(payload, (size_t)msg_size),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 1);
        if (e) {
            fprintf(stderr, "bench: produce: %s\n", rd_kafka_err2str(e));
            break;
        }
        if ((i & 1023) == 0)
            rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 120000);
    double secs = now_s() - t0;
    free(payload);
    rd_kafka_destroy(rk);
    if (dr.failed || dr.ok != n) {
        fprintf(stderr, "bench: %ld delivered, %ld failed (first: %s)\n", dr.ok, dr.failed,
                dr.failed ? dr.first_err : "-");
        return -1;
    }
    return (double)n / secs;
}

/* Our cluster: 3 brokers, the topic, one load. */
static double bench_ours(long n, const char *acks, bool idem, bool capped) {
    mb_config mc;
    mb_config_init(&mc);
    if (capped) {
        mc.log_retention_bytes = 5 << 20;
        mc.log_segment_bytes = 1 << 20;
    }
    mb_topic_config t = {TOPIC, PARTITIONS, REPLICATION, 0};
    mc.topics = &t;
    mc.n_topics = 1;
    mb_cluster *c;
    char err[256];
    if (mb_cluster_new(&mc, &c, err, sizeof err) || mb_cluster_start(c, err, sizeof err)) {
        fprintf(stderr, "bench: our cluster: %s\n", err);
        mb_cluster_destroy(c);
        return -1;
    }
    double r = run_load(mb_cluster_bootstrap(c), n, acks, idem);
    mb_cluster_destroy(c);
    return r;
}

/* librdkafka's mock cluster, same shape and load. */
static double bench_theirs(long n, const char *acks, bool idem) {
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    rd_kafka_t *host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    rd_kafka_mock_cluster_t *mock = host ? rd_kafka_mock_cluster_new(host, 3) : NULL;
    double r = -1;
    if (mock && !rd_kafka_mock_topic_create(mock, TOPIC, PARTITIONS, REPLICATION))
        r = run_load(rd_kafka_mock_cluster_bootstraps(mock), n, acks, idem);
    if (mock)
        rd_kafka_mock_cluster_destroy(mock);
    if (host)
        rd_kafka_destroy(host);
    return r;
}

static double median3(const double v[3]) {
    if (v[0] < 0 || v[1] < 0 || v[2] < 0)
        return -1;
    double a = v[0], b = v[1], c = v[2];
    if ((a <= b && b <= c) || (c <= b && b <= a))
        return b;
    if ((b <= a && a <= c) || (c <= a && a <= b))
        return a;
    return c;
}

int main(int argc, char **argv) {
    long fixed = 0;
    const char *env = getenv("BENCH_MSGS");
    if (argc > 1)
        fixed = atol(argv[1]);
    else if (env)
        fixed = atol(env);
    double budget = getenv("BENCH_BYTES") ? atof(getenv("BENCH_BYTES")) : 40e6;
    if ((argc > 1 || env) && fixed <= 0) {
        fprintf(stderr, "usage: bench_mockbroker [MESSAGES > 0]\n");
        return 2;
    }
    static const int sizes[] = {100, 1024, 10240};
    struct {
        const char *name, *acks;
        bool idem;
    } loads[] = {{"acks=1", "1", false}, {"acks=all+idem", "all", true}};
    double la[3] = {0};
    if (getloadavg(la, 3) < 0)
        la[0] = -1;
    printf("bench_mockbroker: 3 brokers, %d partitions, replication %d, librdkafka %s producer, "
           "linger.ms=5; load average %.2f\n",
           PARTITIONS, REPLICATION, rd_kafka_version_str(), la[0]);
    printf("  %-6s %-14s %8s %13s %13s %13s %7s %7s\n", "size", "load", "msgs", "ours", "ours 5MiB",
           "librdkafka", "ratio", "5MiB");
    int rc = 0;
    enum { ROUNDS = 3 };
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        msg_size = sizes[z];
        if (getenv("BENCH_SIZE") && atoi(getenv("BENCH_SIZE")) != msg_size)
            continue;
        long n = fixed > 0 ? fixed : (long)(budget / msg_size);
        for (size_t k = 0; k < sizeof loads / sizeof loads[0]; k++) {
            double ours[ROUNDS], capped[ROUNDS], theirs[ROUNDS];
            for (int r = 0; r < ROUNDS; r++) {
                ours[r] = bench_ours(n, loads[k].acks, loads[k].idem, false);
                capped[r] = bench_ours(n, loads[k].acks, loads[k].idem, true);
                theirs[r] = bench_theirs(n, loads[k].acks, loads[k].idem);
            }
            double mo = median3(ours), mc = median3(capped), mt = median3(theirs);
            if (mo < 0 || mt < 0 || mc < 0) {
                printf("  %-6d %-14s FAILED (ours %s, capped %s, librdkafka mock %s)\n", msg_size,
                       loads[k].name, mo < 0 ? "failed" : "ok", mc < 0 ? "failed" : "ok",
                       mt < 0 ? "failed" : "ok");
                rc = 1;
                continue;
            }
            printf("  %-6d %-14s %8ld %11.0f/s %11.0f/s %11.0f/s %7.2f %7.2f\n", msg_size,
                   loads[k].name, n, mo, mc, mt, mo / mt, mc / mt);
            fflush(stdout);
        }
    }
    return rc;
}
