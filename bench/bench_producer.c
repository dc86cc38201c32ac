/* bench_producer — our producer against librdkafka's, on the same librdkafka mock cluster.
 *
 * Same load for both: 3 brokers, one topic of 6 partitions (replication 3), N keyless
 * messages of 100 bytes (default 1,000,000; argv[1] or BENCH_MSGS to change), acks=1,
 * linger.ms=5, batch.size=16384, no idempotence (acks=1). Prints msgs/s for each, the ratio
 * ours / librdkafka's (target >= 0.8), and our producer's peak RSS next to buffer.memory.
 *
 * Our producer runs in a child process forked before the cluster exists, so its peak RSS
 * (VmHWM) is its own and not the mock cluster's. Timing: from the first produce call to the
 * last delivery report (flush). A last run of ours against brokers that answer after 50 ms
 * fills buffer.memory, to show the memory bound (peak RSS vs buffer.memory).
 *
 * Keyless first, then the same run keyed (BENCH_KEYED=1: key "k<i % 10000>" on every record,
 * murmur2-partitioned by both; the program re-executes itself for it).
 *
 *   build/release/bench/bench_producer [MESSAGES]
 */
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

#define TOPIC "bench"
#define PARTITIONS 6
#define MSG_SIZE 100
#define BUFFER_MEMORY 33554432L

static bool keyed; /* BENCH_KEYED=1 */

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

typedef struct result {
    double msgs_per_s;
    long ok, failed;
    long rss_before_kb, rss_peak_kb;
    char err[640];
} result;

static _Atomic long ours_ok, ours_failed;
static _Atomic int ours_first_err;

static void ours_cb(const kp_record_metadata *md, kw_err err, void *opaque) {
    (void)md;
    (void)opaque;
    if (err == KW_ERR_NONE)
        atomic_fetch_add_explicit(&ours_ok, 1, memory_order_relaxed);
    else if (atomic_fetch_add(&ours_failed, 1) == 0)
        atomic_store(&ours_first_err, (int)err);
}

/* Our producer: n messages to bootstrap. */
static void run_ours(const char *bootstrap, long n, result *r) {
    memset(r, 0, sizeof *r);
    char err[256];
    kp_conf *c = kp_conf_new();
    const char *kv[][2] = {{"bootstrap.servers", bootstrap},
                           {"acks", "1"},
                           {"linger.ms", "5"},
                           {"batch.size", "16384"},
                           {"buffer.memory", "33554432"},
                           {"enable.idempotence", "false"},
                           {"value.serializer", "bytes"}};
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
    r->rss_before_kb = vm_hwm_kb();
    char value[MSG_SIZE];
    memset(value, 'v', sizeof value);
    kp_record rec = {.topic = TOPIC,
                     .partition = KP_PARTITION_ANY,
                     .value = value,
                     .value_len = MSG_SIZE,
                     .timestamp_ms = KP_TIMESTAMP_NOW};
    double t0 = now_s();
    char key[24];
    for (long i = 0; i < n; i++) {
        if (keyed) {
            rec.key = key;
            rec.key_len = snprintf(key, sizeof key, "k%ld", i % 10000);
        }
        kw_err e = kp_produce(p, &rec, ours_cb, NULL, NULL);
        if (e != KW_ERR_NONE) {
            snprintf(r->err, sizeof r->err, "kp_produce: %s", kw_err_name(e));
            break;
        }
    }
    kw_err fe = kp_flush(p, 300000);
    double t1 = now_s();
    if (fe != KW_ERR_NONE && !r->err[0])
        snprintf(r->err, sizeof r->err, "kp_flush: %s", kw_err_name(fe));
    r->ok = atomic_load(&ours_ok);
    r->failed = atomic_load(&ours_failed);
    if (r->failed && !r->err[0])
        snprintf(r->err, sizeof r->err, "first failure: %s",
                 kw_err_name((kw_err)atomic_load(&ours_first_err)));
    r->msgs_per_s = (double)r->ok / (t1 - t0);
    r->rss_peak_kb = vm_hwm_kb();
    kp_producer_destroy(p);
}

