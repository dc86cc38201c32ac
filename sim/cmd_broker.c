/* courier broker — the mock cluster as a standalone program, for third-party clients (kcat,
 * kafka-python, librdkafka, Wireshark captures).
 *
 * Prints one line `bootstrap: 127.0.0.1:PORT,...` and serves until SIGINT/SIGTERM, then exits
 * 0. Bad flags or a bad config file: one line naming what is wrong, exit 2. Flags given on the
 * command line override the config file's values; --topic adds to the file's topics. */
#include "mockbroker/mb.h"
#include "sim/cmd.h"
#include "sim/json_file.h"
#include "sim/sig.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_TOPICS 64

/* A topic's retention keys, in mb_topic_set_config's names; 0 = the broker default. */
static const char *const retention_keys[4] = {"retention.bytes", "retention.ms",
                                              "segment.bytes", "segment.ms"};

typedef struct broker_opts {
    mb_config conf;
    mb_topic_config topics[MAX_TOPICS];
    char names[MAX_TOPICS][MB_MAX_TOPIC_NAME + 1];
    int64_t retention[MAX_TOPICS][4]; /* per topic, retention_keys order; 0 = default */
    size_t n_topics;
} broker_opts;

/* `courier broker`'s memory cap (its own defaults, not Kafka's: Kafka keeps a week of data on
 * disk, the mock keeps it in memory): 16 MiB per partition in 1 MiB segments, so a partition
 * holds at most about log.retention.bytes + log.segment.bytes. Scenarios (courier run) keep
 * Kafka's defaults: unlimited bytes, 7 days. */
#define BROKER_RETENTION_BYTES (16LL << 20)
#define BROKER_SEGMENT_BYTES (1LL << 20)

enum { O_BROKERS = 1, O_PORT, O_TOPIC, O_CONFIG, O_SET };
static const sim_opt broker_opts_table[] = {
    {O_BROKERS, 0, "brokers", SIM_OPT_INT, "N", 1, MB_MAX_BROKERS, NULL, false,
     "number of brokers, node ids 1..N (default 3)"},
    {O_PORT, 0, "port", SIM_OPT_INT, "PORT", 0, 65535, NULL, false,
     "broker i listens on PORT+i-1 (default 0: ephemeral ports)"},
    {O_TOPIC, 0, "topic", SIM_OPT_STRING, "NAME:PARTITIONS:REPLICATION", 0, 0, NULL, true,
     "create a topic with that many partitions and that replication factor (repeatable)"},
    {O_CONFIG, 0, "config", SIM_OPT_STRING, "FILE", 0, 0, NULL, false,
     "read the cluster's settings from a JSON file (see below); flags override it"},
    {O_SET, 'X', NULL, SIM_OPT_STRING, "key=value", 0, 0, NULL, true,
     "a broker setting: log.retention.bytes, log.retention.ms, log.segment.bytes, "
     "log.segment.ms (-1 = unlimited retention)"},
    {0},
};

const sim_cmd_spec sim_cmd_broker_spec = {
    .name = "broker",
    .summary = "run the mock Kafka cluster for third-party clients",
    .description = "Runs the mock Kafka cluster until SIGINT or SIGTERM and prints one line "
                   "`bootstrap: 127.0.0.1:PORT,...` with its bootstrap servers, for kcat, "
                   "kafka-python, librdkafka or a Wireshark capture.",
    .footer =
        "The --config file is one JSON object, every key optional:\n\n"
        "  {\"brokers\": 3, \"port\": 9092,\n"
        "   \"topics\": [{\"name\": \"t\", \"partitions\": 3, \"replication.factor\": 3,\n"
        "               \"min.insync.replicas\": 2}],\n"
        "   \"auto.create.topics.enable\": true, \"num.partitions\": 1,\n"
        "   \"default.replication.factor\": 1, \"min.insync.replicas\": 1,\n"
        "   \"replica.lag.time.max.ms\": 30000, \"follower.lag.ms\": [0, 0, 0],\n"
        "   \"log.retention.bytes\": 16777216, \"log.retention.ms\": 604800000,\n"
        "   \"log.segment.bytes\": 1048576, \"log.segment.ms\": 604800000}\n\n"
        "A topic may set its own \"retention.bytes\", \"retention.ms\", \"segment.bytes\" "
        "and \"segment.ms\". Memory: retention deletes whole segments from the old end of "
        "each partition; by default `courier broker` keeps at most log.retention.bytes = 16 "
        "MiB per partition (plus one 1 MiB segment), so it can run all day; -1 keeps "
        "everything. Kafka's own default is -1 with 1 GiB segments.\n\n"
        "--topic adds to the file's topics. Exit code: 0 after SIGINT or SIGTERM, 1 when the "
        "cluster cannot start, 2 bad flags or a bad config file (one line names what is "
        "wrong).",
    .opts = broker_opts_table,
    .main = sim_cmd_broker,
};

