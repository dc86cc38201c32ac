/* The step gate with faults queued while paused, and what the view shows of each step, driven
 * directly (no tmux): the view's counter against the events it explains, a real run stepped
 * one event at a time with two fault keys queued. */
#include "sim/bus.h"
#include "sim/clock.h"
#include "sim/runner.h"
#include "sim/scenario.h"
#include "sim/view_feed.h"
#include "tests/tu.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct stream {
    sim_bus *b;
    int n;
} stream;

static void *stream_main(void *arg) {
    stream *s = arg;
    for (int i = 0; i < s->n; i++) {
        sim_event e;
        sim_event_init(&e, SIM_SRC_PRODUCER, "tick");
        e.t_us = i;
        sim_bus_emit(s->b, &e);
    }
    return NULL;
}

/* The count read with the ring is taken in the same instant: whenever a read leaves the ring
 * empty, the count is exactly the last event read, while another thread publishes all along.
 * (sim_bus_total() read after the drain counts events the drain did not see: the view then
 * drew a step's count beside the previous step's explanation.) */
static void test_ring_count_never_runs_ahead_of_the_events_read(void) {
    enum { N = 20000, CHUNK = 16 };
    sim_bus *b = sim_bus_new(N); /* room for all: nothing dropped */
    stream s = {b, N};
    pthread_t t;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, stream_main, &s), 0);
    sim_event out[CHUNK];
    uint64_t last = 0, published = 0;
    int emptied = 0, ahead = 0;
    while (last < N) {
        size_t n = sim_bus_ring_read_upto(b, out, CHUNK, &published);
        for (size_t i = 0; i < n; i++) {
            if (out[i].seq != last + 1)
                CU_FAIL("an event was skipped");
            last = out[i].seq;
        }
        if (published < last)
            CU_FAIL("the count is behind the events read");
        if (n < CHUNK) { /* the ring is empty now */
            emptied++;
            if (published != last)
                ahead++;
        }
    }
    pthread_join(t, NULL);
    CU_ASSERT_EQUAL(ahead, 0);
    CU_ASSERT(emptied > 0);
    CU_ASSERT_EQUAL(sim_bus_ring_dropped(b), 0);
    sim_bus_destroy(b);
}

/* --- a fault thread late at the gate, a steady stream beside it ------------------------------ */

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

typedef struct looper {
    sim_bus *b;
    atomic_bool stop;
} looper;

/* A steady producer: its next event comes as soon as the last one is let through. */
static void *looper_main(void *arg) {
    looper *l = arg;
    while (!atomic_load(&l->stop)) {
        sim_event e;
        sim_event_init(&e, SIM_SRC_PRODUCER, "stream");
        e.t_us = 1000;
        sim_bus_emit(l->b, &e);
    }
    return NULL;
}

typedef struct timed_arg {
    sim_bus *b;
    sim_event e;
} timed_arg;

static void *emit_main(void *arg) {
    timed_arg *ta = arg;
    sim_bus_emit(ta->b, &ta->e);
    return NULL;
}

typedef struct slow_fault {
    sim_bus *b;
    int effects;
    atomic_bool *go; /* NULL: start after 50 ms; else when it becomes true */
} slow_fault;

/* A queued fault's thread, scheduled late: its line, then its effects, each a while apart. */
static void *slow_fault_main(void *arg) {
    slow_fault *f = arg;
    sim_bus_expect_claim();
    if (f->go)
        while (!atomic_load(f->go))
            sleep_ms(1);
    else
        sleep_ms(50);
    sim_event e;
    sim_event_init(&e, SIM_SRC_SIM, "fault");
    e.t_us = 1000;
    sim_bus_emit(f->b, &e);
    for (int i = 0; i < f->effects; i++) {
        sleep_ms(20);
        sim_event_init(&e, SIM_SRC_BROKER, "effect");
        e.t_us = 1000;
        sim_bus_emit(f->b, &e);
    }
    sim_bus_expect_done(f->b);
    return NULL;
}

