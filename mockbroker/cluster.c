/* The controller's office: topics, partitions, leaders, ISR and elections, plus the cluster's
 * life cycle and the inspection API. One mutex (c->lock) guards it all; broker threads take
 * it briefly per request, the controller thread per replication tick. Events raised under the
 * lock are delivered after it is released (events.c). */
#include "mockbroker/mb_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

const char *mb_err_name(int err) {
    switch (err) {
    case MB_OK:
        return "OK";
    case MB_ERR_INVALID_ARG:
        return "INVALID_ARG";
    case MB_ERR_UNKNOWN_BROKER:
        return "UNKNOWN_BROKER";
    case MB_ERR_UNKNOWN_TOPIC:
        return "UNKNOWN_TOPIC";
    case MB_ERR_UNKNOWN_PARTITION:
        return "UNKNOWN_PARTITION";
    case MB_ERR_TOPIC_EXISTS:
        return "TOPIC_EXISTS";
    case MB_ERR_NOT_IN_ISR:
        return "NOT_IN_ISR";
    case MB_ERR_STATE:
        return "STATE";
    case MB_ERR_NO_MEMORY:
        return "NO_MEMORY";
    case MB_ERR_IO:
        return "IO";
    case MB_ERR_END:
        return "END";
    default:
        return "UNKNOWN_MB_ERROR";
    }
}

void mb_config_init(mb_config *conf) {
    memset(conf, 0, sizeof *conf);
    conf->brokers = 3;
    conf->port = 0;
    conf->auto_create_topics_enable = true;
    conf->num_partitions = 1;
    conf->default_replication_factor = 1;
    conf->min_insync_replicas = 1;
    conf->replica_lag_time_max_ms = 30000;
    conf->socket_request_max_bytes = KW_DEFAULT_MAX_FRAME;
    conf->message_max_bytes = 1048588;
    conf->group_initial_rebalance_delay_ms = 3000;
    conf->log_retention_bytes = -1;
    conf->log_retention_ms = 604800000;
    conf->log_segment_bytes = 1073741824;
    conf->log_segment_ms = 604800000;
}

/* ---- lookups (lock held) ------------------------------------------------------------------ */

mb_topic *mb_topic_find(struct mb_cluster *c, kw_slice name) {
    if (name.len < 0)
        return NULL;
    for (size_t i = 0; i < c->n_topics; i++) {
        mb_topic *t = c->topics[i];
        if ((size_t)name.len == strlen(t->name) && memcmp(t->name, name.p, (size_t)name.len) == 0)
            return t;
    }
    return NULL;
}

mb_partition *mb_partition_find(struct mb_cluster *c, kw_slice topic, int32_t partition) {
    mb_topic *t = mb_topic_find(c, topic);
    if (!t || partition < 0 || partition >= t->n_partitions)
        return NULL;
    return &t->parts[partition];
}

static mb_partition *partition_find_cstr(struct mb_cluster *c, const char *topic, int32_t part,
                                         int *err) {
    mb_topic *t = topic ? mb_topic_find(c, kw_slice_str(topic)) : NULL;
    if (!t) {
        *err = MB_ERR_UNKNOWN_TOPIC;
        return NULL;
    }
    if (part < 0 || part >= t->n_partitions) {
        *err = MB_ERR_UNKNOWN_PARTITION;
        return NULL;
    }
    *err = MB_OK;
    return &t->parts[part];
}

mb_replica *mb_partition_replica(mb_partition *p, int32_t node) {
    for (int32_t i = 0; i < p->n_replicas; i++)
        if (p->rep[i].node == node)
            return &p->rep[i];
    return NULL;
}

int32_t mb_partition_isr_count(const mb_partition *p) {
    int32_t n = 0;
    for (int32_t i = 0; i < p->n_replicas; i++)
        n += p->rep[i].in_isr;
    return n;
}

void mb_partition_fill_isr(const mb_partition *p, int32_t *n, int32_t *isr) {
    *n = 0;
    for (int32_t i = 0; i < p->n_replicas; i++)
        if (p->rep[i].in_isr)
            isr[(*n)++] = p->rep[i].node;
}

