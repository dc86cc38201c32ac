/* sim/group_member.c — a reading club's member (sim/group_member.h has the contract).
 *
 * The member's state is small: the desk it talks to (the coordinator's connection), its id and
 * generation, its partitions with their positions and last commits, and two timers (the next
 * heartbeat, the next auto-commit). The rules are Java's classic ConsumerCoordinator /
 * AbstractCoordinator (clients/src/main/java/org/apache/kafka/clients/consumer/internals/):
 * - joinGroupIfNeeded: JoinGroup; MEMBER_ID_REQUIRED → join again at once with the given id;
 *   UNKNOWN_MEMBER_ID → forget the id; REBALANCE_IN_PROGRESS → try again; coordinator errors
 *   → mark the coordinator unknown and find it again (markCoordinatorUnknown);
 * - onJoinPrepare (eager): commit the positions synchronously, then revoke every partition;
 * - the leader runs the assignor on the members' subscriptions (onLeaderElected);
 * - onJoinComplete: take the assignment; positions from OffsetFetch, else auto.offset.reset;
 * - heartbeat errors: REBALANCE_IN_PROGRESS → rejoin; ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID →
 *   reset the generation (no commit possible) and rejoin; NOT_COORDINATOR /
 *   COORDINATOR_NOT_AVAILABLE → find the coordinator again, keep the partitions.
 */
#include "sim/group_member.h"

#include "sim/cli.h"
#include "sim/kconn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GM_ID_MAX 256
#define GM_BACKOFF_MS 100 /* retry.backoff.ms */

const char *const sim_gm_keys[] = {
    "group.id",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "max.poll.interval.ms",
    "enable.auto.commit",
    "auto.commit.interval.ms",
    "auto.offset.reset",
    "request.timeout.ms",
    "partition.assignment.strategy",
    NULL,
};

enum { RESET_LATEST, RESET_EARLIEST, RESET_NONE };

struct sim_gm_conf {
    char group_id[GM_ID_MAX];
    int session_ms, heartbeat_ms, rebalance_ms, commit_ms, request_ms;
    bool auto_commit;
    int reset;
};

typedef struct gm_part {
    int32_t partition;
    int64_t pos;       /* next offset to read */
    int64_t committed; /* last offset committed by us or found committed; -1 none */
    int64_t hw;        /* high watermark of the last Fetch; -1 unknown */
} gm_part;

struct sim_group_member {
    sim_gm_conf conf;
    char bootstrap[1024];
    char topic[256];
    sim_reader *reader;
    sim_kconn *coord; /* NULL: coordinator unknown */
    int32_t coord_id;
    char member_id[GM_ID_MAX];
    int32_t generation; /* -1: not in a generation */
    bool stable;        /* joined and synced: parts[] is ours */
    gm_part *parts;
    int n_parts;
    int64_t next_heartbeat, next_commit, next_try;
    sim_gm_rebalance_fn on_rebalance;
    sim_gm_log_fn on_log;
    void *opaque;
    kw_arena *arena;
    char last_log[512];
    char err[512];
};

/* ---- configuration ---------------------------------------------------------------------- */

sim_gm_conf *sim_gm_conf_new(void) {
    sim_gm_conf *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->session_ms = 45000;
    c->heartbeat_ms = 3000;
    c->rebalance_ms = 300000;
    c->commit_ms = 5000;
    c->request_ms = 30000;
    c->auto_commit = true;
    c->reset = RESET_LATEST;
    return c;
}

void sim_gm_conf_destroy(sim_gm_conf *c) {
    free(c);
}