/* One number of --topic T:P:R, decided as any integer option is (sim/cli.c). */
static int topic_number(const char *arg, const char *what, const char *text, double hi,
                        long *out) {
    sim_opt o = {1, 0, what, SIM_OPT_INT, "N", 1, hi, NULL, false, ""};
    sim_cli_arg a;
    char why[256], q[160];
    if (sim_cli_decide(&o, text, &a, why, sizeof why)) {
        fprintf(stderr, "courier broker: --topic %s: %s: %s\n", sim_escape(arg, q, sizeof q),
                what, why);
        return 2;
    }
    *out = (long)a.i;
    return 0;
}

static int add_topic(broker_opts *o, const char *name, long parts, long rf, long min_isr,
                     const char *where) {
    if (o->n_topics == MAX_TOPICS) {
        fprintf(stderr, "courier broker: %s: too many topics (at most %d)\n", where, MAX_TOPICS);
        return 2;
    }
    if (strlen(name) == 0 || strlen(name) > MB_MAX_TOPIC_NAME) {
        fprintf(stderr, "courier broker: %s: topic name must be 1..%d characters\n", where,
                MB_MAX_TOPIC_NAME);
        return 2;
    }
    size_t i = o->n_topics++;
    snprintf(o->names[i], sizeof o->names[i], "%s", name);
    o->topics[i] = (mb_topic_config){o->names[i], (int32_t)parts, (int16_t)rf, (int16_t)min_isr};
    return 0;
}

static int parse_topic_flag(broker_opts *o, const char *arg) {
    char buf[400], q[160];
    snprintf(buf, sizeof buf, "%s", arg);
    char *c1 = strchr(buf, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    long parts, rf;
    if (!c1 || !c2 || strchr(c2 + 1, ':')) {
        fprintf(stderr, "courier broker: --topic %s: expected NAME:PARTITIONS:REPLICATION\n",
                sim_escape(arg, q, sizeof q));
        return 2;
    }
    *c1 = *c2 = '\0';
    if (topic_number(arg, "partitions", c1 + 1, 10000, &parts) ||
        topic_number(arg, "replication", c2 + 1, MB_MAX_BROKERS, &rf))
        return 2;
    return add_topic(o, buf, parts, rf, 0, "--topic");
}

/* The range of a retention key (Kafka's LogConfig; segment.bytes from 14 here). */
static void retention_range(int k, int64_t *lo, int64_t *hi) {
    *lo = k < 2 ? -1 : k == 2 ? 14 : 1;
    *hi = k == 2 ? INT32_MAX : INT64_MAX / 1000;
}

/* The broker's log.* values, retention_keys order. */
static int64_t *log_field(mb_config *k, int i) {
    int64_t *f[4] = {&k->log_retention_bytes, &k->log_retention_ms, &k->log_segment_bytes,
                     &k->log_segment_ms};
    return f[i];
}

/* -X log.retention.bytes=N: a broker setting, decided as an integer option is. */
static int parse_set_flag(broker_opts *o, const char *arg) {
    char q[160];
    const char *eq = strchr(arg, '=');
    for (int i = 0; eq && i < 4; i++) {
        char key[32];
        snprintf(key, sizeof key, "log.%s", retention_keys[i]);
        if (strlen(key) != (size_t)(eq - arg) || strncmp(arg, key, strlen(key)))
            continue;
        int64_t lo, hi;
        retention_range(i, &lo, &hi);
        sim_opt opt = {1, 0, key, SIM_OPT_INT, "N", (double)lo, (double)hi, NULL, false, ""};
        sim_cli_arg a;
        char why[256];
        if (sim_cli_decide(&opt, eq + 1, &a, why, sizeof why)) {
            fprintf(stderr, "courier broker: -X %s: %s\n", sim_escape(arg, q, sizeof q), why);
            return 2;
        }
        *log_field(&o->conf, i) = a.i;
        return 0;
    }
    fprintf(stderr,
            "courier broker: -X %s: expected KEY=VALUE with KEY one of log.retention.bytes, "
            "log.retention.ms, log.segment.bytes, log.segment.ms\n",
            sim_escape(arg, q, sizeof q));
    return 2;
}

static const char *const config_keys[] = {"brokers",
                                          "port",
                                          "topics",
                                          "auto.create.topics.enable",
                                          "num.partitions",
                                          "default.replication.factor",
                                          "min.insync.replicas",
                                          "replica.lag.time.max.ms",
                                          "follower.lag.ms",
                                          "log.retention.bytes",
                                          "log.retention.ms",
                                          "log.segment.bytes",
                                          "log.segment.ms",
                                          NULL};
static const char *const topic_keys[] = {"name",          "partitions",      "replication.factor",
                                         "min.insync.replicas", "retention.bytes", "retention.ms",
                                         "segment.bytes", "segment.ms",      NULL};

/* "topics": [{"name": "t", "partitions": 3, "replication.factor": 3, ...}, ...] */
static int config_topics(const sim_json_ctx *c, const cJSON *topics, broker_opts *o) {
    if (!cJSON_IsArray(topics))
        return sim_json_fail(c, "topics", "expected an array, got %s",
                             sim_json_type_name(topics));
    int i = 0;
    for (const cJSON *t = topics->child; t; t = t->next, i++) {
        char p[64], np[80];
        snprintf(p, sizeof p, "topics[%d]", i);
        snprintf(np, sizeof np, "%s.name", p);
        if (!cJSON_IsObject(t))
            return sim_json_fail(c, p, "expected an object, got %s", sim_json_type_name(t));
        if (sim_json_check_keys(c, t, p, topic_keys))
            return -1;
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "name");
        if (!name)
            return sim_json_fail(c, np, "missing (required)");
        if (!cJSON_IsString(name))
            return sim_json_fail(c, np, "expected a string, got %s", sim_json_type_name(name));
        size_t len = strlen(name->valuestring);
        if (len == 0 || len > MB_MAX_TOPIC_NAME)
            return sim_json_fail(c, np, "a topic name has 1..%d characters", MB_MAX_TOPIC_NAME);
        if (o->n_topics == MAX_TOPICS)
            return sim_json_fail(c, p, "too many topics (at most %d)", MAX_TOPICS);
        int64_t parts, rf, mi;
        if (sim_json_get_int(c, t, p, "partitions", false, 1, 10000, 1, &parts) ||
            sim_json_get_int(c, t, p, "replication.factor", false, 1, MB_MAX_BROKERS, 1, &rf) ||
            sim_json_get_int(c, t, p, "min.insync.replicas", false, 0, MB_MAX_BROKERS, 0, &mi))
            return -1;
        size_t ti = o->n_topics;
        add_topic(o, name->valuestring, (long)parts, (long)rf, (long)mi, p);
        for (int k = 0; k < 4; k++) {
            int64_t lo, hi, v = 0;
            retention_range(k, &lo, &hi);
            if (sim_json_get_int(c, t, p, retention_keys[k], false, lo, hi, 0, &v))
                return -1;
            o->retention[ti][k] = v;
        }
    }
    return 0;
}

