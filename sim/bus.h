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
    int64_t raw_bytes; /* batch events: bytes before compression (-1 = none) */
    int64_t offset;   /* base offset, high watermark, ... */
    int32_t err;      /* kw_err, 0 = none */
    int16_t api;      /* API key of request/response events (KW_API_*), -1 = none */
    char detail[128]; /* free text: "leader 1 -> 2", "broker_down broker=1", ... */
    int64_t offset_end; /* end of an offset range [offset, offset_end) (appends, truncations:
                           the removed range), new HW of hw.advanced; -1 = none */
    bool stepped;       /* let through the step gate by a step (set by the bus) */
} sim_event;

/* The room of the courier company an event belongs to (the view's panels). */
typedef enum sim_room {
    SIM_ROOM_DESK = 0, /* record.*: the front desk */
    SIM_ROOM_SORTING,  /* batch.created/sealed/retried/expired/split, buffer.*: sorting room */
    SIM_ROOM_TRUCKS,   /* batch.drained/completed, request.*, response.*, connection.*,
                          metadata.*: the trucks and the road */
    SIM_ROOM_MAP,      /* the cluster: appends, replication, HW, ISR, leaders, brokers */
    SIM_ROOM_SIM,      /* the simulator: faults, clock, run start/end */
    SIM_ROOM__COUNT
} sim_room;
sim_room sim_event_room(const sim_event *e);

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

/* Publishes an event: stamps seq, counts it, calls the sinks, pushes it on the ring. In step
 * mode (unless this thread is exempt) the event is first held at the gate and the thread
 * waits until a step publishes it. */
void sim_bus_emit(sim_bus *b, sim_event *e);

/* --- the view's ring -------------------------------------------------------------------- */
/* Copies up to max of the oldest unread events into out (removing them); returns how many.
 * Never blocks on emitters for longer than a memcpy. */
size_t sim_bus_ring_read(sim_bus *b, sim_event *out, size_t max);
/* The same, and *published = the events published so far (sim_bus_total()), read under the
 * ring's lock in the same instant: once a read leaves the ring empty, every event up to
 * *published has been read (or dropped), so a screen that shows this count beside the events
 * it read never counts one it does not show yet. (sim_bus_total() read after a drain can: an
 * event published in between is counted, but not read until the next drain.) */
size_t sim_bus_ring_read_upto(sim_bus *b, sim_event *out, size_t max, uint64_t *published);
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
/* Step mode (DESIGN.md "Time": discrete-event stepping). On: an emitting thread (unless
 * exempt) hands its event to the gate and waits; the event is not published — not counted,
 * not traced, not on the ring — until a step lets it through. Each step publishes exactly
 * one event: the held one with the earliest simulated time (then the earliest to arrive),
 * and lets its thread go on; when nothing is held, the step waits for the next event to be
 * emitted and publishes that one. Simulated time stands still while anything is held or no
 * step is pending; it runs (at the clock's speed) only while a step waits for an event that
 * nobody has emitted yet — every thread waits on a timer or a socket, so time must reach the
 * earliest deadline for anything to happen. Wall time spent looking at the screen never
 * becomes simulated time. Off: every held event is published in that order, time runs.
 * Producer and broker code must not hold a lock that kp_snapshot()/mb inspection take while
 * emitting, or the view would stall (both promise they do not). */
void sim_bus_set_step(sim_bus *b, bool on);
bool sim_bus_stepping(sim_bus *b);
/* Lets exactly one event through (see above). No effect when step mode is off. Returns at
 * once; the event may be published later (by the thread that emits it). */
void sim_bus_step_once(sim_bus *b);
/* Lets events through one by one, as steps would, until one satisfies `until` (called under
 * the gate lock in the emitting thread: quick, no bus calls); that event is published and the
 * gate holds again. A step or sim_bus_set_step cancels it. */
void sim_bus_run_to(sim_bus *b, bool (*until)(const sim_event *e, void *opaque), void *opaque);
bool sim_bus_running_to(sim_bus *b);
/* Number of events held at the gate now. */
int sim_bus_step_waiting(sim_bus *b);

typedef struct sim_bus_step_info {
    bool on;                /* step mode */
    uint64_t steps;         /* steps (and run-tos) asked since step mode went on */
    int held;               /* events held now */
    uint64_t released;      /* events published by steps, ever */
    uint64_t last_released; /* seq of the last event a step published (0 = none) */
    bool running_to;        /* a run-to is under way */
    uint64_t run_to_met;    /* seq of the event that ended the last run-to (0 = none) */
    int64_t credit;         /* events still to let through (a step waiting for its event) */
} sim_bus_step_info;
/* The gate's state, consistently. */
void sim_bus_step_state(sim_bus *b, sim_bus_step_info *out);

/* Hooks called under the gate lock (they must not call the bus): `hold` whenever time must
 * stand still (step mode on, an event held, the step's event published), `run` when a step
 * waits for an event nobody has emitted yet and when step mode ends. The runner pauses and
 * resumes the simulation clock with them. Set before the run. */
void sim_bus_set_step_hooks(sim_bus *b, void (*run)(void *), void (*hold)(void *), void *opaque);
/* The simulated clock (called under the gate lock, it must not call the bus). In step mode an
 * event that reaches the gate later than its emitter stamped it, while the clock ran (a step
 * waiting, nothing held), is stamped again at that moment: the time a step shows is never
 * behind the clock it leaves standing. Set before the run. */
void sim_bus_set_step_clock(sim_bus *b, int64_t (*now)(void *), void *opaque);
/* Marks the calling thread exempt from step waits (the view thread and the runner's control
 * paths, so that a key press that injects a fault never blocks the view). */
void sim_bus_exempt_thread(bool exempt);

/* Expected work (a fault key pressed while paused): a pipeline thread is about to emit events
 * that belong to this instant — the fault's line, then its effects. From sim_bus_expect()
 * until that thread calls sim_bus_expect_done(), whenever it is at work between two of its
 * events a step waits for it (lets nothing else through, time stands still) instead of
 * letting through events that other threads emit meanwhile. Its events still go out
 * earliest first among the held ones, but each waits behind at most the events held before
 * it arrived (one per other thread), however slowly it is scheduled: a queued fault comes
 * after a bounded number of steps, never behind an endless stream. Such a thread must never
 * wait for a thread held at the gate (the mock's fault calls never do), or steps stall until
 * step mode ends (space), which lets everything go.
 * sim_bus_expect() counts one thread (any thread may call it, e.g. before creating it); the
 * thread itself calls sim_bus_expect_claim() first and sim_bus_expect_done() when its work is
 * over (done without a claim, e.g. when the thread could not be created, only uncounts). */
void sim_bus_expect(sim_bus *b);
void sim_bus_expect_claim(void);
void sim_bus_expect_done(sim_bus *b);

#endif
