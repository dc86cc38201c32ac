/* courier produce — produce stdin lines to a Kafka cluster with Courier's producer, kcat -P
 * style.
 *
 *   courier produce -b HOST:PORT[,...] -t TOPIC [-k KEYDELIM] [-p PARTITION] [-X key=value]...
 *                   [-n COUNT] [--stats]
 *
 * One message per line (the newline is not part of it); with -k, `key<DELIM>value` (a line
 * without the delimiter is a value with a null key). Failures are printed per message to
 * stderr; at exit one summary line goes to stdout: sent, acked, failed, msgs/s and p50/p99
 * delivery latency. Exit 0 only when every message was acknowledged; 1 when some failed; 2 on
 * bad usage or configuration. */
#include "producer/kp.h"
#include "sim/cmd.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(FILE *f) {
    fprintf(f, "usage: courier produce -b HOST:PORT[,...] -t TOPIC [-k KEYDELIM] [-p PARTITION]\n"
               "                       [-X key=value]... [-n COUNT] [--stats]\n"
               "  Reads one message per stdin line and produces it (kcat -P style).\n"
               "  -b SERVERS     bootstrap.servers\n"
               "  -t TOPIC       topic to produce to\n"
               "  -k DELIM       split each line at the first DELIM into key and value\n"
               "  -p PARTITION   explicit partition (default: the partitioner chooses)\n"
               "  -X key=value   any producer setting with Kafka's name, e.g. -X acks=1\n"
               "                 -X linger.ms=20 -X enable.idempotence=false (repeatable)\n"
               "  -n COUNT       stop after COUNT messages\n"
               "  --stats        print the producer's metrics (Java's names) at exit\n"
               "Prints failures per message to stderr and a summary line at exit; exit status 0\n"
               "only when every message was acknowledged.\n");
}

typedef struct cli_state {
    pthread_mutex_t lock;
    int64_t *lat_us;
    size_t n_lat, cap_lat;
    _Atomic int64_t acked, failed;
} cli_state;

typedef struct msg_ctx {
    cli_state *st;
    int64_t line;
} msg_ctx;

