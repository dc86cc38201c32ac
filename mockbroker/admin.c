/* The depot's building office: topics created, deleted and widened from a client
 * (kafka-python's KafkaAdminClient, librdkafka's admin API, kcat -L afterwards), the configs
 * we honour, and OffsetForLeaderEpoch (librdkafka asks it after a leader change). See
 * mb_group.h.
 *
 * Memory rule: a partition struct may be pointed at by a waiting acks=all Produce answer
 * outside the lock (handlers.c's pend_part), so a deleted topic's and a widened topic's old
 * partition arrays are not freed while the cluster runs: their partitions lose their leader
 * (the waiting answer says NOT_LEADER_OR_FOLLOWER) and the arrays wait in a graveyard that
 * mb_groups_free() empties at cluster destroy. A deleted topic's logs are freed at once.
 *
 * @locality broker threads; state under c->lock.
 */
#include "mockbroker/mb_group.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the per-topic result requests (CreateTopics, DeleteTopics, CreatePartitions) ---- */

/* One topic of such a request: its name, and what applying it to the cluster answers (an
 * error code, with a sentence in `why` for the result's error_message; a sentence in `why`
 * with no error is a note for the log, written after the lock is released, since a log line
 * may wait at the view's step gate). c->lock held. */
typedef struct topic_op {
    int16_t api;
    kw_slice (*name)(const void *req, int32_t i);
    int16_t (*apply)(mb_req *r, const void *req, int32_t i, char *why, size_t whysize);
    void (*encode)(kw_wbuf *wb, int16_t version, const kw_topic_results_resp *m);
} topic_op;

/* Answers a request of n topics with one result each: under the cluster lock, an injected
 * error answers every topic, else op->apply decides. The slot's error is the last failure. */
static int topic_results(mb_req *r, const topic_op *op, const void *req, int32_t n,
                         char *errbuf, size_t errsize) {
    mb_cluster *c = r->b->c;
    kw_topic_results_resp resp = {0};
    resp.topics = kw_arena_alloc(r->arena, sizeof *resp.topics * (size_t)(n + 1));
    if (!resp.topics)
        return mb_decode_failed(r, errbuf, errsize);
    char note[300] = "";
    pthread_mutex_lock(&c->lock);
    kw_err inj = mb_inject_take(c, op->api, NULL, -1);
    for (int32_t i = 0; i < n; i++) {
        kw_topic_result *res = &resp.topics[resp.n_topics++];
        char why[300] = "";
        res->name = op->name(req, i);
        res->error_code = inj ? (int16_t)inj : op->apply(r, req, i, why, sizeof why);
        res->error_message = KW_SLICE_NULL;
        if (res->error_code && why[0]) {
            size_t len = strlen(why);
            char *m = kw_arena_alloc(r->arena, len + 1);
            if (m) {
                memcpy(m, why, len + 1);
                res->error_message = kw_slice_str(m);
            }
        }
        if (res->error_code)
            r->slot->error = res->error_code;
        else if (why[0])
            snprintf(note, sizeof note, "%s", why);
    }
    pthread_mutex_unlock(&c->lock);
    if (note[0])
        mb_logf(c, 1, "%s", note);
    size_t start = mb_resp_begin(r->slot);
    op->encode(&r->slot->out, r->hdr.api_version, &resp);
    mb_resp_end(r->slot, start, r->now);
    return 0;
}

/* ---- CreateTopics ---- */

/* The topic configs CreateTopics accepts: those the mock cluster honours. */
static kw_err topic_configs(const kw_creatable_topic *t, int16_t *min_isr, char *why,
                            size_t whysize) {
    *min_isr = 0;
    for (int32_t i = 0; i < t->n_configs; i++) {
        const kw_creatable_config *cf = &t->configs[i];
        char name[64], value[32];
        kw_slice_cstr(cf->name, name, sizeof name);
        kw_slice_cstr(cf->value, value, sizeof value);
        if (!strcmp(name, "min.insync.replicas")) {
            char *end = NULL;
            long v = strtol(value, &end, 10);
            if (cf->value.len <= 0 || *end || v < 1 || v > 16) {
                snprintf(why, whysize, "min.insync.replicas must be 1..replication factor");
                return (kw_err)KW_ERR_INVALID_CONFIG;
            }
            *min_isr = (int16_t)v;
        } else {
            snprintf(why, whysize, "courier's mock cluster does not honour topic config '%s'",
                     name);
            return (kw_err)KW_ERR_INVALID_CONFIG;
        }
    }
    return KW_ERR_NONE;
}

