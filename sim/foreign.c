/* A cluster Courier does not own (see sim/foreign.h): the map from the cluster's own answers,
 * the read-back for the audit, and the proxy for network faults. */
#include "sim/foreign.h"

#include "sim/kconn.h"
#include "sim/proxy.h"
#include "sim/reader.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TIMEOUT_MS 10000
#define POLL_MS 1000
#define MAX_BROKERS 64

/* Locks: `lock` guards rows, n_rows, brokers, n_brokers, stop (with `cond`); the rest is set
 * in sim_foreign_new and read-only after, except audit_reader (control thread only). */
struct sim_foreign {
    char bootstrap[1024];
    char topic[SIM_NAME_MAX];
    sim_foreign_log_cb *log_cb;
    void *log_opaque;
    sim_proxy *proxy;
    sim_reader *audit_reader;
    bool created; /* Courier created the topic (CreateTopics) */
    int n_parts;
    int64_t *start; /* per partition: the high watermark before the run */

    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
    sim_foreign_partition *rows;
    int n_rows;
    int32_t brokers[MAX_BROKERS];
    int n_brokers;
    pthread_t poller;
    bool poller_started;
};

static void flog(sim_foreign *f, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void flog(sim_foreign *f, int level, const char *fmt, ...) {
    if (!f->log_cb)
        return;
    char line[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    f->log_cb(level, line, f->log_opaque);
}

bool sim_foreign_fault_ok(sim_fault_kind k) {
    return k == SIM_FAULT_RTT || k == SIM_FAULT_DROP_RESPONSES || k == SIM_FAULT_DISCONNECT ||
           k == SIM_FAULT_BLACKHOLE || k == SIM_FAULT_HEAL;
}

int sim_foreign_check(const sim_scenario *s, const char *prefix, FILE *out) {
    int refused = 0;
    for (int i = 0; i < s->n_timeline; i++) {
        const sim_fault *f = &s->timeline[i];
        if (sim_foreign_fault_ok(f->kind))
            continue;
        char desc[200];
        sim_fault_describe(f, desc, sizeof desc);
        fprintf(out,
                "%stimeline at %lld ms: %s: a cluster-side fault, refused on a cluster Courier "
                "does not own (--bootstrap takes rtt, drop_responses, disconnect, blackhole, "
                "heal)\n",
                prefix, (long long)f->at_ms, desc);
        refused++;
    }
    return refused;
}

bool sim_foreign_needs_proxy(const sim_scenario *s) {
    for (int i = 0; i < s->n_timeline; i++)
        if (sim_foreign_fault_ok(s->timeline[i].kind))
            return true;
    return false;
}

/* One Metadata round trip for the topic. Fills rows (allocated, *n) and brokers. Returns 0,
 * or -1 with errbuf; *topic_err gets the topic's error code. */
static int ask_metadata(sim_kconn *kc, kw_arena *a, const char *topic, int16_t *topic_err,
                        sim_foreign_partition **rows, int *n, int32_t *brokers, int *n_brokers,
                        char *errbuf, size_t errsize) {
    int16_t ver;
    if (sim_kconn_pick_version(kc, KW_API_METADATA, &ver, errbuf, errsize))
        return -1;
    if (ver > 7) /* 7 has leader epochs and offline replicas: all the map shows */
        ver = 7;
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_slice t = kw_slice_str(topic);
    kw_metadata_req req = {.n_topics = 1, .topics = &t, .allow_auto_topic_creation = false};
    kw_metadata_req_encode(&body, ver, &req);
    kw_rbuf rb;
    int rc = sim_kconn_call(kc, KW_API_METADATA, ver, &body, TIMEOUT_MS, &rb, errbuf, errsize);
    kw_wbuf_free(&body);
    if (rc)
        return -1;
    kw_metadata_resp m;
    kw_arena_reset(a);
    if (kw_metadata_resp_decode(&rb, ver, a, &m) != KW_ERR_NONE) {
        snprintf(errbuf, errsize, "Metadata answer: %s", rb.errmsg);
        return -1;
    }
    *n_brokers = 0;
    for (int32_t i = 0; i < m.n_brokers && *n_brokers < MAX_BROKERS; i++)
        brokers[(*n_brokers)++] = m.brokers[i].node_id;
    for (int i = 1; i < *n_brokers; i++)
        for (int j = i; j > 0 && brokers[j] < brokers[j - 1]; j--) {
            int32_t x = brokers[j];
            brokers[j] = brokers[j - 1];
            brokers[j - 1] = x;
        }
    *topic_err = KW_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    *rows = NULL;
    *n = 0;
    for (int32_t i = 0; i < m.n_topics; i++) {
        kw_metadata_topic *tp = &m.topics[i];
        if (!kw_slice_eq(tp->name, topic))
            continue;
        *topic_err = tp->error_code;
        if (tp->error_code || tp->n_partitions <= 0)
            return 0;
        sim_foreign_partition *r = calloc((size_t)tp->n_partitions, sizeof *r);
        if (!r) {
            snprintf(errbuf, errsize, "out of memory");
            return -1;
        }
        for (int32_t k = 0; k < tp->n_partitions; k++) {
            const kw_metadata_partition *mp = &tp->partitions[k];
            int32_t idx = mp->partition_index;
            if (idx < 0 || idx >= tp->n_partitions)
                continue;
            sim_foreign_partition *row = &r[idx];
            row->partition = idx;
            row->error = mp->error_code;
            row->leader = mp->leader_id;
            row->leader_epoch = mp->leader_epoch;
            for (int32_t q = 0; q < mp->n_replicas && row->n_replicas < SIM_FOREIGN_MAX_REPLICAS;
                 q++)
                row->replicas[row->n_replicas++] = mp->replica_nodes[q];
            for (int32_t q = 0; q < mp->n_isr && row->n_isr < SIM_FOREIGN_MAX_REPLICAS; q++)
                row->isr[row->n_isr++] = mp->isr_nodes[q];
            for (int32_t q = 0; q < mp->n_offline && row->n_offline < SIM_FOREIGN_MAX_REPLICAS; q++)
                row->offline[row->n_offline++] = mp->offline_replicas[q];
            row->log_start = row->high_watermark = -1;
        }
        *rows = r;
        *n = tp->n_partitions;
    }
    return 0;
}

/* --- creating the topic ---------------------------------------------------------------- */

/* CreateTopics for the workload topic (partitions, replication capped at the brokers the
 * cluster has), sent to the controller the Metadata answer names. TOPIC_ALREADY_EXISTS counts
 * as done (another client may have created it meanwhile). Returns 0, or -1 with errbuf
 * naming the cluster's refusal. */
static int create_topic(const char *bootstrap, const char *topic, int parts, int rf, char *errbuf,
                        size_t errsize) {
    char err[400];
    sim_kconn *kc = NULL, *ctl = NULL;
    kw_arena *a = kw_arena_new();
    int rc = -1;
    int16_t ver;
    if (!a || sim_kconn_open(bootstrap, 5000, &kc, err, sizeof err) ||
        sim_kconn_pick_version(kc, KW_API_METADATA, &ver, err, sizeof err))
        goto out;
    if (ver > 4)
        ver = 4;
    if (ver < 1) {
        snprintf(err, sizeof err,
                 "the cluster speaks no Metadata v1+ (needed to find the "
                 "controller)");
        goto out;
    }
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_metadata_req mreq = {.n_topics = 0};
    kw_metadata_req_encode(&body, ver, &mreq);
    kw_rbuf rb;
    int crc = sim_kconn_call(kc, KW_API_METADATA, ver, &body, TIMEOUT_MS, &rb, err, sizeof err);
    kw_wbuf_free(&body);
    kw_metadata_resp m;
    if (crc || kw_metadata_resp_decode(&rb, ver, a, &m) != KW_ERR_NONE) {
        if (!crc)
            snprintf(err, sizeof err, "Metadata answer: %s", rb.errmsg);
        goto out;
    }
    if (rf > m.n_brokers)
        rf = m.n_brokers;
    for (int32_t i = 0; i < m.n_brokers; i++) {
        if (m.brokers[i].node_id != m.controller_id)
            continue;
        char host[256];
        kw_slice_cstr(m.brokers[i].host, host, sizeof host);
        if (sim_kconn_open_host(host, m.brokers[i].port, 5000, &ctl, err, sizeof err))
            ctl = NULL; /* any broker forwards to the controller since KIP-590: try ours */
    }
    sim_kconn *to = ctl ? ctl : kc;
    if (sim_kconn_pick_version(to, KW_API_CREATE_TOPICS, &ver, err, sizeof err))
        goto out;
    kw_creatable_topic t = {.name = kw_slice_str(topic),
                            .num_partitions = parts,
                            .replication_factor = (int16_t)(rf > 0 ? rf : 1)};
    kw_create_topics_req req = {.n_topics = 1, .topics = &t, .timeout_ms = TIMEOUT_MS};
    kw_wbuf_init(&body);
    kw_create_topics_req_encode(&body, ver, &req);
    crc = sim_kconn_call(to, KW_API_CREATE_TOPICS, ver, &body, TIMEOUT_MS + 5000, &rb, err,
                         sizeof err);
    kw_wbuf_free(&body);
    kw_topic_results_resp cr;
    if (crc || kw_create_topics_resp_decode(&rb, ver, a, &cr) != KW_ERR_NONE) {
        if (!crc)
            snprintf(err, sizeof err, "CreateTopics answer: %s", rb.errmsg);
        goto out;
    }
    int16_t code = cr.n_topics > 0 ? cr.topics[0].error_code : (int16_t)KW_ERR_UNKNOWN_SERVER_ERROR;
    if (code && code != KW_ERR_TOPIC_ALREADY_EXISTS) {
        char msg[200] = "";
        if (cr.n_topics > 0 && cr.topics[0].error_message.len > 0)
            kw_slice_cstr(cr.topics[0].error_message, msg, sizeof msg);
        snprintf(err, sizeof err,
                 "the cluster refused to create topic %s (%d partitions, "
                 "replication %d): %s%s%s",
                 topic, parts, rf, kw_err_name((kw_err)code), msg[0] ? ": " : "", msg);
        goto out;
    }
    rc = 0;
out:
    if (rc)
        snprintf(errbuf, errsize, "%s", err);
    sim_kconn_close(ctl);
    sim_kconn_close(kc);
    kw_arena_destroy(a);
    return rc;
}

/* Metadata for the topic; with `created`, again until it has every partition with a leader
 * (a new topic takes a moment on a real cluster), up to TIMEOUT_MS. */
static int await_topic(sim_foreign *f, bool created, int16_t *terr, char *errbuf, size_t errsize) {
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        sim_kconn *kc;
        kw_arena *a = kw_arena_new();
        if (!a)
            return -1;
        free(f->rows);
        f->rows = NULL;
        int rc = sim_kconn_open(f->bootstrap, 5000, &kc, errbuf, errsize);
        if (rc == 0) {
            rc = ask_metadata(kc, a, f->topic, terr, &f->rows, &f->n_rows, f->brokers,
                              &f->n_brokers, errbuf, errsize);
            sim_kconn_close(kc);
        }
        kw_arena_destroy(a);
        if (rc)
            return -1;
        bool ready = *terr == 0 && f->n_rows > 0;
        for (int i = 0; ready && i < f->n_rows; i++)
            ready = f->rows[i].leader >= 0;
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t el = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (ready || !created || el > TIMEOUT_MS)
            return 0;
        struct timespec nap = {0, 100 * 1000000};
        nanosleep(&nap, NULL);
    }
}

/* --- the map's poller ------------------------------------------------------------------- */

static bool same_set(const int32_t *a, int na, const int32_t *b, int nb) {
    if (na != nb)
        return false;
    for (int i = 0; i < na; i++) {
        bool found = false;
        for (int j = 0; j < nb; j++)
            found = found || a[i] == b[j];
        if (!found)
            return false;
    }
    return true;
}

/* Logs what changed since the last poll (leader, ISR, offline replicas). @locks lock held. */
static void log_changes(sim_foreign *f, const sim_foreign_partition *nw, int n) {
    for (int i = 0; i < n && i < f->n_rows; i++) {
        const sim_foreign_partition *o = &f->rows[i], *r = &nw[i];
        if (o->leader != r->leader)
            flog(f, 0, "map: %s-%d leader %d -> %d (epoch %d)", f->topic, i, (int)o->leader,
                 (int)r->leader, (int)r->leader_epoch);
        if (!same_set(o->isr, o->n_isr, r->isr, r->n_isr) ||
            !same_set(o->offline, o->n_offline, r->offline, r->n_offline)) {
            char isr[96] = "";
            size_t k = 0;
            for (int q = 0; q < r->n_isr && k < sizeof isr - 12; q++)
                k +=
                    (size_t)snprintf(isr + k, sizeof isr - k, "%s%d", q ? "," : "", (int)r->isr[q]);
            flog(f, 0, "map: %s-%d isr [%s], %d offline", f->topic, i, isr, r->n_offline);
        }
    }
}

static void *poller_main(void *arg) {
    sim_foreign *f = arg;
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, NULL);
    sim_kconn *kc = NULL;
    sim_reader *rd = NULL;
    kw_arena *a = kw_arena_new();
    char err[400];
    bool warned = false;
    pthread_mutex_lock(&f->lock);
    while (!f->stop && a) {
        pthread_mutex_unlock(&f->lock);
        int16_t terr = 0;
        sim_foreign_partition *rows = NULL;
        int n = 0, nb = 0;
        int32_t brokers[MAX_BROKERS];
        int rc = kc ? 0 : sim_kconn_open(f->bootstrap, 5000, &kc, err, sizeof err);
        if (rc == 0)
            rc = ask_metadata(kc, a, f->topic, &terr, &rows, &n, brokers, &nb, err, sizeof err);
        if (rc) {
            sim_kconn_close(kc);
            kc = NULL;
        }
        if (rc == 0 && !rd)
            sim_reader_open(f->bootstrap, f->topic, 5000, &rd, err, sizeof err);
        for (int p = 0; rc == 0 && rd && p < n; p++) {
            if (p == 0)
                sim_reader_refresh(rd);
            if (sim_reader_offsets(rd, p, &rows[p].log_start, &rows[p].high_watermark))
                rows[p].log_start = rows[p].high_watermark = -1;
        }
        if (rc && !warned) {
            flog(f, 1, "map: cannot poll %s: %s", f->bootstrap, err);
            warned = true;
        } else if (rc == 0) {
            warned = false;
        }
        pthread_mutex_lock(&f->lock);
        if (rc == 0 && rows) {
            log_changes(f, rows, n);
            free(f->rows);
            f->rows = rows;
            f->n_rows = n;
            memcpy(f->brokers, brokers, (size_t)nb * sizeof brokers[0]);
            f->n_brokers = nb;
        } else {
            free(rows);
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += POLL_MS / 1000;
        while (!f->stop && pthread_cond_timedwait(&f->cond, &f->lock, &ts) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&f->lock);
    sim_kconn_close(kc);
    sim_reader_close(rd);
    kw_arena_destroy(a);
    return NULL;
}

/* --- life cycle ------------------------------------------------------------------------- */

static void proxy_log(int level, const char *line, void *opaque) {
    sim_foreign *f = opaque;
    flog(f, level, "proxy: %s", line);
}

int sim_foreign_new(const char *bootstrap, const char *topic, int create_partitions,
                    int create_replication, bool with_proxy, sim_foreign_log_cb *log_cb,
                    void *log_opaque, sim_foreign **out, char *errbuf, size_t errsize) {
    *out = NULL;
    sim_foreign *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(errbuf, errsize, "out of memory");
        return -1;
    }
    snprintf(f->bootstrap, sizeof f->bootstrap, "%s", bootstrap);
    snprintf(f->topic, sizeof f->topic, "%s", topic);
    f->log_cb = log_cb;
    f->log_opaque = log_opaque;
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);

    /* the topic: Courier writes only to the topic it is given, creating it when the cluster
     * does not have it yet and allows it */
    char err[400];
    int16_t terr = 0;
    if (await_topic(f, false, &terr, err, sizeof err)) {
        snprintf(errbuf, errsize, "--bootstrap %s: %s", bootstrap, err);
        sim_foreign_destroy(f);
        return -1;
    }
    if (terr == KW_ERR_UNKNOWN_TOPIC_OR_PARTITION && create_partitions > 0) {
        if (create_topic(bootstrap, topic, create_partitions, create_replication, err,
                         sizeof err)) {
            snprintf(errbuf, errsize, "topic %s does not exist on %s, and %s", topic, bootstrap,
                     err);
            sim_foreign_destroy(f);
            return -1;
        }
        flog(f, 0, "created topic %s: %d partitions, replication %d (at most the brokers)", topic,
             create_partitions, create_replication);
        f->created = true;
        if (await_topic(f, true, &terr, err, sizeof err)) {
            snprintf(errbuf, errsize, "--bootstrap %s: %s", bootstrap, err);
            sim_foreign_destroy(f);
            return -1;
        }
    }
    if (terr) {
        snprintf(errbuf, errsize, "topic %s on %s: %s", topic, bootstrap,
                 kw_err_name((kw_err)terr));
        sim_foreign_destroy(f);
        return -1;
    }

    /* where each partition ends before the run: the audit reads from there */
    if (sim_reader_open(bootstrap, topic, TIMEOUT_MS, &f->audit_reader, err, sizeof err)) {
        snprintf(errbuf, errsize, "--bootstrap %s: %s", bootstrap, err);
        sim_foreign_destroy(f);
        return -1;
    }
    f->n_parts = sim_reader_partition_count(f->audit_reader);
    f->start = calloc((size_t)(f->n_parts > 0 ? f->n_parts : 1), sizeof *f->start);
    if (!f->start) {
        snprintf(errbuf, errsize, "out of memory");
        sim_foreign_destroy(f);
        return -1;
    }
    for (int p = 0; p < f->n_parts; p++) {
        int64_t first;
        if (sim_reader_offsets(f->audit_reader, p, &first, &f->start[p])) {
            snprintf(errbuf, errsize, "%s-%d: ListOffsets: %s", topic, p,
                     sim_reader_error(f->audit_reader));
            sim_foreign_destroy(f);
            return -1;
        }
    }
    if (with_proxy) {
        sim_proxy_opts po = {.upstream = bootstrap, .log_cb = proxy_log, .log_opaque = f};
        if (sim_proxy_new(&po, &f->proxy, err, sizeof err)) {
            snprintf(errbuf, errsize, "proxy: %s", err);
            sim_foreign_destroy(f);
            return -1;
        }
    }
    if (pthread_create(&f->poller, NULL, poller_main, f)) {
        snprintf(errbuf, errsize, "cannot start the map's poller thread");
        sim_foreign_destroy(f);
        return -1;
    }
    f->poller_started = true;
    *out = f;
    return 0;
}

