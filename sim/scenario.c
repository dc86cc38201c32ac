/* The scenario loader (the lab sheet): JSON in, a validated plain struct out.
 *
 * cJSON stays in this file. Parsing uses cJSON_ParseWithLengthOpts with its end pointer, which
 * we turn into line:column (cJSON_GetErrorPtr is a global, not thread-safe). Every object is
 * checked against the list of keys it may hold: unknown and duplicate keys are errors that
 * name them. Integers are checked on valuedouble (whole, in range), as valueint saturates.
 * Every error names the file, the JSON path and the reason (docs/scenarios.md). */
#include "sim/scenario.h"
#include "sim/json_file.h"

#include "producer/kp.h"
#include "protocol/kw.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ctx {
    sim_json_ctx j; /* file name and error buffer, for the shared checks (sim/json_file.h) */
    kp_conf *conf;  /* scratch producer config, to validate producer keys */
} ctx;

static int fail(ctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(ctx *c, const char *path, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sim_json_fail(&c->j, path, "%s", msg);
}

/* True when name is one of `names` (NULL-terminated). */
static bool in_list(const char *const *names, const char *name) {
    for (int i = 0; names[i]; i++)
        if (!strcmp(names[i], name))
            return true;
    return false;
}

/* out = the names joined with ", ", truncated to size. */
static void list_names(char *out, size_t size, const char *const *names) {
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; names[i] && n < size - 1; i++)
        n += (size_t)snprintf(out + n, size - n, "%s%s", i ? ", " : "", names[i]);
}

/* Rejects keys not in `allowed` (NULL-terminated) and keys that appear twice. */
static int check_keys(ctx *c, const cJSON *obj, const char *path, const char *const *allowed) {
    return sim_json_check_keys(&c->j, obj, path, allowed);
}