typedef struct released_arg {
    sim_bus *b;
    uint64_t want;
} released_arg;

static bool released_reaches(void *arg) {
    released_arg *ra = arg;
    sim_bus_step_info gi;
    sim_bus_step_state(ra->b, &gi);
    return gi.released >= ra->want;
}

/* Three threads emit without pause (each lets its next event wait at the gate as soon as a
 * step lets the last one through) while a queued fault's thread is slow to get to the gate.
 * Steps come as fast as the gate serves them. The fault's line and each of its effects wait
 * behind at most the three events held before they arrived: a step that finds the fault's
 * thread at work waits for it rather than letting the stream through, so the whole fault
 * is out within 4 x 6 steps. (Without the wait the stream won every step the thread was
 * away: here hundreds.) */
static void test_fault_thread_late_at_the_gate_waits_behind_a_bounded_few(void) {
    enum { LOOPERS = 3, EFFECTS = 5 };
    sim_bus *b = sim_bus_new(1 << 14);
    sim_bus_set_step(b, true);
    looper l = {b, false};
    pthread_t lt[LOOPERS], ft;
    for (int i = 0; i < LOOPERS; i++)
        CU_ASSERT_EQUAL_FATAL(pthread_create(&lt[i], NULL, looper_main, &l), 0);
    sim_bus_expect(b); /* as the runner does when it queues the fault */
    slow_fault f = {b, EFFECTS, NULL};
    CU_ASSERT_EQUAL_FATAL(pthread_create(&ft, NULL, slow_fault_main, &f), 0);
    int fault_at = -1, last_effect_at = -1, effects = 0, prev_at = 0, worst_gap = 0;
    sim_event out[4];
    int step = 0;
    while (step < 2000 && effects < EFFECTS) {
        step++;
        sim_bus_step_once(b);
        released_arg ra = {b, (uint64_t)step};
        if (!tu_wait_until(released_reaches, &ra, 10000)) {
            CU_FAIL("a step let nothing through");
            break;
        }
        size_t n = sim_bus_ring_read(b, out, 4);
        CU_ASSERT_EQUAL(n, 1); /* one event a step */
        for (size_t i = 0; i < n; i++) {
            bool mine = !strcmp(out[i].kind, "fault") || !strcmp(out[i].kind, "effect");
            if (!mine)
                continue;
            if (step - prev_at > worst_gap)
                worst_gap = step - prev_at;
            prev_at = step;
            if (!strcmp(out[i].kind, "fault"))
                fault_at = step;
            else if (++effects == EFFECTS)
                last_effect_at = step;
        }
    }
    fprintf(stderr, "\n    [fault line at step %d, last effect at %d, at most %d steps apart]\n",
            fault_at, last_effect_at, worst_gap);
    CU_ASSERT(fault_at >= 1 && fault_at <= LOOPERS + 1);
    CU_ASSERT(worst_gap <= LOOPERS + 1);
    CU_ASSERT(last_effect_at >= 1 && last_effect_at <= (LOOPERS + 1) * (EFFECTS + 1));
    atomic_store(&l.stop, true);
    sim_bus_set_step(b, false); /* everything goes; the stream runs freely and stops */
    pthread_join(ft, NULL);
    for (int i = 0; i < LOOPERS; i++)
        pthread_join(lt[i], NULL);
    sim_bus_destroy(b);
}

static bool one_held(void *arg) {
    return sim_bus_step_waiting(arg) == 1;
}

/* Space while a fault's thread is away: step mode ends at once and lets everything go (the
 * wait for the thread is a step's, never the end of step mode's). */
