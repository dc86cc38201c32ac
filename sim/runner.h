/* sim/runner.h — the runner (the company's day): one mock cluster, one producer, the workload
 * and the fault timeline, all on one simulation clock and one event bus. `courier run`
 * (headless) and the view both drive a run through this object.
 *
 *   sim_runner *r;
 *   if (sim_runner_new(scenario, &opts, &r, err, sizeof err)) ... exit 2
 *   sim_runner_start(r, err, sizeof err);
 *   while (!sim_runner_wait(r, 100)) { sim_runner_progress(r, &p); draw... }
 *   sim_runner_audit(r, &audit);
 *   sim_runner_destroy(r);
 *
 * Threads: every function may be called from any one control thread (the view's or main);
 * the runner has its own threads (workload threads, a timeline thread, a supervisor), plus
 * the producer's and the cluster's. Control calls mark the calling thread exempt from the
 * step gate, so pressing a key never blocks the view. */
#ifndef COURIER_SIM_RUNNER_H
#define COURIER_SIM_RUNNER_H

#include "sim/audit.h"
#include "sim/bus.h"
#include "sim/clock.h"
#include "sim/scenario.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sim_runner sim_runner;

typedef struct sim_run_opts {
    double speed;  /* initial clock speed (default 1.0 when 0) */
    bool seed_set; /* override the workload seed with `seed` */
    uint64_t seed;
    const char *trace_path; /* JSONL trace file, or NULL */
    size_t ring_capacity;   /* view ring size in events; 0 = no ring (headless) */
    int64_t stop_grace_ms;  /* after a stop: wall ms to let in-flight work finish (def. 3000) */
    /* A cluster Courier does not own ("host:port[,...]", --bootstrap), or NULL for the mock
     * cluster: the scenario's cluster section is then ignored, the map comes from Metadata
     * and the audit reads the topic back (sim/foreign.h). */
    const char *bootstrap;
    struct sim_record *recorder; /* a recording to feed (sim/record.h), or NULL: attached
                                    before the cluster starts, so it sees every event */
} sim_run_opts;

typedef enum sim_run_state {
    SIM_RUN_NEW,      /* created, not started */
    SIM_RUN_SENDING,  /* the workload is producing */
    SIM_RUN_DRAINING, /* workload over: waiting for every record's outcome */
    SIM_RUN_DONE,     /* every outcome known (or timed out); audit available */
} sim_run_state;

typedef struct sim_progress {
    sim_run_state state;
    int64_t planned; /* records the workload will send (-1 when bounded by duration) */
    int64_t sent;    /* kp_produce() calls so far */
    int64_t acknowledged;
    int64_t failed;
    int64_t elapsed_ms;  /* simulated ms since start */
    int64_t elapsed_us;  /* the same in µs */
    int64_t start_us;    /* the simulation clock at the start (events' t_us - start_us =
                            run time) */
    int64_t duration_ms; /* planned simulated ms (-1 when bounded by count) */
    double ack_rate;     /* acknowledged records per simulated second (recent) */
    double eta_s;        /* wall seconds left (estimate; -1 unknown) */
    bool paused;         /* held at the step gate with no step taken since the pause */
    double speed;
    bool stepping;
    uint64_t steps;  /* steps (and run-tos) since the run was paused */
    int held;        /* events held at the step gate now */
    bool running_to; /* a run-to (n/f/x/T) is letting events through */
    bool stopping;  /* a stop was requested */
    int next_fault; /* index of the next timeline entry, n_timeline when all played */
} sim_progress;

/* Creates the run: validates the producer config against the producer, builds the cluster
 * spec and opens the trace file. Nothing runs yet. The scenario must outlive the runner.
 * Returns 0, or -1 with errbuf naming what is wrong. */
int sim_runner_new(const sim_scenario *s, const sim_run_opts *o, sim_runner **out, char *errbuf,
                   size_t errsize);
/* Starts the cluster (real loopback sockets), the producer and the workload/timeline threads.
 * Returns 0, or -1 with errbuf. */
int sim_runner_start(sim_runner *r, char *errbuf, size_t errsize);
/* Waits up to timeout_ms (wall) for the run to reach SIM_RUN_DONE; true when done. */
bool sim_runner_wait(sim_runner *r, int timeout_ms);
/* Requests a stop: the workload stops sending, in-flight work gets stop_grace_ms to finish,
 * then the run ends. Async-signal-unsafe: from a signal handler set a flag and call this
 * from the main loop. */
