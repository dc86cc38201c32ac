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
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_TOPICS 64

typedef struct broker_opts {
    mb_config conf;
    mb_topic_config topics[MAX_TOPICS];
    char names[MAX_TOPICS][MB_MAX_TOPIC_NAME + 1];
    size_t n_topics;
} broker_opts;

enum { O_BROKERS = 1, O_PORT, O_TOPIC, O_CONFIG };
static const sim_opt broker_opts_table[] = {
    {O_BROKERS, 0, "brokers", SIM_OPT_INT, "N", 1, MB_MAX_BROKERS, NULL, false,
     "number of brokers, node ids 1..N (default 3)"},
    {O_PORT, 0, "port", SIM_OPT_INT, "PORT", 0, 65535, NULL, false,
     "broker i listens on PORT+i-1 (default 0: ephemeral ports)"},
    {O_TOPIC, 0, "topic", SIM_OPT_STRING, "NAME:PARTITIONS:REPLICATION", 0, 0, NULL, true,
     "create a topic with that many partitions and that replication factor (repeatable)"},
    {O_CONFIG, 0, "config", SIM_OPT_STRING, "FILE", 0, 0, NULL, false,
     "read the cluster's settings from a JSON file (see below); flags override it"},
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
        "   \"replica.lag.time.max.ms\": 30000, \"follower.lag.ms\": [0, 0, 0]}\n\n"
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

static bool json_int(const cJSON *v, long lo, long hi, long *out) {
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
        v->valuedouble != floor(v->valuedouble) || v->valuedouble < (double)lo ||
        v->valuedouble > (double)hi)
        return false;
    *out = (long)v->valuedouble;
    return true;
}