const char *sim_foreign_producer_bootstrap(const sim_foreign *f) {
    return f->proxy ? sim_proxy_bootstrap(f->proxy) : f->bootstrap;
}

const char *sim_foreign_bootstrap(const sim_foreign *f) {
    return f->bootstrap;
}

bool sim_foreign_created_topic(const sim_foreign *f) {
    return f->created;
}

int sim_foreign_partition_count(const sim_foreign *f) {
    return f->n_parts;
}

int sim_foreign_fault(sim_foreign *f, const sim_fault *ft, char *errbuf, size_t errsize) {
    if (!sim_foreign_fault_ok(ft->kind)) {
        snprintf(errbuf, errsize, "%s is a cluster-side fault: refused on a foreign cluster",
                 sim_fault_kind_name(ft->kind));
        return -1;
    }
    if (!f->proxy) {
        snprintf(errbuf, errsize, "no proxy: the run started without network faults");
        return -1;
    }
    int rc;
    switch (ft->kind) {
    case SIM_FAULT_RTT:
        rc = sim_proxy_set_rtt(f->proxy, ft->broker, ft->ms);
        break;
    case SIM_FAULT_DROP_RESPONSES:
        rc = sim_proxy_drop_responses(f->proxy, ft->broker, ft->count);
        break;
    case SIM_FAULT_DISCONNECT:
        rc = sim_proxy_cut(f->proxy, ft->broker);
        break;
    case SIM_FAULT_BLACKHOLE:
        rc = sim_proxy_blackhole(f->proxy, ft->broker);
        break;
    default:
        rc = sim_proxy_heal(f->proxy, ft->broker >= 1 ? ft->broker : -1);
        break;
    }
    if (rc) {
        snprintf(errbuf, errsize, "the proxy has no broker %d", ft->broker);
        return -1;
    }
    return 0;
}

