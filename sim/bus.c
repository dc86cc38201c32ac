/* The event bus (the company's radio): every event is stamped, counted, handed to the sinks
 * (trace writer, runner statistics), copied to the view's ring, and — in step mode — held
 * at the gate until the class presses `s`.
 *
 * The gate is a ticket queue: an emitter takes ticket t and may pass once `allowed` > t;
 * sim_bus_step_once() raises `allowed` by one, so waiters leave oldest first, one per step.
 * An emitter waits *after* its event is published: `total - waiting` (the events whose
 * threads have moved on) grows by exactly one per step. */
#include "sim/bus.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SINKS 8
/* Open-addressing table of event kinds: it counts the first KIND_SLOTS - 1 kinds seen; a kind
 * after those has no count of its own (it is still in sim_bus_total()). */
#define KIND_SLOTS 256

/* An event held at the step gate, on its emitter's stack while the emitter waits. */
typedef struct held_event {
    sim_event ev;
    uint64_t ticket;
    bool released;
    bool expected; /* its thread claimed a sim_bus_expect(): at work again once released */
    struct held_event *next;
} held_event;

typedef struct kind_count {
    char kind[32];
    uint64_t n;
    int order; /* first-seen order, for sim_bus_each_count */
} kind_count;

struct sim_bus {
    /* immutable after the run starts */
    sim_sink_fn sinks[MAX_SINKS];
    void *sink_opaque[MAX_SINKS];
    int n_sinks;

    atomic_uint_fast64_t seq;
    atomic_uint_fast64_t dropped;

    pthread_mutex_t lock; /* the emit lock: guards seq order, ring, kinds; held over sinks */
    sim_event *ring;
    size_t ring_cap, ring_head, ring_len;
    kind_count kinds[KIND_SLOTS];
    int n_kinds;

    pthread_mutex_t gate_lock; /* guards the gate fields */
    pthread_cond_t gate_cond;
    bool step;
    uint64_t next_ticket; /* arrival order of held events */
    held_event *held;     /* events waiting at the gate (unordered list) */
    int waiting;          /* length of `held` */
    int64_t credit;       /* events the gate may still let through (steps not yet served) */
    uint64_t steps;       /* steps and run-tos since step mode started */
    uint64_t released;    /* events let through by steps, ever */
    uint64_t last_released; /* seq of the last of them */
    bool (*run_to)(const sim_event *e, void *opaque); /* run-to condition, NULL = none */
    void *run_to_opaque;
    uint64_t run_to_met; /* seq of the event that met the last run-to condition */
    int away; /* expected threads (sim_bus_expect) at work, not parked at the gate: a step
                 waits for them before it lets anything else through */
    void (*hook_run)(void *); /* step hooks (sim_bus_set_step_hooks), immutable once running */
    void (*hook_hold)(void *);
    void *hook_opaque;
    int64_t (*hook_now)(void *); /* sim_bus_set_step_clock, immutable once running */
    void *now_opaque;
};

static _Thread_local bool thread_exempt;
static _Thread_local bool thread_expected; /* this thread claimed a sim_bus_expect() */

void sim_event_init(sim_event *e, sim_source src, const char *kind) {
    memset(e, 0, sizeof *e);
    e->source = src;
    if (kind)
        snprintf(e->kind, sizeof e->kind, "%s", kind);
    e->partition = -1;
    e->node = -1;
    e->record_id = -1;
    e->batch_id = -1;
    e->corr_id = -1;
    e->count = -1;
    e->bytes = -1;
    e->raw_bytes = -1;
    e->offset = -1;
    e->offset_end = -1;
    e->api = -1;
}

static bool has_prefix(const char *s, const char *p) {
    return strncmp(s, p, strlen(p)) == 0;
}

sim_room sim_event_room(const sim_event *e) {
    const char *k = e->kind;
    if (e->source == SIM_SRC_SIM)
        return SIM_ROOM_SIM;
    if (e->source == SIM_SRC_BROKER)
        return SIM_ROOM_MAP;
    if (has_prefix(k, "record."))
        return SIM_ROOM_DESK;
    if (has_prefix(k, "buffer.") || !strcmp(k, "batch.created") || !strcmp(k, "batch.sealed") ||
        !strcmp(k, "batch.retried") || !strcmp(k, "batch.expired") || !strcmp(k, "batch.split"))
        return SIM_ROOM_SORTING;
    return SIM_ROOM_TRUCKS;
}