static int16_t create_one(mb_req *r, const kw_creatable_topic *t, bool validate_only, char *why,
                          size_t whysize) {
    mb_cluster *c = r->b->c;
    char name[MB_MAX_TOPIC_NAME + 2];
    if (t->name.len <= 0 || t->name.len > MB_MAX_TOPIC_NAME) {
        snprintf(why, whysize, "topic name must have 1 to %d characters", MB_MAX_TOPIC_NAME);
        return KW_ERR_INVALID_TOPIC_EXCEPTION;
    }
    kw_slice_cstr(t->name, name, sizeof name);
    int32_t parts = t->num_partitions;
    int32_t rf = t->replication_factor;
    if (t->n_assignments > 0) { /* manual placement: the counts are taken, the brokers not */
        parts = t->n_assignments;
        rf = t->assignments[0].n_broker_ids;
    }
    if (parts == -1)
        parts = c->conf.num_partitions;
    if (rf == -1)
        rf = c->conf.default_replication_factor;
    if (mb_topic_find(c, t->name)) {
        snprintf(why, whysize, "Topic '%.150s' already exists.", name);
        return KW_ERR_TOPIC_ALREADY_EXISTS;
    }
    if (parts < 1 || parts > 10000) {
        snprintf(why, whysize, "Number of partitions must be 1..10000, not %d", (int)parts);
        return KW_ERR_INVALID_PARTITIONS;
    }
    if (rf < 1 || rf > c->n_brokers) {
        snprintf(why, whysize, "Replication factor %d: the cluster has %d brokers", (int)rf,
                 (int)c->n_brokers);
        return KW_ERR_INVALID_REPLICATION_FACTOR;
    }
    int16_t min_isr = 0;
    kw_err e = topic_configs(t, &min_isr, why, whysize);
    if (e)
        return (int16_t)e;
    if (min_isr > rf) {
        snprintf(why, whysize, "min.insync.replicas %d is above the replication factor %d",
                 (int)min_isr, (int)rf);
        return KW_ERR_INVALID_CONFIG;
    }
    if (validate_only) {
        for (const char *p = name; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-')) {
                snprintf(why, whysize, "topic name '%.100s' has a character other than "
                         "[a-zA-Z0-9._-]", name);
                return KW_ERR_INVALID_TOPIC_EXCEPTION;
            }
        return KW_ERR_NONE;
    }
    int rc = mb_topic_create_locked(c, name, parts, (int16_t)rf, min_isr, r->eb, NULL);
    if (rc == MB_ERR_INVALID_ARG) {
        snprintf(why, whysize, "topic name '%.100s' is not valid ([a-zA-Z0-9._-], not . or ..)",
                 name);
        return KW_ERR_INVALID_TOPIC_EXCEPTION;
    }
    if (rc == MB_ERR_TOPIC_EXISTS)
        return KW_ERR_TOPIC_ALREADY_EXISTS;
    if (rc)
        return KW_ERR_UNKNOWN_SERVER_ERROR;
    return KW_ERR_NONE;
}

static kw_slice create_name(const void *req, int32_t i) {
    return ((const kw_create_topics_req *)req)->topics[i].name;
}

static int16_t create_apply(mb_req *r, const void *req, int32_t i, char *why, size_t whysize) {
    const kw_create_topics_req *q = req;
    return create_one(r, &q->topics[i], q->validate_only, why, whysize);
}

int mb_h_create_topics(mb_req *r, char *errbuf, size_t errsize) {
    static const topic_op op = {KW_API_CREATE_TOPICS, create_name, create_apply,
                                kw_create_topics_resp_encode};
    kw_create_topics_req req;
    if (kw_create_topics_req_decode(&r->rb, r->hdr.api_version, r->arena, &req))
        return mb_decode_failed(r, errbuf, errsize);
    return topic_results(r, &op, &req, req.n_topics, errbuf, errsize);
}