int sim_foreign_map(sim_foreign *f, sim_foreign_partition *rows, int max, int32_t *brokers,
                    int max_brokers, int *n_brokers) {
    pthread_mutex_lock(&f->lock);
    int n = f->n_rows < max ? f->n_rows : max;
    if (n > 0)
        memcpy(rows, f->rows, (size_t)n * sizeof *rows);
    int nb = f->n_brokers < max_brokers ? f->n_brokers : max_brokers;
    if (brokers && nb > 0)
        memcpy(brokers, f->brokers, (size_t)nb * sizeof *brokers);
    if (n_brokers)
        *n_brokers = nb;
    pthread_mutex_unlock(&f->lock);
    return n;
}

int sim_foreign_read_back(sim_foreign *f, sim_foreign_record_fn *fn, void *opaque, char *errbuf,
                          size_t errsize) {
    sim_reader *rd = f->audit_reader;
    sim_reader_refresh(rd);
    for (int p = 0; p < f->n_parts; p++) {
        int64_t first, end;
        if (sim_reader_offsets(rd, p, &first, &end)) {
            snprintf(errbuf, errsize, "%s-%d: ListOffsets: %s", f->topic, p, sim_reader_error(rd));
            return -1;
        }
        int64_t from = f->start[p] > first ? f->start[p] : first;
        if (end > from && sim_reader_read(rd, p, from, end, (sim_reader_record_fn)fn, opaque)) {
            snprintf(errbuf, errsize, "%s-%d: Fetch %lld..%lld: %s", f->topic, p, (long long)from,
                     (long long)end, sim_reader_error(rd));
            return -1;
        }
    }
    return 0;
}

