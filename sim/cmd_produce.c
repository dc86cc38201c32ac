/* courier produce — produce stdin lines to a Kafka cluster with Courier's producer, kcat -P
 * style.
 *
 * One message per line (the newline is not part of it); with -k, `key<DELIM>value` (a line
 * without the delimiter is a value with a null key). Failures are printed per message to
 * stderr; at exit one summary line goes to stdout: sent, acked, failed, msgs/s and p50/p99
 * delivery latency. Exit 0 only when every message was acknowledged; 1 when some failed; 2 on
 * bad usage or configuration. */
#include "producer/kp.h"
#include "sim/cmd.h"
#include "sim/sig.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { O_BOOTSTRAP = 1, O_TOPIC, O_KEYDELIM, O_PARTITION, O_SET, O_COUNT, O_STATS };
static const sim_opt produce_opts[] = {
    {O_BOOTSTRAP, 'b', NULL, SIM_OPT_STRING, "HOST:PORT[,...]", 0, 0, NULL, false,
     "bootstrap.servers (required)"},
    {O_TOPIC, 't', NULL, SIM_OPT_STRING, "TOPIC", 0, 0, NULL, false,
     "the topic to produce to (required)"},
    {O_KEYDELIM, 'k', NULL, SIM_OPT_STRING, "DELIM", 0, 0, NULL, false,
     "split each line at the first DELIM into key and value"},
    {O_PARTITION, 'p', NULL, SIM_OPT_INT, "PARTITION", 0, 2147483647, NULL, false,
     "explicit partition (default: the partitioner chooses)"},
    {O_SET, 'X', NULL, SIM_OPT_STRING, "key=value", 0, 0, NULL, true,
     "any producer setting with Kafka's name, e.g. -X acks=1 -X linger.ms=20 (repeatable)"},
    {O_COUNT, 'n', NULL, SIM_OPT_INT, "COUNT", 0, 1e15, NULL, false, "stop after COUNT messages"},
    {O_STATS, 0, "stats", SIM_OPT_FLAG, NULL, 0, 0, NULL, false,
     "print the producer's metrics (Java's names) at exit"},
    {0},
};

const sim_cmd_spec sim_cmd_produce_spec = {
    .name = "produce",
    .summary = "produce stdin lines to a Kafka cluster (kcat -P style)",
    .description =
        "Reads one message per stdin line (the newline is not part of it) and produces it "
        "with Courier's producer to any Kafka-protocol cluster (courier broker, or a real "
        "one). With -k, a line is key<DELIM>value; a line without the delimiter is a value "
        "with a null key.",
    .footer = "Failures are printed per message to stderr; at exit one summary line goes to "
              "stdout: sent, acked, failed, msgs/s and p50/p99 delivery latency.\n\n"
              "SIGINT or SIGTERM stops reading, waits up to 5 seconds for what is in flight "
              "(a second signal: at once), fails the rest and prints the summary.\n\n"
              "Exit code: 0 only when every message was acknowledged, 1 when some failed, 2 bad "
              "usage or configuration.",
    .opts = produce_opts,
    .main = sim_cmd_produce,
};

/* Delivery latencies in a log-linear histogram (exact below 1024 us, then 512 buckets per
 * power of two: within 0.2%), counted with atomics: no lock, no allocation and no sort per
 * message (a per-message malloc'd context, a locked array and a qsort of every latency cost
 * about 10% of the CPU of a 1M-line run). */
#define LAT_SUB 512
#define LAT_BUCKETS (1024 + 54 * LAT_SUB)

typedef struct cli_state {
    _Atomic int64_t lat[LAT_BUCKETS];
    _Atomic int64_t n_lat;
    _Atomic int64_t acked, failed;
} cli_state;

/* One producer per process: the delivery callback's opaque is the line number. */
static cli_state *g_state;

static size_t lat_bucket(int64_t us) {
    if (us < 0)
        us = 0;
    if (us < 1024)
        return (size_t)us;
    int e = 63 - __builtin_clzll((unsigned long long)us) - 9; /* us >> e in 512..1023 */
    size_t i = 1024 + (size_t)(e - 1) * LAT_SUB + (size_t)((us >> e) - LAT_SUB);
    return i < LAT_BUCKETS ? i : LAT_BUCKETS - 1;
}