/* ---- DeleteTopics ---- */

static void delete_topic(mb_cluster *c, size_t idx, mb_evbuf *eb) {
    mb_topic *t = c->topics[idx];
    memmove(&c->topics[idx], &c->topics[idx + 1], (c->n_topics - idx - 1) * sizeof *c->topics);
    c->n_topics--;
    for (int32_t i = 0; i < t->n_partitions; i++) {
        mb_partition *p = &t->parts[i];
        p->leader = -1;
        p->leader_epoch++;
        for (int32_t k = 0; k < p->n_replicas; k++)
            mb_log_free(&p->rep[k].log);
        mb_pid_free(&p->pids);
    }
    mb_groups_forget_topic(c, t->name);
    mb_graveyard_keep(c, t->parts);
    mb_graveyard_keep(c, t);
    mb_event *ev = mb_ev_add(c, eb, MB_EV_TOPIC_DELETED, -1);
    if (ev) {
        ev->topic = t->name; /* kept until destroy */
        ev->partition = t->n_partitions;
    }
}

static kw_slice delete_name(const void *req, int32_t i) {
    return ((const kw_delete_topics_req *)req)->topic_names[i];
}

static int16_t delete_apply(mb_req *r, const void *req, int32_t i, char *why, size_t whysize) {
    (void)why, (void)whysize;
    mb_cluster *c = r->b->c;
    kw_slice name = delete_name(req, i);
    for (size_t k = 0; k < c->n_topics; k++)
        if (kw_slice_eq(name, c->topics[k]->name)) {
            delete_topic(c, k, r->eb);
            return KW_ERR_NONE;
        }
    return KW_ERR_UNKNOWN_TOPIC_OR_PARTITION;
}

int mb_h_delete_topics(mb_req *r, char *errbuf, size_t errsize) {
    static const topic_op op = {KW_API_DELETE_TOPICS, delete_name, delete_apply,
                                kw_delete_topics_resp_encode};
    kw_delete_topics_req req;
    if (kw_delete_topics_req_decode(&r->rb, r->hdr.api_version, r->arena, &req))
        return mb_decode_failed(r, errbuf, errsize);
    return topic_results(r, &op, &req, req.n_topic_names, errbuf, errsize);
}

/* ---- CreatePartitions ---- */

/* Widens t to `count` partitions: a new array (old partitions copied, sharing their logs),
 * new partitions placed as mb_topic_create_locked places them. The old array's copies lose their
 * leader (see the memory rule above). */
static int16_t widen(mb_cluster *c, mb_topic *t, int32_t count, mb_evbuf *eb, char *note,
                     size_t notesize) {
    mb_partition *np = calloc((size_t)count, sizeof *np);
    if (!np)
        return KW_ERR_UNKNOWN_SERVER_ERROR;
    memcpy(np, t->parts, (size_t)t->n_partitions * sizeof *np);
    int32_t rf = t->parts[0].n_replicas;
    int64_t now = mb_now(c);
    for (int32_t i = t->n_partitions; i < count; i++) {
        mb_partition *p = &np[i];
        p->topic = t;
        p->id = i;
        p->min_isr = t->parts[0].min_isr;
        p->n_replicas = rf;
        p->leader = -1;
        for (int32_t k = 0; k < rf; k++) {
            p->rep[k].node = (i + k) % c->n_brokers + 1;
            p->rep[k].in_isr = mb_broker_get(c, p->rep[k].node)->up;
            p->rep[k].caught_up_us = now;
            if (p->leader < 0 && p->rep[k].in_isr) {
                p->leader = p->rep[k].node;
                p->last_leader = k;
            }
        }
    }
    for (int32_t i = 0; i < t->n_partitions; i++) {
        t->parts[i].leader = -1;
        t->parts[i].leader_epoch++;
    }
    if (!mb_graveyard_keep(c, t->parts))
        snprintf(note, notesize, "CreatePartitions: out of memory keeping the old partition array");
    t->parts = np;
    t->n_partitions = count;
    mb_event *ev = mb_ev_add(c, eb, MB_EV_PARTITIONS_CREATED, -1);
    if (ev) {
        ev->topic = t->name;
        ev->partition = count;
    }
    mb_controller_kick(c);
    return KW_ERR_NONE;
}

