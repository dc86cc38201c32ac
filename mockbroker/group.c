/* The reading club's desk: the classic consumer-group coordinator (mb_group.h).
 *
 * A consumer group is a club whose members share a topic's shelves: each partition is read by
 * one member. The desk (the group's coordinator broker) keeps the member list, runs the
 * rebalance that hands out partitions, and keeps the bookmarks (committed offsets).
 *
 * The rules follow Kafka's classic protocol (group-coordinator/.../classic/ClassicGroup.java
 * and GroupCoordinator.scala before KIP-848):
 * - Coordinator: partitionFor(groupId) = abs(groupId.hashCode) % offsets.topic.num.partitions
 *   (50), as GroupMetadataManager places the group's __consumer_offsets partition; here that
 *   partition "lives" on broker (p % N) + 1, or the next broker up when that one is down, so a
 *   group moves when its coordinator's broker goes down. Requests to another broker get
 *   NOT_COORDINATOR; FindCoordinator with no broker up answers COORDINATOR_NOT_AVAILABLE.
 * - States Empty → PreparingRebalance → CompletingRebalance → Stable (ClassicGroupState). A
 *   join or a leave or an expired member starts a rebalance; the join phase ends when every
 *   member rejoined or the rebalance timeout (the members' largest) passed, then the
 *   generation goes up, the leader gets the member list and sends the assignment through
 *   SyncGroup, and the others get theirs in their SyncGroup answer.
 * - A new group waits group.initial.rebalance.delay.ms for more members (InitialDelayedJoin).
 * - KIP-394: from JoinGroup v4 a member without an id is given one with MEMBER_ID_REQUIRED
 *   and must join again with it.
 * - Session: a member that sends nothing (heartbeat, join, sync, commit) for
 *   session.timeout.ms is removed; a member waiting in a JoinGroup or SyncGroup is alive.
 * - Commits are checked against the generation and member (ILLEGAL_GENERATION,
 *   UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS while CompletingRebalance); generation -1 with an
 *   empty member id is a commit from outside the group, allowed while the group is Empty.
 * Timers run on the cluster clock: waiting answers are re-checked every 100 ms of cluster
 * time and on every request of the group, so a paused clock expires nobody.
 *
 * @locality broker threads; all state below is guarded by c->lock.
 */
#include "mockbroker/mb_group.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GROUP_PARTITIONS 50                  /* offsets.topic.num.partitions */
#define MIN_SESSION_MS 6000                  /* group.min.session.timeout.ms */
#define MAX_SESSION_MS 1800000               /* group.max.session.timeout.ms */
#define MAX_METADATA 4096                    /* offset.metadata.max.bytes */
#define RECHECK_US 100000                    /* waiting answers re-checked this often */
#define MAX_ID 255

typedef enum gstate { G_EMPTY, G_PREPARING, G_COMPLETING, G_STABLE } gstate;

static const char *const state_names[] = {"Empty", "PreparingRebalance", "CompletingRebalance",
                                          "Stable"};

typedef struct gproto {
    char *name;
    uint8_t *meta;
    int32_t len;
} gproto;

typedef struct gwait gwait;

typedef struct gmember {
    char *id;
    char *client_id;
    char *client_host;
    int32_t session_ms, rebalance_ms;
    int n_protos;
    gproto *protos;
    uint8_t *assign;
    int32_t assign_len;
    int64_t last_seen_us; /* last request from it: the session timer */
    bool joined;          /* joined in the current rebalance */
    gwait *join_wait;     /* its JoinGroup answer is waiting */
    gwait *sync_wait;     /* its SyncGroup answer is waiting */
} gmember;

typedef struct gpending {
    char *id;
    int64_t expires_us;
} gpending;

typedef struct goffset {
    char topic[MB_MAX_TOPIC_NAME + 1];
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    char *meta;
} goffset;

typedef struct mb_group {
    char *id;
    gstate state;
    int32_t generation;
    char *protocol_type;
    char *protocol;
    char *leader;
    gmember **m;
    int n_m, cap_m;
    gpending *pend;
    int n_pend, cap_pend;
    int64_t join_not_before_us, join_deadline_us;
    goffset *off;
    int n_off, cap_off;
} mb_group;

struct mb_groups {
    mb_group **v;
    int n, cap;
    uint64_t seq;     /* member ids */
    void **graveyard; /* admin.c: memory that must outlive the cluster's threads */
    size_t n_grave, cap_grave;
};

/* A waiting JoinGroup or SyncGroup answer. */
struct gwait {
    mb_cluster *c;
    char group[MAX_ID + 1];
    char member[MAX_ID + 1];
    int32_t generation; /* the group's generation when the request came */
    bool sync;
};

/* ---- small helpers ---- */

static char *dup_slice(kw_slice s) {
    size_t n = s.len > 0 ? (size_t)s.len : 0;
    char *p = malloc(n + 1);
    if (p) {
        if (n)
            memcpy(p, s.p, n);
        p[n] = '\0';
    }
    return p;
}

static uint8_t *dup_bytes(kw_slice s, int32_t *len) {
    *len = s.len > 0 ? s.len : 0;
    uint8_t *p = malloc(*len ? (size_t)*len : 1);
    if (p && *len)
        memcpy(p, s.p, (size_t)*len);
    if (!p)
        *len = 0;
    return p;
}

static bool slice_is(kw_slice s, const char *str) {
    return str && kw_slice_eq(s, str);
}

static kw_slice S(const char *s) {
    return kw_slice_str(s ? s : "");
}

/* The text of a slice for a log line or event, control bytes escaped, at most 80 chars. */
static void printable(kw_slice s, char *buf, size_t size) {
    size_t o = 0;
    for (int32_t i = 0; i < s.len && o + 5 < size && i < 80; i++) {
        uint8_t ch = s.p[i];
        if (ch >= 0x20 && ch < 0x7f)
            buf[o++] = (char)ch;
        else
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", ch);
    }
    buf[o] = '\0';
}

static struct mb_groups *groups_of(mb_cluster *c) {
    if (!c->groups)
        c->groups = calloc(1, sizeof *c->groups);
    return c->groups;
}

static mb_group *group_find(mb_cluster *c, kw_slice id) {
    struct mb_groups *gs = groups_of(c);
    for (int i = 0; gs && i < gs->n; i++)
        if (kw_slice_eq(id, gs->v[i]->id))
            return gs->v[i];
    return NULL;
}

static mb_group *group_create(mb_cluster *c, kw_slice id) {
    struct mb_groups *gs = groups_of(c);
    if (!gs)
        return NULL;
    if (!kw_grow(&gs->v, gs->n, &gs->cap, sizeof *gs->v, 8))
        return NULL;
    mb_group *g = calloc(1, sizeof *g);
    if (!g || !(g->id = dup_slice(id))) {
        free(g);
        return NULL;
    }
    g->state = G_EMPTY;
    gs->v[gs->n++] = g;
    return g;
}

