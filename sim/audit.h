/* sim/audit.h — the audit (the company's inspector): what the producer was told against what
 * the cluster holds. Lost, duplicated and reordered are computed by reading the cluster's
 * logs through the mock broker's inspection API, never from counters the producer kept.
 *
 * How records are recognised: the workload writes each record's id (decimal, assigned in
 * send order per application thread) at the start of its value, followed by '|'. */
#ifndef COURIER_SIM_AUDIT_H
#define COURIER_SIM_AUDIT_H

#include "sim/scenario.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SIM_AUDIT_MAX_ERRS 32

typedef struct sim_audit_err {
    int32_t err;   /* kw_err */
    char name[48]; /* kw_err_name() */
    int64_t count;
} sim_audit_err;

typedef struct sim_audit {
    /* What the producer told the application. */
    int64_t sent;         /* kp_produce() calls made by the workload */
    int64_t acknowledged; /* callbacks with success */
    int64_t failed;       /* callbacks or kp_produce() returns with an error */
    int64_t pending;      /* no outcome yet (stopped before the end) */
    int n_failed_by;
    sim_audit_err failed_by[SIM_AUDIT_MAX_ERRS]; /* failures by error name, most first */

    /* What the cluster holds (read from the logs). */
    int64_t in_log;        /* distinct records of this run found in the logs */
    int64_t lost;          /* acknowledged but absent from the surviving log */
    int64_t deleted_by_retention; /* acknowledged, absent, below the partition's log start:
                                     deleted by retention (not lost) */
    int64_t duplicated;    /* extra copies: sum over records of (copies - 1) */
    int64_t reordered;     /* records found after a later-sent record of the same key */
    int64_t failed_in_log; /* reported failed, yet present in the log */

    /* Producer metrics (kp_metrics, Java's names); request latencies (simulated ms) from the
     * producer's response.received events. */
    double records_per_request_avg;
    double batch_size_avg;
    double compression_rate_avg; /* compressed / uncompressed per batch (1 = none) */
    int64_t batch_bytes;         /* bytes of the batches the producer drained, as sent */
    int64_t batch_raw_bytes;     /* ... and before compression */
    int64_t log_bytes;           /* bytes in the leaders' logs of the topic, as stored */
    int64_t log_raw_bytes;       /* ... with compressed batches counted decompressed */
    int64_t outgoing_bytes;      /* outgoing-byte-total: every byte the producer sent */
    double request_latency_avg_ms;
    double request_latency_p99_ms;
    double request_latency_max_ms;
    int64_t retries;  /* record-retry-total */
    int64_t requests; /* Produce requests the producer sent */

    /* Per broker: Produce requests each broker received (events). */
    int n_brokers;
    int64_t requests_per_broker[SIM_MAX_BROKERS];

    int faults_applied; /* timeline entries and view keys that took effect */
    int faults_failed;  /* ... that the cluster refused (the trace's "fault" event says why) */

    int64_t elapsed_ms;  /* simulated ms from start to the end of the run */
    double wall_s;       /* wall-clock seconds */
    bool interrupted;    /* stopped early (Ctrl-C or sim_runner_stop) */
    bool log_read_error; /* the logs could not be read completely (see log_error) */
    char log_error[160];
    char log_source[160]; /* where in_log/lost/duplicated/reordered come from */
} sim_audit;

/* Value of a metric by its `expect` name (see sim_expect_metrics and "failed.<NAME>").
 * Returns false when the name is unknown. */
bool sim_audit_metric(const sim_audit *a, const char *metric, double *out);

/* Checks every expectation; returns the number of unmet ones, and writes one line per unmet
 * expectation ("expect lost > 0: got lost = 0") to `unmet` (may be NULL). */
int sim_audit_check(const sim_audit *a, const sim_scenario *s, FILE *unmet);
/* The same, the unmet lines in Chinese when `zh` (the scenario's own `expect` text and the
 * metric names stay as written: "预期 lost > 0: 未满足, 实际 lost = 0"). */
int sim_audit_check_lang(const sim_audit *a, const sim_scenario *s, bool zh, FILE *unmet);
/* The run's verdict line after the report: "expect: all met" / "expect: UNMET (see above)",
 * or in Chinese when `zh`. */
void sim_audit_print_verdict(int unmet, bool zh, FILE *out);

/* The report, as text (a table a class can read) or one JSON object. */
void sim_audit_print_text(const sim_audit *a, const sim_scenario *s, FILE *out);
/* The text report in Chinese when `zh` (Kafka's metric names and numbers stay as they are). */
void sim_audit_print_text_lang(const sim_audit *a, const sim_scenario *s, bool zh, FILE *out);
void sim_audit_print_json(const sim_audit *a, const sim_scenario *s, FILE *out);

#endif
