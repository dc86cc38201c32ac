/* bench_mockbroker — how fast is our mock cluster compared with librdkafka's own mock?
 *
 * Both clusters get the same load from librdkafka's producer over loopback: 3 brokers, one
 * topic of 6 partitions with replication 3, records of 100 B, 1 KB and 10 KB, each with
 * acks=1 linger.ms=5 and with acks=all + idempotence. Each point sends BENCH_BYTES of values
 * (BENCH_MSGS=N or argv[1] fixes the count instead). Ours runs twice: with
 * retention unlimited (the mock cluster's default) and with 5 MiB per partition in 1 MiB
 * segments, as librdkafka's mock keeps (rdkafka_mock.c: max_size 5 MiB per partition).
 * The machine is shared: the three clusters alternate over BENCH_TRIALS rounds (default 7;
 * the one that goes first rotates), and each trial of ours is divided by librdkafka's trial
 * of the same round. Prints the median msgs/s and the median ratio ours / librdkafka's
 * (target >= 1.0) with its range over the trials, so the spread is seen next to the verdict.
 * Each point sends BENCH_BYTES of values (default 100 MB). BENCH_SIZE=1024 runs one record
 * size only, BENCH_LOAD=acks=1 one load, BENCH_ONLY=ours|capped|theirs one cluster (to
 * profile it with perf record).
 *
 *   build/release/bench/bench_mockbroker [MESSAGES]
 */
#include "mockbroker/mb.h"

#include <dirent.h>
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

/* CPU time (s) so far of this process's broker threads: ours are named mb:*, librdkafka's
 * mock thread rdk:mock (from /proc/self/task/N/schedstat, in ns). */
static double broker_cpu_s(void) {
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return 0;
    double total = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], comm[64] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (!fgets(comm, sizeof comm, f))
            comm[0] = '\0';
        fclose(f);
        if (strncmp(comm, "mb:", 3) && strncmp(comm, "rdk:mock", 8))
            continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", e->d_name);
        f = fopen(path, "r");
        unsigned long long ns = 0;
        if (f) {
            if (fscanf(f, "%llu", &ns) != 1)
                ns = 0;
            fclose(f);
        }
        total += (double)ns / 1e9;
    }
    closedir(d);
    return total;
}