/* Kafka's topic name rule: 1..249 of [a-zA-Z0-9._-], not "." or "..". */
static bool topic_name_valid(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n > MB_MAX_TOPIC_NAME || !strcmp(name, ".") || !strcmp(name, ".."))
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

/* A new random topic id, as Kafka's Uuid.randomUuid(): a topic deleted and created again under
 * the same name gets another one. Never the all-zero id, which means "none". */
static void topic_id_new(kw_uuid *id) {
    static _Atomic uint64_t counter;
    ssize_t got = getrandom(id->b, sizeof id->b, 0);
    if (got != (ssize_t)sizeof id->b) { /* no entropy source: still unique in this process */
        uint64_t x = (uint64_t)kw_realtime_us() ^ (atomic_fetch_add(&counter, 1) << 40);
        for (size_t i = 0; i < sizeof id->b; i++, x = x * 6364136223846793005ULL + 1442695040888963407ULL)
            id->b[i] = (uint8_t)(x >> 56);
    }
    id->b[6] = (uint8_t)((id->b[6] & 0x0f) | 0x40); /* version 4, as a random UUID */
    id->b[8] = (uint8_t)((id->b[8] & 0x3f) | 0x80);
}

int mb_topic_create_locked(struct mb_cluster *c, const char *name, int32_t partitions, int16_t rf,
                           int16_t min_isr, mb_evbuf *eb, mb_topic **out) {
    if (!name || !topic_name_valid(name) || partitions < 1 || partitions > 10000 || rf < 1 ||
        rf > c->n_brokers || min_isr < 0 || min_isr > rf)
        return MB_ERR_INVALID_ARG;
    if (mb_topic_find(c, kw_slice_str(name)))
        return MB_ERR_TOPIC_EXISTS;
    if (c->n_topics == c->cap_topics) {
        size_t ncap = c->cap_topics ? c->cap_topics * 2 : 8;
        mb_topic **nv = realloc(c->topics, ncap * sizeof *nv);
        if (!nv)
            return MB_ERR_NO_MEMORY;
        c->topics = nv;
        c->cap_topics = ncap;
    }
    mb_topic *t = calloc(1, sizeof *t);
    if (!t)
        return MB_ERR_NO_MEMORY;
    t->parts = calloc((size_t)partitions, sizeof *t->parts);
    if (!t->parts) {
        free(t);
        return MB_ERR_NO_MEMORY;
    }
    snprintf(t->name, sizeof t->name, "%s", name);
    t->n_partitions = partitions;
    t->retention_bytes = c->conf.log_retention_bytes;
    t->retention_ms = c->conf.log_retention_ms;
    t->segment_bytes = c->conf.log_segment_bytes;
    t->segment_ms = c->conf.log_segment_ms;
    topic_id_new(&t->id);
    int64_t now = mb_now(c);
    for (int32_t i = 0; i < partitions; i++) {
        mb_partition *p = &t->parts[i];
        p->topic = t;
        p->id = i;
        p->min_isr = min_isr ? min_isr : c->conf.min_insync_replicas;
        if (p->min_isr > rf)
            p->min_isr = rf;
        p->n_replicas = rf;
        for (int32_t r = 0; r < rf; r++) {
            p->rep[r].node = (i + r) % c->n_brokers + 1;
            p->rep[r].in_isr = true;
            p->rep[r].caught_up_us = now;
        }
        /* The first up replica leads; replicas that are down start out of the ISR. */
        p->leader = -1;
        p->leader_epoch = 0;
        for (int32_t r = 0; r < rf; r++) {
            if (!mb_broker_get(c, p->rep[r].node)->up) {
                if (mb_partition_isr_count(p) > 1)
                    p->rep[r].in_isr = false;
            } else if (p->leader < 0) {
                p->leader = p->rep[r].node;
                p->last_leader = r;
            }
        }
    }
    c->topics[c->n_topics++] = t;
    mb_event *ev = mb_ev_add(c, eb, MB_EV_TOPIC_CREATED, -1);
    if (ev) {
        ev->topic = t->name;
        ev->partition = partitions;
        ev->count = rf;
    }
    if (out)
        *out = t;
    return MB_OK;
}

/* ---- elections, truncation, high watermark (lock held) ------------------------------------ */