static int conf_int(const char *key, const char *value, int lo, int hi, int *out, char *errbuf,
                    size_t errsize) {
    char *end = NULL;
    long long v = strtoll(value, &end, 10);
    char q[160];
    if (!*value || *end || v < lo || v > hi) {
        snprintf(errbuf, errsize, "%s: '%s' is not a whole number in %d..%d", key,
                 sim_escape(value, q, sizeof q), lo, hi);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int sim_gm_conf_set(sim_gm_conf *c, const char *key, const char *value, char *errbuf,
                    size_t errsize) {
    char q[160];
    if (!strcmp(key, "group.id")) {
        char *dst = c->group_id;
        if (strlen(value) >= GM_ID_MAX || !*value) {
            snprintf(errbuf, errsize, "%s: '%s' must be 1..%d bytes", key,
                     sim_escape(value, q, sizeof q), GM_ID_MAX - 1);
            return -1;
        }
        snprintf(dst, GM_ID_MAX, "%s", value);
        return 0;
    }
    if (!strcmp(key, "session.timeout.ms"))
        return conf_int(key, value, 1, 3600000, &c->session_ms, errbuf, errsize);
    if (!strcmp(key, "heartbeat.interval.ms"))
        return conf_int(key, value, 1, 3600000, &c->heartbeat_ms, errbuf, errsize);
    if (!strcmp(key, "max.poll.interval.ms"))
        return conf_int(key, value, 1, 86400000, &c->rebalance_ms, errbuf, errsize);
    if (!strcmp(key, "auto.commit.interval.ms"))
        return conf_int(key, value, 0, 86400000, &c->commit_ms, errbuf, errsize);
    if (!strcmp(key, "request.timeout.ms"))
        return conf_int(key, value, 1, 3600000, &c->request_ms, errbuf, errsize);
    if (!strcmp(key, "enable.auto.commit")) {
        if (strcmp(value, "true") && strcmp(value, "false")) {
            snprintf(errbuf, errsize, "%s: '%s' is not true or false", key,
                     sim_escape(value, q, sizeof q));
            return -1;
        }
        c->auto_commit = value[0] == 't';
        return 0;
    }
    if (!strcmp(key, "auto.offset.reset")) {
        /* librdkafka's spellings (smallest, beginning, largest, end) are accepted too */
        if (!strcmp(value, "latest") || !strcmp(value, "largest") || !strcmp(value, "end"))
            c->reset = RESET_LATEST;
        else if (!strcmp(value, "earliest") || !strcmp(value, "smallest") ||
                 !strcmp(value, "beginning"))
            c->reset = RESET_EARLIEST;
        else if (!strcmp(value, "none"))
            c->reset = RESET_NONE;
        else {
            snprintf(errbuf, errsize, "%s: '%s' is not earliest, latest or none", key,
                     sim_escape(value, q, sizeof q));
            return -1;
        }
        return 0;
    }
    if (!strcmp(key, "partition.assignment.strategy")) {
        if (strcmp(value, "range") && strcmp(value, "org.apache.kafka.clients.consumer.RangeAssignor")) {
            snprintf(errbuf, errsize, "%s: '%s': only range is implemented", key,
                     sim_escape(value, q, sizeof q));
            return -1;
        }
        return 0;
    }
    snprintf(errbuf, errsize, "'%s' is not a consumer setting Courier knows (see courier consume "
                              "--help)",
             sim_escape(key, q, sizeof q));
    return -1;
}

/* ---- small helpers ---------------------------------------------------------------------- */

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fail(sim_group_member *m, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(sim_group_member *m, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->err, sizeof m->err, fmt, ap);
    va_end(ap);
    return code;
}

/* Tells the log callback once per distinct line. */
static void note(sim_group_member *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(sim_group_member *m, const char *fmt, ...) {
    char line[sizeof m->last_log];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (!strcmp(line, m->last_log))
        return;
    snprintf(m->last_log, sizeof m->last_log, "%s", line);
    if (m->on_log)
        m->on_log(m->opaque, line);
}

static bool coordinator_error(int code) {
    return code == KW_ERR_NOT_COORDINATOR || code == KW_ERR_COORDINATOR_NOT_AVAILABLE ||
           code == KW_ERR__TRANSPORT || code == KW_ERR__TIMED_OUT;
}

static void coordinator_lost(sim_group_member *m, const char *why) {
    if (m->coord)
        note(m, "coordinator %d (%s): %s: finding the coordinator again", (int)m->coord_id,
             sim_kconn_peer(m->coord), why);
    sim_kconn_close(m->coord);
    m->coord = NULL;
    m->coord_id = -1;
}

/* ---- talking to the coordinator ---------------------------------------------------------- */

/* Sends one request to the coordinator and gives its answer in *rb (valid until the next
 * call). A failed connection is dropped (KW_ERR__TRANSPORT). */
static int coord_call(sim_group_member *m, int16_t key, const kw_wbuf *body, int16_t version,
                      int timeout_ms, kw_rbuf *rb) {
    char err[400];
    if (sim_kconn_call(m->coord, key, version, body, timeout_ms, rb, err, sizeof err) != 0) {
        coordinator_lost(m, err);
        return KW_ERR__TRANSPORT;
    }
    kw_arena_reset(m->arena);
    return 0;
}

/* The version of `key` to use with the coordinator, or KW_ERR__TRANSPORT / UNSUPPORTED. */
static int coord_version(sim_group_member *m, int16_t key, int16_t *v) {
    char err[400];
    if (sim_kconn_pick_version(m->coord, key, v, err, sizeof err) != 0) {
        bool unsupported = strstr(err, "version both sides") != NULL;
        if (unsupported)
            return fail(m, KW_ERR__UNSUPPORTED_API, "%s", err);
        coordinator_lost(m, err);
        return KW_ERR__TRANSPORT;
    }
    return 0;
}

/* FindCoordinator on any bootstrap server, then a connection to the coordinator. Returns 0,
 * a retriable error (try again later) or a fatal one. */
static int find_coordinator(sim_group_member *m) {
    sim_kconn *any = NULL;
    char err[400];
    if (sim_kconn_open(m->bootstrap, m->conf.request_ms, &any, err, sizeof err) != 0) {
        note(m, "FindCoordinator: %s: trying again", err);
        return KW_ERR__TRANSPORT;
    }
    int16_t v = 0;
    int rc = 0;
    if (sim_kconn_pick_version(any, KW_API_FIND_COORDINATOR, &v, err, sizeof err) != 0)
        rc = KW_ERR__TRANSPORT;
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_find_coordinator_req req = {kw_slice_str(m->conf.group_id), 0};
    kw_rbuf rb;
    if (!rc) {
        kw_find_coordinator_req_encode(&body, v, &req);
        if (sim_kconn_call(any, KW_API_FIND_COORDINATOR, v, &body, m->conf.request_ms, &rb, err,
                           sizeof err) != 0)
            rc = KW_ERR__TRANSPORT;
    }
    kw_wbuf_free(&body);
    kw_find_coordinator_resp resp;
    if (!rc && kw_find_coordinator_resp_decode(&rb, v, m->arena, &resp) != KW_ERR_NONE) {
        snprintf(err, sizeof err, "%s: FindCoordinator answer: %s", sim_kconn_peer(any),
                 rb.errmsg);
        rc = KW_ERR__MALFORMED;
    }
    if (rc) {
        note(m, "FindCoordinator: %s: trying again", err);
        sim_kconn_close(any);
        return rc;
    }
    if (resp.error_code) {
        note(m, "FindCoordinator from %s: %s: trying again", sim_kconn_peer(any),
             kw_err_name((kw_err)resp.error_code));
        sim_kconn_close(any);
        return resp.error_code;
    }
    char host[256];
    kw_slice_cstr(resp.host, host, sizeof host);
    int32_t node = resp.node_id, port = resp.port;
    sim_kconn_close(any);
    if (sim_kconn_open_host(host, (int)port, m->conf.request_ms, &m->coord, err, sizeof err)) {
        m->coord = NULL;
        note(m, "coordinator %d: %s: trying again", (int)node, err);
        return KW_ERR__TRANSPORT;
    }
    m->coord_id = node;
    return 0;
}

/* ---- partitions and positions ------------------------------------------------------------ */

static void announce(sim_group_member *m, bool assigned) {
    if (!m->on_rebalance)
        return;
    int32_t *ids = calloc((size_t)(m->n_parts > 0 ? m->n_parts : 1), sizeof *ids);
    if (!ids)
        return;
    for (int i = 0; i < m->n_parts; i++)
        ids[i] = m->parts[i].partition;
    m->on_rebalance(m->opaque, assigned, ids, m->n_parts, m->generation, m->member_id);
    free(ids);
}

/* OffsetCommit of every position that moved since the last commit. Returns 0 or the error
 * (coordinator errors drop the coordinator; the caller decides about the rest). */
static int commit_positions(sim_group_member *m) {
    if (!m->stable || !m->conf.auto_commit)
        return 0;
    int n = 0;
    kw_offset_commit_req_partition *ps = calloc((size_t)(m->n_parts > 0 ? m->n_parts : 1),
                                                sizeof *ps);
    if (!ps)
        return fail(m, KW_ERR__NO_MEMORY, "out of memory");
    for (int i = 0; i < m->n_parts; i++) {
        gm_part *p = &m->parts[i];
        if (p->pos >= 0 && p->pos != p->committed)
            ps[n++] = (kw_offset_commit_req_partition){p->partition, p->pos, -1, kw_slice_str("")};
    }
    int rc = 0;
    int16_t v = 0;
    if (n == 0 || (!m->coord && (rc = find_coordinator(m)) != 0) ||
        (rc = coord_version(m, KW_API_OFFSET_COMMIT, &v)) != 0) {
        free(ps);
        return rc;
    }
    kw_offset_commit_req_topic t = {kw_slice_str(m->topic), n, ps};
    kw_offset_commit_req req = {kw_slice_str(m->conf.group_id), m->generation,
                                kw_slice_str(m->member_id), KW_SLICE_NULL, -1, 1, &t};
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_offset_commit_req_encode(&body, v, &req);
    kw_rbuf rb;
    rc = coord_call(m, KW_API_OFFSET_COMMIT, &body, v, m->conf.request_ms, &rb);
    kw_wbuf_free(&body);
    kw_offset_commit_resp resp = {0};
    if (!rc && kw_offset_commit_resp_decode(&rb, v, m->arena, &resp) != KW_ERR_NONE) {
        coordinator_lost(m, rb.errmsg);
        rc = KW_ERR__MALFORMED;
    }
    for (int32_t i = 0; !rc && i < resp.n_topics; i++) {
        for (int32_t k = 0; k < resp.topics[i].n_partitions; k++) {
            const kw_partition_error *pe = &resp.topics[i].partitions[k];
            if (pe->error_code && !rc)
                rc = pe->error_code;
            for (int j = 0; !pe->error_code && j < n; j++)
                if (ps[j].partition_index == pe->partition_index)
                    for (int q = 0; q < m->n_parts; q++)
                        if (m->parts[q].partition == pe->partition_index)
                            m->parts[q].committed = ps[j].committed_offset;
        }
    }
    free(ps);
    if (rc > 0) {
        note(m, "OffsetCommit: %s", kw_err_name((kw_err)rc));
        if (coordinator_error(rc))
            coordinator_lost(m, kw_err_name((kw_err)rc));
    }
    return rc;
}

/* Gives every partition up (onJoinPrepare): commits first when it still can. */
static void revoke(sim_group_member *m, bool can_commit) {
    if (!m->stable)
        return;
    if (can_commit)
        commit_positions(m);
    announce(m, false);
    m->stable = false;
    free(m->parts);
    m->parts = NULL;
    m->n_parts = 0;
}

/* Where a partition without a commit starts (auto.offset.reset). */
static int reset_position(sim_group_member *m, gm_part *p) {
    if (m->conf.reset == RESET_NONE)
        return fail(m, KW_ERR__INVALID_ARG,
                    "partition %d: no committed offset for group '%s' and auto.offset.reset is "
                    "none",
                    (int)p->partition, m->conf.group_id);
    int64_t lo = -1, hi = -1;
    int rc = sim_reader_offsets(m->reader, p->partition, &lo, &hi);
    if (rc)
        return fail(m, rc, "%s", sim_reader_error(m->reader));
    p->pos = m->conf.reset == RESET_EARLIEST ? lo : hi;
    return 0;
}

/* OffsetFetch for our partitions: the committed offsets become the positions. */
static int fetch_committed(sim_group_member *m) {
    int16_t v = 0;
    int rc = coord_version(m, KW_API_OFFSET_FETCH, &v);
    if (rc)
        return rc;
    int32_t *ids = calloc((size_t)(m->n_parts > 0 ? m->n_parts : 1), sizeof *ids);
    if (!ids)
        return fail(m, KW_ERR__NO_MEMORY, "out of memory");
    for (int i = 0; i < m->n_parts; i++)
        ids[i] = m->parts[i].partition;
    kw_offset_fetch_req_topic t = {kw_slice_str(m->topic), m->n_parts, ids};
    kw_offset_fetch_req req = {kw_slice_str(m->conf.group_id), 1, &t};
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_offset_fetch_req_encode(&body, v, &req);
    kw_rbuf rb;
    rc = coord_call(m, KW_API_OFFSET_FETCH, &body, v, m->conf.request_ms, &rb);
    kw_wbuf_free(&body);
    free(ids);
    kw_offset_fetch_resp resp = {0};
    if (!rc && kw_offset_fetch_resp_decode(&rb, v, m->arena, &resp) != KW_ERR_NONE) {
        coordinator_lost(m, rb.errmsg);
        return KW_ERR__MALFORMED;
    }
    if (!rc && resp.error_code)
        rc = resp.error_code;
    for (int32_t i = 0; !rc && i < resp.n_topics; i++) {
        if (!kw_slice_eq(resp.topics[i].name, m->topic))
            continue;
        for (int32_t k = 0; k < resp.topics[i].n_partitions; k++) {
            const kw_offset_fetch_resp_partition *rp = &resp.topics[i].partitions[k];
            if (rp->error_code && !rc)
                rc = rp->error_code;
            for (int q = 0; q < m->n_parts; q++)
                if (m->parts[q].partition == rp->partition_index && !rp->error_code)
                    m->parts[q].pos = m->parts[q].committed = rp->committed_offset;
        }
    }
    if (rc > 0 && coordinator_error(rc))
        coordinator_lost(m, kw_err_name((kw_err)rc));
    return rc;
}

/* ---- the leader's assignment ------------------------------------------------------------- */

void sim_gm_range(int n_partitions, int n_members, int *first, int *count) {
    if (n_members <= 0)
        return;
    int per = n_partitions / n_members, extra = n_partitions % n_members;
    for (int i = 0; i < n_members; i++) {
        first[i] = per * i + (i < extra ? i : extra);
        count[i] = per + (i < extra ? 1 : 0);
    }
}

typedef struct gm_member_sub {
    kw_slice id;
    kw_consumer_subscription sub;
    kw_wbuf out;      /* its assignment, encoded */
    int n_topics;     /* entries in topics[] */
    kw_consumer_topic_partitions *topics;
} gm_member_sub;

static int cmp_member(const void *a, const void *b) {
    const gm_member_sub *x = a, *y = b;
    int32_t n = x->id.len < y->id.len ? x->id.len : y->id.len;
    int c = n > 0 ? memcmp(x->id.p, y->id.p, (size_t)n) : 0;
    return c ? c : (x->id.len > y->id.len) - (x->id.len < y->id.len);
}

static bool subscribes(const kw_consumer_subscription *s, kw_slice topic) {
    for (int32_t i = 0; i < s->n_topics; i++)
        if (s->topics[i].len == topic.len && !memcmp(s->topics[i].p, topic.p, (size_t)topic.len))
            return true;
    return false;
}

/* The partition count of a topic another member subscribed to (0 when it does not exist). */
static int partitions_of(sim_group_member *m, kw_slice topic) {
    char name[256];
    kw_slice_cstr(topic, name, sizeof name);
    /* Fresh metadata first, as Java's and librdkafka's leaders fetch it before assigning:
     * partitions added since the member started are shared too. */
    if (!strcmp(name, m->topic))
        return sim_reader_refresh(m->reader) == 0 || sim_reader_partition_count(m->reader) > 0
                   ? sim_reader_partition_count(m->reader)
                   : 0;
    sim_reader *r = NULL;
    char err[300];
    if (sim_reader_open(m->bootstrap, name, m->conf.request_ms, &r, err, sizeof err) != 0)
        return 0;
    int n = sim_reader_partition_count(r);
    sim_reader_close(r);
    return n;
}

/* Runs the range assignor over the JoinGroup answer's members and encodes each member's
 * assignment into subs[i].out (subs sorted by member id). */
static int assign_range(sim_group_member *m, const kw_join_group_resp *jr, gm_member_sub *subs) {
    int n = jr->n_members;
    for (int i = 0; i < n; i++) {
        subs[i].id = jr->members[i].member_id;
        kw_rbuf rb;
        kw_rbuf_init(&rb, jr->members[i].metadata.p,
                     jr->members[i].metadata.len > 0 ? (size_t)jr->members[i].metadata.len : 0,
                     "subscription");
        if (kw_consumer_subscription_decode(&rb, m->arena, &subs[i].sub) != KW_ERR_NONE)
            memset(&subs[i].sub, 0, sizeof subs[i].sub); /* unreadable: it gets nothing */
        subs[i].topics = calloc((size_t)(subs[i].sub.n_topics > 0 ? subs[i].sub.n_topics : 1),
                                sizeof *subs[i].topics);
        if (!subs[i].topics)
            return fail(m, KW_ERR__NO_MEMORY, "out of memory");
    }
    qsort(subs, (size_t)(n > 0 ? n : 0), sizeof *subs, cmp_member);
    size_t cap = (size_t)(n > 0 ? n : 1);
    int *first = calloc(cap, sizeof *first), *count = calloc(cap, sizeof *count);
    int *who = calloc(cap, sizeof *who);
    int rc = first && count && who ? 0 : fail(m, KW_ERR__NO_MEMORY, "out of memory");
    /* every topic anyone subscribed to, once */
    for (int i = 0; !rc && i < n; i++) {
        for (int32_t t = 0; t < subs[i].sub.n_topics; t++) {
            kw_slice topic = subs[i].sub.topics[t];
            bool seen = false;
            for (int j = 0; j < i && !seen; j++)
                seen = subscribes(&subs[j].sub, topic);
            if (seen)
                continue;
            int np = partitions_of(m, topic), k = 0;
            for (int j = 0; j < n; j++)
                if (subscribes(&subs[j].sub, topic))
                    who[k++] = j;
            sim_gm_range(np, k, first, count);
            for (int j = 0; j < k; j++) {
                gm_member_sub *s = &subs[who[j]];
                int32_t *ps = kw_arena_alloc(m->arena, (size_t)(count[j] > 0 ? count[j] : 1) *
                                                           sizeof *ps);
                if (!ps) {
                    rc = fail(m, KW_ERR__NO_MEMORY, "out of memory");
                    break;
                }
                for (int q = 0; q < count[j]; q++)
                    ps[q] = first[j] + q;
                s->topics[s->n_topics++] = (kw_consumer_topic_partitions){topic, count[j], ps};
            }
        }
    }
    for (int i = 0; !rc && i < n; i++) {
        kw_consumer_assignment a = {0, subs[i].n_topics, subs[i].topics, KW_SLICE_NULL};
        kw_wbuf_init(&subs[i].out);
        kw_consumer_assignment_encode(&subs[i].out, &a);
        if (subs[i].out.oom)
            rc = fail(m, KW_ERR__NO_MEMORY, "out of memory");
    }
    free(first);
    free(count);
    free(who);
    return rc;
}

/* ---- joining ----------------------------------------------------------------------------- */

/* The errors that end the member (nothing to retry); the others are tried again. */
static bool fatal_group_error(int code) {
    return code == KW_ERR_INCONSISTENT_GROUP_PROTOCOL || code == KW_ERR_INVALID_GROUP_ID ||
           code == KW_ERR_INVALID_SESSION_TIMEOUT || code == KW_ERR_GROUP_AUTHORIZATION_FAILED ||
           code == KW_ERR_GROUP_MAX_SIZE_REACHED || code == KW_ERR__NO_MEMORY ||
           code == KW_ERR__UNSUPPORTED_API || code == KW_ERR__INVALID_ARG;
}

/* JoinGroup (again with the given id after MEMBER_ID_REQUIRED). On success the answer is in
 * *jr (valid until the next call to the coordinator). */
static int join_group(sim_group_member *m, kw_join_group_resp *jr) {
    int16_t v = 0;
    int rc = coord_version(m, KW_API_JOIN_GROUP, &v);
    for (int attempt = 0; !rc && attempt < 2; attempt++) {
        kw_wbuf meta, body;
        kw_wbuf_init(&meta);
        kw_wbuf_init(&body);
        kw_slice topic = kw_slice_str(m->topic);
        kw_consumer_subscription sub = {0, 1, &topic, KW_SLICE_NULL};
        kw_consumer_subscription_encode(&meta, &sub);
        kw_join_group_protocol proto = {kw_slice_str("range"),
                                        (kw_slice){meta.p, (int32_t)meta.len}};
        kw_join_group_req req = {kw_slice_str(m->conf.group_id),
                                 m->conf.session_ms,
                                 m->conf.rebalance_ms,
                                 kw_slice_str(m->member_id),
                                 KW_SLICE_NULL,
                                 kw_slice_str("consumer"),
                                 1,
                                 &proto};
        kw_join_group_req_encode(&body, v, &req);
        kw_rbuf rb;
        /* the answer waits for the other members: up to the rebalance timeout */
        rc = coord_call(m, KW_API_JOIN_GROUP, &body, v, m->conf.rebalance_ms + m->conf.request_ms,
                        &rb);
        kw_wbuf_free(&meta);
        kw_wbuf_free(&body);
        if (rc)
            return rc;
        if (kw_join_group_resp_decode(&rb, v, m->arena, jr) != KW_ERR_NONE) {
            coordinator_lost(m, rb.errmsg);
            return KW_ERR__MALFORMED;
        }
        rc = jr->error_code;
        if (rc == KW_ERR_MEMBER_ID_REQUIRED) { /* KIP-394: join again with this id */
            kw_slice_cstr(jr->member_id, m->member_id, sizeof m->member_id);
            rc = 0;
            continue;
        }
        if (rc == KW_ERR_UNKNOWN_MEMBER_ID)
            m->member_id[0] = '\0';
        if (!rc) {
            kw_slice_cstr(jr->member_id, m->member_id, sizeof m->member_id);
            m->generation = jr->generation_id;
        }
        return rc;
    }
    return rc;
}

/* SyncGroup with the leader's assignments (n may be 0 for a follower); the member's own share
 * becomes parts[]. */
static int sync_group(sim_group_member *m, gm_member_sub *subs, int n) {
    int16_t v = 0;
    int rc = coord_version(m, KW_API_SYNC_GROUP, &v);
    if (rc)
        return rc;
    kw_sync_group_assignment *as = calloc((size_t)(n > 0 ? n : 1), sizeof *as);
    if (!as)
        return fail(m, KW_ERR__NO_MEMORY, "out of memory");
    for (int i = 0; i < n; i++)
        as[i] = (kw_sync_group_assignment){subs[i].id,
                                           (kw_slice){subs[i].out.p, (int32_t)subs[i].out.len}};
    kw_sync_group_req req = {kw_slice_str(m->conf.group_id), m->generation,
                             kw_slice_str(m->member_id), KW_SLICE_NULL, n, as};
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_sync_group_req_encode(&body, v, &req);
    kw_rbuf rb;
    rc = coord_call(m, KW_API_SYNC_GROUP, &body, v, m->conf.rebalance_ms + m->conf.request_ms,
                    &rb);
    kw_wbuf_free(&body);
    free(as);
    if (rc)
        return rc;
    kw_sync_group_resp resp;
    kw_rbuf again = rb;
    if (kw_sync_group_resp_decode(&rb, v, m->arena, &resp) != KW_ERR_NONE &&
        !kw_sync_group_resp_decode_null_assignment(&again, v, &resp)) {
        coordinator_lost(m, rb.errmsg);
        return KW_ERR__MALFORMED;
    }
    if (resp.error_code) {
        if (resp.error_code == KW_ERR_UNKNOWN_MEMBER_ID)
            m->member_id[0] = '\0';
        return resp.error_code;
    }
    kw_rbuf ab;
    kw_rbuf_init(&ab, resp.assignment.p, resp.assignment.len > 0 ? (size_t)resp.assignment.len : 0,
                 "assignment");
    kw_consumer_assignment a;
    if (kw_consumer_assignment_decode(&ab, m->arena, &a) != KW_ERR_NONE)
        return fail(m, KW_ERR__MALFORMED, "the leader's assignment for us is unreadable: %s",
                    ab.errmsg);
    int total = 0;
    for (int32_t i = 0; i < a.n_topics; i++)
        if (kw_slice_eq(a.topics[i].topic, m->topic))
            total += a.topics[i].n_partitions;
    free(m->parts);
    m->parts = calloc((size_t)(total > 0 ? total : 1), sizeof *m->parts);
    m->n_parts = 0;
    if (!m->parts)
        return fail(m, KW_ERR__NO_MEMORY, "out of memory");
    int np = sim_reader_partition_count(m->reader);
    for (int32_t i = 0; i < a.n_topics; i++) {
        if (!kw_slice_eq(a.topics[i].topic, m->topic))
            continue;
        for (int32_t k = 0; k < a.topics[i].n_partitions; k++) {
            int32_t p = a.topics[i].partitions[k];
            if (p < 0 || p >= np) {
                note(m, "the assignment names partition %d of '%s', which has %d: ignored",
                     (int)p, m->topic, np);
                continue;
            }
            m->parts[m->n_parts++] = (gm_part){p, -1, -1, -1};
        }
    }
    return 0;
}

/* Releases the leader's per-member buffers. */
static void subs_free(gm_member_sub *subs, int n) {
    for (int i = 0; subs && i < n; i++) {
        kw_wbuf_free(&subs[i].out);
        free(subs[i].topics);
    }
    free(subs);
}

/* One attempt to become a stable member: coordinator, JoinGroup, (leader) assignment,
 * SyncGroup, committed offsets. Returns 0 when stable, a retriable error (retried on a later
 * call) or a fatal one. */
static int join_once(sim_group_member *m) {
    int rc = m->coord ? 0 : find_coordinator(m);
    kw_join_group_resp jr;
    if (!rc)
        rc = join_group(m, &jr);
    gm_member_sub *subs = NULL;
    int n = 0;
    if (!rc && kw_slice_eq(jr.leader, m->member_id)) {
        n = jr.n_members;
        subs = calloc((size_t)(n > 0 ? n : 1), sizeof *subs);
        rc = subs ? assign_range(m, &jr, subs) : fail(m, KW_ERR__NO_MEMORY, "out of memory");
    }
    if (!rc)
        rc = sync_group(m, subs, n);
    subs_free(subs, n);
    if (!rc)
        rc = fetch_committed(m);
    for (int i = 0; !rc && i < m->n_parts; i++)
        if (m->parts[i].pos < 0)
            rc = reset_position(m, &m->parts[i]);
    if (rc) {
        if (rc > 0 && coordinator_error(rc))
            coordinator_lost(m, kw_err_name((kw_err)rc));
        if (rc == KW_ERR_ILLEGAL_GENERATION || rc == KW_ERR_UNKNOWN_MEMBER_ID)
            m->generation = -1;
        if (fatal_group_error(rc)) {
            if (!m->err[0])
                fail(m, rc, "group '%s': %s", m->conf.group_id, kw_err_name((kw_err)rc));
            return rc;
        }
        if (rc > 0 || (rc == KW_ERR__MALFORMED && m->err[0]))
            note(m, "group '%s': %s: joining again", m->conf.group_id,
                 rc > 0 ? kw_err_name((kw_err)rc) : m->err);
        m->err[0] = '\0';
        free(m->parts);
        m->parts = NULL;
        m->n_parts = 0;
        return 0; /* retried on the next call */
    }
    m->stable = true;
    m->last_log[0] = '\0';
    int64_t now = mono_ms();
    m->next_heartbeat = now + m->conf.heartbeat_ms;
    m->next_commit = now + m->conf.commit_ms;
    announce(m, true);
    return 0;
}

/* ---- the member's turn ------------------------------------------------------------------- */

/* Heartbeat; its errors decide whether the member rejoins. */
static void heartbeat(sim_group_member *m) {
    int16_t v = 0;
    int rc = m->coord ? 0 : find_coordinator(m);
    if (!rc)
        rc = coord_version(m, KW_API_HEARTBEAT, &v);
    kw_rbuf rb;
    if (!rc) {
        kw_heartbeat_req req = {kw_slice_str(m->conf.group_id), m->generation,
                                kw_slice_str(m->member_id), KW_SLICE_NULL};
        kw_wbuf body;
        kw_wbuf_init(&body);
        kw_heartbeat_req_encode(&body, v, &req);
        rc = coord_call(m, KW_API_HEARTBEAT, &body, v, m->conf.request_ms, &rb);
        kw_wbuf_free(&body);
    }
    kw_group_simple_resp resp;
    if (!rc && kw_heartbeat_resp_decode(&rb, v, m->arena, &resp) != KW_ERR_NONE) {
        coordinator_lost(m, rb.errmsg);
        rc = KW_ERR__MALFORMED;
    }
    if (!rc)
        rc = resp.error_code;
    int64_t now = mono_ms();
    if (rc == 0) {
        m->next_heartbeat = now + m->conf.heartbeat_ms;
        return;
    }
    if (rc == KW_ERR_REBALANCE_IN_PROGRESS) {
        note(m, "group '%s' is rebalancing: committing and joining again", m->conf.group_id);
        revoke(m, true);
    } else if (rc == KW_ERR_ILLEGAL_GENERATION || rc == KW_ERR_UNKNOWN_MEMBER_ID) {
        note(m, "heartbeat: %s: joining again", kw_err_name((kw_err)rc));
        revoke(m, false);
        m->generation = -1;
        if (rc == KW_ERR_UNKNOWN_MEMBER_ID)
            m->member_id[0] = '\0';
    } else if (coordinator_error(rc) || rc < 0) {
        coordinator_lost(m, kw_err_name((kw_err)rc));
    }
    m->next_heartbeat = now + GM_BACKOFF_MS; /* try again soon */
}

/* The caller's record callback, remembered stopping: no record is handed to it after it said
 * stop (the reader counts a record handed over as consumed). */
typedef struct gm_deliver {
    sim_reader_record_fn fn;
    void *opaque;
    bool stopped;
} gm_deliver;

static int deliver(void *opaque, int32_t partition, const kw_record *rec) {
    gm_deliver *d = opaque;
    if (d->stopped)
        return 1;
    if (d->fn && d->fn(d->opaque, partition, rec) != 0)
        d->stopped = true;
    return d->stopped;
}

int sim_gm_poll(sim_group_member *m, sim_reader_record_fn fn, void *opaque, bool *progress) {
    *progress = false;
    m->err[0] = '\0';
    int64_t now = mono_ms();
    if (!m->stable) {
        if (now < m->next_try)
            return 0;
        int rc = join_once(m);
        if (rc)
            return rc;
        if (!m->stable) {
            m->next_try = mono_ms() + GM_BACKOFF_MS;
            return 0;
        }
    }
    if (now >= m->next_heartbeat)
        heartbeat(m);
    if (m->stable && m->conf.auto_commit && now >= m->next_commit) {
        int rc = commit_positions(m);
        m->next_commit = now + (rc ? GM_BACKOFF_MS : m->conf.commit_ms);
        if (rc == KW_ERR_REBALANCE_IN_PROGRESS || rc == KW_ERR_ILLEGAL_GENERATION ||
            rc == KW_ERR_UNKNOWN_MEMBER_ID)
            revoke(m, false);
        if (rc == KW_ERR_UNKNOWN_MEMBER_ID)
            m->member_id[0] = '\0';
    }
    if (!m->stable)
        return 0;
    gm_deliver d = {fn, opaque, false};
    for (int i = 0; i < m->n_parts && !d.stopped; i++) {
        gm_part *p = &m->parts[i];
        int64_t next = p->pos, hw = -1;
        int rc = sim_reader_poll(m->reader, p->partition, p->pos, 0, deliver, &d, &next, &hw);
        if (rc == KW_ERR_OFFSET_OUT_OF_RANGE) {
            note(m, "partition %d: offset %lld is gone: auto.offset.reset", (int)p->partition,
                 (long long)p->pos);
            rc = reset_position(m, p);
            if (rc)
                return rc;
            continue;
        }
        if (rc)
            return fail(m, rc, "%s", sim_reader_error(m->reader));
        if (next > p->pos)
            *progress = true;
        p->pos = next;
        if (hw >= 0)
            p->hw = hw;
    }
    return 0;
}

bool sim_gm_at_end(const sim_group_member *m) {
    if (!m->stable || m->n_parts == 0)
        return false;
    for (int i = 0; i < m->n_parts; i++)
        if (m->parts[i].hw < 0 || m->parts[i].pos < m->parts[i].hw)
            return false;
    return true;
}

const char *sim_gm_error(const sim_group_member *m) {
    return m->err;
}

/* ---- open and close ---------------------------------------------------------------------- */

int sim_gm_new(const char *bootstrap, const char *topic, const sim_gm_conf *conf,
               sim_gm_rebalance_fn on_rebalance, sim_gm_log_fn on_log, void *opaque,
               sim_group_member **out, char *errbuf, size_t errsize) {
    *out = NULL;
    if (!conf->group_id[0]) {
        snprintf(errbuf, errsize, "group.id is required (-G GROUP)");
        return KW_ERR__INVALID_ARG;
    }
    if (conf->heartbeat_ms >= conf->session_ms) {
        /* as Java's GroupRebalanceConfig / AbstractCoordinator require */
        snprintf(errbuf, errsize,
                 "heartbeat.interval.ms (%d) must be lower than session.timeout.ms (%d)",
                 conf->heartbeat_ms, conf->session_ms);
        return KW_ERR__INVALID_ARG;
    }
    if (strlen(bootstrap) >= 1024 || strlen(topic) >= 256) {
        snprintf(errbuf, errsize, "bootstrap list or topic name too long");
        return KW_ERR__INVALID_ARG;
    }
    sim_group_member *m = calloc(1, sizeof *m);
    if (!m || !(m->arena = kw_arena_new())) {
        free(m);
        snprintf(errbuf, errsize, "out of memory");
        return KW_ERR__NO_MEMORY;
    }
    m->conf = *conf;
    snprintf(m->bootstrap, sizeof m->bootstrap, "%s", bootstrap);
    snprintf(m->topic, sizeof m->topic, "%s", topic);
    m->coord_id = -1;
    m->generation = -1;
    m->on_rebalance = on_rebalance;
    m->on_log = on_log;
    m->opaque = opaque;
    int rc = sim_reader_open(bootstrap, topic, conf->request_ms, &m->reader, errbuf, errsize);
    if (rc) {
        sim_gm_close(m);
        return rc;
    }
    *out = m;
    return 0;
}

/* LeaveGroup, as Java's maybeLeaveGroup on close. */
static void leave_group(sim_group_member *m) {
    int16_t v = 0;
    if (!m->member_id[0] || (!m->coord && find_coordinator(m) != 0) ||
        coord_version(m, KW_API_LEAVE_GROUP, &v) != 0)
        return;
    kw_leave_group_req req = {kw_slice_str(m->conf.group_id), kw_slice_str(m->member_id)};
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_leave_group_req_encode(&body, v, &req);
    kw_rbuf rb;
    coord_call(m, KW_API_LEAVE_GROUP, &body, v, m->conf.request_ms, &rb);
    kw_wbuf_free(&body);
}

void sim_gm_close(sim_group_member *m) {
    if (!m)
        return;
    if (m->stable)
        revoke(m, true);
    leave_group(m);
    sim_kconn_close(m->coord);
    sim_reader_close(m->reader);
    kw_arena_destroy(m->arena);
    free(m->parts);
    free(m);
}