typedef struct rk_dr {
    long ok, failed;
    char first_err[256];
} rk_dr;

static void rk_on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    rk_dr *d = opaque;
    if (m->err) {
        if (d->failed++ == 0)
            snprintf(d->first_err, sizeof d->first_err, "%s", rd_kafka_err2str(m->err));
    } else {
        d->ok++;
    }
}

/* librdkafka's producer with the same settings. */
static void run_librdkafka(const char *bootstrap, long n, result *r) {
    memset(r, 0, sizeof *r);
    char err[512];
    rk_dr dr = {0};
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *kv[][2] = {{"bootstrap.servers", bootstrap},
                           {"acks", "1"},
                           {"linger.ms", "5"},
                           {"batch.size", "16384"},
                           {"enable.idempotence", "false"},
                           {"partitioner", "murmur2_random"},
                           {"queue.buffering.max.kbytes", "32768"},
                           {"queue.buffering.max.messages", "1000000"},
                           {"log_level", "3"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], err, sizeof err) != RD_KAFKA_CONF_OK) {
            snprintf(r->err, sizeof r->err, "config: %s", err);
            rd_kafka_conf_destroy(conf);
            return;
        }
    rd_kafka_conf_set_dr_msg_cb(conf, rk_on_dr);
    rd_kafka_conf_set_opaque(conf, &dr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        snprintf(r->err, sizeof r->err, "%s", err);
        return;
    }
    char value[MSG_SIZE];
    memset(value, 'v', sizeof value);
    double t0 = now_s();
    char key[24];
    for (long i = 0; i < n; i++) {
        int klen = keyed ? snprintf(key, sizeof key, "k%ld", i % 10000) : 0;
        for (;;) {
            rd_kafka_resp_err_t e =
                rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_VALUE(value, MSG_SIZE),
                                  RD_KAFKA_V_KEY(keyed ? key : NULL, (size_t)klen),
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
    rd_kafka_flush(rk, 300000);
    double t1 = now_s();
    r->ok = dr.ok;
    r->failed = dr.failed;
    if (dr.failed && !r->err[0])
        snprintf(r->err, sizeof r->err, "first failure: %s", dr.first_err);
    r->msgs_per_s = (double)r->ok / (t1 - t0);
    rd_kafka_destroy(rk);
}

/* A child process that runs our producer once it is told the bootstrap servers. Forked before
 * the mock cluster exists, so its peak RSS is its own. */
typedef struct child {
    pid_t pid;
    int to, from;
} child;

static bool child_start(child *c, long n) {
    int to_child[2], from_child[2];
    if (pipe(to_child) || pipe(from_child)) {
        perror("pipe");
        return false;
    }
    c->pid = fork();
    if (c->pid < 0) {
        perror("fork");
        return false;
    }
    if (c->pid == 0) {
        close(to_child[1]);
        close(from_child[0]);
        char boot[512] = "";
        ssize_t got = read(to_child[0], boot, sizeof boot - 1);
        if (got <= 0)
            _exit(1);
        boot[got] = 0;
        result r;
        run_ours(boot, n, &r);
        ssize_t w = write(from_child[1], &r, sizeof r);
        _exit(w == (ssize_t)sizeof r ? 0 : 1);
    }
    close(to_child[0]);
    close(from_child[1]);
    c->to = to_child[1];
    c->from = from_child[0];
    return true;
}

static bool child_run(child *c, const char *boot, result *r) {
    bool ok = write(c->to, boot, strlen(boot)) == (ssize_t)strlen(boot) &&
              read(c->from, r, sizeof *r) == (ssize_t)sizeof *r;
    int status = 0;
    waitpid(c->pid, &status, 0);
    close(c->to);
    close(c->from);
    return ok;
}

int main(int argc, char **argv) {
    keyed = getenv("BENCH_KEYED") && atoi(getenv("BENCH_KEYED")) == 1;
    long n = 1000000;
    const char *env = getenv("BENCH_MSGS");
    if (argc > 1)
        n = atol(argv[1]);
    else if (env)
        n = atol(env);
    if (n <= 0) {
        fprintf(stderr, "usage: bench_producer [MESSAGES > 0]\n");
        return 2;
    }
    /* Both producer processes are forked before any thread exists. The second one runs while
     * the brokers answer slowly, so that buffer.memory fills up: its peak RSS shows the bound. */
    long n_slow = n < 300000 ? n : 300000;
    child fast, slow;
    if (!child_start(&fast, n) || !child_start(&slow, n_slow))
        return 1;

    char err[256];
    rd_kafka_conf_t *hc = rd_kafka_conf_new();
    rd_kafka_conf_set(hc, "log_level", "0", err, sizeof err);
    rd_kafka_t *host = rd_kafka_new(RD_KAFKA_PRODUCER, hc, err, sizeof err);
    rd_kafka_mock_cluster_t *mc = host ? rd_kafka_mock_cluster_new(host, 3) : NULL;
    if (!mc || rd_kafka_mock_topic_create(mc, TOPIC, PARTITIONS, 3)) {
        fprintf(stderr, "bench_producer: cannot start librdkafka's mock cluster\n");
        return 1;
    }
    const char *boot = rd_kafka_mock_cluster_bootstraps(mc);
    printf("bench_producer: %ld %s messages of %d bytes, acks=1 linger.ms=5 batch.size=16384, "
           "librdkafka mock cluster (3 brokers, %d partitions) at %s\n",
           n, keyed ? "keyed" : "keyless", MSG_SIZE, PARTITIONS, boot);
    fflush(stdout);

    result ours, theirs, pressed;
    if (!child_run(&fast, boot, &ours)) {
        fprintf(stderr, "bench_producer: our producer's process failed\n");
        return 1;
    }
    run_librdkafka(boot, n, &theirs);
    for (int b = 1; b <= 3; b++)
        rd_kafka_mock_broker_set_rtt(mc, b, 50);
    bool slow_ok = child_run(&slow, boot, &pressed);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(host);

    printf("  courier producer : %10.0f msgs/s  (%ld acked, %ld failed)%s%s\n", ours.msgs_per_s,
           ours.ok, ours.failed, ours.err[0] ? "  " : "", ours.err);
    printf("  librdkafka 2.0.2 : %10.0f msgs/s  (%ld acked, %ld failed)%s%s\n", theirs.msgs_per_s,
           theirs.ok, theirs.failed, theirs.err[0] ? "  " : "", theirs.err);
    double ratio = theirs.msgs_per_s > 0 ? ours.msgs_per_s / theirs.msgs_per_s : 0;
    printf("  ratio ours/librdkafka: %.2f (target >= 0.80)\n", ratio);
    printf("  courier producer peak RSS: %.1f MiB (process before producing: %.1f MiB; "
           "buffer.memory %.1f MiB)\n",
           (double)ours.rss_peak_kb / 1024.0, (double)ours.rss_before_kb / 1024.0,
           (double)BUFFER_MEMORY / 1048576.0);
    if (slow_ok)
        printf("  with 50 ms broker RTT (buffer.memory fills; %ld messages): %.0f msgs/s, peak RSS "
               "%.1f MiB = buffer.memory + %.1f MiB%s%s\n",
               n_slow, pressed.msgs_per_s, (double)pressed.rss_peak_kb / 1024.0,
               ((double)pressed.rss_peak_kb * 1024.0 - (double)BUFFER_MEMORY) / 1048576.0,
               pressed.err[0] ? "  " : "", pressed.err);
    bool ok = ours.ok == n && theirs.ok == n && !ours.err[0] && !theirs.err[0] && slow_ok &&
              pressed.ok == n_slow;
    if (!ok)
        fprintf(stderr, "bench_producer: not every message was acknowledged\n");
    if (ok && !getenv("BENCH_KEYED")) { /* then the keyed run, in a fresh process */
        fflush(stdout);
        setenv("BENCH_KEYED", "1", 1);
        execv("/proc/self/exe", argv);
        perror("bench_producer: exec");
        return 1;
    }
    return ok ? 0 : 1;
}