void mb_replica_reconcile(struct mb_cluster *c, mb_partition *p, mb_replica *r, mb_evbuf *eb) {
    if (p->leader < 0)
        return;
    mb_replica *lr = &p->rep[p->last_leader];
    if (lr == r)
        return;
    size_t common = mb_log_common_prefix(&r->log, &lr->log);
    if (common < r->log.n) {
        int64_t old_end = r->log.end;
        mb_log_truncate_index(&r->log, common);
        mb_event *ev = mb_ev_add(c, eb, MB_EV_LOG_TRUNCATED, r->node);
        if (ev) {
            ev->topic = p->topic->name;
            ev->partition = p->id;
            ev->offset = r->log.end;
            ev->offset_end = old_end;
            ev->leader_epoch = p->leader_epoch;
            ev->peer_node_id = p->leader;
        }
    }
}

static void wake_all(struct mb_cluster *c) {
    for (int32_t i = 0; i < c->n_brokers; i++)
        mb_broker_wake(&c->brokers[i]);
}

/* Picks the new leader: `prefer` when it is an up ISR member, else the first up ISR member in
 * replica order (Kafka's default election, unclean election off). Other replicas are cut
 * back to what they share with the new leader, whose log is the truth. */
void mb_partition_elect(struct mb_cluster *c, mb_partition *p, int32_t prefer, int32_t exclude,
                        mb_evbuf *eb) {
    int32_t chosen = -1;
    for (int32_t i = 0; i < p->n_replicas; i++) {
        mb_replica *r = &p->rep[i];
        mb_broker *b = mb_broker_get(c, r->node);
        if (!r->in_isr || r->node == exclude || !b->up)
            continue;
        if (r->node == prefer || chosen < 0)
            chosen = i;
        if (r->node == prefer)
            break;
    }
    int32_t old = p->leader;
    if (chosen < 0) {
        p->leader = -1;
    } else {
        p->leader = p->rep[chosen].node;
        p->last_leader = chosen;
    }
    p->leader_epoch++;
    int64_t now = mb_now(c);
    if (p->leader >= 0) {
        for (int32_t i = 0; i < p->n_replicas; i++) {
            mb_replica_reconcile(c, p, &p->rep[i], eb);
            p->rep[i].caught_up_us = now;
        }
        mb_pid_rebuild(&p->pids, &p->rep[chosen].log);
        /* The new leader was in the ISR, so it holds at least the high watermark. */
        if (p->hw > p->rep[chosen].log.end)
            p->hw = p->rep[chosen].log.end;
    }
    mb_event *ev = mb_ev_add(c, eb, MB_EV_LEADER_CHANGED, p->leader);
    if (ev) {
        ev->topic = p->topic->name;
        ev->partition = p->id;
        ev->peer_node_id = old;
        ev->leader_epoch = p->leader_epoch;
        mb_partition_fill_isr(p, &ev->n_isr, ev->isr);
    }
    wake_all(c);
    mb_controller_kick(c);
}

void mb_partition_update_hw(struct mb_cluster *c, mb_partition *p, mb_evbuf *eb) {
    if (p->leader < 0)
        return;
    int64_t hw = INT64_MAX;
    for (int32_t i = 0; i < p->n_replicas; i++)
        if (p->rep[i].in_isr && p->rep[i].log.end < hw)
            hw = p->rep[i].log.end;
    if (hw == INT64_MAX || hw <= p->hw)
        return;
    mb_event *ev = mb_ev_add(c, eb, MB_EV_HW_ADVANCED, p->leader);
    if (ev) {
        ev->topic = p->topic->name;
        ev->partition = p->id;
        ev->offset = p->hw;
        ev->offset_end = hw;
    }
    p->hw = hw;
    mb_broker *lb = mb_broker_get(c, p->leader);
    if (lb && atomic_load(&lb->n_pending) > 0)
        mb_broker_wake(lb);
}

/* ---- retention (lock held) ---------------------------------------------------------------- */

/* Why the oldest segment of l may go now: "retention.bytes", "retention.ms" or NULL. Only a
 * segment wholly below the high watermark may go (Kafka's UnifiedLog.deletableSegments: its
 * upper bound, the next segment's base offset or the log end, at most the high watermark). */