/* Reads the config file into o. Returns 0 or 2 (after printing one line). */
static int load_config(broker_opts *o, const char *path) {
    char err[512];
    size_t len;
    char *text = sim_read_text_file(path, (size_t)1 << 20, "broker config", &len, err, sizeof err);
    cJSON *root = text ? sim_json_parse(text, len, path, "config object", err, sizeof err) : NULL;
    free(text);
    if (!root) {
        fprintf(stderr, "courier broker: --config: %s\n", err);
        return 2;
    }
    int rc = 0;
    if (!cJSON_IsObject(root)) {
        fprintf(stderr, "courier broker: %s: the top level must be an object\n", path);
        rc = 2;
    }
    static const char *const known[] = {"brokers",
                                        "port",
                                        "topics",
                                        "auto.create.topics.enable",
                                        "num.partitions",
                                        "default.replication.factor",
                                        "min.insync.replicas",
                                        "replica.lag.time.max.ms",
                                        "follower.lag.ms",
                                        NULL};
    for (const cJSON *it = rc ? NULL : root->child; it && !rc; it = it->next) {
        bool ok = false;
        for (int k = 0; known[k]; k++)
            ok |= !strcmp(it->string, known[k]);
        if (!ok) {
            fprintf(stderr, "courier broker: %s: unknown key \"%s\"\n", path, it->string);
            rc = 2;
            break;
        }
        for (const cJSON *p = root->child; p != it; p = p->next)
            if (!strcmp(p->string, it->string)) {
                fprintf(stderr, "courier broker: %s: key \"%s\" given twice\n", path, it->string);
                rc = 2;
            }
        if (rc)
            break;
        long v;
        const char *k = it->string;
        if (!strcmp(k, "brokers")) {
            if (!json_int(it, 1, MB_MAX_BROKERS, &v))
                goto bad_int;
            o->conf.brokers = (int32_t)v;
        } else if (!strcmp(k, "port")) {
            if (!json_int(it, 0, 65535, &v))
                goto bad_int;
            o->conf.port = (int)v;
        } else if (!strcmp(k, "num.partitions")) {
            if (!json_int(it, 1, 10000, &v))
                goto bad_int;
            o->conf.num_partitions = (int32_t)v;
        } else if (!strcmp(k, "default.replication.factor")) {
            if (!json_int(it, 1, MB_MAX_BROKERS, &v))
                goto bad_int;
            o->conf.default_replication_factor = (int16_t)v;
        } else if (!strcmp(k, "min.insync.replicas")) {
            if (!json_int(it, 1, MB_MAX_BROKERS, &v))
                goto bad_int;
            o->conf.min_insync_replicas = (int16_t)v;
        } else if (!strcmp(k, "replica.lag.time.max.ms")) {
            if (!json_int(it, 1, INT_MAX, &v))
                goto bad_int;
            o->conf.replica_lag_time_max_ms = v;
        } else if (!strcmp(k, "auto.create.topics.enable")) {
            if (!cJSON_IsBool(it)) {
                fprintf(stderr, "courier broker: %s: \"%s\" must be true or false\n", path, k);
                rc = 2;
            } else {
                o->conf.auto_create_topics_enable = cJSON_IsTrue(it);
            }
        } else if (!strcmp(k, "follower.lag.ms")) {
            if (cJSON_IsNumber(it)) {
                if (!json_int(it, 0, INT_MAX, &v))
                    goto bad_int;
                for (int i = 0; i < MB_MAX_BROKERS; i++)
                    o->conf.follower_lag_ms[i] = v;
            } else if (cJSON_IsArray(it) && cJSON_GetArraySize(it) <= MB_MAX_BROKERS) {
                int i = 0;
                for (const cJSON *e = it->child; e; e = e->next, i++) {
                    if (!json_int(e, 0, INT_MAX, &v)) {
                        fprintf(stderr,
                                "courier broker: %s: follower.lag.ms[%d] must be a whole "
                                "number of milliseconds >= 0\n",
                                path, i);
                        rc = 2;
                        break;
                    }
                    o->conf.follower_lag_ms[i] = v;
                }
            } else {
                fprintf(stderr,
                        "courier broker: %s: \"follower.lag.ms\" must be a number or an "
                        "array of at most %d numbers\n",
                        path, MB_MAX_BROKERS);
                rc = 2;
            }
        } else if (!strcmp(k, "topics")) {
            if (!cJSON_IsArray(it)) {
                fprintf(stderr, "courier broker: %s: \"topics\" must be an array\n", path);
                rc = 2;
                break;
            }
            int i = 0;
            for (const cJSON *t = it->child; t && !rc; t = t->next, i++) {
                const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "name");
                long parts = 1, rf = 1, mi = 0;
                if (!cJSON_IsObject(t) || !cJSON_IsString(name)) {
                    fprintf(stderr, "courier broker: %s: topics[%d] needs a string \"name\"\n",
                            path, i);
                    rc = 2;
                    break;
                }
                for (const cJSON *f2 = t->child; f2 && !rc; f2 = f2->next) {
                    long *dst = !strcmp(f2->string, "partitions")            ? &parts
                                : !strcmp(f2->string, "replication.factor")  ? &rf
                                : !strcmp(f2->string, "min.insync.replicas") ? &mi
                                                                             : NULL;
                    if (!strcmp(f2->string, "name"))
                        continue;
                    if (!dst) {
                        fprintf(stderr, "courier broker: %s: topics[%d]: unknown key \"%s\"\n",
                                path, i, f2->string);
                        rc = 2;
                    } else if (!json_int(f2, dst == &mi ? 0 : 1, 10000, dst)) {
                        fprintf(stderr,
                                "courier broker: %s: topics[%d].%s must be a whole "
                                "number in range\n",
                                path, i, f2->string);
                        rc = 2;
                    }
                }
                if (!rc) {
                    char where[64];
                    snprintf(where, sizeof where, "%s: topics[%d]", path, i);
                    rc = add_topic(o, name->valuestring, parts, rf, mi, where);
                }
            }
        }
        continue;
    bad_int:
        fprintf(stderr, "courier broker: %s: \"%s\" must be a whole number in range\n", path, k);
        rc = 2;
    }
    cJSON_Delete(root);
    return rc;
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