static const cJSON *get(const cJSON *obj, const char *key) {
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* Reads an integer in [lo, hi] from obj.key; absent → *out = def (or an error if required). */
static int get_int(ctx *c, const cJSON *obj, const char *path, const char *key, bool required,
                   int64_t lo, int64_t hi, int64_t def, int64_t *out) {
    return sim_json_get_int(&c->j, obj, path, key, required, lo, hi, def, out);
}

static int get_string(ctx *c, const cJSON *obj, const char *path, const char *key, bool required,
                      char *out, size_t size) {
    char p[256];
    sim_json_join(p, sizeof p, path, key);
    const cJSON *j = get(obj, key);
    if (!j) {
        if (required)
            return fail(c, p, "missing (required)");
        return 0;
    }
    if (!cJSON_IsString(j))
        return fail(c, p, "expected a string, got %s", sim_json_type_name(j));
    if (strlen(j->valuestring) >= size)
        return fail(c, p, "too long (at most %zu characters)", size - 1);
    snprintf(out, size, "%s", j->valuestring);
    return 0;
}

static int get_object(ctx *c, const cJSON *obj, const char *path, const char *key, bool required,
                      const cJSON **out) {
    char p[256];
    sim_json_join(p, sizeof p, path, key);
    const cJSON *j = get(obj, key);
    *out = NULL;
    if (!j) {
        if (required)
            return fail(c, p, "missing (required)");
        return 0;
    }
    if (!cJSON_IsObject(j))
        return fail(c, p, "expected an object, got %s", sim_json_type_name(j));
    *out = j;
    return 0;
}

/* Broker ids are the cluster's node ids, 1..brokers. */
static int check_broker(ctx *c, const char *path, int64_t id, int brokers) {
    if (id < 1 || id > brokers)
        return fail(c, path, "%lld is not a broker id (1..%d)", (long long)id, brokers);
    return 0;
}

/* "follower_lag_ms": 200 (every broker) or {"2": 500, "3": 0} (per broker id). */
static int get_per_broker(ctx *c, const cJSON *obj, const char *path, const char *key, int brokers,
                          int64_t hi, int64_t out[SIM_MAX_BROKERS]) {
    char p[256];
    sim_json_join(p, sizeof p, path, key);
    const cJSON *j = get(obj, key);
    if (!j)
        return 0;
    if (cJSON_IsNumber(j)) {
        int64_t v;
        if (get_int(c, obj, path, key, true, 0, hi, 0, &v))
            return -1;
        for (int i = 0; i < SIM_MAX_BROKERS; i++)
            out[i] = v;
        return 0;
    }
    if (!cJSON_IsObject(j))
        return fail(c, p, "expected a number or an object {\"<broker id>\": ms}, got %s",
                    sim_json_type_name(j));
    for (const cJSON *k = j->child; k; k = k->next) {
        char kp[256];
        sim_json_join(kp, sizeof kp, p, k->string);
        if (sim_json_seen_before(j, k))
            return fail(c, kp, "duplicate key");
        char *end;
        errno = 0;
        long id = strtol(k->string, &end, 10);
        if (!*k->string || *end || errno)
            return fail(c, kp, "'%s' is not a broker id (1..%d)", k->string, brokers);
        if (check_broker(c, kp, id, brokers))
            return -1;
        int64_t v;
        if (get_int(c, j, p, k->string, true, 0, hi, 0, &v))
            return -1;
        out[id - 1] = v;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */

static const char *const top_keys[] = {"name",     "description",      "cluster",
                                       "producer", "workload",         "timeline",
                                       "expect",   "drain_timeout_ms", NULL};
static const char *const cluster_keys[] = {
    "brokers", "topics", "follower_lag_ms", "rtt_ms", "replica.lag.time.max.ms", NULL};
static const char *const topic_keys[] = {"name", "partitions", "replication", "min.insync.replicas",
                                         "retention.bytes", "retention.ms", "segment.bytes",
                                         "segment.ms", NULL};
static const char *const workload_keys[] = {"topic",      "messages", "duration_ms", "rate", "keys",
                                            "value_size", "threads",  "seed",        NULL};
static const char *const size_keys[] = {"min", "max", NULL};

static int parse_cluster(ctx *c, const cJSON *j, sim_cluster_spec *cl) {
    const char *path = "cluster";
    if (check_keys(c, j, path, cluster_keys))
        return -1;
    int64_t v;
    if (get_int(c, j, path, "brokers", true, 1, SIM_MAX_BROKERS, 0, &v))
        return -1;
    cl->brokers = (int)v;
    if (get_int(c, j, path, "replica.lag.time.max.ms", false, 1, 86400000, 30000, &v))
        return -1;
    cl->replica_lag_time_max_ms = v;
    if (get_per_broker(c, j, path, "follower_lag_ms", cl->brokers, 3600000, cl->follower_lag_ms) ||
        get_per_broker(c, j, path, "rtt_ms", cl->brokers, 3600000, cl->rtt_ms))
        return -1;

    const cJSON *topics = get(j, "topics");
    if (!topics)
        return fail(c, "cluster.topics", "missing (required)");
    if (!cJSON_IsArray(topics))
        return fail(c, "cluster.topics", "expected an array, got %s", sim_json_type_name(topics));
    int n = cJSON_GetArraySize(topics);
    if (n < 1 || n > SIM_MAX_TOPICS)
        return fail(c, "cluster.topics", "%d topics (1..%d)", n, SIM_MAX_TOPICS);
    int i = 0;
    for (const cJSON *t = topics->child; t; t = t->next, i++) {
        char p[256];
        snprintf(p, sizeof p, "cluster.topics[%d]", i);
        if (!cJSON_IsObject(t))
            return fail(c, p, "expected an object, got %s", sim_json_type_name(t));
        if (check_keys(c, t, p, topic_keys))
            return -1;
        sim_topic_spec *ts = &cl->topics[i];
        if (get_string(c, t, p, "name", true, ts->name, sizeof ts->name))
            return -1;
        char np[256];
        sim_json_join(np, sizeof np, p, "name");
        if (!ts->name[0])
            return fail(c, np, "empty topic name");
        for (const char *s = ts->name; *s; s++)
            if (!(((*s | 32) >= 'a' && (*s | 32) <= 'z') || (*s >= '0' && *s <= '9') || *s == '.' ||
                  *s == '_' || *s == '-'))
                return fail(c, np,
                            "'%s': a topic name may hold only letters, digits, '.', '_' "
                            "and '-'",
                            ts->name);
        for (int k = 0; k < i; k++)
            if (!strcmp(cl->topics[k].name, ts->name))
                return fail(c, np, "topic '%s' is already defined at cluster.topics[%d]", ts->name,
                            k);
        if (get_int(c, t, p, "partitions", false, 1, SIM_MAX_PARTITIONS, 1, &v))
            return -1;
        ts->partitions = (int)v;
        if (get_int(c, t, p, "replication", false, 1, SIM_MAX_BROKERS, 1, &v))
            return -1;
        if (v > cl->brokers) {
            char rp[256];
            sim_json_join(rp, sizeof rp, p, "replication");
            return fail(c, rp, "%lld is more than the %d brokers", (long long)v, cl->brokers);
        }
        ts->replication = (int)v;
        if (get_int(c, t, p, "min.insync.replicas", false, 1, SIM_MAX_BROKERS, 1, &v))
            return -1;
        if (v > ts->replication) {
            char rp[256];
            sim_json_join(rp, sizeof rp, p, "min.insync.replicas");
            return fail(c, rp, "%lld is more than the replication factor %d", (long long)v,
                        ts->replication);
        }
        ts->min_isr = (int)v;
        /* retention (mockbroker mb_topic_set_config): -1 unlimited, 0/absent the default */
        static const char *const rk[4] = {"retention.bytes", "retention.ms", "segment.bytes",
                                          "segment.ms"};
        for (int k = 0; k < 4; k++) {
            if (get_int(c, t, p, rk[k], false, k < 2 ? -1 : k == 2 ? 14 : 1,
                        k == 2 ? INT32_MAX : INT64_MAX / 1000, 0, &ts->retention[k]))
                return -1;
        }
    }
    cl->n_topics = n;
    return 0;
}

static int parse_producer(ctx *c, const cJSON *j, sim_scenario *s) {
    int n = 0;
    for (const cJSON *k = j->child; k; k = k->next)
        n++;
    s->producer = calloc((size_t)(n ? n : 1), sizeof *s->producer);
    if (!s->producer)
        return fail(c, "producer", "out of memory");
    for (const cJSON *k = j->child; k; k = k->next) {
        char p[256];
        sim_json_join(p, sizeof p, "producer", k->string);
        if (sim_json_seen_before(j, k))
            return fail(c, p, "duplicate key");
        if (!strcmp(k->string, "bootstrap.servers"))
            return fail(c, p, "set by the simulator (the mock cluster's addresses); remove it");
        sim_kv *kv = &s->producer[s->n_producer];
        char known[256];
        /* the key first: an unknown key is named as such, whatever its value */
        if (strlen(k->string) >= sizeof kv->key ||
            kp_conf_get(c->conf, k->string, known, sizeof known) != KW_ERR_NONE)
            return fail(c, p, "no such producer configuration key (docs/config.md lists them)");
        snprintf(kv->key, sizeof kv->key, "%s", k->string);
        if (cJSON_IsString(k)) {
            if (strlen(k->valuestring) >= sizeof kv->value)
                return fail(c, p, "value too long");
            snprintf(kv->value, sizeof kv->value, "%s", k->valuestring);
        } else if (cJSON_IsBool(k)) {
            snprintf(kv->value, sizeof kv->value, "%s", cJSON_IsTrue(k) ? "true" : "false");
        } else if (cJSON_IsNumber(k)) {
            double v = k->valuedouble;
            char lit[64];
            sim_json_number_text(k, lit, sizeof lit);
            if (isfinite(v) && floor(v) != v)
                return fail(c, p, "%s is not a whole number", lit);
            if (!isfinite(v) || fabs(v) > 9.0e15)
                return fail(c, p, "%s is out of range", lit);
            snprintf(kv->value, sizeof kv->value, "%.0f", v);
        } else {
            return fail(c, p, "expected a string, number or boolean, got %s", sim_json_type_name(k));
        }
        char err[256] = "";
        if (kp_conf_set(c->conf, kv->key, kv->value, err, sizeof err) != KW_ERR_NONE)
            return fail(c, p, "%s", err[0] ? err : "rejected by the producer");
        s->n_producer++;
    }
    return 0;
}

static int parse_workload(ctx *c, const cJSON *j, sim_scenario *s) {
    const char *path = "workload";
    sim_workload_spec *w = &s->workload;
    if (check_keys(c, j, path, workload_keys))
        return -1;
    if (get_string(c, j, path, "topic", false, w->topic, sizeof w->topic))
        return -1;
    if (!w->topic[0]) {
        snprintf(w->topic, sizeof w->topic, "%s", s->cluster.topics[0].name);
    } else {
        bool found = false;
        for (int i = 0; i < s->cluster.n_topics; i++)
            if (!strcmp(s->cluster.topics[i].name, w->topic))
                found = true;
        if (!found)
            return fail(c, "workload.topic", "'%s' is not a topic of cluster.topics", w->topic);
    }
    int64_t v;
    if (get_int(c, j, path, "messages", false, 0, 10000000, 0, &w->messages) ||
        get_int(c, j, path, "duration_ms", false, 0, 86400000, 0, &w->duration_ms))
        return -1;
    if (!w->messages && !w->duration_ms)
        return fail(c, path, "needs \"messages\" or \"duration_ms\" (or both) above 0");
    const cJSON *rate = get(j, "rate");
    if (!rate) {
        w->rate = 0;
    } else if (cJSON_IsString(rate) && !strcmp(rate->valuestring, "unthrottled")) {
        w->rate = 0;
    } else if (cJSON_IsNumber(rate)) {
        if (!isfinite(rate->valuedouble) || rate->valuedouble < 0 || rate->valuedouble > 1e7)
        {
            char lit[64];
            return fail(c, "workload.rate", "%s is out of range (0..10000000 records/s)",
                        sim_json_number_text(rate, lit, sizeof lit));
        }
        w->rate = rate->valuedouble;
    } else {
        return fail(c, "workload.rate", "expected records per second or \"unthrottled\", got %s",
                    sim_json_type_name(rate));
    }
    if (w->duration_ms && !w->messages && w->rate == 0)
        return fail(c, "workload.rate",
                    "a duration-bounded workload needs a rate (or set \"messages\")");
    if (get_int(c, j, path, "keys", false, 0, 100000, 0, &v))
        return -1;
    w->keys = (int)v;
    const cJSON *vs = get(j, "value_size");
    if (!vs) {
        w->value_min = w->value_max = 100;
    } else if (cJSON_IsNumber(vs)) {
        if (get_int(c, j, path, "value_size", true, 1, 1048576, 0, &v))
            return -1;
        w->value_min = w->value_max = (int)v;
    } else if (cJSON_IsObject(vs)) {
        if (check_keys(c, vs, "workload.value_size", size_keys))
            return -1;
        int64_t lo, hi;
        if (get_int(c, vs, "workload.value_size", "min", true, 1, 1048576, 0, &lo) ||
            get_int(c, vs, "workload.value_size", "max", true, 1, 1048576, 0, &hi))
            return -1;
        if (hi < lo)
            return fail(c, "workload.value_size.max", "%lld is below min %lld", (long long)hi,
                        (long long)lo);
        w->value_min = (int)lo;
        w->value_max = (int)hi;
    } else {
        return fail(c, "workload.value_size", "expected bytes or {\"min\":..,\"max\":..}, got %s",
                    sim_json_type_name(vs));
    }
    if (get_int(c, j, path, "threads", false, 1, 16, 1, &v))
        return -1;
    w->threads = (int)v;
    if (get_int(c, j, path, "seed", false, 0, 9007199254740991LL, 1, &v))
        return -1;
    w->seed = (uint64_t)v;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Timeline.                                                                                   */

static const char *const fault_names[SIM_FAULT__COUNT] = {
    "broker_down",  "broker_up",      "rtt",  "drop_responses", "inject_error", "move_leader",
    "follower_lag", "isolate_broker", "heal", "disconnect",     "blackhole",
};

/* The fields each fault kind takes besides at_ms and fault. */
static const char *const fault_fields[SIM_FAULT__COUNT][8] = {
    [SIM_FAULT_BROKER_DOWN] = {"at_ms", "fault", "broker", NULL},
    [SIM_FAULT_BROKER_UP] = {"at_ms", "fault", "broker", NULL},
    [SIM_FAULT_RTT] = {"at_ms", "fault", "broker", "ms", NULL},
    [SIM_FAULT_DROP_RESPONSES] = {"at_ms", "fault", "broker", "count", NULL},
    [SIM_FAULT_INJECT_ERROR] = {"at_ms", "fault", "api", "code", "count", "topic", "partition",
                                NULL},
    [SIM_FAULT_MOVE_LEADER] = {"at_ms", "fault", "topic", "partition", "broker", NULL},
    [SIM_FAULT_FOLLOWER_LAG] = {"at_ms", "fault", "broker", "ms", NULL},
    [SIM_FAULT_ISOLATE_BROKER] = {"at_ms", "fault", "broker", NULL},
    [SIM_FAULT_HEAL] = {"at_ms", "fault", "broker", NULL},
    [SIM_FAULT_DISCONNECT] = {"at_ms", "fault", "broker", NULL},
    [SIM_FAULT_BLACKHOLE] = {"at_ms", "fault", "broker", NULL},
};

const char *sim_fault_kind_name(sim_fault_kind k) {
    return (unsigned)k < SIM_FAULT__COUNT ? fault_names[k] : NULL;
}

void sim_fault_describe(const sim_fault *f, char *buf, size_t size) {
    const char *name = sim_fault_kind_name(f->kind);
    switch (f->kind) {
    case SIM_FAULT_RTT:
    case SIM_FAULT_FOLLOWER_LAG:
        snprintf(buf, size, "%s broker=%d ms=%lld", name, f->broker, (long long)f->ms);
        break;
    case SIM_FAULT_DROP_RESPONSES:
        snprintf(buf, size, "%s broker=%d count=%d", name, f->broker, f->count);
        break;
    case SIM_FAULT_INJECT_ERROR:
        if (f->topic[0])
            snprintf(buf, size, "%s api=%s code=%s count=%d topic=%s partition=%d", name,
                     kw_api_name(f->api), kw_err_name((kw_err)f->code), f->count, f->topic,
                     f->partition);
        else
            snprintf(buf, size, "%s api=%s code=%s count=%d", name, kw_api_name(f->api),
                     kw_err_name((kw_err)f->code), f->count);
        break;
    case SIM_FAULT_MOVE_LEADER:
        snprintf(buf, size, "%s topic=%s partition=%d broker=%d", name, f->topic, f->partition,
                 f->broker);
        break;
    case SIM_FAULT_HEAL:
        if (f->broker < 0)
            snprintf(buf, size, "%s all", name);
        else
            snprintf(buf, size, "%s broker=%d", name, f->broker);
        break;
    default:
        snprintf(buf, size, "%s broker=%d", name ? name : "?", f->broker);
        break;
    }
}

static const struct {
    const char *name;
    int16_t key;
} api_names[] = {
    {"Produce", KW_API_PRODUCE},          {"Fetch", KW_API_FETCH},
    {"ListOffsets", KW_API_LIST_OFFSETS}, {"Metadata", KW_API_METADATA},
    {"ApiVersions", KW_API_API_VERSIONS}, {"InitProducerId", KW_API_INIT_PRODUCER_ID},
};

static const sim_topic_spec *find_topic(const sim_scenario *s, const char *name) {
    for (int i = 0; i < s->cluster.n_topics; i++)
        if (!strcmp(s->cluster.topics[i].name, name))
            return &s->cluster.topics[i];
    return NULL;
}

/* The fault's kind from "fault", and no field the kind does not take (named with the fault
 * they do not belong to) nor any key twice. */
static int parse_fault_kind(ctx *c, const cJSON *j, const char *path, sim_fault *f) {
    char kind[32] = "";
    if (get_string(c, j, path, "fault", true, kind, sizeof kind))
        return -1;
    int k = -1;
    for (int i = 0; i < SIM_FAULT__COUNT; i++)
        if (!strcmp(kind, fault_names[i]))
            k = i;
    if (k < 0) {
        char p[256];
        sim_json_join(p, sizeof p, path, "fault");
        return fail(c, p,
                    "unknown fault '%s' (broker_down, broker_up, rtt, drop_responses, "
                    "inject_error, move_leader, follower_lag, isolate_broker, heal, "
                    "disconnect, blackhole)",
                    kind);
    }
    f->kind = (sim_fault_kind)k;
    for (const cJSON *e = j->child; e; e = e->next) {
        char p[256];
        sim_json_join(p, sizeof p, path, e->string);
        if (!in_list(fault_fields[k], e->string) && strcmp(e->string, "pause")) {
            char list[200];
            list_names(list, sizeof list, fault_fields[k]);
            return fail(c, p, "not a field of %s (fields: %s, pause)", kind, list);
        }
        if (sim_json_seen_before(j, e))
            return fail(c, p, "duplicate key");
    }
    return 0;
}

/* The fields every fault shares: at_ms, pause and the broker it hits (required except for
 * inject_error and heal, where no broker means all of them). */
static int parse_fault_common(ctx *c, const cJSON *j, const char *path, const sim_scenario *s,
                              sim_fault *f) {
    if (get_int(c, j, path, "at_ms", true, 0, 86400000, 0, &f->at_ms))
        return -1;
    const cJSON *pause = get(j, "pause");
    if (pause) {
        char p[256];
        sim_json_join(p, sizeof p, path, "pause");
        if (!cJSON_IsBool(pause))
            return fail(c, p, "expected true or false, got %s", sim_json_type_name(pause));
        f->pause = cJSON_IsTrue(pause);
    }
    bool needs_broker = f->kind != SIM_FAULT_INJECT_ERROR && f->kind != SIM_FAULT_HEAL;
    if (get(j, "broker") || needs_broker) {
        char p[256];
        int64_t v;
        sim_json_join(p, sizeof p, path, "broker");
        if (get_int(c, j, path, "broker", needs_broker, INT32_MIN, INT32_MAX, -1, &v) ||
            check_broker(c, p, v, s->cluster.brokers))
            return -1;
        f->broker = (int)v;
    }
    return 0;
}

/* inject_error's "api": a name (Produce...) or a key the cluster speaks; Produce if absent. */
static int parse_fault_api(ctx *c, const cJSON *j, const char *path, sim_fault *f) {
    char p[256];
    sim_json_join(p, sizeof p, path, "api");
    const cJSON *api = get(j, "api");
    if (!api) {
        f->api = KW_API_PRODUCE;
    } else if (cJSON_IsString(api)) {
        int found = -1;
        for (size_t i = 0; i < sizeof api_names / sizeof api_names[0]; i++)
            if (!strcmp(api_names[i].name, api->valuestring))
                found = api_names[i].key;
        if (found < 0)
            return fail(c, p,
                        "unknown API '%s' (Produce, Metadata, InitProducerId, "
                        "ApiVersions, ListOffsets, Fetch)",
                        api->valuestring);
        f->api = (int16_t)found;
    } else {
        int64_t v;
        if (get_int(c, j, path, "api", true, 0, 100, 0, &v))
            return -1;
        if (!kw_api_supported((int16_t)v))
            return fail(c, p, "%lld is not an API key the cluster speaks", (long long)v);
        f->api = (int16_t)v;
    }
    return 0;
}

/* inject_error's "code" (required): a Kafka error name or number, never NONE. */
static int parse_fault_code(ctx *c, const cJSON *j, const char *path, sim_fault *f) {
    char p[256];
    sim_json_join(p, sizeof p, path, "code");
    const cJSON *code = get(j, "code");
    if (!code)
        return fail(c, p, "missing (required)");
    if (cJSON_IsString(code)) {
        kw_err e;
        if (!kw_err_from_name(code->valuestring, &e) || e <= -100 || e == KW_ERR_NONE)
            return fail(c, p, "'%s' is not a Kafka error name (e.g. NOT_LEADER_OR_FOLLOWER)",
                        code->valuestring);
        f->code = e;
    } else {
        int64_t v;
        if (get_int(c, j, path, "code", true, -1, 32767, 0, &v))
            return -1;
        if (v == 0)
            return fail(c, p, "0 is NONE, not an error");
        f->code = (int32_t)v;
    }
    return 0;
}

/* f->topic must be a topic of cluster.topics; "partition" one of its partitions (required, or
 * -1 = every partition when absent). */
static int parse_fault_partition(ctx *c, const cJSON *j, const char *path, const sim_scenario *s,
                                 bool required, sim_fault *f) {
    char p[256];
    int64_t v;
    sim_json_join(p, sizeof p, path, "topic");
    const sim_topic_spec *t = find_topic(s, f->topic);
    if (!t)
        return fail(c, p, "'%s' is not a topic of cluster.topics", f->topic);
    if (get_int(c, j, path, "partition", required, required ? 0 : -1, SIM_MAX_PARTITIONS,
                required ? 0 : -1, &v))
        return -1;
    sim_json_join(p, sizeof p, path, "partition");
    if (v >= t->partitions)
        return fail(c, p, "%lld is not a partition of %s (0..%d)", (long long)v, t->name,
                    t->partitions - 1);
    f->partition = (int)v;
    return 0;
}

/* inject_error: which API answers which code, how many times, and optionally for which
 * topic/partition (a partition alone means the workload's topic). */
static int parse_fault_inject(ctx *c, const cJSON *j, const char *path, const sim_scenario *s,
                              sim_fault *f) {
    int64_t v;
    if (parse_fault_api(c, j, path, f) || parse_fault_code(c, j, path, f))
        return -1;
    if (get_int(c, j, path, "count", false, 1, 1000000, 1, &v))
        return -1;
    f->count = (int)v;
    if (get_string(c, j, path, "topic", false, f->topic, sizeof f->topic))
        return -1;
    if (get(j, "partition") && !f->topic[0])
        snprintf(f->topic, sizeof f->topic, "%s", s->workload.topic);
    if (f->topic[0] && parse_fault_partition(c, j, path, s, false, f))
        return -1;
    return 0;
}

/* One timeline entry: its kind, the fields all faults share, then the kind's own fields. */
static int parse_fault(ctx *c, const cJSON *j, const char *path, sim_scenario *s, sim_fault *f) {
    if (!cJSON_IsObject(j))
        return fail(c, path, "expected an object, got %s", sim_json_type_name(j));
    f->broker = -1;
    f->partition = -1;
    f->count = 1;
    if (parse_fault_kind(c, j, path, f) || parse_fault_common(c, j, path, s, f))
        return -1;
    int64_t v;
    switch (f->kind) {
    case SIM_FAULT_RTT:
    case SIM_FAULT_FOLLOWER_LAG:
        return get_int(c, j, path, "ms", true, 0, 3600000, 0, &f->ms);
    case SIM_FAULT_DROP_RESPONSES:
        if (get_int(c, j, path, "count", true, 1, 1000000, 0, &v))
            return -1;
        f->count = (int)v;
        return 0;
    case SIM_FAULT_INJECT_ERROR:
        return parse_fault_inject(c, j, path, s, f);
    case SIM_FAULT_MOVE_LEADER:
        if (get_string(c, j, path, "topic", false, f->topic, sizeof f->topic))
            return -1;
        if (!f->topic[0])
            snprintf(f->topic, sizeof f->topic, "%s", s->workload.topic);
        return parse_fault_partition(c, j, path, s, true, f);
    default:
        return 0;
    }
}

static int cmp_fault(const void *a, const void *b) {
    const sim_fault *x = a, *y = b;
    return (x->at_ms > y->at_ms) - (x->at_ms < y->at_ms);
}

static int parse_timeline(ctx *c, const cJSON *j, sim_scenario *s) {
    if (!cJSON_IsArray(j))
        return fail(c, "timeline", "expected an array, got %s", sim_json_type_name(j));
    int n = cJSON_GetArraySize(j);
    if (n > 10000)
        return fail(c, "timeline", "%d entries (at most 10000)", n);
    s->timeline = calloc((size_t)(n ? n : 1), sizeof *s->timeline);
    if (!s->timeline)
        return fail(c, "timeline", "out of memory");
    int i = 0;
    for (const cJSON *e = j->child; e; e = e->next, i++) {
        char p[256];
        snprintf(p, sizeof p, "timeline[%d]", i);
        if (parse_fault(c, e, p, s, &s->timeline[i]))
            return -1;
    }
    s->n_timeline = n;
    /* stable sort by time: insertion sort keeps equal times in file order */
    for (int a = 1; a < n; a++)
        for (int b = a; b > 0 && cmp_fault(&s->timeline[b - 1], &s->timeline[b]) > 0; b--) {
            sim_fault t = s->timeline[b];
            s->timeline[b] = s->timeline[b - 1];
            s->timeline[b - 1] = t;
        }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Expectations.                                                                               */

const char *const sim_expect_metrics[] = {
    "sent",
    "acknowledged",
    "failed",
    "pending",
    "in_log",
    "lost",
    "deleted_by_retention",
    "duplicated",
    "reordered",
    "failed_in_log",
    "records_per_request_avg",
    "batch_size_avg",
    "compression_rate_avg",
    "log_bytes",
    "log_raw_bytes",
    "outgoing_bytes",
    "request_latency_avg_ms",
    "request_latency_p99_ms",
    "retries",
    "requests",
    NULL,
};

static const char *const cmp_text[] = {"==", "!=", "<", "<=", ">", ">="};

static int parse_condition(ctx *c, const cJSON *v, const char *path, const char *metric, int group,
                           sim_expect *out) {
    bool known = false;
    for (int i = 0; sim_expect_metrics[i]; i++)
        if (!strcmp(sim_expect_metrics[i], metric))
            known = true;
    if (!strncmp(metric, "failed.", 7)) {
        kw_err e;
        if (!kw_err_from_name(metric + 7, &e))
            return fail(c, path,
                        "'%s' is not an error name (failed.<ERROR_NAME>, e.g. "
                        "failed.NOT_ENOUGH_REPLICAS)",
                        metric + 7);
        known = true;
    }
    if (!known)
        return fail(c, path,
                    "unknown metric (sent, acknowledged, failed, failed.<ERROR>, "
                    "pending, in_log, lost, duplicated, reordered, failed_in_log, "
                    "records_per_request_avg, batch_size_avg, request_latency_avg_ms, "
                    "request_latency_p99_ms, retries, requests)");
    if (strlen(metric) >= sizeof out->metric)
        return fail(c, path, "metric name too long");
    snprintf(out->metric, sizeof out->metric, "%s", metric);
    out->group = group;
    if (cJSON_IsNumber(v)) {
        out->op = SIM_CMP_EQ;
        out->value = v->valuedouble;
    } else if (cJSON_IsString(v)) {
        const char *p = v->valuestring;
        while (*p == ' ')
            p++;
        static const struct {
            const char *t;
            sim_cmp op;
        } ops[] = {{">=", SIM_CMP_GE}, {"<=", SIM_CMP_LE}, {"==", SIM_CMP_EQ}, {"!=", SIM_CMP_NE},
                   {">", SIM_CMP_GT},  {"<", SIM_CMP_LT},  {"=", SIM_CMP_EQ}};
        out->op = SIM_CMP_EQ;
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
            if (!strncmp(p, ops[i].t, strlen(ops[i].t))) {
                out->op = ops[i].op;
                p += strlen(ops[i].t);
                break;
            }
        char *end;
        errno = 0;
        out->value = strtod(p, &end);
        while (*end == ' ')
            end++;
        if (end == p || *end || errno || !isfinite(out->value))
            return fail(c, path,
                        "'%s' is not a condition (a number, or \">0\", \">=10\", "
                        "\"<5\", \"<=5\", \"==0\", \"!=0\")",
                        v->valuestring);
    } else {
        return fail(c, path, "expected a number or a condition string like \">0\", got %s",
                    sim_json_type_name(v));
    }
    snprintf(out->text, sizeof out->text, "%s %s %g", metric, cmp_text[out->op], out->value);
    return 0;
}

static int parse_expect(ctx *c, const cJSON *j, sim_scenario *s) {
    int n = 0;
    for (const cJSON *k = j->child; k; k = k->next) {
        if (!strcmp(k->string, "any_of") && cJSON_IsArray(k)) {
            for (const cJSON *o = k->child; o; o = o->next)
                n += cJSON_IsObject(o) ? cJSON_GetArraySize(o) : 1;
        } else {
            n++;
        }
    }
    s->expect = calloc((size_t)(n ? n : 1), sizeof *s->expect);
    if (!s->expect)
        return fail(c, "expect", "out of memory");
    int group = 0;
    for (const cJSON *k = j->child; k; k = k->next) {
        char p[256];
        sim_json_join(p, sizeof p, "expect", k->string);
        if (sim_json_seen_before(j, k))
            return fail(c, p, "duplicate key");
        if (!strcmp(k->string, "any_of")) {
            if (!cJSON_IsArray(k) || cJSON_GetArraySize(k) < 1)
                return fail(c, p, "expected a non-empty array of objects");
            group++;
            int i = 0;
            for (const cJSON *o = k->child; o; o = o->next, i++) {
                char ip[256];
                snprintf(ip, sizeof ip, "expect.any_of[%d]", i);
                if (!cJSON_IsObject(o))
                    return fail(c, ip, "expected an object, got %s", sim_json_type_name(o));
                for (const cJSON *m = o->child; m; m = m->next) {
                    char mp[256];
                    sim_json_join(mp, sizeof mp, ip, m->string);
                    if (sim_json_seen_before(o, m))
                        return fail(c, mp, "duplicate key");
                    if (parse_condition(c, m, mp, m->string, group, &s->expect[s->n_expect]))
                        return -1;
                    s->n_expect++;
                }
            }
            continue;
        }
        if (parse_condition(c, k, p, k->string, 0, &s->expect[s->n_expect]))
            return -1;
        s->n_expect++;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */

static int parse_root(ctx *c, const cJSON *root, sim_scenario *s) {
    if (!cJSON_IsObject(root))
        return fail(c, "(top level)", "expected an object, got %s", sim_json_type_name(root));
    if (check_keys(c, root, "", top_keys))
        return -1;
    if (get_string(c, root, "", "name", true, s->name, sizeof s->name) ||
        get_string(c, root, "", "description", false, s->description, sizeof s->description))
        return -1;
    const cJSON *cl, *pr, *wl, *ex;
    if (get_object(c, root, "", "cluster", true, &cl) || parse_cluster(c, cl, &s->cluster))
        return -1;
    if (get_object(c, root, "", "producer", false, &pr) || (pr && parse_producer(c, pr, s)))
        return -1;
    if (get_object(c, root, "", "workload", true, &wl) || parse_workload(c, wl, s))
        return -1;
    const cJSON *tl = get(root, "timeline");
    if (tl && parse_timeline(c, tl, s))
        return -1;
    if (get_object(c, root, "", "expect", false, &ex) || (ex && parse_expect(c, ex, s)))
        return -1;
    int64_t v;
    if (get_int(c, root, "", "drain_timeout_ms", false, 1, 86400000, 150000, &v))
        return -1;
    s->drain_timeout_ms = v;
    return 0;
}

int sim_scenario_parse(const char *text, size_t len, const char *source, sim_scenario **out,
                       char *errbuf, size_t errsize) {
    ctx c = {{source ? source : "(scenario)", errbuf, errsize}, NULL};
    *out = NULL;
    cJSON *root = sim_json_parse(text, len, c.j.source, "scenario object", errbuf, errsize);
    if (!root)
        return -1;
    sim_scenario *s = calloc(1, sizeof *s);
    c.conf = kp_conf_new();
    if (!s || !c.conf) {
        snprintf(errbuf, errsize, "%s: out of memory", c.j.source);
        free(s);
        kp_conf_destroy(c.conf);
        cJSON_Delete(root);
        return -1;
    }
    int rc = parse_root(&c, root, s);
    kp_conf_destroy(c.conf);
    cJSON_Delete(root);
    if (rc) {
        sim_scenario_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

int sim_scenario_load(const char *path, sim_scenario **out, char *errbuf, size_t errsize) {
    *out = NULL;
    size_t len;
    char *buf = sim_read_text_file(path, (size_t)16 << 20, "scenario", &len, errbuf, errsize);
    if (!buf)
        return -1;
    int rc = sim_scenario_parse(buf, len, path, out, errbuf, errsize);
    free(buf);
    return rc;
}

void sim_scenario_free(sim_scenario *s) {
    if (!s)
        return;
    free(s->producer);
    free(s->timeline);
    free(s->expect);
    free(s);
}
