/* sim/foreign.h — a cluster Courier does not own (`courier run/demo --bootstrap`): the
 * dispatcher's map from the cluster itself (Metadata polled every second, ListOffsets for the
 * high watermark and log start), the audit's read-back (ListOffsets before the run, Fetch
 * from there after it, as a consumer reads: sim/reader.h), and the fault proxy (sim/proxy.h)
 * through which the scenario's network faults reach the producer's connections.
 *
 * Courier writes only to the scenario's workload topic; it never deletes or alters a topic.
 *
 * Threads: one poller thread (the map); every function may be called from the control
 * thread; sim_foreign_map() from any thread. */
#ifndef COURIER_SIM_FOREIGN_H
#define COURIER_SIM_FOREIGN_H

#include "protocol/kw.h"
#include "sim/scenario.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct sim_foreign sim_foreign;

#define SIM_FOREIGN_MAX_REPLICAS 16

/* One partition of the workload topic, as the cluster last said. */
typedef struct sim_foreign_partition {
    int32_t partition;
    int16_t error; /* the partition's Metadata error code */
    int32_t leader, leader_epoch;
    int n_replicas, n_isr, n_offline;
    int32_t replicas[SIM_FOREIGN_MAX_REPLICAS];
    int32_t isr[SIM_FOREIGN_MAX_REPLICAS];
    int32_t offline[SIM_FOREIGN_MAX_REPLICAS];
    int64_t log_start;      /* ListOffsets earliest, -1 unknown */
    int64_t high_watermark; /* ListOffsets latest, -1 unknown */
} sim_foreign_partition;

/* Which faults a foreign cluster takes (through the proxy): rtt, drop_responses, disconnect,
 * blackhole, heal. */
bool sim_foreign_fault_ok(sim_fault_kind k);
/* Checks a scenario's timeline for a foreign cluster: writes one line to `out` per refused
 * (cluster-side) fault, prefixed with `prefix`. Returns how many were refused. */
int sim_foreign_check(const sim_scenario *s, const char *prefix, FILE *out);
/* For `courier run/demo --bootstrap`: says once (on stderr) that the scenario's cluster
 * section is ignored, and refuses the cluster-side faults (sim_foreign_check). Returns true
 * when the scenario cannot run on a foreign cluster. */
bool sim_foreign_refuse(const sim_scenario *s, const char *bootstrap, const char *prefix);
/* For `courier demo --bootstrap` (the built-in timeline has cluster-side faults): says once
 * that the cluster section is ignored, and takes the cluster-side faults out of the timeline,
 * one line on stderr for each. */
void sim_foreign_keep_network_faults(sim_scenario *s, const char *bootstrap, const char *prefix);
/* True when the scenario's timeline has a fault the proxy plays. */
bool sim_foreign_needs_proxy(const sim_scenario *s);

/* Called with one line for things worth a trace line (the proxy's drops and cuts, the map's
 * changes); from the proxy's or the poller's thread. */
typedef void sim_foreign_log_cb(int level, const char *line, void *opaque);

/* Connects to the cluster and finds the topic; when it does not exist and create_partitions
 * > 0, creates it (CreateTopics with that many partitions and create_replication, capped at
 * the brokers there; a clear error when the cluster refuses). Then records where each
 * partition ends now (the audit reads from there), starts the proxy when with_proxy, and the
 * map's poller. Returns 0 and *out, or -1 with errbuf. */
int sim_foreign_new(const char *bootstrap, const char *topic, int create_partitions,
                    int create_replication, bool with_proxy, sim_foreign_log_cb *log_cb,
                    void *log_opaque, sim_foreign **out, char *errbuf, size_t errsize);
/* The bootstrap list the producer uses: the proxy's when there is one, else the cluster's. */
const char *sim_foreign_producer_bootstrap(const sim_foreign *f);
const char *sim_foreign_bootstrap(const sim_foreign *f);
int sim_foreign_partition_count(const sim_foreign *f);
/* True when sim_foreign_new created the topic. */
bool sim_foreign_created_topic(const sim_foreign *f);

/* Plays one network fault through the proxy. Returns 0, or -1 with errbuf. */
int sim_foreign_fault(sim_foreign *f, const sim_fault *fault, char *errbuf, size_t errsize);

/* The map as last polled: up to max partitions into rows (partition order), the brokers'
 * node ids into brokers (up to max_brokers). Returns the number of rows. */
int sim_foreign_map(sim_foreign *f, sim_foreign_partition *rows, int max, int32_t *brokers,
                    int max_brokers, int *n_brokers);

/* Reads back what the topic received since sim_foreign_new(): every partition from its
 * recorded start offset to its high watermark now. fn gets each record (return non-zero to
 * stop). Returns 0, or -1 with errbuf. */
typedef int sim_foreign_record_fn(void *opaque, int32_t partition, const kw_record *rec);
int sim_foreign_read_back(sim_foreign *f, sim_foreign_record_fn *fn, void *opaque, char *errbuf,
                          size_t errsize);

/* The map as text, one line per partition (for the report of a headless run). */
void sim_foreign_print_map(sim_foreign *f, FILE *out);

void sim_foreign_destroy(sim_foreign *f);

#endif