static kw_slice widen_name(const void *req, int32_t i) {
    return ((const kw_create_partitions_req *)req)->topics[i].name;
}

static int16_t widen_apply(mb_req *r, const void *req, int32_t i, char *why, size_t whysize) {
    const kw_create_partitions_req *q = req;
    const kw_create_partitions_topic *ct = &q->topics[i];
    mb_cluster *c = r->b->c;
    mb_topic *t = mb_topic_find(c, ct->name);
    if (!t)
        return KW_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (ct->count <= t->n_partitions || ct->count > 10000) {
        snprintf(why, whysize,
                 "Topic currently has %d partitions, which is higher than or equal to the "
                 "requested %d.",
                 (int)t->n_partitions, (int)ct->count);
        return KW_ERR_INVALID_PARTITIONS;
    }
    return q->validate_only ? KW_ERR_NONE : widen(c, t, ct->count, r->eb, why, whysize);
}

int mb_h_create_partitions(mb_req *r, char *errbuf, size_t errsize) {
    static const topic_op op = {KW_API_CREATE_PARTITIONS, widen_name, widen_apply,
                                kw_create_partitions_resp_encode};
    kw_create_partitions_req req;
    if (kw_create_partitions_req_decode(&r->rb, r->hdr.api_version, r->arena, &req))
        return mb_decode_failed(r, errbuf, errsize);
    return topic_results(r, &op, &req, req.n_topics, errbuf, errsize);
}

/* ---- DescribeConfigs ---- */

enum { SRC_TOPIC = 1, SRC_STATIC_BROKER = 4, SRC_DEFAULT = 5 };

typedef struct cfg_list {
    kw_config_entry *v;
    int32_t n, cap;
    kw_arena *a;
    const kw_describe_configs_resource *res;
} cfg_list;

static void cfg_add(cfg_list *l, const char *name, const char *fmt, long long value, int8_t src) {
    if (l->res->n_configuration_keys >= 0) {
        bool wanted = false;
        for (int32_t i = 0; i < l->res->n_configuration_keys; i++)
            wanted |= kw_slice_eq(l->res->configuration_keys[i], name);
        if (!wanted)
            return;
    }
    if (l->n == l->cap)
        return;
    char buf[64];
    if (fmt)
        snprintf(buf, sizeof buf, "%s", fmt);
    else
        snprintf(buf, sizeof buf, "%lld", value);
    char *s = kw_arena_alloc(l->a, strlen(buf) + 1);
    if (!s)
        return;
    memcpy(s, buf, strlen(buf) + 1);
    kw_config_entry *e = &l->v[l->n++];
    e->name = kw_slice_str(name);
    e->value = kw_slice_str(s);
    e->read_only = true; /* nothing here can be altered (no AlterConfigs) */
    e->is_default = src == SRC_DEFAULT;
    e->config_source = src;
    e->is_sensitive = false;
}