static void on_delivery(const kp_record_metadata *md, kw_err err, void *opaque) {
    msg_ctx *m = opaque;
    cli_state *st = m->st;
    if (err != KW_ERR_NONE) {
        fprintf(stderr, "courier produce: message %lld (line %lld) to %s: %s: %s\n",
                (long long)md->record_seq, (long long)m->line, md->topic, kw_err_name(err),
                kw_err_str(err));
        atomic_fetch_add(&st->failed, 1);
    } else {
        pthread_mutex_lock(&st->lock);
        if (st->n_lat == st->cap_lat) {
            size_t nc = st->cap_lat ? st->cap_lat * 2 : 4096;
            int64_t *nl = realloc(st->lat_us, nc * sizeof *nl);
            if (nl) {
                st->lat_us = nl;
                st->cap_lat = nc;
            }
        }
        if (st->n_lat < st->cap_lat)
            st->lat_us[st->n_lat++] = md->latency_us;
        pthread_mutex_unlock(&st->lock);
        atomic_fetch_add(&st->acked, 1);
    }
    free(m);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double pct_ms(const int64_t *v, size_t n, double q) {
    if (n == 0)
        return 0;
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return (double)v[i] / 1000.0;
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

int sim_cmd_produce(int argc, char **argv) {
    const char *brokers = NULL, *topic = NULL, *delim = NULL;
    long long count = -1;
    long partition = KP_PARTITION_ANY;
    bool stats = false;
    char err[512];
    kp_conf *conf = kp_conf_new();
    if (!conf) {
        fprintf(stderr, "courier produce: out of memory\n");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            kp_conf_destroy(conf);
            return 0;
        } else if (!strcmp(a, "--stats")) {
            stats = true;
            continue;
        }
        if (strcmp(a, "-b") && strcmp(a, "-t") && strcmp(a, "-k") && strcmp(a, "-X") &&
            strcmp(a, "-n") && strcmp(a, "-p")) {
            fprintf(stderr, "courier produce: unknown option '%s' (try --help)\n", a);
            kp_conf_destroy(conf);
            return 2;
        }
        if (!v) {
            fprintf(stderr, "courier produce: option %s needs a value (try --help)\n", a);
            kp_conf_destroy(conf);
            return 2;
        }
        i++;
        if (!strcmp(a, "-b"))
            brokers = v;
        else if (!strcmp(a, "-t"))
            topic = v;
        else if (!strcmp(a, "-k")) {
            if (!*v) {
                fprintf(stderr, "courier produce: -k: the key delimiter is empty\n");
                kp_conf_destroy(conf);
                return 2;
            }
            delim = v;
        } else if (!strcmp(a, "-n") || !strcmp(a, "-p")) {
            char *end;
            errno = 0;
            long long x = strtoll(v, &end, 10);
            if (errno || *end || end == v || x < 0 || (!strcmp(a, "-p") && x > INT32_MAX)) {
                fprintf(stderr, "courier produce: %s: '%s' is not a whole number >= 0\n", a, v);
                kp_conf_destroy(conf);
                return 2;
            }
            if (!strcmp(a, "-n"))
                count = x;
            else
                partition = (long)x;
        } else { /* -X key=value */
            const char *eq = strchr(v, '=');
            if (!eq || eq == v) {
                fprintf(stderr, "courier produce: -X '%s': expected key=value\n", v);
                kp_conf_destroy(conf);
                return 2;
            }
            char key[256];
            snprintf(key, sizeof key, "%.*s", (int)(eq - v), v);
            if (kp_conf_set(conf, key, eq + 1, err, sizeof err) != KW_ERR_NONE) {
                fprintf(stderr, "courier produce: -X %s: %s\n", v, err);
                kp_conf_destroy(conf);
                return 2;
            }
        }
    }
    if (!brokers || !topic) {
        fprintf(stderr, "courier produce: %s is required (try --help)\n",
                !brokers ? "-b HOST:PORT" : "-t TOPIC");
        kp_conf_destroy(conf);
        return 2;
    }
    if (kp_conf_set(conf, "bootstrap.servers", brokers, err, sizeof err) != KW_ERR_NONE) {
        fprintf(stderr, "courier produce: -b: %s\n", err);
        kp_conf_destroy(conf);
        return 2;
    }
    kp_producer *p = kp_producer_new(conf, err, sizeof err);
    kp_conf_destroy(conf);
    if (!p) {
        fprintf(stderr, "courier produce: %s\n", err);
        return 2;
    }

    cli_state st = {.lock = PTHREAD_MUTEX_INITIALIZER};
    int64_t sent = 0, refused = 0, line_no = 0;
    char *line = NULL;
    size_t cap = 0;
    double t0 = now_s();
    while (count < 0 || sent + refused < count) {
        ssize_t len = getline(&line, &cap, stdin);
        if (len < 0)
            break;
        line_no++;
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
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
            char *d = strstr(line, delim);
            if (d) {
                rec.key = line;
                rec.key_len = (int32_t)(d - line);
                rec.value = d + strlen(delim);
                rec.value_len = (int32_t)(len - (d - line) - (ssize_t)strlen(delim));
            }
        }
        msg_ctx *m = malloc(sizeof *m);
        if (!m) {
            fprintf(stderr, "courier produce: out of memory\n");
            break;
        }
        *m = (msg_ctx){&st, line_no};
        uint64_t seq;
        kw_err e = kp_produce(p, &rec, on_delivery, m, &seq);
        if (e != KW_ERR_NONE) {
            fprintf(stderr, "courier produce: message %llu (line %lld) to %s: %s\n",
                    (unsigned long long)seq, (long long)line_no, topic, kw_err_name(e));
            free(m);
            refused++;
            continue;
        }
        sent++;
    }
    free(line);
    kp_flush(p, -1);
    double secs = now_s() - t0;
    kp_metrics mt;
    kp_metrics_get(p, &mt);
    kp_producer_destroy(p);

    int64_t acked = atomic_load(&st.acked), failed = atomic_load(&st.failed) + refused;
    if (st.n_lat > 0)
        qsort(st.lat_us, st.n_lat, sizeof *st.lat_us, cmp_i64);
    printf("sent %lld, acked %lld, failed %lld, %.0f msgs/s, latency p50 %.1f ms p99 %.1f ms\n",
           (long long)(sent + refused), (long long)acked, (long long)failed,
           secs > 0 ? (double)acked / secs : 0.0, pct_ms(st.lat_us, st.n_lat, 0.50),
           pct_ms(st.lat_us, st.n_lat, 0.99));
    if (stats) {
        printf("metrics:\n");
        kp_metrics_foreach(&mt, print_metric, NULL);
    }
    free(st.lat_us);
    pthread_mutex_destroy(&st.lock);
    return failed == 0 && acked == sent ? 0 : 1;
}