static gmember *member_find(mb_group *g, kw_slice id) {
    for (int i = 0; g && i < g->n_m; i++)
        if (kw_slice_eq(id, g->m[i]->id))
            return g->m[i];
    return NULL;
}

static void member_free(gmember *m) {
    if (!m)
        return;
    for (int i = 0; i < m->n_protos; i++) {
        free(m->protos[i].name);
        free(m->protos[i].meta);
    }
    free(m->protos);
    free(m->assign);
    free(m->id);
    free(m->client_id);
    free(m->client_host);
    free(m);
}

static void group_free(mb_group *g) {
    for (int i = 0; i < g->n_m; i++)
        member_free(g->m[i]);
    for (int i = 0; i < g->n_pend; i++)
        free(g->pend[i].id);
    for (int i = 0; i < g->n_off; i++)
        free(g->off[i].meta);
    free(g->m);
    free(g->pend);
    free(g->off);
    free(g->id);
    free(g->protocol_type);
    free(g->protocol);
    free(g->leader);
    free(g);
}

void mb_groups_free(mb_cluster *c) {
    struct mb_groups *gs = c->groups;
    if (!gs)
        return;
    for (int i = 0; i < gs->n; i++)
        group_free(gs->v[i]);
    for (size_t i = 0; i < gs->n_grave; i++)
        free(gs->graveyard[i]);
    free(gs->graveyard);
    free(gs->v);
    free(gs);
    c->groups = NULL;
}

bool mb_graveyard_keep(mb_cluster *c, void *p) {
    struct mb_groups *gs = groups_of(c);
    if (!gs)
        return false;
    if (gs->n_grave == gs->cap_grave) {
        size_t ncap = gs->cap_grave ? gs->cap_grave * 2 : 8;
        void **nv = realloc(gs->graveyard, ncap * sizeof *nv);
        if (!nv)
            return false;
        gs->graveyard = nv;
        gs->cap_grave = ncap;
    }
    gs->graveyard[gs->n_grave++] = p;
    return true;
}

int mb_decode_failed(mb_req *r, char *errbuf, size_t errsize) {
    snprintf(errbuf, errsize, "malformed %s v%d request: %s", kw_api_name(r->hdr.api_key),
             r->hdr.api_version, r->rb.errmsg[0] ? r->rb.errmsg : kw_err_name(r->rb.err));
    return -1;
}

/* Java's String.hashCode over the id's bytes (equal for ASCII ids). */
static int32_t java_hash(kw_slice s) {
    uint32_t h = 0;
    for (int32_t i = 0; i < s.len; i++)
        h = 31u * h + s.p[i];
    return (int32_t)h;
}

int32_t mb_group_coordinator(mb_cluster *c, kw_slice group_id) {
    if (c->n_brokers <= 0)
        return -1;
    int32_t p = (int32_t)((uint32_t)java_hash(group_id) & 0x7fffffffu) % GROUP_PARTITIONS;
    for (int32_t k = 0; k < c->n_brokers; k++) {
        int32_t node = (p + k) % c->n_brokers + 1;
        if (mb_broker_get(c, node)->up)
            return node;
    }
    return -1;
}

/* ---- events ---- */