/* "follower.lag.ms": 200 (every broker) or [0, 400, 400] (per broker, node id order). */
static int config_follower_lag(const sim_json_ctx *c, const cJSON *j, broker_opts *o) {
    int64_t v;
    if (cJSON_IsNumber(j)) {
        if (sim_json_int(c, j, "follower.lag.ms", 0, INT_MAX, &v))
            return -1;
        for (int i = 0; i < MB_MAX_BROKERS; i++)
            o->conf.follower_lag_ms[i] = v;
        return 0;
    }
    if (!cJSON_IsArray(j) || cJSON_GetArraySize(j) > MB_MAX_BROKERS)
        return sim_json_fail(c, "follower.lag.ms",
                             "expected a number or an array of at most %d numbers, got %s",
                             MB_MAX_BROKERS, sim_json_type_name(j));
    int i = 0;
    for (const cJSON *e = j->child; e; e = e->next, i++) {
        char p[64];
        snprintf(p, sizeof p, "follower.lag.ms[%d]", i);
        if (sim_json_int(c, e, p, 0, INT_MAX, &v))
            return -1;
        o->conf.follower_lag_ms[i] = v;
    }
    return 0;
}

/* Reads the config file into o, with the scenario loader's checks (sim/json_file.h): unknown
 * and duplicate keys, whole numbers in range, each error naming the file and the key. Returns
 * 0 or 2 (after printing one line). */