static const char *oldest_segment_due(const mb_topic *t, const mb_log *l, int64_t hw, int64_t now,
                                      int64_t size) {
    if (l->n == 0 || l->first_seg_n == 0)
        return NULL;
    int64_t upper = l->first_seg_n < l->n ? l->v[l->first_seg_n]->base_offset : l->end;
    if (hw < upper)
        return NULL;
    /* deleteRetentionSizeBreachedSegments: while size - segment >= retention.bytes */
    if (t->retention_bytes >= 0 && size - l->first_seg_bytes >= t->retention_bytes)
        return "retention.bytes";
    /* deleteRetentionMsBreachedSegments: the segment's newest batch is older than
     * retention.ms. Kafka reads the largest record timestamp; the mock uses the cluster
     * clock's append time, so a simulated clock drives it. */
    if (t->retention_ms >= 0 &&
        now - l->v[l->first_seg_n - 1]->append_time_us > t->retention_ms * 1000)
        return "retention.ms";
    return NULL;
}

int64_t mb_partition_retain_due(const mb_partition *p) {
    const mb_topic *t = p->topic;
    if (t->retention_ms < 0 || p->leader < 0)
        return INT64_MAX;
    const mb_log *l = &p->rep[p->last_leader].log;
    if (l->n == 0)
        return INT64_MAX;
    return l->v[l->first_seg_n - 1]->append_time_us + t->retention_ms * 1000 + 1;
}

void mb_partition_retain(struct mb_cluster *c, mb_partition *p, int64_t now, mb_evbuf *eb) {
    const mb_topic *t = p->topic;
    if ((t->retention_bytes < 0 && t->retention_ms < 0) || p->leader < 0)
        return;
    mb_log *l = &p->rep[p->last_leader].log;
    const char *why = oldest_segment_due(t, l, p->hw, now, l->bytes);
    if (!why)
        return;
    int64_t old_start = l->start, old_bytes = l->bytes, old_deleted = l->deleted_records;
    int nseg = 0;
    while (why) {
        int64_t upper = l->first_seg_n < l->n ? l->v[l->first_seg_n]->base_offset : l->end;
        /* Every replica drops the same batches (they share them below the high watermark);
         * a follower that had not reached the new start begins there, as Kafka's follower
         * does after OFFSET_OUT_OF_RANGE below the leader's log start. */
        for (int32_t i = 0; i < p->n_replicas; i++)
            if (&p->rep[i].log != l)
                mb_log_drop_before(&p->rep[i].log, upper);
        mb_log_drop_before(l, upper);
        nseg++;
        const char *next = oldest_segment_due(t, l, p->hw, now, l->bytes);
        if (next)
            why = next;
        else
            break;
    }
    mb_event *ev = mb_ev_add(c, eb, MB_EV_SEGMENTS_DELETED, p->leader);
    if (ev) {
        ev->topic = t->name;
        ev->partition = p->id;
        ev->offset = old_start;
        ev->offset_end = l->start;
        ev->count = (int32_t)(l->deleted_records - old_deleted);
        ev->bytes = old_bytes - l->bytes;
        mb_ev_detail(eb, ev, "%s-%d: %d segment%s deleted (%s), log start %lld -> %lld",
                     t->name, (int)p->id, nseg, nseg == 1 ? "" : "s", why, (long long)old_start,
                     (long long)l->start);
    }
}

