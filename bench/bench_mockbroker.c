/* bench_mockbroker — how fast is our mock cluster compared with librdkafka's own mock?
 *
 * Both clusters get the same load from librdkafka's producer over loopback: 3 brokers, one
 * topic of 6 partitions with replication 3, N messages of 100 bytes (default 1,000,000;
 * BENCH_MSGS=... to change), first with acks=1 linger.ms=5, then acks=all with idempotence.
 * Prints msgs/s for each cluster and the ratio ours / librdkafka's (target >= 0.8).
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
#define MSG_SIZE 100

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
    char payload[MSG_SIZE];
    memset(payload, 'x', sizeof payload);
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(TOPIC),
                                      RD_KAFKA_V_VALUE(payload, sizeof payload),
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
    rd_kafka_destroy(rk);
    if (dr.failed || dr.ok != n) {
        fprintf(stderr, "bench: %ld delivered, %ld failed (first: %s)\n", dr.ok, dr.failed,
                dr.failed ? dr.first_err : "-");
        return -1;
    }
    return (double)n / secs;
}

/* Our cluster: 3 brokers, the topic, one load. */
static double bench_ours(long n, const char *acks, bool idem) {
    mb_config mc;
    mb_config_init(&mc);
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
    long n = 1000000;
    const char *env = getenv("BENCH_MSGS");
    if (argc > 1)
        n = atol(argv[1]);
    else if (env)
        n = atol(env);
    if (n <= 0) {
        fprintf(stderr, "usage: bench_mockbroker [MESSAGES > 0]\n");
        return 2;
    }
    struct {
        const char *name, *acks;
        bool idem;
    } loads[] = {{"acks=1 linger.ms=5", "1", false}, {"acks=all idempotence", "all", true}};
    printf("bench_mockbroker: %ld msgs x %d B, 3 brokers, %d partitions, replication %d\n", n,
           MSG_SIZE, PARTITIONS, REPLICATION);
    int rc = 0;
    /* The machine is shared: alternate the clusters over ROUNDS rounds and compare medians. */
    enum { ROUNDS = 3 };
    for (size_t k = 0; k < sizeof loads / sizeof loads[0]; k++) {
        double ours[ROUNDS], theirs[ROUNDS];
        for (int r = 0; r < ROUNDS; r++) {
            ours[r] = bench_ours(n, loads[k].acks, loads[k].idem);
            theirs[r] = bench_theirs(n, loads[k].acks, loads[k].idem);
        }
        double mo = median3(ours), mt = median3(theirs);
        if (mo < 0 || mt < 0) {
            printf("  %-22s FAILED (ours %s, librdkafka mock %s)\n", loads[k].name,
                   mo < 0 ? "failed" : "ok", mt < 0 ? "failed" : "ok");
            rc = 1;
            continue;
        }
        printf("  %-22s ours %10.0f msgs/s   librdkafka mock %10.0f msgs/s   ratio %.2f %s\n",
               loads[k].name, mo, mt, mo / mt, mo / mt >= 0.8 ? "(>= 0.8 ok)" : "(below 0.8)");
        printf("  %-22s rounds: ours %.0f %.0f %.0f; librdkafka mock %.0f %.0f %.0f\n", "", ours[0],
               ours[1], ours[2], theirs[0], theirs[1], theirs[2]);
        fflush(stdout);
    }
    return rc;
}
