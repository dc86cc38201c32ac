/* bench_scale — how cost grows: throughput and peak RSS as the work grows, for our mock
 * cluster next to librdkafka's mock (driven by librdkafka's producer), and for our producer
 * next to librdkafka's (both against our cluster).
 *
 * Rows: partitions 6 / 100 / 1000 (3 brokers, replication 3, 100 B); brokers 1 / 3 / 9 / 16
 * (6 partitions, replication min(3, brokers)); record size 10 B .. 100 KB (3 brokers, 6
 * partitions); 1 / 10 / 100 producer connections on one broker (6 partitions); and the
 * producers over partitions and record sizes. acks=1, linger.ms=5, keyless. Each point sends
 * min(200000, BENCH_BYTES / size) records (BENCH_BYTES default 40 MB, at least 200) in a child
 * process of its own, so the peak RSS (VmHWM) is that point's: cluster + producer. Ours and
 * theirs alternate over 3 rounds; a row shows the medians.
 *
 *   build/release/bench/bench_scale
 */
#include "mockbroker/mb.h"
#include "producer/kp.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TOPIC "scale"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long vm_hwm_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6))
            kb = atol(line + 6);
    fclose(f);
    return kb;
}

typedef struct point {
    int brokers, partitions, size, conns;
    bool our_cluster, our_producer;
} point;

static _Atomic long n_ok, n_failed;

static void rk_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    if (m->err)
        atomic_fetch_add(&n_failed, 1);
    else
        atomic_fetch_add(&n_ok, 1);
}

static void kp_dr(const kp_record_metadata *md, kw_err err, void *opaque) {
    (void)md;
    (void)opaque;
    if (err)
        atomic_fetch_add(&n_failed, 1);
    else
        atomic_fetch_add(&n_ok, 1);
}

static rd_kafka_t *rk_new(const char *bootstrap) {
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err);
    rd_kafka_conf_set(conf, "acks", "1", err, sizeof err);
    rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof err);
    rd_kafka_conf_set(conf, "queue.buffering.max.messages", "500000", err, sizeof err);
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    rd_kafka_conf_set_dr_msg_cb(conf, rk_dr);
    return rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
}