static double last_cpu_us_per_mb; /* broker CPU of the last run_load, µs per MB of values */

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
    double c0 = broker_cpu_s();
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
    last_cpu_us_per_mb = (broker_cpu_s() - c0) * 1e6 / ((double)n * msg_size / 1e6);
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

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of n values (sorts them); -1 when any is a failure (< 0). */
static double median(double *v, int n) {
    for (int i = 0; i < n; i++)
        if (v[i] < 0)
            return -1;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

enum { MAX_TRIALS = 31 };

/* One configuration's trials at one point: msgs/s per trial, and the ratio of each trial to
 * librdkafka's trial of the same round (run next to it, so both saw the same machine). */
typedef struct series {
    double rate[MAX_TRIALS], ratio[MAX_TRIALS], cpu[MAX_TRIALS];
} series;

int main(int argc, char **argv) {
    long fixed = 0;
    const char *env = getenv("BENCH_MSGS");
    if (argc > 1)
        fixed = atol(argv[1]);
    else if (env)
        fixed = atol(env);
    double budget = getenv("BENCH_BYTES") ? atof(getenv("BENCH_BYTES")) : 100e6;
    int trials = getenv("BENCH_TRIALS") ? atoi(getenv("BENCH_TRIALS")) : 7;
    /* BENCH_ONLY=ours|capped|theirs runs one cluster alone (for perf record). */
    const char *only = getenv("BENCH_ONLY");
    if ((argc > 1 || env) && fixed <= 0) {
        fprintf(stderr, "usage: bench_mockbroker [MESSAGES > 0]\n");
        return 2;
    }
    if (trials < 1 || trials > MAX_TRIALS) {
        fprintf(stderr, "bench_mockbroker: BENCH_TRIALS must be 1..%d\n", MAX_TRIALS);
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
           "linger.ms=5; %d alternating trials a point, medians; load average %.2f\n",
           PARTITIONS, REPLICATION, rd_kafka_version_str(), trials, la[0]);
    printf("  ratio = ours / librdkafka's mock, per trial against the librdkafka trial of the "
           "same round; [min-max] over the trials\n");
    printf("  broker CPU: µs of the broker threads' CPU per MB of values (ours, 5MiB, "
           "librdkafka's), medians; less is better, and it is less noisy than msgs/s\n");
    printf("  %-6s %-14s %8s %12s %12s %12s  %-18s %-18s %17s\n", "size", "load", "msgs", "ours",
           "ours 5MiB", "librdkafka", "ratio [min-max]", "5MiB [min-max]", "broker CPU us/MB");
    int rc = 0, points = 0, met = 0;
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        msg_size = sizes[z];
        if (getenv("BENCH_SIZE") && atoi(getenv("BENCH_SIZE")) != msg_size)
            continue;
        long n = fixed > 0 ? fixed : (long)(budget / msg_size);
        for (size_t k = 0; k < sizeof loads / sizeof loads[0]; k++) {
            if (getenv("BENCH_LOAD") && strcmp(getenv("BENCH_LOAD"), loads[k].name))
                continue;
            series s[3];
            memset(s, 0, sizeof s); /* 0 ours, 1 ours capped, 2 librdkafka */
            bool failed = false;
            for (int r = 0; r < trials; r++) {
                /* Rotate who goes first, so no cluster always runs on a warmer or cooler
                 * machine than the others. */
                for (int j = 0; j < 3; j++) {
                    int w = (r + j) % 3;
                    double v = -2; /* not run */
                    if (only && strcmp(only, w == 0 ? "ours" : w == 1 ? "capped" : "theirs"))
                        v = 0;
                    else if (w == 2)
                        v = bench_theirs(n, loads[k].acks, loads[k].idem);
                    else
                        v = bench_ours(n, loads[k].acks, loads[k].idem, w == 1);
                    if (v < 0)
                        failed = true;
                    s[w].rate[r] = v;
                    s[w].cpu[r] = v > 0 ? last_cpu_us_per_mb : 0;
                }
                for (int w = 0; w < 2; w++)
                    s[w].ratio[r] = s[2].rate[r] > 0 ? s[w].rate[r] / s[2].rate[r] : 0;
            }
            if (failed) {
                printf("  %-6d %-14s FAILED (see above)\n", msg_size, loads[k].name);
                rc = 1;
                continue;
            }
            double mr[3], mcpu[3], rmed[2], rmin[2], rmax[2];
            for (int w = 0; w < 3; w++) {
                mr[w] = median(s[w].rate, trials);
                mcpu[w] = median(s[w].cpu, trials);
            }
            for (int w = 0; w < 2; w++) {
                rmed[w] = median(s[w].ratio, trials); /* sorted now */
                rmin[w] = s[w].ratio[0];
                rmax[w] = s[w].ratio[trials - 1];
                if (!only) {
                    points++;
                    met += rmed[w] >= 1.0;
                }
            }
            char c0[32], c1[32];
            snprintf(c0, sizeof c0, "%.2f [%.2f-%.2f]", rmed[0], rmin[0], rmax[0]);
            snprintf(c1, sizeof c1, "%.2f [%.2f-%.2f]", rmed[1], rmin[1], rmax[1]);
            printf("  %-6d %-14s %8ld %10.0f/s %10.0f/s %10.0f/s  %-18s %-18s %5.0f %5.0f %5.0f\n",
                   msg_size, loads[k].name, n, mr[0], mr[1], mr[2], c0, c1, mcpu[0], mcpu[1],
                   mcpu[2]);
            fflush(stdout);
        }
    }
    if (points) {
        if (getloadavg(la, 3) < 0)
            la[0] = -1;
        printf("  %d of %d median ratios >= 1.0 (target: all); load average %.2f at the end\n", met,
               points, la[0]);
    }
    return rc;
}