static int load_config(broker_opts *o, const char *path) {
    char err[1024];
    size_t len;
    char *text = sim_read_text_file(path, (size_t)1 << 20, "broker config", &len, err, sizeof err);
    cJSON *root = text ? sim_json_parse(text, len, path, "config object", err, sizeof err) : NULL;
    free(text);
    if (!root) {
        fprintf(stderr, "courier broker: --config: %s\n", err);
        return 2;
    }
    sim_json_ctx c = {path, err, sizeof err};
    mb_config *k = &o->conf;
    int64_t brokers = k->brokers, port = k->port, parts = k->num_partitions,
            rf = k->default_replication_factor, mi = k->min_insync_replicas,
            lag = k->replica_lag_time_max_ms;
    const cJSON *topics = cJSON_GetObjectItemCaseSensitive(root, "topics");
    const cJSON *flag = cJSON_GetObjectItemCaseSensitive(root, "follower.lag.ms");
    int rc = !cJSON_IsObject(root)
                 ? sim_json_fail(&c, "(top level)", "expected an object, got %s",
                                 sim_json_type_name(root))
                 : sim_json_check_keys(&c, root, "", config_keys);
    if (!rc)
        rc = sim_json_get_int(&c, root, "", "brokers", false, 1, MB_MAX_BROKERS, brokers,
                              &brokers) ||
             sim_json_get_int(&c, root, "", "port", false, 0, 65535, port, &port) ||
             sim_json_get_int(&c, root, "", "num.partitions", false, 1, 10000, parts, &parts) ||
             sim_json_get_int(&c, root, "", "default.replication.factor", false, 1,
                              MB_MAX_BROKERS, rf, &rf) ||
             sim_json_get_int(&c, root, "", "min.insync.replicas", false, 1, MB_MAX_BROKERS, mi,
                              &mi) ||
             sim_json_get_int(&c, root, "", "replica.lag.time.max.ms", false, 1, INT_MAX, lag,
                              &lag) ||
             sim_json_get_bool(&c, root, "", "auto.create.topics.enable",
                               &k->auto_create_topics_enable) ||
             (flag && config_follower_lag(&c, flag, o)) || (topics && config_topics(&c, topics, o));
    for (int i = 0; i < 4 && !rc; i++) {
        int64_t lo, hi;
        char key[32];
        snprintf(key, sizeof key, "log.%s", retention_keys[i]);
        retention_range(i, &lo, &hi);
        rc = sim_json_get_int(&c, root, "", key, false, lo, hi, *log_field(k, i),
                              log_field(k, i));
    }
    cJSON_Delete(root);
    if (rc) {
        fprintf(stderr, "courier broker: %s\n", err);
        return 2;
    }
    k->brokers = (int32_t)brokers;
    k->port = (int)port;
    k->num_partitions = (int32_t)parts;
    k->default_replication_factor = (int16_t)rf;
    k->min_insync_replicas = (int16_t)mi;
    k->replica_lag_time_max_ms = lag;
    return 0;
}

int sim_cmd_broker(int argc, char **argv) {
    sim_cli_args args;
    int prc = sim_cli_begin(&sim_cmd_broker_spec, argc, argv, &args);
    if (prc >= 0)
        return prc;
    broker_opts *o = calloc(1, sizeof *o);
    if (!o) {
        fprintf(stderr, "courier broker: out of memory\n");
        sim_cli_args_free(&args);
        return 1;
    }
    mb_config_init(&o->conf);
    o->conf.log_retention_bytes = BROKER_RETENTION_BYTES;
    o->conf.log_segment_bytes = BROKER_SEGMENT_BYTES;
    int rc = 0;
    long brokers = -1, port = -1;
    /* The config file first, so flags override it. */
    const sim_cli_arg *config = sim_cli_last(&args, O_CONFIG);
    if (config)
        rc = load_config(o, config->text);
    for (size_t i = 0; i < args.n && !rc; i++) {
        const sim_cli_arg *a = &args.v[i];
        if (a->opt->id == O_BROKERS)
            brokers = (long)a->i;
        else if (a->opt->id == O_PORT)
            port = (long)a->i;
        else if (a->opt->id == O_TOPIC)
            rc = parse_topic_flag(o, a->text);
        else if (a->opt->id == O_SET)
            rc = parse_set_flag(o, a->text);
    }
    sim_cli_args_free(&args);
    if (rc) {
        free(o);
        return rc;
    }
    if (brokers > 0)
        o->conf.brokers = (int32_t)brokers;
    if (port >= 0)
        o->conf.port = (int)port;
    o->conf.topics = o->topics;
    o->conf.n_topics = o->n_topics;

    mb_cluster *c;
    char err[256];
    if (mb_cluster_new(&o->conf, &c, err, sizeof err) != MB_OK) {
        fprintf(stderr, "courier broker: %s\n", err);
        free(o);
        return 2;
    }
    for (size_t i = 0; i < o->n_topics; i++) {
        for (int k = 0; k < 4; k++) {
            if (o->retention[i][k] &&
                mb_topic_set_config(c, o->names[i], retention_keys[k], o->retention[i][k], err,
                                    sizeof err) != MB_OK) {
                fprintf(stderr, "courier broker: topic %s: %s\n", o->names[i], err);
                mb_cluster_destroy(c);
                free(o);
                return 2;
            }
        }
    }
    if (mb_cluster_start(c, err, sizeof err) != MB_OK) {
        fprintf(stderr, "courier broker: %s\n", err);
        mb_cluster_destroy(c);
        free(o);
        return 1;
    }
    printf("bootstrap: %s\n", mb_cluster_bootstrap(c));
    fflush(stdout);
    /* SIGINT and SIGTERM are blocked in every thread (main.c): this is the one place that
     * takes them. */
    while (!sim_signals_wait(-1))
        ;
    mb_cluster_destroy(c);
    free(o);
    return 0;
}