static void test_step_mode_ends_while_a_fault_thread_is_away(void) {
    sim_bus *b = sim_bus_new(64);
    sim_bus_set_step(b, true);
    looper l = {b, false};
    pthread_t lt, ft;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&lt, NULL, looper_main, &l), 0);
    CU_ASSERT_TRUE_FATAL(tu_wait_until(one_held, b, 10000)); /* the stream waits */
    sim_bus_expect(b);
    atomic_bool go = false;
    slow_fault f = {b, 2, &go};
    CU_ASSERT_EQUAL_FATAL(pthread_create(&ft, NULL, slow_fault_main, &f), 0);
    sim_bus_step_once(b); /* waits for the fault thread, which has not started */
    sim_bus_step_info gi;
    sim_bus_step_state(b, &gi);
    CU_ASSERT_EQUAL(gi.released, 0);
    CU_ASSERT_EQUAL(gi.held, 1);
    atomic_store(&l.stop, true);
    sim_bus_set_step(b, false);
    atomic_store(&go, true);
    pthread_join(lt, NULL);
    pthread_join(ft, NULL); /* its events pass the open gate */
    CU_ASSERT(sim_bus_count(b, "fault") == 1 && sim_bus_count(b, "effect") == 2);
    sim_bus_destroy(b);
}

/* --- the clock a step leaves standing --------------------------------------------------------- */

static int64_t fake_wall_us;
static int64_t fake_wall(void *opaque) {
    (void)opaque;
    return fake_wall_us;
}
static void hook_run(void *opaque) {
    sim_clock_resume(opaque);
}
static void hook_hold(void *opaque) {
    sim_clock_pause(opaque);
}
static int64_t hook_now(void *opaque) {
    return sim_clock_now_us(opaque);
}

typedef struct paused_sink {
    sim_clock *c;
    int published, running; /* events published, of them while the clock ran */
} paused_sink;

static void note_clock(const sim_event *e, void *opaque) {
    (void)e;
    paused_sink *ps = opaque;
    ps->published++;
    ps->running += !sim_clock_paused(ps->c);
}

/* A step waits for an event nobody has emitted yet, so the clock runs; an emitter stamps its
 * event, then takes 12 ms (a loaded machine) to reach the gate. The step publishes it at the
 * time it reached the gate, where the clock then stands: the header never shows a time past
 * the event it explains (the 100-step tmux test once saw 12 ms between them under load). */
static void test_a_step_shows_the_time_its_event_reached_the_gate(void) {
    fake_wall_us = 1000000;
    sim_clock *c = sim_clock_new_with_wall(1.0, fake_wall, NULL);
    sim_bus *b = sim_bus_new(16);
    paused_sink ps = {c, 0, 0};
    CU_ASSERT_EQUAL(sim_bus_add_sink(b, note_clock, &ps), 0);
    sim_bus_set_step_hooks(b, hook_run, hook_hold, c);
    sim_bus_set_step_clock(b, hook_now, c);
    sim_bus_set_step(b, true);
    CU_ASSERT_TRUE(sim_clock_paused(c));
    int64_t t0 = sim_clock_now_us(c);
    sim_bus_step_once(b); /* nothing held: time runs until something happens */
    CU_ASSERT_FALSE(sim_clock_paused(c));
    fake_wall_us += 3000;
    sim_event e;
    sim_event_init(&e, SIM_SRC_PRODUCER, "late");
    e.t_us = sim_clock_now_us(c); /* stamped at t0 + 3 ms ... */
    CU_ASSERT_EQUAL(e.t_us, t0 + 3000);
    fake_wall_us += 12000; /* ... and 12 ms on its way to the gate */
    /* (emitted from a thread of its own: this one may be exempt from the gate, as the runner's
     * control calls made by earlier tests leave it) */
    timed_arg late = {b, e};
    pthread_t t;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, emit_main, &late), 0);
    pthread_join(t, NULL); /* the step waited for it: it goes through at once */
    CU_ASSERT_TRUE(sim_clock_paused(c)); /* the step's event happened: time stands */
    /* and it stood already when the event was published (a view reading the clock beside it
     * never sees time past it, however long the emitter is kept from the CPU) */
    CU_ASSERT_EQUAL(ps.published, 1);
    CU_ASSERT_EQUAL(ps.running, 0);
    sim_event out[2];
    CU_ASSERT_EQUAL_FATAL(sim_bus_ring_read(b, out, 2), 1);
    CU_ASSERT_EQUAL(out[0].t_us, t0 + 15000);
    CU_ASSERT_EQUAL(sim_clock_now_us(c), out[0].t_us);
    /* an event stamped long before it reaches the gate goes out at the time it got there,
     * where the clock stood since; wall time spent looking changes nothing */
    sim_event_init(&e, SIM_SRC_PRODUCER, "stale");
    e.t_us = t0;
    timed_arg ta = {b, e};
    CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, emit_main, &ta), 0);
    CU_ASSERT_TRUE_FATAL(tu_wait_until(one_held, b, 10000));
    fake_wall_us += 50000; /* the class looks for a while: the clock stands */
    sim_bus_step_once(b);
    pthread_join(t, NULL);
    CU_ASSERT_EQUAL_FATAL(sim_bus_ring_read(b, out, 2), 1);
    CU_ASSERT_EQUAL(out[0].t_us, t0 + 15000);
    CU_ASSERT_EQUAL(sim_clock_now_us(c), t0 + 15000);
    sim_bus_destroy(b);
    sim_clock_destroy(c);
}