static int64_t lat_value(size_t i) {
    if (i < 1024)
        return (int64_t)i;
    int e = (int)((i - 1024) / LAT_SUB) + 1;
    return (int64_t)((i - 1024) % LAT_SUB + LAT_SUB) << e;
}

static void on_delivery(const kp_record_metadata *md, kw_err err, void *opaque) {
    cli_state *st = g_state;
    if (err != KW_ERR_NONE) {
        fprintf(stderr, "courier produce: message %lld (line %lld) to %s: %s: %s\n",
                (long long)md->record_seq, (long long)(intptr_t)opaque, md->topic,
                kw_err_name(err), kw_err_str(err));
        atomic_fetch_add(&st->failed, 1);
    } else {
        atomic_fetch_add_explicit(&st->lat[lat_bucket(md->latency_us)], 1,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&st->n_lat, 1, memory_order_relaxed);
        atomic_fetch_add(&st->acked, 1);
    }
}

/* The q-quantile of the recorded latencies, in ms. */
static double pct_ms(cli_state *st, double q) {
    int64_t n = atomic_load(&st->n_lat);
    if (n == 0)
        return 0;
    int64_t want = (int64_t)(q * (double)(n - 1) + 0.5) + 1, seen = 0;
    for (size_t i = 0; i < LAT_BUCKETS; i++) {
        seen += atomic_load_explicit(&st->lat[i], memory_order_relaxed);
        if (seen >= want)
            return (double)lat_value(i) / 1000.0;
    }
    return (double)lat_value(LAT_BUCKETS - 1) / 1000.0;
}