static void describe_resource(mb_req *r, const kw_describe_configs_resource *res,
                              kw_describe_configs_result *out) {
    mb_cluster *c = r->b->c;
    out->resource_type = res->resource_type;
    out->resource_name = res->resource_name;
    out->error_message = KW_SLICE_NULL;
    cfg_list l = {kw_arena_alloc(r->arena, sizeof(kw_config_entry) * 24), 0, 24, r->arena, res};
    if (!l.v) {
        out->error_code = KW_ERR_UNKNOWN_SERVER_ERROR;
        return;
    }
    if (res->resource_type == KW_RESOURCE_TOPIC) {
        mb_topic *t = mb_topic_find(c, res->resource_name);
        if (!t) {
            out->error_code = KW_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            return;
        }
        int16_t mi = t->parts[0].min_isr;
        cfg_add(&l, "min.insync.replicas", NULL, mi,
                mi == c->conf.min_insync_replicas ? SRC_DEFAULT : SRC_TOPIC);
        cfg_add(&l, "max.message.bytes", NULL, c->conf.message_max_bytes, SRC_DEFAULT);
        cfg_add(&l, "cleanup.policy", "delete", 0, SRC_DEFAULT);
        cfg_add(&l, "compression.type", "producer", 0, SRC_DEFAULT);
        cfg_add(&l, "message.timestamp.type", "CreateTime", 0, SRC_DEFAULT);
        /* retention the mock honours (cluster.c mb_partition_retain) */
        static const char *const rk[4] = {"retention.bytes", "retention.ms", "segment.bytes",
                                          "segment.ms"};
        const int64_t rv[4] = {t->retention_bytes, t->retention_ms, t->segment_bytes,
                               t->segment_ms};
        const int64_t kd[4] = {-1, 604800000, 1073741824, 604800000}; /* Kafka's defaults */
        for (int k = 0; k < 4; k++)
            cfg_add(&l, rk[k], NULL, rv[k],
                    t->own_retention[k] ? SRC_TOPIC
                    : rv[k] == kd[k]    ? SRC_DEFAULT
                                        : SRC_STATIC_BROKER);
    } else if (res->resource_type == KW_RESOURCE_BROKER) {
        char me[16];
        snprintf(me, sizeof me, "%d", (int)r->b->id);
        if (res->resource_name.len > 0 && !kw_slice_eq(res->resource_name, me)) {
            out->error_code = KW_ERR_INVALID_REQUEST;
            out->error_message = kw_slice_str("ask the broker itself for its configs");
            return;
        }
        cfg_add(&l, "broker.id", NULL, r->b->id, SRC_STATIC_BROKER);
        cfg_add(&l, "num.partitions", NULL, c->conf.num_partitions, SRC_STATIC_BROKER);
        cfg_add(&l, "default.replication.factor", NULL, c->conf.default_replication_factor,
                SRC_STATIC_BROKER);
        cfg_add(&l, "min.insync.replicas", NULL, c->conf.min_insync_replicas, SRC_STATIC_BROKER);
        cfg_add(&l, "auto.create.topics.enable",
                c->conf.auto_create_topics_enable ? "true" : "false", 0, SRC_STATIC_BROKER);
        cfg_add(&l, "replica.lag.time.max.ms", NULL, c->conf.replica_lag_time_max_ms,
                SRC_STATIC_BROKER);
        cfg_add(&l, "message.max.bytes", NULL, c->conf.message_max_bytes, SRC_STATIC_BROKER);
        cfg_add(&l, "socket.request.max.bytes", NULL, c->conf.socket_request_max_bytes,
                SRC_STATIC_BROKER);
        cfg_add(&l, "group.initial.rebalance.delay.ms", NULL,
                c->conf.group_initial_rebalance_delay_ms, SRC_STATIC_BROKER);
        cfg_add(&l, "log.retention.bytes", NULL, c->conf.log_retention_bytes, SRC_STATIC_BROKER);
        cfg_add(&l, "log.retention.ms", NULL, c->conf.log_retention_ms, SRC_STATIC_BROKER);
        cfg_add(&l, "log.segment.bytes", NULL, c->conf.log_segment_bytes, SRC_STATIC_BROKER);
        cfg_add(&l, "log.segment.ms", NULL, c->conf.log_segment_ms, SRC_STATIC_BROKER);
        cfg_add(&l, "group.min.session.timeout.ms", NULL, 6000, SRC_DEFAULT);
        cfg_add(&l, "group.max.session.timeout.ms", NULL, 1800000, SRC_DEFAULT);
        cfg_add(&l, "offsets.topic.num.partitions", NULL, 50, SRC_DEFAULT);
    } else {
        out->error_code = KW_ERR_INVALID_REQUEST;
        out->error_message = kw_slice_str("only topic (2) and broker (4) resources are described");
        return;
    }
    out->configs = l.v;
    out->n_configs = l.n;
}