/* --- a real run, stepped -------------------------------------------------------------------- */

static const char run_json[] =
    "{\"name\":\"gate\",\"cluster\":{\"brokers\":3,\"topics\":[{\"name\":\"parcels\","
    "\"partitions\":6,\"replication\":3,\"min.insync.replicas\":2}],\"follower_lag_ms\":30},"
    "\"producer\":{\"acks\":\"all\",\"enable.idempotence\":true,\"linger.ms\":20,"
    "\"batch.size\":4096,\"request.timeout.ms\":3000,\"delivery.timeout.ms\":30000},"
    "\"workload\":{\"duration_ms\":60000,\"rate\":150,\"keys\":40,"
    "\"value_size\":{\"min\":40,\"max\":240},\"seed\":42}}";

static bool clock_past_300ms(void *arg) {
    return sim_clock_now_us(sim_runner_clock(arg)) > 300000;
}

typedef struct sampled {
    sim_view_feed *feed;
    sim_view_model *m;
    uint64_t want;    /* the count to wait for */
    int inconsistent; /* samples whose count ran ahead of (or behind) the events folded */
    int samples;
} sampled;

typedef struct steady {
    sim_bus *b;
    uint64_t last;
    int same;
} steady;

/* Nothing published for ~20 polls: whatever passed the gate as it closed is out. */
static bool count_steady(void *arg) {
    steady *st = arg;
    uint64_t n = sim_bus_total(st->b);
    st->same = n == st->last ? st->same + 1 : 0;
    st->last = n;
    return st->same >= 20;
}

/* One view frame: the count drawn must be the last event folded (the ring never drops here). */
static bool sample_reaches(void *arg) {
    sampled *s = arg;
    sim_view_feed_sample(s->feed, s->m, tu_now_ms());
    s->samples++;
    if (s->m->status.events != sim_view_feed_last_seq(s->feed))
        s->inconsistent++;
    return s->m->status.events >= s->want;
}

/* As the tmux test does through the screen: a demo-like run paused, `k 1` then `u 1` queued,
 * then one step at a time, each sampled as the view does right after a key. Every step
 * publishes exactly one event, and the view's frame explains that event beside its count;
 * the down fault's line, its broker.down, then the up fault's line come in that order, the up
 * within a few dozen steps (each event the fault thread emits waits behind at most one held
 * event per other thread: all are stamped at the same stopped instant and it arrived later). */