static void print_metric(const char *name, double value, void *opaque) {
    (void)opaque;
    printf("  %-32s %.3f\n", name, value);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* stdin, read with read(2) so a signal can wake the wait (stdio's getline cannot be woken:
 * the signals are blocked in every thread). When stdin is a regular file (`< file`) it is
 * mapped instead, as kcat -l maps its file: the lines are produced from the page cache with no
 * copy through a read buffer (at 1 KB lines read(2)'s copy was 41% of the whole run). */
typedef struct line_reader {
    int fd;
    char *buf;
    size_t cap, start, end;
    bool eof;
    const char *map; /* the mapped file, or NULL */
    size_t map_len;
    unsigned polls; /* lines since the last look for a signal (mapped mode) */
} line_reader;

/* Maps stdin when it is a non-empty regular file; reading starts at its current offset. */
static void map_input(line_reader *lr) {
    struct stat sb;
    if (fstat(lr->fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size <= 0)
        return;
    off_t at = lseek(lr->fd, 0, SEEK_CUR);
    if (at < 0 || at >= sb.st_size)
        return;
    void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, lr->fd, 0);
    if (m == MAP_FAILED)
        return; /* read(2) still works */
    (void)madvise(m, (size_t)sb.st_size, MADV_SEQUENTIAL);
    lr->map = m;
    lr->map_len = (size_t)sb.st_size;
    lr->start = (size_t)at;
}

/* next_line for a mapped file: the line is not NUL-terminated (*len says where it ends). */
static int next_mapped_line(line_reader *lr, char **line, size_t *len) {
    if (++lr->polls >= 4096) {
        lr->polls = 0;
        if (sim_signals_caught())
            return -1;
    }
    if (lr->start >= lr->map_len)
        return 0;
    const char *p = lr->map + lr->start;
    const char *nl = memchr(p, '\n', lr->map_len - lr->start);
    size_t n = nl ? (size_t)(nl - p) : lr->map_len - lr->start;
    *line = (char *)(uintptr_t)p; /* read-only: the producer only reads it */
    *len = n;
    lr->start += n + (nl ? 1 : 0);
    return 1;
}

/* The next line (without its newline, NUL-terminated) in *line, *len. Returns 1, 0 at the end
 * of input, -1 when SIGINT/SIGTERM came while waiting, -2 on a read error (errno). */
static int next_line(line_reader *lr, char **line, size_t *len) {
    if (lr->map)
        return next_mapped_line(lr, line, len);
    for (;;) {
        /* no buffer yet before the first read: memchr must not see NULL (UBSan) */
        char *nl =
            lr->end > lr->start ? memchr(lr->buf + lr->start, '\n', lr->end - lr->start) : NULL;
        if (nl || (lr->eof && lr->end > lr->start)) {
            size_t n = nl ? (size_t)(nl - (lr->buf + lr->start)) : lr->end - lr->start;
            *line = lr->buf + lr->start;
            *len = n;
            (*line)[n] = '\0'; /* over the newline, or the spare byte at the end */
            lr->start += n + (nl ? 1 : 0);
            return 1;
        }
        if (lr->eof)
            return 0;
        if (lr->start > 0) {
            memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
            lr->end -= lr->start;
            lr->start = 0;
        }
        if (lr->end + 1 >= lr->cap) {
            size_t nc = lr->cap ? lr->cap * 2 : 65536;
            char *nb = realloc(lr->buf, nc);
            if (!nb) {
                errno = ENOMEM;
                return -2;
            }
            lr->buf = nb;
            lr->cap = nc;
        }
        struct pollfd pf[2] = {{.fd = lr->fd, .events = POLLIN},
                               {.fd = sim_signals_fd(), .events = POLLIN}};
        int np = pf[1].fd >= 0 ? 2 : 1;
        int r = poll(pf, (nfds_t)np, pf[1].fd >= 0 ? -1 : 200);
        if (r < 0 && errno != EINTR)
            return -2;
        if (sim_signals_caught())
            return -1;
        if (r <= 0 || !(pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        ssize_t got = read(lr->fd, lr->buf + lr->end, lr->cap - lr->end - 1);
        if (got < 0 && errno != EINTR && errno != EAGAIN)
            return -2;
        if (got == 0)
            lr->eof = true;
        if (got > 0)
            lr->end += (size_t)got;
    }
}

/* Waits for everything in flight: kp_flush in short slices, so a signal is noticed. After a
 * signal (sigint_seen) at most 5 s, a second signal ends the wait at once; then kp_close
 * fails what is left (KW_ERR__INTERRUPTED, reported per message). */
static void finish(kp_producer *p, bool sigint_seen) {
    double deadline = now_s() + 5.0;
    for (;;) {
        if (kp_flush(p, 200) != KW_ERR__TIMED_OUT)
            break;
        if (!sigint_seen && sim_signals_caught()) {
            sigint_seen = true;
            deadline = now_s() + 5.0;
        } else if (sigint_seen && (now_s() > deadline || sim_signals_wait(0))) {
            break;
        }
    }
    kp_close(p, 0);
}

/* -X key=value. Returns 0, or 2 after printing what is wrong. */
static int set_key_value(kp_conf *conf, const char *v) {
    char q[300], err[512], e2[600];
    const char *eq = strchr(v, '=');
    if (!eq || eq == v) {
        fprintf(stderr, "courier produce: -X '%s': expected key=value\n",
                sim_escape(v, q, sizeof q));
        return 2;
    }
    char key[256];
    snprintf(key, sizeof key, "%.*s", (int)(eq - v), v);
    if (kp_conf_set(conf, key, eq + 1, err, sizeof err) != KW_ERR_NONE) {
        fprintf(stderr, "courier produce: -X %s: %s\n", sim_escape(v, q, sizeof q),
                sim_escape(err, e2, sizeof e2));
        return 2;
    }
    return 0;
}

/* The command line of courier produce, decided; the -X settings are in conf. */
typedef struct produce_args {
    const char *topic, *delim;
    long long count; /* -1: until the end of stdin */
    long partition;
    bool stats;
    kp_conf *conf;
} produce_args;

/* Parses the command line into *pa (pa->conf: the caller destroys it). Returns -1 to go on,
 * else the exit code (--help: 0, bad usage: 2, out of memory: 1, after printing why). */
static int parse_produce_args(int argc, char **argv, produce_args *pa) {
    sim_cli_args args;
    int prc = sim_cli_begin(&sim_cmd_produce_spec, argc, argv, &args);
    if (prc >= 0)
        return prc;
    *pa = (produce_args){.count = -1, .partition = KP_PARTITION_ANY, .conf = kp_conf_new()};
    if (!pa->conf) {
        fprintf(stderr, "courier produce: out of memory\n");
        sim_cli_args_free(&args);
        return 1;
    }
    const char *brokers = NULL;
    int rc = -1;
    for (size_t i = 0; i < args.n && rc < 0; i++) {
        const sim_cli_arg *a = &args.v[i];
        switch (a->opt->id) {
        case O_BOOTSTRAP:
            brokers = a->text;
            break;
        case O_TOPIC:
            pa->topic = a->text;
            break;
        case O_KEYDELIM:
            pa->delim = a->text;
            break;
        case O_COUNT:
            pa->count = (long long)a->i;
            break;
        case O_PARTITION:
            pa->partition = (long)a->i;
            break;
        case O_STATS:
            pa->stats = true;
            break;
        case O_SET:
            if (set_key_value(pa->conf, a->text))
                rc = 2;
            break;
        }
    }
    sim_cli_args_free(&args);
    char err[512];
    if (rc < 0 && (!brokers || !pa->topic)) {
        fprintf(stderr, "courier produce: %s is required (try --help)\n",
                !brokers ? "-b HOST:PORT" : "-t TOPIC");
        rc = 2;
    } else if (rc < 0 && kp_conf_set(pa->conf, "bootstrap.servers", brokers, err, sizeof err) !=
                             KW_ERR_NONE) {
        fprintf(stderr, "courier produce: -b: %s\n", err);
        rc = 2;
    }
    if (rc >= 0)
        kp_conf_destroy(pa->conf);
    return rc;
}

int sim_cmd_produce(int argc, char **argv) {
    produce_args pa;
    int prc = parse_produce_args(argc, argv, &pa);
    if (prc >= 0)
        return prc;
    const char *topic = pa.topic, *delim = pa.delim;
    long long count = pa.count;
    long partition = pa.partition;
    bool stats = pa.stats;
    kp_conf *conf = pa.conf;
    char err[512];
    kp_producer *p = kp_producer_new(conf, err, sizeof err);
    kp_conf_destroy(conf);
    if (!p) {
        fprintf(stderr, "courier produce: %s\n", err);
        return 2;
    }

    cli_state *stp = calloc(1, sizeof *stp);
    if (!stp) {
        fprintf(stderr, "courier produce: out of memory\n");
        return 1;
    }
    g_state = stp;
#define st (*stp)
    int64_t sent = 0, refused = 0, line_no = 0;
    line_reader lr = {.fd = STDIN_FILENO};
    map_input(&lr);
    bool interrupted = false;
    double t0 = now_s();
    while (count < 0 || sent + refused < count) {
        char *line;
        size_t len;
        int got = next_line(&lr, &line, &len);
        if (got == -1)
            interrupted = true;
        else if (got == -2)
            fprintf(stderr, "courier produce: reading stdin: %s\n", strerror(errno));
        if (got != 1)
            break;
        line_no++;
        if (len > INT32_MAX) {
            fprintf(stderr, "courier produce: line %lld: too long\n", (long long)line_no);
            refused++;
            continue;
        }
        kp_record rec = {.topic = topic,
                         .partition = (int32_t)partition,
                         .value = line,
                         .value_len = (int32_t)len,
                         .timestamp_ms = KP_TIMESTAMP_NOW};
        if (delim) {
            char *d = memmem(line, len, delim, strlen(delim));
            if (d) {
                rec.key = line;
                rec.key_len = (int32_t)(d - line);
                rec.value = d + strlen(delim);
                rec.value_len = (int32_t)(len - (size_t)(d - line) - strlen(delim));
            }
        }
        uint64_t seq;
        kw_err e = kp_produce(p, &rec, on_delivery, (void *)(intptr_t)line_no, &seq);
        if (e != KW_ERR_NONE) {
            fprintf(stderr, "courier produce: message %llu (line %lld) to %s: %s\n",
                    (unsigned long long)seq, (long long)line_no, topic, kw_err_name(e));
            refused++;
            continue;
        }
        sent++;
    }
    free(lr.buf);
    if (lr.map)
        munmap((void *)(uintptr_t)lr.map, lr.map_len);
    finish(p, interrupted);
    double secs = now_s() - t0;
    kp_metrics mt;
    kp_metrics_get(p, &mt);
    kp_producer_destroy(p);

    int64_t acked = atomic_load(&st.acked), failed = atomic_load(&st.failed) + refused;
    printf("sent %lld, acked %lld, failed %lld, %.0f msgs/s, latency p50 %.1f ms p99 %.1f ms\n",
           (long long)(sent + refused), (long long)acked, (long long)failed,
           secs > 0 ? (double)acked / secs : 0.0, pct_ms(&st, 0.50),
           pct_ms(&st, 0.99));
    if (stats) {
        printf("metrics:\n");
        kp_metrics_foreach(&mt, print_metric, NULL);
    }
    free(stp);
    g_state = NULL;
#undef st
    return failed == 0 && acked == sent ? 0 : 1;
}