static void group_event(mb_cluster *c, mb_evbuf *eb, mb_event_kind kind, const mb_group *g,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void group_event(mb_cluster *c, mb_evbuf *eb, mb_event_kind kind, const mb_group *g,
                        const char *fmt, ...) {
    mb_event *ev = mb_ev_add(c, eb, kind, mb_group_coordinator(c, S(g->id)));
    if (!ev)
        return;
    char what[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    char gid[200];
    printable(S(g->id), gid, sizeof gid);
    ev->count = g->n_m;
    ev->leader_epoch = g->generation;
    mb_ev_detail(eb, ev, "group %s: %s", gid, what);
}

/* ---- the state machine ---- */

static void wake_coordinator(mb_cluster *c, const mb_group *g) {
    mb_broker *b = mb_broker_get(c, mb_group_coordinator(c, S(g->id)));
    if (b)
        mb_broker_wake(b);
}

/* Starts a rebalance: every member must join again (ClassicGroup.prepareRebalance). A group
 * that was Empty waits group.initial.rebalance.delay.ms for more members first. */
static void prepare_rebalance(mb_cluster *c, mb_group *g, int64_t now, mb_evbuf *eb,
                              const char *why) {
    int64_t rebalance_ms = 0;
    for (int i = 0; i < g->n_m; i++) {
        g->m[i]->joined = false;
        if (g->m[i]->rebalance_ms > rebalance_ms)
            rebalance_ms = g->m[i]->rebalance_ms;
    }
    g->join_not_before_us =
        g->state == G_EMPTY ? now + (int64_t)c->conf.group_initial_rebalance_delay_ms * 1000 : 0;
    g->join_deadline_us = now + rebalance_ms * 1000;
    if (g->join_deadline_us < g->join_not_before_us)
        g->join_deadline_us = g->join_not_before_us;
    g->state = G_PREPARING;
    group_event(c, eb, MB_EV_GROUP_REBALANCING, g, "rebalance (%s), generation %d", why,
                (int)g->generation);
    wake_coordinator(c, g);
}

static void member_remove(mb_cluster *c, mb_group *g, int idx, mb_event_kind kind,
                          mb_evbuf *eb, const char *why) {
    gmember *m = g->m[idx];
    char mid[200];
    printable(S(m->id), mid, sizeof mid);
    bool was_leader = g->leader && !strcmp(g->leader, m->id);
    g->m[idx] = g->m[--g->n_m];
    if (was_leader) {
        free(g->leader);
        g->leader = NULL;
    }
    group_event(c, eb, kind, g, "member %s %s, %d left", mid, why, g->n_m);
    member_free(m);
}

/* Protocol all members support, the first member's preference first (a simpler vote than
 * ClassicGroup.selectProtocol, same answer when members agree on the order). */
static const char *select_protocol(const mb_group *g) {
    if (g->n_m == 0)
        return NULL;
    for (int i = 0; i < g->m[0]->n_protos; i++) {
        const char *name = g->m[0]->protos[i].name;
        bool all = true;
        for (int k = 1; k < g->n_m && all; k++) {
            bool has = false;
            for (int j = 0; j < g->m[k]->n_protos; j++)
                has |= !strcmp(g->m[k]->protos[j].name, name);
            all = has;
        }
        if (all)
            return name;
    }
    return NULL;
}

/* Ends the join phase when every member rejoined, or at the rebalance timeout (dropping those
 * that did not): generation + 1, a leader, state CompletingRebalance (onCompleteJoin). */
static void maybe_complete_join(mb_cluster *c, mb_group *g, int64_t now, mb_evbuf *eb) {
    if (g->state != G_PREPARING || now < g->join_not_before_us)
        return;
    bool all = true;
    for (int i = 0; i < g->n_m; i++)
        all &= g->m[i]->joined;
    if (!all && now < g->join_deadline_us)
        return;
    for (int i = g->n_m - 1; i >= 0; i--)
        if (!g->m[i]->joined)
            member_remove(c, g, i, MB_EV_GROUP_MEMBER_LEFT, eb,
                          "dropped: did not rejoin within the rebalance timeout");
    g->generation++;
    free(g->protocol);
    g->protocol = NULL;
    if (g->n_m == 0) {
        g->state = G_EMPTY;
        group_event(c, eb, MB_EV_GROUP_REBALANCED, g, "empty, generation %d",
                    (int)g->generation);
        return;
    }
    const char *proto = select_protocol(g);
    g->protocol = strdup(proto ? proto : "");
    if (!g->leader || !member_find(g, S(g->leader))) {
        free(g->leader);
        g->leader = strdup(g->m[0]->id);
    }
    for (int i = 0; i < g->n_m; i++) {
        free(g->m[i]->assign);
        g->m[i]->assign = NULL;
        g->m[i]->assign_len = 0;
    }
    g->state = G_COMPLETING;
    char lid[200];
    printable(S(g->leader), lid, sizeof lid);
    group_event(c, eb, MB_EV_GROUP_REBALANCED, g, "generation %d: %d members, leader %s, %s",
                (int)g->generation, g->n_m, lid, g->protocol);
    wake_coordinator(c, g);
}

/* Removes members whose session expired and pending member ids nobody used
 * (heartbeat expiration in ClassicGroup); a member waiting for an answer is alive. */
static void sweep(mb_cluster *c, mb_group *g, int64_t now, mb_evbuf *eb) {
    if (!g)
        return;
    bool removed = false;
    for (int i = g->n_m - 1; i >= 0; i--) {
        gmember *m = g->m[i];
        if (m->join_wait || m->sync_wait)
            continue;
        if (now - m->last_seen_us > (int64_t)m->session_ms * 1000) {
            char why[80];
            snprintf(why, sizeof why, "expired: no heartbeat for %d ms (session.timeout.ms)",
                     (int)m->session_ms);
            member_remove(c, g, i, MB_EV_GROUP_MEMBER_EXPIRED, eb, why);
            removed = true;
        }
    }
    for (int i = g->n_pend - 1; i >= 0; i--) {
        if (now >= g->pend[i].expires_us) {
            free(g->pend[i].id);
            g->pend[i] = g->pend[--g->n_pend];
        }
    }
    if (removed && (g->state == G_STABLE || g->state == G_COMPLETING))
        prepare_rebalance(c, g, now, eb, "a member expired");
    maybe_complete_join(c, g, now, eb);
}

/* ---- answers ---- */

static void answer_simple(mb_slot *s, int16_t api, int16_t v, int16_t err, int64_t now) {
    kw_group_simple_resp resp = {0, err};
    size_t start = mb_resp_begin(s);
    if (api == KW_API_HEARTBEAT)
        kw_heartbeat_resp_encode(&s->out, v, &resp);
    else
        kw_leave_group_resp_encode(&s->out, v, &resp);
    s->error = err;
    mb_resp_end(s, start, now);
}

/* The JoinGroup answer: the generation, protocol, leader; the member list for the leader. */
static void answer_join(mb_slot *s, const mb_group *g, kw_slice member_id, int16_t err,
                        int64_t now) {
    kw_join_group_resp resp = {0};
    resp.error_code = err;
    resp.generation_id = -1;
    resp.member_id = member_id;
    resp.protocol_name = S("");
    resp.leader = S("");
    kw_join_group_member *mv = NULL;
    if (!err && g) {
        resp.generation_id = g->generation;
        resp.protocol_name = S(g->protocol);
        resp.leader = S(g->leader);
        if (g->leader && kw_slice_eq(member_id, g->leader)) {
            mv = calloc((size_t)g->n_m + 1, sizeof *mv);
            for (int i = 0; mv && i < g->n_m; i++) {
                const gmember *m = g->m[i];
                kw_slice meta = S("");
                for (int j = 0; j < m->n_protos; j++)
                    if (g->protocol && !strcmp(m->protos[j].name, g->protocol))
                        meta = (kw_slice){m->protos[j].meta, m->protos[j].len};
                mv[resp.n_members++] = (kw_join_group_member){S(m->id), KW_SLICE_NULL, meta};
            }
            resp.members = mv;
        }
    }
    size_t start = mb_resp_begin(s);
    kw_join_group_resp_encode(&s->out, s->api_version, &resp);
    s->error = err;
    mb_resp_end(s, start, now);
    free(mv);
}

static void answer_sync(mb_slot *s, const gmember *m, int16_t err, int64_t now) {
    kw_sync_group_resp resp = {0};
    resp.error_code = err;
    resp.assignment = S("");
    if (!err && m && m->assign)
        resp.assignment = (kw_slice){m->assign, m->assign_len};
    size_t start = mb_resp_begin(s);
    kw_sync_group_resp_encode(&s->out, s->api_version, &resp);
    s->error = err;
    mb_resp_end(s, start, now);
}

/* ---- waiting answers ---- */

static void wait_free(void *arg) {
    gwait *w = arg;
    mb_cluster *c = w->c;
    pthread_mutex_lock(&c->lock);
    mb_group *g = group_find(c, S(w->group));
    gmember *m = member_find(g, S(w->member));
    if (m && m->join_wait == w) {
        m->join_wait = NULL;
        m->last_seen_us = mb_now(c); /* its connection went away: the session runs again */
    }
    if (m && m->sync_wait == w) {
        m->sync_wait = NULL;
        m->last_seen_us = mb_now(c);
    }
    pthread_mutex_unlock(&c->lock);
    free(w);
}

static void resume_wait(mb_broker *b, mb_slot *s, int64_t now, mb_evbuf *eb) {
    gwait *w = s->pend;
    mb_cluster *c = b->c;
    pthread_mutex_lock(&c->lock);
    mb_group *g = group_find(c, S(w->group));
    sweep(c, g, now, eb);
    gmember *m = member_find(g, S(w->member));
    if (!m) {
        if (w->sync)
            answer_sync(s, NULL, KW_ERR_UNKNOWN_MEMBER_ID, now);
        else
            answer_join(s, NULL, S(w->member), KW_ERR_UNKNOWN_MEMBER_ID, now);
    } else if (!w->sync && g->generation > w->generation) {
        m->join_wait = NULL;
        m->last_seen_us = now;
        answer_join(s, g, S(m->id), KW_ERR_NONE, now);
    } else if (w->sync && (g->generation != w->generation || g->state == G_PREPARING)) {
        m->sync_wait = NULL;
        m->last_seen_us = now;
        answer_sync(s, m, KW_ERR_REBALANCE_IN_PROGRESS, now);
    } else if (w->sync && g->state == G_STABLE) {
        m->sync_wait = NULL;
        m->last_seen_us = now;
        answer_sync(s, m, KW_ERR_NONE, now);
    } else {
        s->deadline_us = now + RECHECK_US;
    }
    pthread_mutex_unlock(&c->lock);
}

static bool wait_answer(mb_req *r, mb_group *g, gmember *m, bool sync) {
    gwait *w = calloc(1, sizeof *w);
    if (!w)
        return false;
    w->c = r->b->c;
    snprintf(w->group, sizeof w->group, "%s", g->id);
    snprintf(w->member, sizeof w->member, "%s", m->id);
    w->generation = g->generation;
    w->sync = sync;
    if (sync)
        m->sync_wait = w;
    else
        m->join_wait = w;
    mb_slot_make_pending(r->b, r->slot, r->now + RECHECK_US, resume_wait, w, wait_free);
    return true;
}

/* ---- FindCoordinator ---- */

int mb_h_find_coordinator(mb_req *r, char *errbuf, size_t errsize) {
    kw_find_coordinator_req req;
    if (kw_find_coordinator_req_decode(&r->rb, r->hdr.api_version, r->arena, &req))
        return mb_decode_failed(r, errbuf, errsize);
    mb_cluster *c = r->b->c;
    kw_find_coordinator_resp resp = {0};
    resp.node_id = -1;
    resp.host = S("");
    resp.port = -1;
    resp.error_message = KW_SLICE_NULL;
    pthread_mutex_lock(&c->lock);
    kw_err inj = mb_inject_take(c, KW_API_FIND_COORDINATOR, NULL, -1);
    int32_t node = mb_group_coordinator(c, req.key);
    mb_broker *cb = mb_broker_get(c, node);
    if (inj) {
        resp.error_code = (int16_t)inj;
    } else if (req.key_type != 0) {
        resp.error_code = KW_ERR_COORDINATOR_NOT_AVAILABLE; /* transactions are not simulated */
        resp.error_message = S("transactions are not part of this simulator");
    } else if (req.key.len <= 0) {
        resp.error_code = KW_ERR_INVALID_REQUEST;
        resp.error_message = S("empty group id");
    } else if (!cb) {
        resp.error_code = KW_ERR_COORDINATOR_NOT_AVAILABLE;
    } else {
        resp.node_id = node;
        resp.host = S("127.0.0.1");
        resp.port = cb->port;
    }
    pthread_mutex_unlock(&c->lock);
    size_t start = mb_resp_begin(r->slot);
    kw_find_coordinator_resp_encode(&r->slot->out, r->hdr.api_version, &resp);
    r->slot->error = resp.error_code;
    mb_resp_end(r->slot, start, r->now);
    return 0;
}

/* The error for a request of group `id` at this broker before looking at members. */
static int16_t coordinator_error(mb_req *r, kw_slice id) {
    if (id.len <= 0)
        return KW_ERR_INVALID_GROUP_ID;
    int32_t node = mb_group_coordinator(r->b->c, id);
    if (node < 0)
        return KW_ERR_COORDINATOR_NOT_AVAILABLE;
    return node == r->b->id ? KW_ERR_NONE : KW_ERR_NOT_COORDINATOR;
}

/* The start of every request about one group (GroupCoordinator's handlers): an injected error
 * for `api`, then this broker must be the group's coordinator; *gp is the group (NULL when
 * either failed or it does not exist), its expired members swept. c->lock held. */
static int16_t group_lookup(mb_req *r, int16_t api, kw_slice group_id, mb_group **gp) {
    mb_cluster *c = r->b->c;
    int16_t err = (int16_t)mb_inject_take(c, api, NULL, -1);
    if (!err)
        err = coordinator_error(r, group_id);
    *gp = err ? NULL : group_find(c, group_id);
    sweep(c, *gp, r->now, r->eb);
    return err;
}

/* group_lookup, then the member must belong to the live group at its generation (SyncGroup,
 * Heartbeat). *mp is the member, or NULL. c->lock held. */
static int16_t member_lookup(mb_req *r, int16_t api, kw_slice group_id, kw_slice member_id,
                             int32_t generation, mb_group **gp, gmember **mp) {
    int16_t err = group_lookup(r, api, group_id, gp);
    mb_group *g = *gp;
    *mp = member_find(g, member_id);
    if (!err && (!g || !*mp || g->state == G_EMPTY))
        err = KW_ERR_UNKNOWN_MEMBER_ID;
    if (!err && generation != g->generation)
        err = KW_ERR_ILLEGAL_GENERATION;
    return err;
}

/* ---- JoinGroup ---- */

static bool same_protocols(const gmember *m, const kw_join_group_req *req) {
    if (m->n_protos != req->n_protocols)
        return false;
    for (int i = 0; i < m->n_protos; i++) {
        const kw_join_group_protocol *p = &req->protocols[i];
        if (!kw_slice_eq(p->name, m->protos[i].name) || p->metadata.len != m->protos[i].len ||
            (p->metadata.len > 0 && memcmp(p->metadata.p, m->protos[i].meta, (size_t)p->metadata.len)))
            return false;
    }
    return true;
}

static bool set_protocols(gmember *m, const kw_join_group_req *req) {
    gproto *v = calloc((size_t)req->n_protocols + 1, sizeof *v);
    if (!v)
        return false;
    for (int32_t i = 0; i < req->n_protocols; i++) {
        v[i].name = dup_slice(req->protocols[i].name);
        v[i].meta = dup_bytes(req->protocols[i].metadata, &v[i].len);
    }
    for (int i = 0; i < m->n_protos; i++) {
        free(m->protos[i].name);
        free(m->protos[i].meta);
    }
    free(m->protos);
    m->protos = v;
    m->n_protos = req->n_protocols;
    return true;
}

/* True when the group can take a member with these protocols (INCONSISTENT_GROUP_PROTOCOL
 * otherwise: another protocol type, or no protocol in common with every member). */
static bool protocols_fit(const mb_group *g, const gmember *self, const kw_join_group_req *req) {
    if (req->protocol_type.len <= 0 || req->n_protocols <= 0)
        return false;
    int others = 0;
    for (int i = 0; i < g->n_m; i++)
        others += g->m[i] != self;
    if (others == 0)
        return true;
    if (!slice_is(req->protocol_type, g->protocol_type))
        return false;
    for (int32_t p = 0; p < req->n_protocols; p++) {
        bool all = true;
        for (int i = 0; i < g->n_m && all; i++) {
            if (g->m[i] == self)
                continue;
            bool has = false;
            for (int j = 0; j < g->m[i]->n_protos; j++)
                has |= kw_slice_eq(req->protocols[p].name, g->m[i]->protos[j].name);
            all = has;
        }
        if (all)
            return true;
    }
    return false;
}

static char *new_member_id(mb_cluster *c, kw_slice client_id) {
    char cid[120];
    kw_slice_cstr(client_id.len > 0 ? client_id : S("member"), cid, sizeof cid);
    for (char *p = cid; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            *p = '_';
    uint64_t x = ++c->groups->seq * 0x9e3779b97f4a7c15ull;
    x ^= (uint64_t)mb_now(c);
    char buf[200];
    snprintf(buf, sizeof buf, "%s-%08x-%04x-%04x", cid, (unsigned)(x >> 32),
             (unsigned)(x >> 16) & 0xffffu, (unsigned)(c->groups->seq & 0xffffu));
    return strdup(buf);
}

static gmember *member_add(mb_cluster *c, mb_group *g, char *id, const kw_join_group_req *req,
                           mb_req *r, mb_evbuf *eb) {
    if (!kw_grow(&g->m, g->n_m, &g->cap_m, sizeof *g->m, 4))
        return NULL;
    gmember *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->id = id;
    m->client_id = dup_slice(r->hdr.client_id);
    m->client_host = strdup(r->conn->peer);
    m->session_ms = req->session_timeout_ms;
    m->rebalance_ms = req->rebalance_timeout_ms > 0 ? req->rebalance_timeout_ms
                                                    : req->session_timeout_ms;
    m->last_seen_us = r->now;
    if (!set_protocols(m, req)) {
        member_free(m);
        return NULL;
    }
    if (g->n_m == 0) {
        free(g->protocol_type);
        g->protocol_type = dup_slice(req->protocol_type);
    }
    g->m[g->n_m++] = m;
    char mid[200];
    printable(S(id), mid, sizeof mid);
    group_event(c, eb, MB_EV_GROUP_MEMBER_JOINED, g, "member %s joined (%s), %d members", mid,
                m->client_host, g->n_m);
    return m;
}

/* JoinGroup once the checks passed: the member (new or known) joins the current rebalance,
 * or gets the current generation back when nothing changed (ClassicGroup's rules). Returns
 * the error to answer now, or -1 when the answer waits. */
static int join_member(mb_req *r, mb_group *g, const kw_join_group_req *req, mb_evbuf *eb) {
    mb_cluster *c = r->b->c;
    gmember *m = NULL;
    if (req->member_id.len <= 0) {
        char *id = new_member_id(c, r->hdr.client_id);
        if (!id)
            return KW_ERR_UNKNOWN_SERVER_ERROR;
        if (r->hdr.api_version >= 4) {
            /* KIP-394: hand out the id, the member joins again with it */
            if (!kw_grow(&g->pend, g->n_pend, &g->cap_pend, sizeof *g->pend, 4)) {
                free(id);
                return KW_ERR_UNKNOWN_SERVER_ERROR;
            }
            g->pend[g->n_pend++] =
                (gpending){id, r->now + (int64_t)req->session_timeout_ms * 1000};
            answer_join(r->slot, NULL, S(id), KW_ERR_MEMBER_ID_REQUIRED, r->now);
            return KW_ERR_NONE;
        }
        if (g->state != G_PREPARING)
            prepare_rebalance(c, g, r->now, eb, "a member joins");
        m = member_add(c, g, id, req, r, eb);
        if (!m) {
            free(id);
            return KW_ERR_UNKNOWN_SERVER_ERROR;
        }
    } else if (!(m = member_find(g, req->member_id))) {
        int k = -1;
        for (int i = 0; i < g->n_pend; i++)
            if (kw_slice_eq(req->member_id, g->pend[i].id))
                k = i;
        if (k < 0)
            return KW_ERR_UNKNOWN_MEMBER_ID;
        char *id = g->pend[k].id;
        g->pend[k] = g->pend[--g->n_pend];
        if (g->state != G_PREPARING)
            prepare_rebalance(c, g, r->now, eb, "a member joins");
        m = member_add(c, g, id, req, r, eb);
        if (!m) {
            free(id);
            return KW_ERR_UNKNOWN_SERVER_ERROR;
        }
    } else {
        m->last_seen_us = r->now;
        m->session_ms = req->session_timeout_ms;
        bool same = same_protocols(m, req);
        bool leader = g->leader && !strcmp(g->leader, m->id);
        if ((g->state == G_COMPLETING && same) || (g->state == G_STABLE && same && !leader)) {
            answer_join(r->slot, g, S(m->id), KW_ERR_NONE, r->now); /* nothing changed */
            return KW_ERR_NONE;
        }
        if (!same && !set_protocols(m, req))
            return KW_ERR_UNKNOWN_SERVER_ERROR;
        if (g->state != G_PREPARING)
            prepare_rebalance(c, g, r->now, eb, same ? "the leader rejoins" : "a member's "
                                                                               "subscription changed");
    }
    m->joined = true;
    if (!wait_answer(r, g, m, false))
        return KW_ERR_UNKNOWN_SERVER_ERROR;
    maybe_complete_join(c, g, r->now, eb);
    return -1;
}

int mb_h_join_group(mb_req *r, char *errbuf, size_t errsize) {
    kw_join_group_req req;
    if (kw_join_group_req_decode(&r->rb, r->hdr.api_version, r->arena, &req))
        return mb_decode_failed(r, errbuf, errsize);
    mb_cluster *c = r->b->c;
    pthread_mutex_lock(&c->lock);
    int err = mb_inject_take(c, KW_API_JOIN_GROUP, NULL, -1);
    if (!err)
        err = coordinator_error(r, req.group_id);
    if (!err && req.group_id.len > MAX_ID)
        err = KW_ERR_INVALID_GROUP_ID;
    if (!err && (req.session_timeout_ms < MIN_SESSION_MS || req.session_timeout_ms > MAX_SESSION_MS))
        err = KW_ERR_INVALID_SESSION_TIMEOUT;
    if (!err && req.member_id.len > MAX_ID)
        err = KW_ERR_UNKNOWN_MEMBER_ID;
    mb_group *g = err ? NULL : group_find(c, req.group_id);
    if (!err && !g && req.member_id.len > 0)
        err = KW_ERR_UNKNOWN_MEMBER_ID;
    if (!err && !g && !(g = group_create(c, req.group_id)))
        err = KW_ERR_UNKNOWN_SERVER_ERROR;
    if (!err) {
        sweep(c, g, r->now, r->eb);
        if (!protocols_fit(g, member_find(g, req.member_id), &req))
            err = KW_ERR_INCONSISTENT_GROUP_PROTOCOL;
    }
    if (!err)
        err = join_member(r, g, &req, r->eb);
    if (err > 0 || err < -1)
        answer_join(r->slot, NULL, req.member_id, (int16_t)err, r->now);
    pthread_mutex_unlock(&c->lock);
    return 0;
}

/* ---- SyncGroup ---- */

/* "t[0,1,2] u[3]" from a ConsumerProtocol assignment (kw_consumer_assignment_decode), or
 * "N bytes" when it is something else. */
static void describe_assignment(const uint8_t *p, int32_t len, char *buf, size_t size) {
    kw_rbuf rb;
    kw_rbuf_init(&rb, p, len > 0 ? (size_t)len : 0, "assignment");
    kw_arena *a = kw_arena_new();
    kw_consumer_assignment as;
    if (len <= 0 || !a || kw_consumer_assignment_decode(&rb, a, &as) != KW_ERR_NONE) {
        kw_arena_destroy(a);
        snprintf(buf, size, "%d bytes", (int)(len > 0 ? len : 0));
        return;
    }
    size_t o = 0;
    buf[0] = '\0';
    for (int32_t i = 0; i < as.n_topics && o + 40 < size; i++) {
        const kw_consumer_topic_partitions *t = &as.topics[i];
        char tn[64];
        printable(t->topic, tn, sizeof tn);
        o += (size_t)snprintf(buf + o, size - o, "%s%s[", i ? " " : "", tn);
        for (int32_t k = 0; k < t->n_partitions && o + 16 < size; k++)
            o += (size_t)snprintf(buf + o, size - o, "%s%d", k ? "," : "", (int)t->partitions[k]);
        if (o + 2 < size)
            o += (size_t)snprintf(buf + o, size - o, "]");
    }
    kw_arena_destroy(a);
}

static int16_t sync_group(mb_req *r, mb_group *g, gmember *m, const kw_sync_group_req *req) {
    mb_cluster *c = r->b->c;
    m->last_seen_us = r->now;
    if (g->state == G_PREPARING)
        return KW_ERR_REBALANCE_IN_PROGRESS;
    if (g->state == G_STABLE) {
        answer_sync(r->slot, m, KW_ERR_NONE, r->now);
        return KW_ERR_NONE;
    }
    /* CompletingRebalance */
    if (!g->leader || strcmp(g->leader, m->id)) {
        return wait_answer(r, g, m, true) ? (int16_t)-1 : (int16_t)KW_ERR_UNKNOWN_SERVER_ERROR;
    }
    for (int i = 0; i < g->n_m; i++) {
        gmember *x = g->m[i];
        free(x->assign);
        x->assign = NULL;
        x->assign_len = 0;
        for (int32_t k = 0; k < req->n_assignments; k++)
            if (kw_slice_eq(req->assignments[k].member_id, x->id))
                x->assign = dup_bytes(req->assignments[k].assignment, &x->assign_len);
        char mid[200], what[300];
        printable(S(x->id), mid, sizeof mid);
        describe_assignment(x->assign, x->assign_len, what, sizeof what);
        group_event(c, r->eb, MB_EV_GROUP_ASSIGNED, g, "generation %d: member %s gets %s",
                    (int)g->generation, mid, what);
    }
    g->state = G_STABLE;
    wake_coordinator(c, g);
    answer_sync(r->slot, m, KW_ERR_NONE, r->now);
    return KW_ERR_NONE;
}

int mb_h_sync_group(mb_req *r, char *errbuf, size_t errsize) {
    kw_sync_group_req req;
    if (kw_sync_group_req_decode(&r->rb, r->hdr.api_version, r->arena, &req))
        return mb_decode_failed(r, errbuf, errsize);
    mb_cluster *c = r->b->c;
    mb_group *g;
    gmember *m;
    pthread_mutex_lock(&c->lock);
    int16_t err = member_lookup(r, KW_API_SYNC_GROUP, req.group_id, req.member_id,
                                req.generation_id, &g, &m);
    if (!err)
        err = sync_group(r, g, m, &req);
    if (err > 0 || err < -1)
        answer_sync(r->slot, NULL, err, r->now);
    pthread_mutex_unlock(&c->lock);
    return 0;
}

/* ---- Heartbeat, LeaveGroup ---- */

int mb_h_heartbeat(mb_req *r, char *errbuf, size_t errsize) {
    kw_heartbeat_req req;
    if (kw_heartbeat_req_decode(&r->rb, r->hdr.api_version, r->arena, &req))
        return mb_decode_failed(r, errbuf, errsize);
    mb_cluster *c = r->b->c;
    mb_group *g;
    gmember *m;
    pthread_mutex_lock(&c->lock);
    int16_t err = member_lookup(r, KW_API_HEARTBEAT, req.group_id, req.member_id,
                                req.generation_id, &g, &m);
    if (!err) {
        m->last_seen_us = r->now;
        if (g->state == G_PREPARING)
            err = KW_ERR_REBALANCE_IN_PROGRESS;
    }
    answer_simple(r->slot, KW_API_HEARTBEAT, r->hdr.api_version, err, r->now);
    pthread_mutex_unlock(&c->lock);
    return 0;
}

int mb_h_leave_group(mb_req *r, char *errbuf, size_t errsize) {
    kw_leave_group_req req;
    if (kw_leave_group_req_decode(&r->rb, r->hdr.api_version, r->arena, &req))
        return mb_decode_failed(r, errbuf, errsize);
    mb_cluster *c = r->b->c;
    mb_group *g;
    pthread_mutex_lock(&c->lock);
    int16_t err = group_lookup(r, KW_API_LEAVE_GROUP, req.group_id, &g);
    int idx = -1;
    for (int i = 0; g && i < g->n_m; i++)
        if (kw_slice_eq(req.member_id, g->m[i]->id))
            idx = i;
    if (!err && idx < 0)
        err = KW_ERR_UNKNOWN_MEMBER_ID;
    if (!err) {
        member_remove(c, g, idx, MB_EV_GROUP_MEMBER_LEFT, r->eb, "left (LeaveGroup)");
        if (g->state == G_STABLE || g->state == G_COMPLETING)
            prepare_rebalance(c, g, r->now, r->eb, "a member left");
        maybe_complete_join(c, g, r->now, r->eb);
    }
    answer_simple(r->slot, KW_API_LEAVE_GROUP, r->hdr.api_version, err, r->now);
    pthread_mutex_unlock(&c->lock);
    return 0;
}

/* ---- OffsetCommit, OffsetFetch ---- */

static goffset *offset_slot(mb_group *g, kw_slice topic, int32_t partition, bool create) {
    for (int i = 0; i < g->n_off; i++)
        if (g->off[i].partition == partition && kw_slice_eq(topic, g->off[i].topic))
            return &g->off[i];
    if (!create)
        return NULL;
    if (!kw_grow(&g->off, g->n_off, &g->cap_off, sizeof *g->off, 16))
        return NULL;
    goffset *o = &g->off[g->n_off++];
    memset(o, 0, sizeof *o);
    kw_slice_cstr(topic, o->topic, sizeof o->topic);
    o->partition = partition;
    o->offset = -1;
    return o;
}

/* The error for a whole OffsetCommit (GroupCoordinator.handleCommitOffsets). A missing group
 * is created for a commit from outside any group (generation -1). */
static int16_t commit_error(mb_req *r, const kw_offset_commit_req *req, mb_group **gp) {
    mb_cluster *c = r->b->c;
    int16_t err = coordinator_error(r, req->group_id);
    if (err)
        return err;
    if (req->group_id.len > MAX_ID)
        return KW_ERR_INVALID_GROUP_ID;
    mb_group *g = group_find(c, req->group_id);
    sweep(c, g, r->now, r->eb);
    bool outsider = req->generation_id < 0 && req->member_id.len <= 0;
    if (!g) {
        if (!outsider)
            return KW_ERR_ILLEGAL_GENERATION;
        if (!(g = group_create(c, req->group_id)))
            return KW_ERR_UNKNOWN_SERVER_ERROR;
    }
    *gp = g;
    if (outsider)
        return g->state == G_EMPTY ? KW_ERR_NONE : KW_ERR_UNKNOWN_MEMBER_ID;
    gmember *m = member_find(g, req->member_id);
    if (!m)
        return KW_ERR_UNKNOWN_MEMBER_ID;
    if (req->generation_id != g->generation)
        return KW_ERR_ILLEGAL_GENERATION;
    if (g->state == G_COMPLETING)
        return KW_ERR_REBALANCE_IN_PROGRESS;
    m->last_seen_us = r->now;
    return KW_ERR_NONE;
}

static int16_t commit_partition(mb_req *r, mb_group *g, kw_slice topic,
                                const kw_offset_commit_req_partition *p) {
    mb_cluster *c = r->b->c;
    if (!mb_partition_find(c, topic, p->partition_index))
        return KW_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (p->committed_metadata.len > MAX_METADATA)
        return KW_ERR_OFFSET_METADATA_TOO_LARGE;
    goffset *o = offset_slot(g, topic, p->partition_index, true);
    if (!o)
        return KW_ERR_UNKNOWN_SERVER_ERROR;
    bool moved = o->offset != p->committed_offset;
    o->offset = p->committed_offset;
    o->leader_epoch = p->committed_leader_epoch;
    free(o->meta);
    o->meta = p->committed_metadata.len >= 0 ? dup_slice(p->committed_metadata) : NULL;
    if (moved) {
        mb_event *ev = mb_ev_add(c, r->eb, MB_EV_OFFSET_COMMITTED, r->b->id);
        if (ev) {
            char gid[200];
            printable(S(g->id), gid, sizeof gid);
            ev->partition = p->partition_index;
            ev->offset = p->committed_offset;
            ev->leader_epoch = g->generation;
            mb_ev_detail(r->eb, ev, "group %s: %s[%d] committed at %lld", gid, o->topic,
                         (int)p->partition_index, (long long)p->committed_offset);
            /* ev->topic stays NULL: the offset table may move before the sink runs */
        }
    }
    return KW_ERR_NONE;
}

int mb_h_offset_commit(mb_req *r, char *errbuf, size_t errsize) {
    kw_offset_commit_req req;
    int16_t v = r->hdr.api_version;
    if (kw_offset_commit_req_decode(&r->rb, v, r->arena, &req))
        return mb_decode_failed(r, errbuf, errsize);
    mb_cluster *c = r->b->c;
    kw_offset_commit_resp resp = {0};
    resp.topics = kw_arena_alloc(r->arena, sizeof *resp.topics * (size_t)(req.n_topics + 1));
    if (!resp.topics)
        return mb_decode_failed(r, errbuf, errsize);
    pthread_mutex_lock(&c->lock);
    mb_group *g = NULL;
    int16_t err = (int16_t)mb_inject_take(c, KW_API_OFFSET_COMMIT, NULL, -1);
    if (!err)
        err = commit_error(r, &req, &g);
    int16_t first = 0;
    for (int32_t i = 0; i < req.n_topics; i++) {
        const kw_offset_commit_req_topic *t = &req.topics[i];
        kw_offset_commit_resp_topic *rt = &resp.topics[resp.n_topics++];
        rt->name = t->name;
        rt->partitions =
            kw_arena_alloc(r->arena, sizeof *rt->partitions * (size_t)(t->n_partitions + 1));
        for (int32_t k = 0; rt->partitions && k < t->n_partitions; k++) {
            int16_t e = err ? err : commit_partition(r, g, t->name, &t->partitions[k]);
            rt->partitions[rt->n_partitions++] = (kw_partition_error){t->partitions[k].partition_index, e};
            if (e && !first)
                first = e;
        }
    }
    pthread_mutex_unlock(&c->lock);
    size_t start = mb_resp_begin(r->slot);
    kw_offset_commit_resp_encode(&r->slot->out, v, &resp);
    r->slot->error = first;
    mb_resp_end(r->slot, start, r->now);
    return 0;
}

static void fetch_fill(mb_group *g, kw_offset_fetch_resp_partition *rp, kw_slice topic,
                       int32_t partition, int16_t err) {
    goffset *o = g ? offset_slot(g, topic, partition, false) : NULL;
    rp->partition_index = partition;
    rp->committed_offset = o ? o->offset : -1;
    rp->committed_leader_epoch = o ? o->leader_epoch : -1;
    rp->metadata = o && o->meta ? S(o->meta) : S("");
    rp->error_code = err;
}

int mb_h_offset_fetch(mb_req *r, char *errbuf, size_t errsize) {
    kw_offset_fetch_req req;
    int16_t v = r->hdr.api_version;
    if (kw_offset_fetch_req_decode(&r->rb, v, r->arena, &req))
        return mb_decode_failed(r, errbuf, errsize);
    mb_cluster *c = r->b->c;
    kw_arena *a = r->arena;
    kw_offset_fetch_resp resp = {0};
    mb_group *g;
    pthread_mutex_lock(&c->lock);
    int16_t err = group_lookup(r, KW_API_OFFSET_FETCH, req.group_id, &g);
    /* v2+ carry the group's error at the top; v1 only per partition (OffsetFetchResponse) */
    int16_t perr = v >= 2 ? 0 : err;
    resp.error_code = v >= 2 ? err : 0;
    if (req.n_topics >= 0) {
        resp.topics = kw_arena_alloc(a, sizeof *resp.topics * (size_t)(req.n_topics + 1));
        for (int32_t i = 0; resp.topics && i < req.n_topics; i++) {
            const kw_offset_fetch_req_topic *t = &req.topics[i];
            kw_offset_fetch_resp_topic *rt = &resp.topics[resp.n_topics++];
            rt->name = t->name;
            rt->partitions = kw_arena_alloc(a, sizeof *rt->partitions *
                                                   (size_t)(t->n_partition_indexes + 1));
            for (int32_t k = 0; rt->partitions && k < t->n_partition_indexes; k++)
                fetch_fill(g, &rt->partitions[rt->n_partitions++], t->name,
                           t->partition_indexes[k], perr);
        }
    } else if (g && !err) {
        /* every committed partition, one topic entry per partition (clients merge them) */
        resp.topics = kw_arena_alloc(a, sizeof *resp.topics * (size_t)(g->n_off + 1));
        for (int i = 0; resp.topics && i < g->n_off; i++) {
            kw_offset_fetch_resp_topic *rt = &resp.topics[resp.n_topics++];
            rt->name = S(g->off[i].topic);
            rt->partitions = kw_arena_alloc(a, sizeof *rt->partitions);
            if (rt->partitions)
                fetch_fill(g, &rt->partitions[rt->n_partitions++], rt->name,
                           g->off[i].partition, 0);
        }
    }
    size_t start = mb_resp_begin(r->slot);
    kw_offset_fetch_resp_encode(&r->slot->out, v, &resp);
    pthread_mutex_unlock(&c->lock);
    r->slot->error = err;
    mb_resp_end(r->slot, start, r->now);
    return 0;
}

/* ---- ListGroups, DescribeGroups ---- */

int mb_h_list_groups(mb_req *r, char *errbuf, size_t errsize) {
    kw_list_groups_req req;
    if (kw_list_groups_req_decode(&r->rb, r->hdr.api_version, r->arena, &req))
        return mb_decode_failed(r, errbuf, errsize);
    mb_cluster *c = r->b->c;
    kw_list_groups_resp resp = {0};
    pthread_mutex_lock(&c->lock);
    struct mb_groups *gs = groups_of(c);
    int n = gs ? gs->n : 0;
    resp.groups = kw_arena_alloc(r->arena, sizeof *resp.groups * (size_t)(n + 1));
    for (int i = 0; resp.groups && i < n; i++) {
        mb_group *g = gs->v[i];
        if (mb_group_coordinator(c, S(g->id)) != r->b->id)
            continue; /* each broker lists the groups it coordinates, as Kafka's */
        resp.groups[resp.n_groups++] = (kw_listed_group){S(g->id), S(g->protocol_type)};
    }
    size_t start = mb_resp_begin(r->slot);
    kw_list_groups_resp_encode(&r->slot->out, r->hdr.api_version, &resp);
    pthread_mutex_unlock(&c->lock);
    r->slot->error = 0;
    mb_resp_end(r->slot, start, r->now);
    return 0;
}

static void describe_group(mb_req *r, kw_slice id, kw_described_group *dg) {
    mb_cluster *c = r->b->c;
    dg->group_id = id;
    dg->authorized_operations = INT32_MIN;
    dg->group_state = S("Dead");
    dg->protocol_type = S("");
    dg->protocol_data = S("");
    dg->error_code = coordinator_error(r, id);
    if (dg->error_code)
        return;
    mb_group *g = group_find(c, id);
    sweep(c, g, r->now, r->eb);
    if (!g)
        return; /* an unknown group is "Dead" without an error, as Kafka answers */
    dg->group_state = S(state_names[g->state]);
    dg->protocol_type = S(g->protocol_type);
    dg->protocol_data = S(g->state == G_STABLE ? g->protocol : "");
    dg->members = kw_arena_alloc(r->arena, sizeof *dg->members * (size_t)(g->n_m + 1));
    for (int i = 0; dg->members && i < g->n_m; i++) {
        const gmember *m = g->m[i];
        kw_described_member *dm = &dg->members[dg->n_members++];
        dm->member_id = S(m->id);
        dm->group_instance_id = KW_SLICE_NULL;
        dm->client_id = S(m->client_id);
        dm->client_host = S(m->client_host);
        dm->member_metadata = S("");
        dm->member_assignment = S("");
        if (g->state == G_STABLE) {
            for (int j = 0; j < m->n_protos; j++)
                if (g->protocol && !strcmp(m->protos[j].name, g->protocol))
                    dm->member_metadata = (kw_slice){m->protos[j].meta, m->protos[j].len};
            if (m->assign)
                dm->member_assignment = (kw_slice){m->assign, m->assign_len};
        }
    }
}

int mb_h_describe_groups(mb_req *r, char *errbuf, size_t errsize) {
    kw_describe_groups_req req;
    if (kw_describe_groups_req_decode(&r->rb, r->hdr.api_version, r->arena, &req))
        return mb_decode_failed(r, errbuf, errsize);
    mb_cluster *c = r->b->c;
    kw_describe_groups_resp resp = {0};
    resp.groups = kw_arena_alloc(r->arena, sizeof *resp.groups * (size_t)(req.n_groups + 1));
    if (!resp.groups)
        return mb_decode_failed(r, errbuf, errsize);
    pthread_mutex_lock(&c->lock);
    for (int32_t i = 0; i < req.n_groups; i++)
        describe_group(r, req.groups[i], &resp.groups[resp.n_groups++]);
    size_t start = mb_resp_begin(r->slot);
    kw_describe_groups_resp_encode(&r->slot->out, r->hdr.api_version, &resp);
    pthread_mutex_unlock(&c->lock);
    r->slot->error = 0;
    mb_resp_end(r->slot, start, r->now);
    return 0;
}

void mb_groups_forget_topic(mb_cluster *c, const char *topic) {
    struct mb_groups *gs = c->groups;
    for (int i = 0; gs && i < gs->n; i++) {
        mb_group *g = gs->v[i];
        for (int k = g->n_off - 1; k >= 0; k--) {
            if (strcmp(g->off[k].topic, topic))
                continue;
            free(g->off[k].meta);
            g->off[k] = g->off[--g->n_off];
        }
    }
}

/* ---- inspection (mb.h) ---- */

int32_t mb_group_coordinator_id(mb_cluster *c, const char *group) {
    pthread_mutex_lock(&c->lock);
    int32_t node = mb_group_coordinator(c, S(group));
    pthread_mutex_unlock(&c->lock);
    return node;
}

mb_err mb_group_committed(mb_cluster *c, const char *group, const char *topic, int32_t partition,
                          int64_t *offset) {
    *offset = -1;
    pthread_mutex_lock(&c->lock);
    mb_group *g = group_find(c, S(group));
    goffset *o = g ? offset_slot(g, S(topic), partition, false) : NULL;
    if (o)
        *offset = o->offset;
    pthread_mutex_unlock(&c->lock);
    return g ? MB_OK : MB_ERR_UNKNOWN_TOPIC;
}

int mb_groups_list(mb_cluster *c, mb_group_info *out, int max) {
    pthread_mutex_lock(&c->lock);
    struct mb_groups *gs = c->groups;
    int n = gs ? gs->n : 0;
    for (int i = 0; i < n && i < max; i++) {
        const mb_group *g = gs->v[i];
        mb_group_info *gi = &out[i];
        snprintf(gi->group_id, sizeof gi->group_id, "%s", g->id);
        snprintf(gi->state, sizeof gi->state, "%s", state_names[g->state]);
        gi->generation = g->generation;
        gi->members = g->n_m;
        gi->coordinator = mb_group_coordinator(c, S(g->id));
        size_t o = 0;
        gi->assignment[0] = '\0';
        for (int k = 0; k < g->n_m && o + 2 < sizeof gi->assignment; k++) {
            const gmember *x = g->m[k];
            char cid[64], what[160];
            printable(S(x->client_id ? x->client_id : "member"), cid, sizeof cid);
            if (x->assign && x->assign_len > 0)
                describe_assignment(x->assign, x->assign_len, what, sizeof what);
            else
                snprintf(what, sizeof what, "-");
            int w = snprintf(gi->assignment + o, sizeof gi->assignment - o, "%s%s %s",
                             k ? " " : "", cid, what);
            o = w < 0 ? o : o + (size_t)w;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return n;
}