mb_err mb_topic_set_config(mb_cluster *c, const char *topic, const char *key, int64_t value,
                           char *errbuf, size_t errsize) {
    static const char *const keys[4] = {"retention.bytes", "retention.ms", "segment.bytes",
                                        "segment.ms"};
    int k = 0;
    while (k < 4 && (!key || strcmp(key, keys[k])))
        k++;
    if (k == 4) {
        snprintf(errbuf, errsize,
                 "%s: not a topic config the mock honours (retention.bytes, retention.ms, "
                 "segment.bytes, segment.ms)",
                 key ? key : "(null)");
        return MB_ERR_INVALID_ARG;
    }
    /* Kafka's ranges (LogConfig); segment.bytes at least 14 (Kafka 4.0 asks 1 MiB; the mock
     * allows small segments for labs and tests). */
    const int64_t lo[4] = {-1, -1, 14, 1};
    if (value < lo[k] || (k == 2 && value > INT32_MAX)) {
        snprintf(errbuf, errsize, "%s: %lld is out of range (%s)", key, (long long)value,
                 k < 2 ? "-1 = unlimited, or more" : k == 2 ? "14..2147483647" : "at least 1");
        return MB_ERR_INVALID_ARG;
    }
    pthread_mutex_lock(&c->lock);
    mb_topic *t = topic ? mb_topic_find(c, kw_slice_str(topic)) : NULL;
    if (t) {
        int64_t *eff[4] = {&t->retention_bytes, &t->retention_ms, &t->segment_bytes,
                           &t->segment_ms};
        *eff[k] = value;
        t->own_retention[k] = true;
        mb_controller_kick(c);
    }
    pthread_mutex_unlock(&c->lock);
    if (!t) {
        snprintf(errbuf, errsize, "topic %s: no such topic", topic ? topic : "(null)");
        return MB_ERR_UNKNOWN_TOPIC;
    }
    return MB_OK;
}

void mb_controller_kick(struct mb_cluster *c) {
    if (!c->ctl_kick) {
        c->ctl_kick = true;
        pthread_cond_signal(&c->ctl_cond);
    }
}

/* ---- life cycle --------------------------------------------------------------------------- */

/* Checks a cluster configuration against Kafka's ranges: MB_OK, or MB_ERR_INVALID_ARG with
 * errbuf naming the key and the value. */
static mb_err config_check(const mb_config *conf, char *errbuf, size_t errsize) {
#define BAD(...)                                                                                   \
    do {                                                                                           \
        snprintf(errbuf, errsize, __VA_ARGS__);                                                    \
        return MB_ERR_INVALID_ARG;                                                                 \
    } while (0)
    if (conf->brokers < 1 || conf->brokers > MB_MAX_BROKERS)
        BAD("brokers: %d is out of range 1..%d", conf->brokers, MB_MAX_BROKERS);
    if (conf->port < 0 || conf->port + conf->brokers - 1 > 65535)
        BAD("port: %d is out of range (0 or 1..%d for %d brokers)", conf->port,
            65536 - conf->brokers, conf->brokers);
    if (conf->num_partitions < 1)
        BAD("num.partitions: %d must be at least 1", conf->num_partitions);
    if (conf->default_replication_factor < 1)
        BAD("default.replication.factor: %d must be at least 1", conf->default_replication_factor);
    if (conf->min_insync_replicas < 1)
        BAD("min.insync.replicas: %d must be at least 1", conf->min_insync_replicas);
    if (conf->replica_lag_time_max_ms < 1)
        BAD("replica.lag.time.max.ms: %lld must be positive",
            (long long)conf->replica_lag_time_max_ms);
    if (conf->socket_request_max_bytes < 1024)
        BAD("socket.request.max.bytes: %d is too small", conf->socket_request_max_bytes);
    if (conf->message_max_bytes < 128)
        BAD("message.max.bytes: %d is too small", conf->message_max_bytes);
    /* Kafka's ranges (LogConfig): retention -1 (unlimited) or more; segment.bytes at least
     * 14 (Kafka 4.0 asks 1 MiB; the mock allows small segments for labs), segment.ms >= 1. */
    if (conf->log_retention_bytes < -1)
        BAD("log.retention.bytes: %lld must be -1 (unlimited) or more",
            (long long)conf->log_retention_bytes);
    if (conf->log_retention_ms < -1)
        BAD("log.retention.ms: %lld must be -1 (unlimited) or more",
            (long long)conf->log_retention_ms);
    if (conf->log_segment_bytes < 14 || conf->log_segment_bytes > INT32_MAX)
        BAD("log.segment.bytes: %lld is out of range 14..%d", (long long)conf->log_segment_bytes,
            INT32_MAX);
    if (conf->log_segment_ms < 1)
        BAD("log.segment.ms: %lld must be at least 1", (long long)conf->log_segment_ms);
    for (int i = 0; i < conf->brokers; i++)
        if (conf->follower_lag_ms[i] < 0)
            BAD("follower lag of broker %d: %lld is negative", i + 1,
                (long long)conf->follower_lag_ms[i]);
    for (size_t i = 0; i < conf->n_topics; i++) {
        const mb_topic_config *t = &conf->topics[i];
        if (!t->name || !topic_name_valid(t->name))
            BAD("topic %zu: name \"%s\" is not a valid topic name (1-249 of a-z A-Z 0-9 . _ -)",
                i + 1, t->name ? t->name : "(null)");
        if (t->partitions < 1 || t->partitions > 10000)
            BAD("topic %s: partitions %d is out of range 1..10000", t->name, t->partitions);
        if (t->replication_factor < 1 || t->replication_factor > conf->brokers)
            BAD("topic %s: replication factor %d is out of range 1..%d (the broker count)", t->name,
                t->replication_factor, conf->brokers);
        if (t->min_insync_replicas < 0 || t->min_insync_replicas > t->replication_factor)
            BAD("topic %s: min.insync.replicas %d is out of range 0..%d", t->name,
                t->min_insync_replicas, t->replication_factor);
        for (size_t k = 0; k < i; k++)
            if (!strcmp(conf->topics[k].name, t->name))
                BAD("topic %s: defined twice", t->name);
    }
#undef BAD
    return MB_OK;
}

