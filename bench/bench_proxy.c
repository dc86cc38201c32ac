/* bench_proxy — what the fault proxy (sim/proxy.c) costs in throughput, without faults.
 *
 * Courier's mock cluster (3 brokers, one topic of 6 partitions, replication 3) in this
 * process; our producer sends N keyless records of 100 bytes (default 1,000,000; argv[1] or
 * BENCH_MSGS to change), acks=1, linger.ms=5, batch.size=16384, no idempotence — once
 * straight to the brokers and once through an in-process proxy, in alternating pairs
 * (ROUNDS pairs), so that a busy machine slows both sides of a pair alike. Prints each pair's
 * ratio proxied/direct and the median: the proxy's cost is 1 - median (target < 10%).
 *
 *   build/release/bench/bench_proxy [MESSAGES]
 */
#include "mockbroker/mb.h"
#include "producer/kp.h"
#include "sim/proxy.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TOPIC "bench"
#define PARTITIONS 6
#define MSG_SIZE 100
#define ROUNDS 7

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static _Atomic long acked, failed;

static void on_delivery(const kp_record_metadata *md, kw_err err, void *opaque) {
    (void)md;
    (void)opaque;
    atomic_fetch_add_explicit(err == KW_ERR_NONE ? &acked : &failed, 1, memory_order_relaxed);
}

static void quiet(int level, const char *line, void *opaque) {
    (void)level;
    (void)line;
    (void)opaque;
}

/* Records per second our producer reaches to bootstrap; -1 on a failure (said on stderr). */
static double run(const char *bootstrap, long n) {
    char err[256];
    kp_conf *c = kp_conf_new();
    const char *kv[][2] = {{"bootstrap.servers", bootstrap},
                           {"acks", "1"},
                           {"linger.ms", "5"},
                           {"batch.size", "16384"},
                           {"enable.idempotence", "false"},
                           {"value.serializer", "bytes"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (kp_conf_set(c, kv[i][0], kv[i][1], err, sizeof err) != KW_ERR_NONE) {
            fprintf(stderr, "bench_proxy: config %s: %s\n", kv[i][0], err);
            kp_conf_destroy(c);
            return -1;
        }
    kp_producer *p = kp_producer_new(c, err, sizeof err);
    kp_conf_destroy(c);
    if (!p) {
        fprintf(stderr, "bench_proxy: %s\n", err);
        return -1;
    }
    atomic_store(&acked, 0);
    atomic_store(&failed, 0);
    char value[MSG_SIZE];
    memset(value, 'v', sizeof value);
    kp_record rec = {.topic = TOPIC,
                     .partition = KP_PARTITION_ANY,
                     .value = value,
                     .value_len = MSG_SIZE,
                     .timestamp_ms = KP_TIMESTAMP_NOW};
    double t0 = now_s();
    for (long i = 0; i < n; i++)
        if (kp_produce(p, &rec, on_delivery, NULL, NULL) != KW_ERR_NONE)
            break;
    kw_err fe = kp_flush(p, 300000);
    double t1 = now_s();
    kp_producer_destroy(p);
    if (fe != KW_ERR_NONE || atomic_load(&acked) != n) {
        fprintf(stderr, "bench_proxy: %ld of %ld acknowledged, %ld failed (%s)\n",
                atomic_load(&acked), n, atomic_load(&failed), kw_err_name(fe));
        return -1;
    }
    return (double)n / (t1 - t0);
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    long n = 1000000;
    const char *env = getenv("BENCH_MSGS");
    if (argc > 1)
        n = atol(argv[1]);
    else if (env)
        n = atol(env);
    if (n <= 0) {
        fprintf(stderr, "bench_proxy: the message count must be positive\n");
        return 2;
    }
    mb_config mc;
    mb_config_init(&mc);
    mc.brokers = 3;
    mb_topic_config t = {TOPIC, PARTITIONS, 3, 1};
    mc.topics = &t;
    mc.n_topics = 1;
    mc.log_cb = quiet;
    mb_cluster *cl;
    char err[512];
    if (mb_cluster_new(&mc, &cl, err, sizeof err) != MB_OK ||
        mb_cluster_start(cl, err, sizeof err) != MB_OK) {
        fprintf(stderr, "bench_proxy: cluster: %s\n", err);
        return 1;
    }
    sim_proxy_opts po = {.upstream = mb_cluster_bootstrap(cl)};
    sim_proxy *px;
    if (sim_proxy_new(&po, &px, err, sizeof err)) {
        fprintf(stderr, "bench_proxy: proxy: %s\n", err);
        mb_cluster_destroy(cl);
        return 1;
    }
    printf("%ld records of %d B per run, acks=1, linger.ms=5; %d pairs (direct, proxied)\n", n,
           MSG_SIZE, ROUNDS);
    double ratio[ROUNDS];
    int ok = 0;
    for (int i = 0; i < ROUNDS; i++) {
        double d = run(mb_cluster_bootstrap(cl), n);
        double x = run(sim_proxy_bootstrap(px), n);
        if (d <= 0 || x <= 0)
            continue;
        ratio[ok++] = x / d;
        printf("  pair %d: direct %9.0f rec/s  proxied %9.0f rec/s  ratio %.3f\n", i + 1, d, x,
               x / d);
        fflush(stdout);
    }
    sim_proxy_stats st;
    sim_proxy_get_stats(px, &st);
    sim_proxy_destroy(px);
    mb_cluster_destroy(cl);
    if (ok == 0) {
        fprintf(stderr, "bench_proxy: no pair completed\n");
        return 1;
    }
    qsort(ratio, (size_t)ok, sizeof ratio[0], cmp_d);
    double med = ratio[ok / 2];
    printf("proxy throughput ratio (median of %d pairs): %.3f, cost %.1f%% (target < 10%%); "
           "range %.3f..%.3f; the proxy carried %lld requests, %lld answers\n",
           ok, med, (1.0 - med) * 100.0, ratio[0], ratio[ok - 1], (long long)st.requests,
           (long long)st.responses);
    return 0;
}