sim_bus *sim_bus_new(size_t ring_capacity) {
    sim_bus *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    if (ring_capacity) {
        b->ring = calloc(ring_capacity, sizeof *b->ring);
        if (!b->ring) {
            free(b);
            return NULL;
        }
        b->ring_cap = ring_capacity;
    }
    pthread_mutex_init(&b->lock, NULL);
    pthread_mutex_init(&b->gate_lock, NULL);
    pthread_cond_init(&b->gate_cond, NULL);
    return b;
}

void sim_bus_destroy(sim_bus *b) {
    if (!b)
        return;
    sim_bus_set_step(b, false);
    pthread_cond_destroy(&b->gate_cond);
    pthread_mutex_destroy(&b->gate_lock);
    pthread_mutex_destroy(&b->lock);
    free(b->ring);
    free(b);
}

int sim_bus_add_sink(sim_bus *b, sim_sink_fn fn, void *opaque) {
    if (b->n_sinks >= MAX_SINKS || !fn)
        return -1;
    b->sinks[b->n_sinks] = fn;
    b->sink_opaque[b->n_sinks] = opaque;
    b->n_sinks++;
    return 0;
}

static unsigned kind_hash(const char *s) {
    unsigned h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The slot that holds `kind`, or the empty slot where it would go (the table always keeps one
 * empty slot, so the probe ends).
 * @locks b->lock MUST be held. */
static kind_count *kind_slot_locked(sim_bus *b, const char *kind) {
    unsigned h = kind_hash(kind) % KIND_SLOTS;
    kind_count *k = &b->kinds[h];
    for (unsigned i = 1; k->kind[0] && strcmp(k->kind, kind); i++)
        k = &b->kinds[(h + i) % KIND_SLOTS];
    return k;
}

/* @locks b->lock MUST be held. */
static void count_kind_locked(sim_bus *b, const char *kind) {
    kind_count *k = kind_slot_locked(b, kind);
    if (k->kind[0]) {
        k->n++;
    } else if (b->n_kinds < KIND_SLOTS - 1) {
        snprintf(k->kind, sizeof k->kind, "%s", kind);
        k->order = b->n_kinds++;
        k->n = 1;
    }
}

/* Stamps, counts, hands to the sinks and to the ring. @locks b->lock (taken here). */
static void publish(sim_bus *b, sim_event *e) {
    pthread_mutex_lock(&b->lock);
    e->seq = atomic_fetch_add(&b->seq, 1) + 1;
    count_kind_locked(b, e->kind);
    if (b->ring_cap) {
        if (b->ring_len < b->ring_cap) {
            b->ring[(b->ring_head + b->ring_len) % b->ring_cap] = *e;
            b->ring_len++;
        } else {
            atomic_fetch_add(&b->dropped, 1);
        }
    }
    for (int i = 0; i < b->n_sinks; i++)
        b->sinks[i](e, b->sink_opaque[i]);
    pthread_mutex_unlock(&b->lock);
}

/* One event let through by the gate: published, counted as a step, checked against the
 * run-to condition (which, once met, closes the gate again). @locks b->gate_lock MUST be held. */
static void publish_released_locked(sim_bus *b, sim_event *e) {
    e->stepped = true;
    publish(b, e);
    b->released++;
    b->last_released = e->seq;
    if (b->credit > 0)
        b->credit--;
    if (b->run_to && b->run_to(e, b->run_to_opaque)) {
        b->credit = 0;
        b->run_to = NULL;
        b->run_to_met = e->seq;
    }
}

/* Lets held emitters go while there is credit, earliest event first (by simulated time,
 * then arrival), then sets the clock: it stands still while anything is held or no credit
 * is left, and runs only when credit waits for an event that nobody has emitted yet (every
 * thread is waiting on a timer or a socket: time must pass for the next event to happen).
 * While an expected thread is at work (`away`), nothing goes and time stands still: its next
 * event is on its way, at this instant, and takes its place among the held ones when it
 * arrives (unless `all`: step mode is ending and everything goes).
 * @locks b->gate_lock MUST be held. */
static void release_locked(sim_bus *b, bool all) {
    bool wait_away = !all && b->away > 0;
    while (b->credit > 0 && b->held && !wait_away) {
        held_event **best = &b->held;
        for (held_event **h = &b->held->next; *h; h = &(*h)->next)
            if ((*h)->ev.t_us < (*best)->ev.t_us ||
                ((*h)->ev.t_us == (*best)->ev.t_us && (*h)->ticket < (*best)->ticket))
                best = h;
        held_event *go = *best;
        *best = go->next;
        b->waiting--;
        publish_released_locked(b, &go->ev);
        go->released = true;
        if (go->expected) { /* at work again from now: what it emits next comes first */
            b->away++;
            wait_away = !all;
        }
        pthread_cond_broadcast(&b->gate_cond);
    }
    if (b->credit > 0 && !b->held && !wait_away) {
        if (b->hook_run)
            b->hook_run(b->hook_opaque);
    } else if (b->hook_hold) {
        b->hook_hold(b->hook_opaque);
    }
}

/* The event happens when it reaches the gate: the clock may have run since its emitter
 * stamped it (a step waiting, nothing held, the emitter slow to get here), and time must not
 * stand past the event a step shows. @locks b->gate_lock MUST be held. */
static void restamp_locked(sim_bus *b, sim_event *e) {
    if (b->hook_now) {
        int64_t now = b->hook_now(b->now_opaque);
        if (e->t_us < now)
            e->t_us = now;
    }
}

/* The gate (step mode): the event waits here, unpublished, until a step lets it through.
 * Returns false when the gate is open (the caller publishes as usual). */
static bool gate(sim_bus *b, sim_event *e) {
    pthread_mutex_lock(&b->gate_lock);
    if (!b->step) {
        pthread_mutex_unlock(&b->gate_lock);
        return false;
    }
    /* an expected thread that reaches the gate is no longer away (the step may go on) */
    bool counted = thread_expected && b->away > 0;
    if (b->credit > 0 && !b->held && b->away - (counted ? 1 : 0) == 0) {
        /* A step is waiting for exactly this event: it goes through at once. Time stops
         * first, then the event takes that time and is published: however long this thread
         * is kept from the CPU meanwhile, the view never reads a clock past the event. */
        if (b->hook_hold)
            b->hook_hold(b->hook_opaque);
        restamp_locked(b, e);
        publish_released_locked(b, e);
        if (b->credit > 0 && b->hook_run)
            b->hook_run(b->hook_opaque); /* a run-to goes on to the next event */
        pthread_mutex_unlock(&b->gate_lock);
        return true;
    }
    restamp_locked(b, e); /* (the clock stands: something is held, or no step waits) */
    held_event me;
    me.ev = *e;
    me.ticket = b->next_ticket++;
    me.released = false;
    me.expected = counted;
    me.next = b->held;
    b->held = &me;
    b->waiting++;
    if (counted) {
        b->away--;
        if (b->credit > 0)
            release_locked(b, false); /* a step was waiting for this thread */
    }
    if (b->hook_hold && !me.released)
        b->hook_hold(b->hook_opaque); /* something is held: time stands still */
    while (!me.released) /* (release_locked counted this thread away again) */
        pthread_cond_wait(&b->gate_cond, &b->gate_lock);
    pthread_mutex_unlock(&b->gate_lock);
    e->seq = me.ev.seq;
    e->stepped = me.ev.stepped;
    return true;
}

void sim_bus_emit(sim_bus *b, sim_event *e) {
    /* Step mode holds the event itself, before anyone sees it: a step publishes exactly one
     * event, and the screen never shows an event the class has not stepped to. */
    if (!thread_exempt && gate(b, e))
        return;
    publish(b, e);
}

size_t sim_bus_ring_read_upto(sim_bus *b, sim_event *out, size_t max, uint64_t *published) {
    pthread_mutex_lock(&b->lock);
    size_t n = 0;
    while (n < max && b->ring_len > 0) {
        out[n++] = b->ring[b->ring_head];
        b->ring_head = (b->ring_head + 1) % b->ring_cap;
        b->ring_len--;
    }
    /* publish() stamps seq and fills the ring under this lock: the two agree here */
    if (published)
        *published = atomic_load(&b->seq);
    pthread_mutex_unlock(&b->lock);
    return n;
}

size_t sim_bus_ring_read(sim_bus *b, sim_event *out, size_t max) {
    return sim_bus_ring_read_upto(b, out, max, NULL);
}

uint64_t sim_bus_ring_dropped(sim_bus *b) {
    return atomic_load(&b->dropped);
}

uint64_t sim_bus_total(sim_bus *b) {
    return atomic_load(&b->seq);
}

uint64_t sim_bus_count(sim_bus *b, const char *kind) {
    pthread_mutex_lock(&b->lock);
    const kind_count *k = kind_slot_locked(b, kind);
    uint64_t n = k->kind[0] ? k->n : 0;
    pthread_mutex_unlock(&b->lock);
    return n;
}

void sim_bus_each_count(sim_bus *b, void (*fn)(const char *kind, uint64_t n, void *opaque),
                        void *opaque) {
    kind_count copy[KIND_SLOTS];
    pthread_mutex_lock(&b->lock);
    int n = b->n_kinds;
    for (int i = 0; i < KIND_SLOTS; i++)
        if (b->kinds[i].kind[0])
            copy[b->kinds[i].order] = b->kinds[i];
    pthread_mutex_unlock(&b->lock);
    for (int i = 0; i < n; i++)
        fn(copy[i].kind, copy[i].n, opaque);
}

void sim_bus_set_step(sim_bus *b, bool on) {
    pthread_mutex_lock(&b->gate_lock);
    if (on && !b->step) {
        b->step = true;
        b->credit = 0;
        b->steps = 0;
        b->run_to = NULL;
        if (b->hook_hold)
            b->hook_hold(b->hook_opaque);
    } else if (!on && b->step) {
        /* Everything held goes out in order, then the gate opens and time runs. */
        b->credit = INT64_MAX;
        b->run_to = NULL;
        release_locked(b, true);
        b->step = false;
        b->credit = 0;
        if (b->hook_run)
            b->hook_run(b->hook_opaque);
    }
    pthread_cond_broadcast(&b->gate_cond);
    pthread_mutex_unlock(&b->gate_lock);
}

bool sim_bus_stepping(sim_bus *b) {
    pthread_mutex_lock(&b->gate_lock);
    bool on = b->step;
    pthread_mutex_unlock(&b->gate_lock);
    return on;
}

void sim_bus_step_once(sim_bus *b) {
    pthread_mutex_lock(&b->gate_lock);
    if (b->step) {
        b->steps++;
        b->run_to = NULL;
        b->credit = 1;
        release_locked(b, false);
    }
    pthread_mutex_unlock(&b->gate_lock);
}

void sim_bus_run_to(sim_bus *b, bool (*until)(const sim_event *e, void *opaque), void *opaque) {
    pthread_mutex_lock(&b->gate_lock);
    if (b->step && until) {
        b->steps++;
        b->run_to = until;
        b->run_to_opaque = opaque;
        b->credit = INT64_MAX;
        release_locked(b, false);
    }
    pthread_mutex_unlock(&b->gate_lock);
}

bool sim_bus_running_to(sim_bus *b) {
    pthread_mutex_lock(&b->gate_lock);
    bool on = b->step && b->run_to != NULL;
    pthread_mutex_unlock(&b->gate_lock);
    return on;
}

void sim_bus_step_state(sim_bus *b, sim_bus_step_info *out) {
    pthread_mutex_lock(&b->gate_lock);
    out->on = b->step;
    out->steps = b->steps;
    out->held = b->waiting;
    out->released = b->released;
    out->last_released = b->last_released;
    out->running_to = b->step && b->run_to != NULL;
    out->run_to_met = b->run_to_met;
    out->credit = b->credit;
    pthread_mutex_unlock(&b->gate_lock);
}

int sim_bus_step_waiting(sim_bus *b) {
    pthread_mutex_lock(&b->gate_lock);
    int n = b->waiting;
    pthread_mutex_unlock(&b->gate_lock);
    return n;
}

void sim_bus_set_step_hooks(sim_bus *b, void (*run)(void *), void (*hold)(void *), void *opaque) {
    pthread_mutex_lock(&b->gate_lock);
    b->hook_run = run;
    b->hook_hold = hold;
    b->hook_opaque = opaque;
    pthread_mutex_unlock(&b->gate_lock);
}

void sim_bus_set_step_clock(sim_bus *b, int64_t (*now)(void *), void *opaque) {
    pthread_mutex_lock(&b->gate_lock);
    b->hook_now = now;
    b->now_opaque = opaque;
    pthread_mutex_unlock(&b->gate_lock);
}

void sim_bus_exempt_thread(bool exempt) {
    thread_exempt = exempt;
}

void sim_bus_expect(sim_bus *b) {
    pthread_mutex_lock(&b->gate_lock);
    b->away++;
    if (b->step && b->hook_hold)
        b->hook_hold(b->hook_opaque);
    pthread_mutex_unlock(&b->gate_lock);
}

void sim_bus_expect_claim(void) {
    thread_expected = true;
}

void sim_bus_expect_done(sim_bus *b) {
    pthread_mutex_lock(&b->gate_lock);
    if (b->away > 0)
        b->away--;
    thread_expected = false;
    if (b->step)
        release_locked(b, false); /* a step that waited for this thread goes on */
    pthread_cond_broadcast(&b->gate_cond);
    pthread_mutex_unlock(&b->gate_lock);
}