mb_err mb_cluster_new(const mb_config *conf, mb_cluster **out, char *errbuf, size_t errsize) {
    *out = NULL;
    if (errsize)
        errbuf[0] = '\0';
    mb_config def;
    if (!conf) {
        mb_config_init(&def);
        conf = &def;
    }
    mb_err crc = config_check(conf, errbuf, errsize);
    if (crc != MB_OK)
        return crc;

    mb_cluster *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(errbuf, errsize, "out of memory");
        return MB_ERR_NO_MEMORY;
    }
    c->conf = *conf;
    c->conf.topics = NULL;
    c->conf.n_topics = 0;
    c->clock = conf->clock ? conf->clock : kw_clock_monotonic();
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->ctl_cond, NULL);
    atomic_init(&c->stopping, false);
    c->n_brokers = conf->brokers;
    c->next_pid = MB_FIRST_PRODUCER_ID;
    if (c->conf.default_replication_factor > c->n_brokers)
        c->conf.default_replication_factor = (int16_t)c->n_brokers;
    for (int32_t i = 0; i < c->n_brokers; i++) {
        mb_broker *b = &c->brokers[i];
        b->c = c;
        b->id = i + 1;
        b->listen_fd = -1;
        b->wake_fd = -1;
        b->up = true;
        b->follower_lag_us = conf->follower_lag_ms[i] * 1000;
        atomic_init(&b->want_up, true);
        atomic_init(&b->n_conns, 0);
        atomic_init(&b->req_total, 0);
        atomic_init(&b->rtt_us, 0);
        atomic_init(&b->drop_next, 0);
        atomic_init(&b->n_pending, 0);
        for (int k = 0; k < 64; k++)
            atomic_init(&b->req_count[k], 0);
    }
    int rc = MB_OK;
    for (int32_t i = 0; i < c->n_brokers && rc == MB_OK; i++) {
        mb_broker *b = &c->brokers[i];
        b->port = conf->port ? conf->port + i : 0;
        b->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (b->wake_fd < 0) {
            snprintf(errbuf, errsize, "eventfd: %s", strerror(errno));
            rc = MB_ERR_IO;
            break;
        }
        rc = mb_broker_listen(b, errbuf, errsize);
    }
    size_t off = 0;
    for (int32_t i = 0; i < c->n_brokers && rc == MB_OK; i++)
        off += (size_t)snprintf(c->bootstrap + off, sizeof c->bootstrap - off, "%s127.0.0.1:%d",
                                i ? "," : "", c->brokers[i].port);
    for (size_t i = 0; i < conf->n_topics && rc == MB_OK; i++) {
        const mb_topic_config *t = &conf->topics[i];
        rc = mb_topic_create_locked(c, t->name, t->partitions, t->replication_factor,
                                    t->min_insync_replicas, NULL, NULL);
        if (rc)
            snprintf(errbuf, errsize, "topic %s: %s", t->name, mb_err_name(rc));
    }
    if (rc != MB_OK) {
        mb_cluster_destroy(c);
        return rc;
    }
    *out = c;
    return MB_OK;
}

