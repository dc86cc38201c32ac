/* sim/scenario.h — a scenario: the cluster, the producer config, the workload, the fault
 * timeline and the expected audit outcome. Loaded from JSON (docs/scenarios.md) into a
 * validated plain struct; cJSON stays inside sim/scenario.c.
 *
 * Every load error names the file, the JSON path and the reason, e.g.
 *   scenarios/x.json: timeline[2].broker: 7 is not a broker id (1..3)
 *   scenarios/x.json:4:17: JSON syntax error near '}'
 */
#ifndef COURIER_SIM_SCENARIO_H
#define COURIER_SIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_MAX_BROKERS 16
#define SIM_MAX_TOPICS 8
#define SIM_MAX_PARTITIONS 64
#define SIM_NAME_MAX 128

typedef struct sim_topic_spec {
    char name[SIM_NAME_MAX];
    int partitions;  /* 1..SIM_MAX_PARTITIONS */
    int replication; /* 1..brokers */
    int min_isr;     /* min.insync.replicas, 1..replication (default 1) */
    /* retention.bytes, retention.ms, segment.bytes, segment.ms (0 = Kafka's defaults:
     * unlimited bytes, 7 days, 1 GiB, 7 days) */
    int64_t retention[4];
} sim_topic_spec;

typedef struct sim_cluster_spec {
    int brokers; /* 1..SIM_MAX_BROKERS; broker ids are the cluster's node ids 1..brokers */
    int n_topics;
    sim_topic_spec topics[SIM_MAX_TOPICS];
    /* per broker, index node id - 1 */
    int64_t follower_lag_ms[SIM_MAX_BROKERS]; /* replication lag of each broker as a follower */
    int64_t rtt_ms[SIM_MAX_BROKERS];          /* added round-trip time of each broker */
    int64_t replica_lag_time_max_ms;          /* Kafka default 30000 */
} sim_cluster_spec;

/* One producer config entry, Kafka's key name and its value as a string. */
typedef struct sim_kv {
    char key[64];
    char value[256];
} sim_kv;

typedef struct sim_workload_spec {
    char topic[SIM_NAME_MAX]; /* default: the first topic */
    int64_t messages;         /* records to send in total (0 = bounded by duration_ms) */
    int64_t duration_ms;      /* simulated ms to keep sending (0 = bounded by messages) */
    double rate;              /* records per simulated second over all threads; 0 = unthrottled */
    int keys;                 /* distinct keys "key-0".."key-(n-1)"; 0 = keyless (null key) */
    int value_min, value_max; /* value size in bytes, uniform in [min, max] */
    int threads;              /* producing application threads, 1..16 */
    uint64_t seed;            /* random seed for keys and sizes (--seed overrides) */
} sim_workload_spec;

typedef enum sim_fault_kind {
    SIM_FAULT_BROKER_DOWN,    /* broker */
    SIM_FAULT_BROKER_UP,      /* broker */
    SIM_FAULT_RTT,            /* broker, ms */
    SIM_FAULT_DROP_RESPONSES, /* broker, count */
    SIM_FAULT_INJECT_ERROR,   /* api, code, count, [topic, partition] */
    SIM_FAULT_MOVE_LEADER,    /* topic, partition, broker (the new leader) */
    SIM_FAULT_FOLLOWER_LAG,   /* broker, ms */
    SIM_FAULT_ISOLATE_BROKER, /* broker */
    SIM_FAULT_HEAL,           /* [broker]: end isolation (all brokers when broker = -1) */
    SIM_FAULT_DISCONNECT,     /* broker: the producer's connections to it are cut (proxy) */
    SIM_FAULT_BLACKHOLE,      /* broker: accepts connections, never answers (proxy) */
    SIM_FAULT__COUNT
} sim_fault_kind;

/* One fault: a timeline entry, or a key pressed in the view (same struct, same path). */
typedef struct sim_fault {
    int64_t at_ms; /* simulated ms after the start (timeline only) */
    sim_fault_kind kind;
    int broker;               /* node id 1..brokers; -1 when not used */
    int64_t ms;               /* rtt, follower_lag */
    int count;                /* drop_responses, inject_error */
    int16_t api;              /* inject_error: KW_API_* */
    int32_t code;             /* inject_error: kw_err */
    char topic[SIM_NAME_MAX]; /* inject_error, move_leader ("" = the workload topic) */
    int partition;            /* inject_error (-1 = any), move_leader */
    bool pause;               /* timeline: pause the run when this fault is applied, so the
                                 class can step through its effects ("pause": true) */
} sim_fault;

/* "broker_down", ...; NULL for an out-of-range kind. */
const char *sim_fault_kind_name(sim_fault_kind k);
/* One line describing the fault ("broker_down broker=1"), for traces and the view. */
void sim_fault_describe(const sim_fault *f, char *buf, size_t size);

typedef enum sim_cmp {
    SIM_CMP_EQ,
    SIM_CMP_NE,
    SIM_CMP_LT,
    SIM_CMP_LE,
    SIM_CMP_GT,
    SIM_CMP_GE
} sim_cmp;

/* One expectation: metric op value. Conditions with group 0 must all hold; conditions with
 * the same group g > 0 come from one "any_of" list: at least one of them must hold. */
typedef struct sim_expect {
    char metric[64]; /* "lost", "failed.BUFFER_EXHAUSTED", "records_per_request_avg", ... */
    sim_cmp op;
    double value;
    int group;
    char text[96]; /* as written, e.g. "lost > 0" */
} sim_expect;

typedef struct sim_scenario {
    char name[SIM_NAME_MAX];
    char description[1024];
    sim_cluster_spec cluster;
    int n_producer;
    sim_kv *producer; /* n_producer entries */
    sim_workload_spec workload;
    int n_timeline;
    sim_fault *timeline; /* sorted by at_ms (stable) */
    int n_expect;
    sim_expect *expect;
    int64_t drain_timeout_ms; /* after the workload: simulated ms to wait for outcomes */
} sim_scenario;

/* Parses a scenario from JSON text. `source` names the file in error messages. On success
 * returns 0 and *out (free with sim_scenario_free); on error returns -1, *out = NULL, and
 * errbuf holds one line "SOURCE: PATH: REASON" or "SOURCE:LINE:COL: REASON". */
int sim_scenario_parse(const char *text, size_t len, const char *source, sim_scenario **out,
                       char *errbuf, size_t errsize);
/* Reads and parses a file (errors as above, plus "cannot read FILE: reason"). */
int sim_scenario_load(const char *path, sim_scenario **out, char *errbuf, size_t errsize);
void sim_scenario_free(sim_scenario *s);

/* The metric names `expect` accepts (NULL-terminated), besides "failed.<ERROR_NAME>". */
extern const char *const sim_expect_metrics[];

/* The built-in default scenario (for `courier demo`): its JSON text and file name. */
extern const char sim_default_scenario_json[];
extern const char sim_default_scenario_name[];

#endif
