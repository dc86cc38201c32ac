/* sim/bus.h — the event bus (the company's radio): producer and broker events come in, in one
 * normalized form (sim_event), and go out to the sinks: the JSONL trace, the counters, and a
 * bounded ring the view reads. Plus the step gate that lets a class walk the pipeline one
 * event at a time.
 *
 * Threads: sim_bus_emit() is called from whichever thread emitted the event (application
 * threads, the producer's sender thread, broker and controller threads, the runner). The ring
 * never blocks an emitter: when it is full the event is dropped from the ring (and counted),
 * never from the trace. Step mode is the one deliberate wait (see sim_bus_set_step). */
#ifndef COURIER_SIM_BUS_H
#define COURIER_SIM_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sim_source {
    SIM_SRC_PRODUCER = 0, /* kp events */
    SIM_SRC_BROKER = 1,   /* mb events (brokers and controller) */
    SIM_SRC_SIM = 2,      /* the simulator: faults, run start/end, workload phases */
} sim_source;

/* One event. Fields that do not apply are -1 (ids, numbers) or "" (strings). */
typedef struct sim_event {
    uint64_t seq; /* bus sequence number, 1, 2, ... in emission order (set by the bus) */
    int64_t t_us; /* simulated µs (the sim clock), read by the emitter just before it
                     emitted: across threads it may be a few µs out of seq order */
    sim_source source;
    char kind[32]; /* "record.appended", "request.sent", "broker.down", "fault", ... */
    char topic[64];
    int32_t partition;
    int32_t node;      /* broker id (the one concerned: leader, sender target, emitter) */
    int64_t record_id; /* producer-assigned record number */
    int64_t batch_id;
    int32_t corr_id; /* request correlation id */
    int32_t count;   /* records in a batch, batches in a request, ... */
    int64_t bytes;
    int64_t offset;   /* base offset, high watermark, ... */
    int32_t err;      /* kw_err, 0 = none */
    int16_t api;      /* API key of request/response events (KW_API_*), -1 = none */
    char detail[128]; /* free text: "leader 1 -> 2", "broker_down broker=1", ... */
} sim_event;

/* Fills e with "not applicable" values (-1 / "") and the given source and kind. */
void sim_event_init(sim_event *e, sim_source src, const char *kind);

typedef struct sim_bus sim_bus;

/* A sink is called in the emitting thread, under the bus's emit lock, so sinks see events in
 * seq order; it must be quick and must not emit. */
typedef void (*sim_sink_fn)(const sim_event *e, void *opaque);

/* Creates a bus with a view ring of `ring_capacity` events (0: no ring). NULL on OOM. */
sim_bus *sim_bus_new(size_t ring_capacity);
/* Releases any step-gated emitters first; the caller ensures no emitter is still running. */
void sim_bus_destroy(sim_bus *b);

/* Adds a sink (at most 8). Call before the run starts (not thread-safe against emit). */
int sim_bus_add_sink(sim_bus *b, sim_sink_fn fn, void *opaque);

/* Publishes an event: stamps seq, counts it, calls the sinks, pushes it on the ring, then —
 * in step mode, unless this thread is exempt — waits until sim_bus_step_once() lets it go. */
void sim_bus_emit(sim_bus *b, sim_event *e);

/* --- the view's ring -------------------------------------------------------------------- */
/* Copies up to max of the oldest unread events into out (removing them); returns how many.
 * Never blocks on emitters for longer than a memcpy. */
size_t sim_bus_ring_read(sim_bus *b, sim_event *out, size_t max);
/* Events that did not fit in the ring since the bus was created. */
uint64_t sim_bus_ring_dropped(sim_bus *b);

/* --- counters --------------------------------------------------------------------------- */
/* Events emitted so far (all kinds). */
uint64_t sim_bus_total(sim_bus *b);
/* Events of one kind so far (0 for a kind never seen). */
uint64_t sim_bus_count(sim_bus *b, const char *kind);
/* Visits every (kind, count) seen so far, in first-seen order. */
void sim_bus_each_count(sim_bus *b, void (*fn)(const char *kind, uint64_t n, void *opaque),
                        void *opaque);

/* --- step mode -------------------------------------------------------------------------- */
/* Step mode on: every emitting thread (except exempt ones) publishes its event and then waits
 * at the gate, so each thread stops right after the stage its event describes. Each
 * sim_bus_step_once() lets exactly one waiter (the oldest) go on to its next event:
 * sim_bus_total() - sim_bus_step_waiting() grows by exactly one per step (other threads that
 * wake up publish their own first event and wait too, adding one to both). Off: releases
 * every waiter. Producer and broker code must not hold a lock that kp_snapshot()/mb
 * inspection take while emitting, or the view would stall (both promise they do not).
 * With step hooks set (the runner sets them), simulated time advances only between a step
 * and the moment an emitter has to wait again, so holding the pipeline for minutes causes no
 * timeout, and a step when nobody waits runs time on until the next event. */
void sim_bus_set_step(sim_bus *b, bool on);
bool sim_bus_stepping(sim_bus *b);
/* Lets one waiting emitter (the oldest) continue. If none is waiting, the next one to arrive
 * passes. Returns immediately. */
void sim_bus_step_once(sim_bus *b);
/* Number of emitters waiting at the gate now. */
int sim_bus_step_waiting(sim_bus *b);
/* Hooks called under the gate lock (they must not call the bus): `hold` when step mode starts
 * and whenever an emitter has to wait at the gate; `run` on each step and when step mode
 * ends. The runner pauses and resumes the simulation clock with them. Set before the run. */
void sim_bus_set_step_hooks(sim_bus *b, void (*run)(void *), void (*hold)(void *), void *opaque);
/* Marks the calling thread exempt from step waits (the view thread and the runner's control
 * paths, so that a key press that injects a fault never blocks the view). */
void sim_bus_exempt_thread(bool exempt);

#endif