int mb_h_describe_configs(mb_req *r, char *errbuf, size_t errsize) {
    kw_describe_configs_req req;
    int16_t v = r->hdr.api_version;
    if (kw_describe_configs_req_decode(&r->rb, v, r->arena, &req))
        return mb_decode_failed(r, errbuf, errsize);
    mb_cluster *c = r->b->c;
    kw_describe_configs_resp resp = {0};
    resp.results = kw_arena_alloc(r->arena, sizeof *resp.results * (size_t)(req.n_resources + 1));
    if (!resp.results)
        return mb_decode_failed(r, errbuf, errsize);
    pthread_mutex_lock(&c->lock);
    for (int32_t i = 0; i < req.n_resources; i++)
        describe_resource(r, &req.resources[i], &resp.results[resp.n_results++]);
    size_t start = mb_resp_begin(r->slot);
    kw_describe_configs_resp_encode(&r->slot->out, v, &resp);
    pthread_mutex_unlock(&c->lock);
    mb_resp_end(r->slot, start, r->now);
    return 0;
}

/* ---- OffsetForLeaderEpoch ---- */

/* The end offset of `epoch` in the leader's log (LeaderEpochFileCache.endOffsetFor): the
 * start of the first later epoch, or the log end when epoch is the current one; an epoch
 * beyond the current one is unknown (-1, -1). */
static void epoch_end(mb_partition *p, int32_t epoch, int32_t *out_epoch, int64_t *out_end) {
    mb_log *l = &p->rep[p->last_leader].log;
    if (epoch > p->leader_epoch) {
        *out_epoch = -1;
        *out_end = -1;
        return;
    }
    int32_t best = -1;
    int64_t end = l->end;
    for (size_t i = 0; i < l->n; i++) {
        const mb_batch *b = l->v[i];
        if (b->leader_epoch > epoch) {
            end = b->base_offset;
            break;
        }
        if (b->leader_epoch > best)
            best = b->leader_epoch;
    }
    *out_epoch = epoch == p->leader_epoch ? epoch : best;
    *out_end = end;
}

int mb_h_offset_for_leader_epoch(mb_req *r, char *errbuf, size_t errsize) {
    kw_ofle_req req;
    int16_t v = r->hdr.api_version;
    if (kw_ofle_req_decode(&r->rb, v, r->arena, &req))
        return mb_decode_failed(r, errbuf, errsize);
    mb_cluster *c = r->b->c;
    kw_ofle_resp resp = {0};
    resp.topics = kw_arena_alloc(r->arena, sizeof *resp.topics * (size_t)(req.n_topics + 1));
    if (!resp.topics)
        return mb_decode_failed(r, errbuf, errsize);
    pthread_mutex_lock(&c->lock);
    for (int32_t i = 0; i < req.n_topics; i++) {
        const kw_ofle_req_topic *t = &req.topics[i];
        kw_ofle_resp_topic *rt = &resp.topics[resp.n_topics++];
        rt->topic = t->topic;
        rt->partitions =
            kw_arena_alloc(r->arena, sizeof *rt->partitions * (size_t)(t->n_partitions + 1));
        for (int32_t k = 0; rt->partitions && k < t->n_partitions; k++) {
            const kw_ofle_req_partition *q = &t->partitions[k];
            kw_ofle_resp_partition *rp = &rt->partitions[rt->n_partitions++];
            rp->partition = q->partition;
            rp->leader_epoch = -1;
            rp->end_offset = -1;
            mb_partition *p = mb_partition_find(c, t->topic, q->partition);
            kw_err e = mb_inject_take(c, KW_API_OFFSET_FOR_LEADER_EPOCH, NULL, -1);
            if (!e && !p)
                e = KW_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            else if (!e && p->leader != r->b->id)
                e = KW_ERR_NOT_LEADER_OR_FOLLOWER;
            else if (!e && q->current_leader_epoch >= 0 && q->current_leader_epoch < p->leader_epoch)
                e = KW_ERR_FENCED_LEADER_EPOCH;
            else if (!e && q->current_leader_epoch > p->leader_epoch)
                e = KW_ERR_UNKNOWN_LEADER_EPOCH;
            if (!e)
                epoch_end(p, q->leader_epoch, &rp->leader_epoch, &rp->end_offset);
            rp->error_code = (int16_t)e;
            if (e)
                r->slot->error = (int16_t)e;
        }
    }
    pthread_mutex_unlock(&c->lock);
    size_t start = mb_resp_begin(r->slot);
    kw_ofle_resp_encode(&r->slot->out, v, &resp);
    mb_resp_end(r->slot, start, r->now);
    return 0;
}