void sim_foreign_destroy(sim_foreign *f) {
    if (!f)
        return;
    if (f->poller_started) {
        pthread_mutex_lock(&f->lock);
        f->stop = true;
        pthread_cond_broadcast(&f->cond);
        pthread_mutex_unlock(&f->lock);
        pthread_join(f->poller, NULL);
    }
    sim_proxy_destroy(f->proxy);
    sim_reader_close(f->audit_reader);
    free(f->start);
    free(f->rows);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->cond);
    free(f);
}

static void print_ids(FILE *out, const int32_t *ids, int n) {
    for (int i = 0; i < n; i++)
        fprintf(out, "%s%d", i ? "," : "", (int)ids[i]);
    if (n == 0)
        fprintf(out, "-");
}

void sim_foreign_print_map(sim_foreign *f, FILE *out) {
    sim_foreign_partition *rows = calloc(SIM_MAX_PARTITIONS, sizeof *rows);
    if (!rows)
        return;
    int32_t brokers[MAX_BROKERS];
    int nb = 0;
    int n = sim_foreign_map(f, rows, SIM_MAX_PARTITIONS, brokers, MAX_BROKERS, &nb);
    fprintf(out, "dispatcher's map (Metadata and ListOffsets from %s, polled every second)\n",
            f->bootstrap);
    fprintf(out, "  brokers ");
    print_ids(out, brokers, nb);
    fprintf(out, "\n");
    for (int i = 0; i < n; i++) {
        const sim_foreign_partition *r = &rows[i];
        fprintf(out, "  %s-%d  leader %d  epoch %d  replicas ", f->topic, (int)r->partition,
                (int)r->leader, (int)r->leader_epoch);
        print_ids(out, r->replicas, r->n_replicas);
        fprintf(out, "  isr ");
        print_ids(out, r->isr, r->n_isr);
        if (r->n_offline) {
            fprintf(out, "  offline ");
            print_ids(out, r->offline, r->n_offline);
        }
        fprintf(out, "  hw %lld  log start %lld\n", (long long)r->high_watermark,
                (long long)r->log_start);
    }
    free(rows);
}

