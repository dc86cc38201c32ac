/* sim/view_feed.h — fills the view model from a running simulation.
 *
 * The feed is the view's only window on the run: each sample drains the bus's event ring
 * (front-desk records, responses, leader and ISR changes, faults, trace lines), takes a
 * kp_snapshot() (deques, buffer pool, in-flight requests), reads the cluster's inspection API
 * (leaders, replicas, ISR, epochs, high watermarks, brokers up/down) and the runner's progress
 * (clock, step gate, audit counters). It holds no lock of the pipeline longer than those calls
 * do, and never writes to the run.
 *
 * @locality the view thread (one feed, one thread). */
#ifndef COURIER_SIM_VIEW_FEED_H
#define COURIER_SIM_VIEW_FEED_H

#include "sim/bus.h"
#include "sim/runner.h"
#include "sim/view_model.h"

#include <stdint.h>

/* Events folded per sample at most: a flood is left in the ring (which then drops and counts)
 * rather than holding the view. */
#define SIM_VIEW_FEED_MAX_EVENTS_PER_SAMPLE 65536

typedef struct sim_view_feed sim_view_feed;

/* A feed over runner r (which must outlive it). NULL when out of memory. */
sim_view_feed *sim_view_feed_new(sim_runner *r);
void sim_view_feed_destroy(sim_view_feed *f);

/* Samples the run into m. Fields the view owns (lang, show_trace, show_help, message) are
 * left as they are. `wall_ms` is the caller's monotonic wall time (for rates). */
void sim_view_feed_sample(sim_view_feed *f, sim_view_model *m, int64_t wall_ms);

/* Follows a parcel from now on (`/`): `query` is a record number ("123" or "#123") or a key
 * (the most recent record at the desk with that key, else the next one sent with it).
 * Returns false (and follows nothing) for an empty query. */
bool sim_view_feed_follow(sim_view_feed *f, const char *query);

/* Folds one event into the feed's state (sample() does this for each event it reads from the
 * ring; exposed so tests can feed events without a run). */
void sim_view_feed_event(sim_view_feed *f, const sim_event *e);

/* Formats one event as a trace line ("12.345 request.sent node=1 corr=45 n=3 48K").
 * Exposed for tests. */
void sim_view_feed_format_event(const sim_event *e, char *buf, size_t size);

/* --- hooks for recordings (sim/record.c, sim/recording.c) --------------------------------- */

/* Sets what a feed knows before the first event: the scenario's RTTs (faults in force from
 * the start). sim_view_feed_new(r) does it from r's scenario; a replay does it by hand. */
void sim_view_feed_seed(sim_view_feed *f, const sim_scenario *s);
/* The seq of the last event the feed folded (0 before the first). */
uint64_t sim_view_feed_last_seq(const sim_view_feed *f);
/* A copy of everything the feed folded, in a buffer of sim_view_feed_state_size(f) bytes (a
 * replay keeps one every few hundred events to rebuild any event quickly). The bytes are
 * only meaningful to the same build; load() keeps f's runner and buffers, false when out of
 * memory (f unchanged). */
size_t sim_view_feed_state_size(const sim_view_feed *f);
void sim_view_feed_save(const sim_view_feed *f, void *buf);
bool sim_view_feed_load(sim_view_feed *f, const void *buf);
/* Writes into m what the feed folded from events — the front desk, the trace tail, the step's
 * event, the followed parcel, each lane's last response, error count and faults in force —
 * and nothing it samples from the run (deques, requests, map, status, footer): a replay lays
 * the events over a snapshot. */
void sim_view_feed_apply_folded(sim_view_feed *f, sim_view_model *m);

#endif
