/* sim/runner_int.h — the runner's insides, shared by runner.c, workload.c, timeline.c,
 * audit.c and trace.c. Not for the view: it uses sim/runner.h. */
#ifndef COURIER_SIM_RUNNER_INT_H
#define COURIER_SIM_RUNNER_INT_H

#include "mockbroker/mb.h"
#include "producer/kp.h"
#include "sim/runner.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

/* What the runner knows of one record it sent. Written by the workload thread (before
 * kp_produce) and by the delivery callback (state, err, partition, offset); `state` is the
 * release/acquire flag that publishes the rest. */
enum { REC_UNSENT = 0, REC_PENDING = 1, REC_ACKED = 2, REC_FAILED = 3 };

typedef struct sim_rec {
    struct sim_runner *r; /* so the delivery callback (opaque = the sim_rec) finds its run */
    _Atomic uint8_t state;
    uint8_t thread; /* producing thread index */
    int32_t key;    /* key index, -1 = keyless */
    int32_t err;    /* kw_err when failed */
    int32_t partition;
    int64_t offset;
} sim_rec;

typedef struct sim_latency {
    pthread_mutex_t lock;
    int64_t *us; /* Produce request latencies (response.received duration_us) */
    size_t n, cap;
} sim_latency;

struct sim_runner {
    const sim_scenario *s;
    sim_run_opts o;
    uint64_t seed;
    sim_clock *clock;
    sim_bus *bus;
    FILE *trace;                /* NULL when no trace */
    atomic_bool footer_written; /* the audit's first caller at DONE writes the trace footer
                                   (control thread, view feed or recorder sampler) */
    pthread_mutex_t trace_lock; /* guards the trace file and the two fields below */
    uint64_t trace_last_seq;    /* seq of the last event line written */
    bool trace_closed;          /* the summary is written: later events are left out */

    mb_cluster *cluster;         /* the mock cluster; NULL with --bootstrap */
    struct sim_foreign *foreign; /* --bootstrap: a cluster Courier does not own (or NULL) */
    struct sim_proxy *proxy;     /* in front of the mock cluster for disconnect/blackhole */
    kp_conf *conf;
    kp_producer *producer;

    /* the records: ids 0..max_records-1 */
    sim_rec *recs;
    int64_t max_records;
    atomic_int_fast64_t next_id; /* next id a workload thread takes */
    atomic_int_fast64_t sent;    /* ids handed to kp_produce */
    atomic_int_fast64_t acked;
    atomic_int_fast64_t failed;

    int64_t start_us; /* sim time of the start */
    int64_t start_wall_us;
    int64_t end_us; /* sim time of the end (DONE) */
    int64_t end_wall_us;

    pthread_t workers[16];
    struct sim_worker {
        struct sim_runner *r;
        int index;
    } wk[16];
    int n_workers;
    atomic_int active_workers;
    pthread_t timeline_thread, supervisor;
    bool threads_started;
    atomic_int next_fault;
    atomic_int faults_applied, faults_failed;
    /* view faults taken in turn while the run is held: a FIFO played by one thread of its
     * own (it waits at the step gate like the timeline), so they happen in the order pressed */
    pthread_mutex_t turn_lock;
    sim_fault turn_q[16];
    int turn_head, turn_n;
    bool turn_thread; /* the thread is running */
    atomic_int faults_in_turn; /* queued or being applied */

    atomic_bool user_paused; /* sim_runner_pause (space); step mode pauses the clock too */
    atomic_bool stop;        /* Ctrl-C / sim_runner_stop: workload stops */
    atomic_bool end;         /* the run is over: timeline and waits stop */
    atomic_bool interrupted;
    atomic_int state; /* sim_run_state */
    pthread_mutex_t done_lock;
    pthread_cond_t done_cond;

    sim_latency lat;
};

/* Copies src into dst (size bytes), truncating; always NUL-terminates. */
static inline void sim_copy(char *dst, size_t size, const char *src) {
    size_t n = 0;
    for (; src && src[n] && n + 1 < size; n++)
        dst[n] = src[n];
    if (size)
        dst[n] = '\0';
}

/* workload.c: the application threads. */
int sim_workload_start(sim_runner *r, char *errbuf, size_t errsize);
/* Formats the value of record `id` into buf (at least value size + 24 bytes); returns length. */
int sim_workload_value(const sim_runner *r, int64_t id, uint64_t *rng, char *buf, size_t size);
/* timeline.c */
int sim_timeline_start(sim_runner *r, char *errbuf, size_t errsize);
/* Applies one fault to the cluster and emits the "fault" event. */
int sim_fault_apply(sim_runner *r, const sim_fault *f, char *errbuf, size_t errsize);
/* runner.c: emit a simulator event (source SIM) stamped with the clock. */
void sim_runner_emit(sim_runner *r, sim_event *e);
/* trace.c: the JSONL trace sink and its header/footer. */
void sim_trace_sink(const sim_event *e, void *opaque);
void sim_trace_write_header(sim_runner *r);
void sim_trace_write_footer(sim_runner *r, const sim_audit *a);
/* Writes s as a JSON string, quotes included (the trace's and the JSON report's one escaper). */
void sim_json_str(FILE *f, const char *s);
/* runner_foreign.c: starts the cluster side of a run (the mock's threads, or a foreign
 * cluster's map and proxy) and points the producer's bootstrap.servers at it. */
int sim_runner_cluster_start(sim_runner *r, char *errbuf, size_t errsize);
/* Plays a fault that goes through the proxy (every fault on a foreign cluster; disconnect,
 * blackhole and the proxy's share of heal on the mock). Returns an mb_err. */
int sim_runner_proxy_fault(sim_runner *r, const sim_fault *f);
/* Frees the foreign cluster's map, reader and proxy (sim_runner_destroy). */
void sim_runner_cluster_destroy(sim_runner *r);
/* audit.c: compute the audit from the logs and the runner's records. */
int sim_audit_compute(sim_runner *r, sim_audit *out);

#endif