static void test_queued_faults_are_stepped_in_order_and_explained(void) {
    char err[512];
    sim_scenario *sc = NULL;
    CU_ASSERT_EQUAL_FATAL(
        sim_scenario_parse(run_json, strlen(run_json), "gate", &sc, err, sizeof err), 0);
    sim_run_opts o = {.speed = 1.0, .ring_capacity = 1 << 16};
    sim_runner *r;
    CU_ASSERT_EQUAL_FATAL(sim_runner_new(sc, &o, &r, err, sizeof err), 0);
    sim_view_model *m = calloc(1, sizeof *m);
    sim_view_feed *feed = sim_view_feed_new(r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_PTR_NOT_NULL_FATAL(feed);
    CU_ASSERT_EQUAL_FATAL(sim_runner_start(r, err, sizeof err), 0);
    CU_ASSERT_TRUE_FATAL(tu_wait_until(clock_past_300ms, r, 30000));
    sim_runner_pause(r);
    steady st = {sim_runner_bus(r), 0, 0};
    CU_ASSERT_TRUE_FATAL(tu_wait_until(count_steady, &st, 10000));
    sampled s = {feed, m, 0, 0, 0};
    sample_reaches(&s);
    sim_fault down = {.kind = SIM_FAULT_BROKER_DOWN, .broker = 1, .partition = -1};
    sim_fault up = {.kind = SIM_FAULT_BROKER_UP, .broker = 1, .partition = -1};
    CU_ASSERT_EQUAL(sim_runner_fault_in_turn(r, &down, err, sizeof err), 1);
    CU_ASSERT_EQUAL(sim_runner_fault_in_turn(r, &up, err, sizeof err), 1);
    uint64_t base = m->status.events;
    int down_at = -1, down_ev_at = -1, up_at = -1, steps = 0;
    for (int i = 1; i <= 1000 && up_at < 0; i++) {
        sim_runner_step_once(r);
        s.want = base + (uint64_t)i;
        if (!tu_wait_until(sample_reaches, &s, 20000)) {
            CU_FAIL("a step did not publish its event");
            break;
        }
        steps = i;
        CU_ASSERT_EQUAL(m->status.events, s.want); /* exactly one event a step */
        const sim_event *e = &m->step_event;
        CU_ASSERT_TRUE(m->has_step_event && e->seq == s.want); /* explained beside its count */
        if (!strcmp(e->kind, "fault") && strstr(e->detail, "broker_down") && down_at < 0)
            down_at = i;
        if (!strcmp(e->kind, "broker.down") && e->node == 1 && down_ev_at < 0)
            down_ev_at = i;
        if (!strcmp(e->kind, "fault") && strstr(e->detail, "broker_up") && up_at < 0)
            up_at = i;
    }
    fprintf(stderr,
            "\n    [down fault at step %d, broker.down at %d, up fault at %d; %d of %d samples "
            "inconsistent]\n",
            down_at, down_ev_at, up_at, s.inconsistent, s.samples);
    CU_ASSERT_EQUAL(s.inconsistent, 0);
    CU_ASSERT(down_at >= 1);
    CU_ASSERT(down_ev_at > down_at);
    CU_ASSERT(up_at > down_ev_at);
    CU_ASSERT(up_at >= 1 && up_at <= 200);
    CU_ASSERT(steps >= 3);
    sim_view_feed_destroy(feed);
    free(m);
    sim_runner_destroy(r);
    sim_scenario_free(sc);
}

void suite_sim_gate(void);
void suite_sim_gate(void) {
    tu_suite("sim_gate");
    tu_test("test_ring_count_never_runs_ahead_of_the_events_read",
            test_ring_count_never_runs_ahead_of_the_events_read);
    tu_test("test_fault_thread_late_at_the_gate_waits_behind_a_bounded_few",
            test_fault_thread_late_at_the_gate_waits_behind_a_bounded_few);
    tu_test("test_step_mode_ends_while_a_fault_thread_is_away",
            test_step_mode_ends_while_a_fault_thread_is_away);
    tu_test("test_a_step_shows_the_time_its_event_reached_the_gate",
            test_a_step_shows_the_time_its_event_reached_the_gate);
    tu_test("test_queued_faults_are_stepped_in_order_and_explained",
            test_queued_faults_are_stepped_in_order_and_explained);
}