mb_err mb_cluster_start(mb_cluster *c, char *errbuf, size_t errsize) {
    if (!c || c->started) {
        snprintf(errbuf, errsize, "cluster already started");
        return MB_ERR_STATE;
    }
    c->started = true;
    for (int32_t i = 0; i < c->n_brokers; i++) {
        mb_broker *b = &c->brokers[i];
        int rc = pthread_create(&b->thread, NULL, mb_broker_main, b);
        if (rc) {
            snprintf(errbuf, errsize, "broker %d thread: %s", b->id, strerror(rc));
            return MB_ERR_IO;
        }
        b->thread_started = true;
    }
    int rc = pthread_create(&c->ctl_thread, NULL, mb_controller_main, c);
    if (rc) {
        snprintf(errbuf, errsize, "controller thread: %s", strerror(rc));
        return MB_ERR_IO;
    }
    c->ctl_started = true;
    return MB_OK;
}

void mb_cluster_destroy(mb_cluster *c) {
    if (!c)
        return;
    atomic_store(&c->stopping, true);
    pthread_mutex_lock(&c->lock);
    c->ctl_kick = true;
    pthread_cond_broadcast(&c->ctl_cond);
    pthread_mutex_unlock(&c->lock);
    if (c->ctl_started)
        pthread_join(c->ctl_thread, NULL);
    for (int32_t i = 0; i < c->n_brokers; i++) {
        mb_broker *b = &c->brokers[i];
        if (b->thread_started) {
            mb_broker_wake(b);
            pthread_join(b->thread, NULL);
        }
        if (b->listen_fd >= 0)
            close(b->listen_fd);
        if (b->wake_fd >= 0)
            close(b->wake_fd);
    }
    for (size_t i = 0; i < c->n_topics; i++) {
        mb_topic *t = c->topics[i];
        for (int32_t p = 0; p < t->n_partitions; p++) {
            for (int32_t r = 0; r < t->parts[p].n_replicas; r++)
                mb_log_free(&t->parts[p].rep[r].log);
            mb_pid_free(&t->parts[p].pids);
        }
        free(t->parts);
        free(t);
    }
    free(c->topics);
    mb_groups_free(c);
    mb_txn_free(&c->txns);
    mb_inject_free_all(c);
    pthread_cond_destroy(&c->ctl_cond);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

const char *mb_cluster_bootstrap(const mb_cluster *c) {
    return c->bootstrap;
}

int mb_broker_port(const mb_cluster *c, int32_t node_id) {
    if (node_id < 1 || node_id > c->n_brokers)
        return MB_ERR_UNKNOWN_BROKER;
    return c->brokers[node_id - 1].port;
}

/* ---- inspection --------------------------------------------------------------------------- */

int mb_topic_partition_count(mb_cluster *c, const char *topic) {
    if (!topic)
        return MB_ERR_INVALID_ARG;
    pthread_mutex_lock(&c->lock);
    mb_topic *t = mb_topic_find(c, kw_slice_str(topic));
    int n = t ? t->n_partitions : MB_ERR_UNKNOWN_TOPIC;
    pthread_mutex_unlock(&c->lock);
    return n;
}

mb_err mb_partition_info_get(mb_cluster *c, const char *topic, int32_t partition,
                             mb_partition_info *out) {
    int err;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&c->lock);
    mb_partition *p = partition_find_cstr(c, topic, partition, &err);
    if (p) {
        out->partition = p->id;
        out->leader = p->leader;
        out->leader_epoch = p->leader_epoch;
        out->min_insync_replicas = p->min_isr;
        out->n_replicas = p->n_replicas;
        for (int32_t i = 0; i < p->n_replicas; i++) {
            out->replicas[i] = p->rep[i].node;
            out->replica_log_end[i] = p->rep[i].log.end;
        }
        mb_partition_fill_isr(p, &out->n_isr, out->isr);
        const mb_log *l = &p->rep[p->last_leader].log;
        out->log_start_offset = l->start;
        out->log_end_offset = l->end;
        out->high_watermark = p->hw;
        out->batches = (int64_t)l->n;
        out->bytes = l->bytes;
        out->raw_bytes = l->raw_bytes;
        out->segments = (int64_t)l->nseg;
        out->deleted_records = l->start; /* offsets are dense: one per record */
        out->deleted_bytes = l->deleted_bytes;
    }
    pthread_mutex_unlock(&c->lock);
    return err;
}