bool sim_foreign_refuse(const sim_scenario *s, const char *bootstrap, const char *prefix) {
    fprintf(stderr,
            "%snote: --bootstrap %s: the scenario's cluster section is ignored (the cluster is "
            "not Courier's); topic %s is used there, created from the scenario's partitions "
            "and replication only if it does not exist\n",
            prefix, bootstrap, s->workload.topic);
    return sim_foreign_check(s, prefix, stderr) > 0;
}

void sim_foreign_keep_network_faults(sim_scenario *s, const char *bootstrap, const char *prefix) {
    fprintf(stderr,
            "%snote: --bootstrap %s: the scenario's cluster section is ignored; topic %s is "
            "used there (created if it does not exist)\n",
            prefix, bootstrap, s->workload.topic);
    int k = 0;
    for (int i = 0; i < s->n_timeline; i++) {
        const sim_fault *f = &s->timeline[i];
        if (sim_foreign_fault_ok(f->kind)) {
            s->timeline[k++] = *f;
            continue;
        }
        char desc[200];
        sim_fault_describe(f, desc, sizeof desc);
        fprintf(stderr, "%sskipped: timeline at %lld ms: %s (a cluster-side fault)\n", prefix,
                (long long)f->at_ms, desc);
    }
    s->n_timeline = k;
}