void sim_runner_stop(sim_runner *r);
void sim_runner_progress(sim_runner *r, sim_progress *out);
/* Fills the audit (reads the cluster's logs). Call after sim_runner_wait() returned true;
 * before that it gives the audit so far (lost/duplicated over the logs as they are now).
 * The first call after the run is done also writes the trace's summary line. Returns 0, or
 * -1 when the logs could not be read completely (out->log_error says why). */
int sim_runner_audit(sim_runner *r, sim_audit *out);
/* Stops everything still running and frees the run. */
void sim_runner_destroy(sim_runner *r);

/* --- control (view keys) ---------------------------------------------------------------- */
/* Pause = step mode with no step pending: every event is held at the gate, simulated time
 * stands still. Resume opens the gate (held events go out in time order). */
void sim_runner_pause(sim_runner *r);
void sim_runner_resume(sim_runner *r);
void sim_runner_set_speed(sim_runner *r, double speed);
/* Step mode (= sim_bus_set_step / sim_bus_step_once): each step lets one held thread on by
 * one event; simulated time runs only from a step until an emitter has to wait again, so
 * no linger, timeout or lag advances while the class looks at the screen. */
void sim_runner_set_step(sim_runner *r, bool on);
/* Lets exactly one event through (pausing the run first if it was running). */
void sim_runner_step_once(sim_runner *r);

typedef enum sim_run_to_what {
    SIM_RUN_TO_ROOM,  /* the next event of one room (sim_event_room) */
    SIM_RUN_TO_FAULT, /* the next fault: a "fault" line, a broker down or isolated, a leader
                         change */
    SIM_RUN_TO_ERROR, /* the next event carrying an error code */
    SIM_RUN_TO_LOSS,  /* the next log truncation (acknowledged records may go with it) */
} sim_run_to_what;
/* Lets events through, one by one as steps would, until one matches; then holds again
 * (pausing the run first if it was running). `room` is a sim_room for SIM_RUN_TO_ROOM. */
void sim_runner_run_to(sim_runner *r, sim_run_to_what what, int room);
/* Applies a fault now (at_ms ignored) exactly as a timeline entry would: the same checks,
 * the same "fault" event in the trace. Returns 0, or -1 with errbuf. */
int sim_runner_fault(sim_runner *r, const sim_fault *f, char *errbuf, size_t errsize);
/* The same fault, taken in turn when the run is held (paused or stepping): it is applied on a
 * thread of its own that waits at the step gate like the timeline's, so its `fault` event is
 * held and published by a later step, before its effects, each of them a step too; several
 * are played one after the other in the order given (at most 16 wait). Returns 1
 * when it was queued so (a refusal then arrives as a `fault.failed` event), otherwise what
 * sim_runner_fault() returns (the run is not held: applied at once). */
int sim_runner_fault_in_turn(sim_runner *r, const sim_fault *f, char *errbuf, size_t errsize);

/* --- drawing ---------------------------------------------------------------------------- */
const sim_scenario *sim_runner_scenario(sim_runner *r);
sim_clock *sim_runner_clock(sim_runner *r);
sim_bus *sim_runner_bus(sim_runner *r);
/* The producer and the cluster, for kp_snapshot() / kp_metrics_get() and the mb inspection
 * API. The cluster exists from sim_runner_new() (its threads from sim_runner_start()), the
 * producer from sim_runner_start() (NULL before); both live until sim_runner_destroy(). The
 * view reads only; faults go through sim_runner_fault(). */
struct kp_producer *sim_runner_producer(sim_runner *r);
struct mb_cluster *sim_runner_cluster(sim_runner *r);
/* With --bootstrap: the foreign cluster (its map: sim_foreign_map), from sim_runner_start()
 * until sim_runner_destroy(); NULL on the mock cluster (then sim_runner_cluster is set). */
struct sim_foreign *sim_runner_foreign(sim_runner *r);
/* The recording in progress (sim_run_opts.recorder), or NULL (also for r == NULL): the view's
 * feed hands it each frame it draws. */
struct sim_record *sim_runner_recorder(sim_runner *r);

#endif