/* Sends n records of pt->size over pt->conns producers; returns msgs/s or -1. */
static double load(const point *pt, const char *bootstrap, long n) {
    char *value = malloc((size_t)pt->size);
    memset(value, 'v', (size_t)pt->size);
    double secs = -1;
    if (pt->our_producer) {
        char err[256], bs[32];
        kp_conf *c = kp_conf_new();
        snprintf(bs, sizeof bs, "%d", 1 << 20);
        kp_conf_set(c, "bootstrap.servers", bootstrap, err, sizeof err);
        kp_conf_set(c, "acks", "1", err, sizeof err);
        kp_conf_set(c, "linger.ms", "5", err, sizeof err);
        kp_conf_set(c, "enable.idempotence", "false", err, sizeof err);
        kp_conf_set(c, "max.request.size", bs, err, sizeof err);
        kp_producer *p = kp_producer_new(c, err, sizeof err);
        kp_conf_destroy(c);
        if (!p) {
            fprintf(stderr, "bench_scale: producer: %s\n", err);
            free(value);
            return -1;
        }
        kp_record rec = {.topic = TOPIC,
                         .partition = KP_PARTITION_ANY,
                         .value = value,
                         .value_len = pt->size,
                         .timestamp_ms = KP_TIMESTAMP_NOW};
        kp_record warm = rec;
        warm.value_len = 1;
        kp_produce(p, &warm, NULL, NULL, NULL);
        kp_flush(p, 30000);
        double t0 = now_s();
        for (long i = 0; i < n; i++)
            if (kp_produce(p, &rec, kp_dr, NULL, NULL) != KW_ERR_NONE)
                atomic_fetch_add(&n_failed, 1);
        kp_flush(p, 300000);
        secs = now_s() - t0;
        kp_producer_destroy(p);
    } else {
        rd_kafka_t *rk[100];
        int nc = pt->conns;
        for (int i = 0; i < nc; i++) {
            rk[i] = rk_new(bootstrap);
            rd_kafka_producev(rk[i], RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_VALUE("w", 1),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        }
        for (int i = 0; i < nc; i++)
            rd_kafka_flush(rk[i], 30000);
        atomic_store(&n_ok, 0);
        double t0 = now_s();
        for (long i = 0; i < n; i++) {
            rd_kafka_t *r = rk[i % nc];
            while (rd_kafka_producev(r, RD_KAFKA_V_TOPIC(TOPIC),
                                     RD_KAFKA_V_VALUE(value, (size_t)pt->size),
                                     RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                     RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rd_kafka_poll(r, 1);
            if ((i & 1023) == 0)
                rd_kafka_poll(r, 0);
        }
        for (int i = 0; i < nc; i++)
            rd_kafka_flush(rk[i], 300000);
        secs = now_s() - t0;
        for (int i = 0; i < nc; i++)
            rd_kafka_destroy(rk[i]);
    }
    free(value);
    if (atomic_load(&n_failed) || atomic_load(&n_ok) != n)
        return -1;
    return (double)n / secs;
}

/* One point, in this (child) process. */
static double run_point(const point *pt, long n) {
    int rf = pt->brokers < 3 ? pt->brokers : 3;
    if (pt->our_cluster) {
        mb_config mc;
        mb_config_init(&mc);
        mc.brokers = pt->brokers;
        mb_topic_config t = {TOPIC, pt->partitions, (int16_t)rf, 0};
        mc.topics = &t;
        mc.n_topics = 1;
        mb_cluster *c = NULL;
        char err[256];
        if (mb_cluster_new(&mc, &c, err, sizeof err) || mb_cluster_start(c, err, sizeof err)) {
            fprintf(stderr, "bench_scale: our cluster: %s\n", err);
            mb_cluster_destroy(c);
            return -1;
        }
        double r = load(pt, mb_cluster_bootstrap(c), n);
        mb_cluster_destroy(c);
        return r;
    }
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    rd_kafka_t *host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    rd_kafka_mock_cluster_t *mock = host ? rd_kafka_mock_cluster_new(host, pt->brokers) : NULL;
    double r = -1;
    if (mock && !rd_kafka_mock_topic_create(mock, TOPIC, pt->partitions, rf))
        r = load(pt, rd_kafka_mock_cluster_bootstraps(mock), n);
    if (mock)
        rd_kafka_mock_cluster_destroy(mock);
    if (host)
        rd_kafka_destroy(host);
    return r;
}

/* Runs a point in a child: msgs/s and peak RSS (KB). */
static void measure(const point *pt, long n, double *rate, long *rss) {
    int fds[2];
    *rate = -1;
    *rss = -1;
    if (pipe(fds))
        return;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        double r = run_point(pt, n);
        long kb = vm_hwm_kb();
        char buf[64];
        int len = snprintf(buf, sizeof buf, "%.0f %ld\n", r, kb);
        if (write(fds[1], buf, (size_t)len) < 0)
            _exit(1);
        _exit(0);
    }
    close(fds[1]);
    char buf[64] = {0};
    ssize_t got = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    int st;
    waitpid(pid, &st, 0);
    if (got > 0)
        sscanf(buf, "%lf %ld", rate, rss);
}

static long count_for(int size) {
    double budget = getenv("BENCH_BYTES") ? atof(getenv("BENCH_BYTES")) : 40e6;
    long n = (long)(budget / size);
    if (n > 200000)
        n = 200000;
    return n < 200 ? 200 : n;
}

static double med3(double a, double b, double c) {
    return a > b ? (b > c ? b : (a > c ? c : a)) : (a > c ? a : (b > c ? c : b));
}

/* One row: the same point with ours and theirs (cluster or producer), alternating over 3
 * rounds; medians of msgs/s and of peak RSS. */
static void row(const char *dim, const char *val, point pt, bool producers) {
    long n = count_for(pt.size);
    double ro[3], rt[3];
    long mo[3], mt[3];
    for (int r = 0; r < 3; r++) {
        if (producers) {
            pt.our_cluster = true;
            pt.our_producer = true;
            measure(&pt, n, &ro[r], &mo[r]);
            pt.our_producer = false;
            measure(&pt, n, &rt[r], &mt[r]);
        } else {
            pt.our_producer = false;
            pt.our_cluster = true;
            measure(&pt, n, &ro[r], &mo[r]);
            pt.our_cluster = false;
            measure(&pt, n, &rt[r], &mt[r]);
        }
    }
    double a = med3(ro[0], ro[1], ro[2]), b = med3(rt[0], rt[1], rt[2]);
    double ma = med3((double)mo[0], (double)mo[1], (double)mo[2]);
    double mb = med3((double)mt[0], (double)mt[1], (double)mt[2]);
    printf("  %-12s %-7s %7ld %12.0f %9.1f %12.0f %9.1f %6.2f\n", dim, val, n, a, ma / 1024.0, b,
           mb / 1024.0, a > 0 && b > 0 ? a / b : 0.0);
    fflush(stdout);
}

int main(void) {
    double la[3] = {0};
    if (getloadavg(la, 3) < 0)
        la[0] = -1;
    printf("bench_scale: acks=1 linger.ms=5 keyless; peak RSS = the point's process (cluster + "
           "producer); load average %.2f\n",
           la[0]);
    printf("brokers: our mock cluster vs librdkafka's mock, both driven by librdkafka %s\n",
           rd_kafka_version_str());
    printf("  %-12s %-7s %7s %12s %9s %12s %9s %6s\n", "dimension", "value", "msgs", "ours msg/s",
           "ours MB", "rdk msg/s", "rdk MB", "ratio");
    static const int parts[] = {6, 100, 1000};
    static const int brokers[] = {1, 3, 9, 16};
    static const int sizes[] = {10, 100, 1000, 10000, 100000};
    static const int conns[] = {1, 10, 100};
    char v[16];
    for (size_t i = 0; i < 3; i++) {
        snprintf(v, sizeof v, "%d", parts[i]);
        row("partitions", v, (point){3, parts[i], 100, 1, 0, 0}, false);
    }
    for (size_t i = 0; i < 4; i++) {
        snprintf(v, sizeof v, "%d", brokers[i]);
        row("brokers", v, (point){brokers[i], 6, 100, 1, 0, 0}, false);
    }
    for (size_t i = 0; i < 5; i++) {
        snprintf(v, sizeof v, "%d", sizes[i]);
        row("record B", v, (point){3, 6, sizes[i], 1, 0, 0}, false);
    }
    for (size_t i = 0; i < 3; i++) {
        snprintf(v, sizeof v, "%d", conns[i]);
        row("connections", v, (point){1, 6, 100, conns[i], 0, 0}, false);
    }
    printf("producers: ours vs librdkafka's, both to our mock cluster (3 brokers)\n");
    printf("  %-12s %-7s %7s %12s %9s %12s %9s %6s\n", "dimension", "value", "msgs", "ours msg/s",
           "ours MB", "rdk msg/s", "rdk MB", "ratio");
    for (size_t i = 0; i < 3; i++) {
        snprintf(v, sizeof v, "%d", parts[i]);
        row("partitions", v, (point){3, parts[i], 100, 1, 0, 0}, true);
    }
    for (size_t i = 0; i < 5; i++) {
        snprintf(v, sizeof v, "%d", sizes[i]);
        row("record B", v, (point){3, 6, sizes[i], 1, 0, 0}, true);
    }
    return 0;
}