struct mb_record_iter {
    mb_batch **v;
    size_t n, i;
    int64_t from;
    bool in_batch;
    kw_batch batch;
    kw_record_iter rit;
    kw_arena *arena;
};

mb_err mb_record_iter_new(mb_cluster *c, const char *topic, int32_t partition, int64_t from_offset,
                          mb_record_iter **out) {
    *out = NULL;
    mb_record_iter *it = calloc(1, sizeof *it);
    if (!it || !(it->arena = kw_arena_new())) {
        free(it);
        return MB_ERR_NO_MEMORY;
    }
    it->from = from_offset;
    int err;
    pthread_mutex_lock(&c->lock);
    mb_partition *p = partition_find_cstr(c, topic, partition, &err);
    if (p) {
        const mb_log *l = &p->rep[p->last_leader].log;
        size_t first = mb_log_find(l, from_offset);
        it->n = l->n - first;
        it->v = it->n ? malloc(it->n * sizeof *it->v) : NULL;
        if (it->n && !it->v) {
            it->n = 0; /* nothing to release in mb_record_iter_destroy() */
            err = MB_ERR_NO_MEMORY;
        } else {
            for (size_t k = 0; k < it->n; k++) {
                it->v[k] = l->v[first + k];
                mb_batch_ref(it->v[k]);
            }
        }
    }
    pthread_mutex_unlock(&c->lock);
    if (err) {
        mb_record_iter_destroy(it);
        return err;
    }
    *out = it;
    return MB_OK;
}

mb_err mb_record_iter_next(mb_record_iter *it, mb_record *rec) {
    for (;;) {
        if (!it->in_batch) {
            if (it->i >= it->n)
                return MB_ERR_END;
            mb_batch *b = it->v[it->i++];
            size_t used;
            char eb[128];
            if (kw_batch_parse(b->data, b->len, false, &it->batch, &used, eb, sizeof eb) !=
                KW_ERR_NONE)
                return MB_ERR_INVALID_ARG;
            kw_record_iter_init(&it->rit, &it->batch);
            it->in_batch = true;
        }
        kw_arena_reset(it->arena);
        kw_record r;
        int rc = kw_record_next(&it->rit, it->arena, &r);
        if (rc < 0)
            return MB_ERR_INVALID_ARG;
        if (rc == 0) {
            kw_record_iter_release(&it->rit); /* a compressed batch's records */
            it->in_batch = false;
            continue;
        }
        if (r.offset < it->from)
            continue;
        rec->offset = r.offset;
        rec->timestamp = r.timestamp;
        rec->key = r.key.p;
        rec->key_len = r.key.len;
        rec->value = r.value.p;
        rec->value_len = r.value.len;
        rec->producer_id = it->batch.producer_id;
        rec->producer_epoch = it->batch.producer_epoch;
        rec->sequence =
            it->batch.base_sequence < 0 ? -1 : mb_seq_add(it->batch.base_sequence, r.offset_delta);
        rec->leader_epoch = it->batch.partition_leader_epoch;
        return MB_OK;
    }
}

void mb_record_iter_destroy(mb_record_iter *it) {
    if (!it)
        return;
    if (it->in_batch)
        kw_record_iter_release(&it->rit);
    for (size_t k = 0; k < it->n; k++)
        mb_batch_unref(it->v[k]);
    free(it->v);
    if (it->arena)
        kw_arena_destroy(it->arena);
    free(it);
}

int64_t mb_broker_request_count(mb_cluster *c, int32_t node_id, int16_t api_key) {
    mb_broker *b = mb_broker_get(c, node_id);
    if (!b)
        return MB_ERR_UNKNOWN_BROKER;
    if (api_key < 0)
        return atomic_load(&b->req_total);
    if (api_key >= 64)
        return 0;
    return atomic_load(&b->req_count[api_key]);
}

