/* The simulation clock and the event bus: pause, speed, wall conversion (with a fake wall
 * clock, no sleeping), the view ring and its drop count, the step gate. */
#include "sim/bus.h"
#include "sim/clock.h"
#include "sim/runner.h"
#include "tests/tu.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t fake_wall_us;
static int64_t fake_wall(void *opaque) {
    (void)opaque;
    return fake_wall_us;
}

static void test_clock_runs_at_speed(void) {
    fake_wall_us = 1000000;
    sim_clock *c = sim_clock_new_with_wall(2.0, fake_wall, NULL);
    CU_ASSERT_EQUAL(sim_clock_now_us(c), 0);
    fake_wall_us += 1000; /* 1 ms of wall */
    CU_ASSERT_EQUAL(sim_clock_now_us(c), 2000);
    const kw_clock *k = sim_clock_kw(c);
    CU_ASSERT_EQUAL(kw_clock_now_us(k), 2000);
    CU_ASSERT_EQUAL(k->wall_us(k->opaque, 10000), 5000); /* 10 ms simulated = 5 ms wall */
    sim_clock_destroy(c);
}

static void test_clock_pause_stops_time(void) {
    fake_wall_us = 0;
    sim_clock *c = sim_clock_new_with_wall(1.0, fake_wall, NULL);
    fake_wall_us = 5000;
    CU_ASSERT_EQUAL(sim_clock_now_us(c), 5000);
    sim_clock_pause(c);
    CU_ASSERT_TRUE(sim_clock_paused(c));
    fake_wall_us += 600000000; /* ten minutes of class discussion */
    CU_ASSERT_EQUAL(sim_clock_now_us(c), 5000);
    /* a waiter is told to poll, not to sleep out a scaled duration */
    CU_ASSERT_EQUAL(sim_clock_wall_us(c, 1000000), SIM_CLOCK_PAUSED_POLL_US);
    sim_clock_resume(c);
    CU_ASSERT_EQUAL(sim_clock_now_us(c), 5000); /* no jump on resume */
    fake_wall_us += 1000;
    CU_ASSERT_EQUAL(sim_clock_now_us(c), 6000);
    sim_clock_destroy(c);
}

/* Record timestamps come from the epoch, not from the machine's uptime: the clock maps simulated
 * time onto the real-time clock at its creation, so they advance with simulated time, stand
 * still while paused and look like today's date on a machine booted a minute ago. */
static void test_clock_epoch_follows_simulated_time(void) {
    fake_wall_us = 60 * 1000000; /* a monotonic clock that has run for a minute */
    sim_clock *c = sim_clock_new_with_wall(2.0, fake_wall, NULL);
    const kw_clock *k = sim_clock_kw(c);
    int64_t e0 = kw_clock_epoch_ms(k);
    CU_ASSERT(llabs(e0 - (int64_t)time(NULL) * 1000) < 60000);
    fake_wall_us += 1000000; /* one wall second at speed 2 */
    CU_ASSERT_EQUAL(kw_clock_epoch_ms(k) - e0, 2000);
    sim_clock_pause(c);
    fake_wall_us += 600000000;
    CU_ASSERT_EQUAL(kw_clock_epoch_ms(k) - e0, 2000);
    sim_clock_destroy(c);
}

static void test_clock_speed_change_is_continuous(void) {
    fake_wall_us = 0;
    sim_clock *c = sim_clock_new_with_wall(1.0, fake_wall, NULL);
    fake_wall_us = 10000;
    sim_clock_set_speed(c, 10.0);
    CU_ASSERT_EQUAL(sim_clock_now_us(c), 10000);
    fake_wall_us += 1000;
    CU_ASSERT_EQUAL(sim_clock_now_us(c), 20000);
    sim_clock_set_speed(c, 0.1); /* a 5 ms linger now lasts 50 ms of wall time */
    CU_ASSERT_EQUAL(sim_clock_wall_us(c, 5000), 50000);
    sim_clock_set_speed(c, 1e9);
    CU_ASSERT_EQUAL(sim_clock_speed(c), SIM_CLOCK_MAX_SPEED);
    sim_clock_set_speed(c, -3);
    CU_ASSERT_EQUAL(sim_clock_speed(c), SIM_CLOCK_MIN_SPEED);
    sim_clock_destroy(c);
}

static void test_clock_never_goes_backwards(void) {
    fake_wall_us = 100;
    sim_clock *c = sim_clock_new_with_wall(1.0, fake_wall, NULL);
    fake_wall_us = 50; /* a wall source stepping back must not make time run back */
    CU_ASSERT_EQUAL(sim_clock_now_us(c), 0);
    CU_ASSERT_EQUAL(sim_clock_wall_us(c, 0), 0);
    CU_ASSERT_EQUAL(sim_clock_wall_us(c, -5), 0);
    sim_clock_destroy(c);
}

typedef struct sleeper {
    sim_clock *c;
    int64_t until;
    atomic_bool done;
    atomic_bool cancel;
    bool reached;
} sleeper;

static void *sleeper_main(void *arg) {
    sleeper *s = arg;
    s->reached = sim_clock_sleep_until(s->c, s->until, &s->cancel);
    atomic_store(&s->done, true);
    return NULL;
}

static bool sleeper_done(void *arg) {
    return atomic_load(&((sleeper *)arg)->done);
}

/* A 10 ms (simulated) wait — a linger, a backoff — does not end while the clock is paused,
 * and ends soon after it resumes. */
static void test_clock_paused_sleep_does_not_expire(void) {
    sleeper s = {.c = sim_clock_new(1.0)};
    sim_clock_pause(s.c);
    s.until = sim_clock_now_us(s.c) + 10000;
    pthread_t t;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, sleeper_main, &s), 0);
    CU_ASSERT_FALSE(tu_wait_until(sleeper_done, &s, 150)); /* 15x the wait, still paused */
    sim_clock_resume(s.c);
    CU_ASSERT_TRUE(tu_wait_until(sleeper_done, &s, 2000));
    pthread_join(t, NULL);
    CU_ASSERT_TRUE(s.reached);
    sim_clock_destroy(s.c);
}

static void test_clock_sleep_can_be_cancelled(void) {
    sleeper s = {.c = sim_clock_new(1.0)};
    s.until = 3600LL * 1000000; /* an hour */
    pthread_t t;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, sleeper_main, &s), 0);
    atomic_store(&s.cancel, true);
    CU_ASSERT_TRUE(tu_wait_until(sleeper_done, &s, 2000));
    pthread_join(t, NULL);
    CU_ASSERT_FALSE(s.reached);
    sim_clock_destroy(s.c);
}

/* --- bus ------------------------------------------------------------------------------- */

static void emit_kind(sim_bus *b, const char *kind) {
    sim_event e;
    sim_event_init(&e, SIM_SRC_SIM, kind);
    sim_bus_emit(b, &e);
}

static void test_bus_ring_keeps_order_and_counts_drops(void) {
    sim_bus *b = sim_bus_new(4);
    for (int i = 0; i < 6; i++)
        emit_kind(b, i % 2 ? "odd" : "even");
    sim_event out[8];
    size_t n = sim_bus_ring_read(b, out, 8);
    CU_ASSERT_EQUAL(n, 4);
    CU_ASSERT_EQUAL(out[0].seq, 1);
    CU_ASSERT_EQUAL(out[3].seq, 4);
    CU_ASSERT_STRING_EQUAL(out[1].kind, "odd");
    CU_ASSERT_EQUAL(sim_bus_ring_dropped(b), 2);
    CU_ASSERT_EQUAL(sim_bus_total(b), 6);
    CU_ASSERT_EQUAL(sim_bus_count(b, "even"), 3);
    CU_ASSERT_EQUAL(sim_bus_count(b, "odd"), 3);
    CU_ASSERT_EQUAL(sim_bus_count(b, "never"), 0);
    CU_ASSERT_EQUAL(sim_bus_ring_read(b, out, 8), 0);
    emit_kind(b, "again");
    CU_ASSERT_EQUAL(sim_bus_ring_read(b, out, 8), 1);
    CU_ASSERT_EQUAL(out[0].seq, 7);
    sim_bus_destroy(b);
}

typedef struct kinds_seen {
    int n;
    bool in_order;
} kinds_seen;

static void note_kind(const char *kind, uint64_t n, void *opaque) {
    kinds_seen *ks = opaque;
    char want[32];
    snprintf(want, sizeof want, "kind-%d", ks->n);
    if (strcmp(kind, want) || n != 2)
        ks->in_order = false;
    ks->n++;
}

/* The per-kind table holds 255 kinds; later kinds go uncounted per kind, never lost from the
 * total, and neither counting nor looking up loops over a full table. */
static void test_bus_counts_255_kinds_and_the_total_beyond(void) {
    sim_bus *b = sim_bus_new(0);
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 300; i++) {
            char kind[32];
            snprintf(kind, sizeof kind, "kind-%d", i);
            emit_kind(b, kind);
        }
    CU_ASSERT_EQUAL(sim_bus_total(b), 600);
    CU_ASSERT_EQUAL(sim_bus_count(b, "kind-0"), 2);
    CU_ASSERT_EQUAL(sim_bus_count(b, "kind-254"), 2);
    CU_ASSERT_EQUAL(sim_bus_count(b, "kind-255"), 0);
    CU_ASSERT_EQUAL(sim_bus_count(b, "kind-299"), 0);
    CU_ASSERT_EQUAL(sim_bus_count(b, "never"), 0);
    kinds_seen ks = {0, true};
    sim_bus_each_count(b, note_kind, &ks);
    CU_ASSERT_EQUAL(ks.n, 255);
    CU_ASSERT_TRUE(ks.in_order);
    sim_bus_destroy(b);
}

static int sink_calls;
static void counting_sink(const sim_event *e, void *opaque) {
    (void)e;
    (*(int *)opaque)++;
}

static void test_bus_sinks_see_every_event_without_a_ring(void) {
    sim_bus *b = sim_bus_new(0);
    sink_calls = 0;
    CU_ASSERT_EQUAL(sim_bus_add_sink(b, counting_sink, &sink_calls), 0);
    for (int i = 0; i < 100; i++)
        emit_kind(b, "x");
    CU_ASSERT_EQUAL(sink_calls, 100);
    sim_event out[1];
    CU_ASSERT_EQUAL(sim_bus_ring_read(b, out, 1), 0);
    CU_ASSERT_EQUAL(sim_bus_ring_dropped(b), 0);
    sim_bus_destroy(b);
}

typedef struct emitter {
    sim_bus *b;
    int n;
    atomic_int emitted;
} emitter;

static void *emitter_main(void *arg) {
    emitter *em = arg;
    for (int i = 0; i < em->n; i++) {
        emit_kind(em->b, "tick");
        atomic_fetch_add(&em->emitted, 1);
    }
    return NULL;
}

typedef struct timed_emitter {
    sim_bus *b;
    int64_t t_us;
} timed_emitter;

static void *timed_main(void *arg) {
    timed_emitter *te = arg;
    sim_event e;
    sim_event_init(&e, SIM_SRC_SIM, "timed");
    e.t_us = te->t_us;
    sim_bus_emit(te->b, &e);
    return NULL;
}

typedef struct counting_emitter {
    sim_bus *b;
    int n;
    int done;
} counting_emitter;

static void *counting_main(void *arg) {
    counting_emitter *ce = arg;
    for (int i = 0; i < ce->n; i++) {
        sim_event e;
        sim_event_init(&e, SIM_SRC_SIM, "tick");
        e.t_us = i;
        sim_bus_emit(ce->b, &e);
    }
    return NULL;
}

typedef struct gate_state {
    sim_bus *b;
    int waiting;
    uint64_t total;
} gate_state;

static bool gate_reached(void *arg) {
    gate_state *g = arg;
    return sim_bus_step_waiting(g->b) == g->waiting && sim_bus_total(g->b) == g->total;
}

/* Step mode: two emitting threads each hand one event to the gate, which publishes nothing;
 * every step publishes exactly one held event (the earliest) and lets its thread on to its
 * next event, which is held in turn; step mode off publishes the rest. */
static void test_bus_step_mode_advances_one_event_per_step(void) {
    sim_bus *b = sim_bus_new(64);
    sim_bus_set_step(b, true);
    emitter e1 = {b, 5, 0}, e2 = {b, 5, 0};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, emitter_main, &e1);
    pthread_create(&t2, NULL, emitter_main, &e2);
    gate_state g = {b, 2, 0};
    CU_ASSERT_TRUE_FATAL(tu_wait_until(gate_reached, &g, 2000));
    for (int step = 1; step <= 3; step++) {
        CU_ASSERT_EQUAL(sim_bus_total(b), (uint64_t)step - 1); /* nothing leaked */
        sim_bus_step_once(b);
        g.total = (uint64_t)step;
        CU_ASSERT_TRUE(tu_wait_until(gate_reached, &g, 2000));
    }
    sim_bus_step_info gi;
    sim_bus_step_state(b, &gi);
    CU_ASSERT_EQUAL(gi.steps, 3);
    CU_ASSERT_EQUAL(gi.released, 3);
    CU_ASSERT_EQUAL(gi.last_released, 3);
    /* the view thread is exempt: its events never wait */
    sim_bus_exempt_thread(true);
    emit_kind(b, "view-key");
    sim_bus_exempt_thread(false);
    CU_ASSERT_EQUAL(sim_bus_total(b), 4);
    sim_event seen[16];
    CU_ASSERT_EQUAL(sim_bus_ring_read(b, seen, 16), 4);
    CU_ASSERT_TRUE(seen[0].stepped && seen[1].stepped && seen[2].stepped);
    CU_ASSERT_FALSE(seen[3].stepped);
    sim_bus_set_step(b, false);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    CU_ASSERT_EQUAL(sim_bus_total(b), 11);
    CU_ASSERT_EQUAL(atomic_load(&e1.emitted) + atomic_load(&e2.emitted), 10);
    sim_bus_destroy(b);
}

/* Held events go out earliest simulated time first, whatever order they arrived in. */
static void test_bus_step_releases_earliest_event_first(void) {
    sim_bus *b = sim_bus_new(64);
    sim_bus_set_step(b, true);
    timed_emitter late = {b, 5000}, early = {b, 1000};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, timed_main, &late);
    gate_state g = {b, 1, 0};
    CU_ASSERT_TRUE_FATAL(tu_wait_until(gate_reached, &g, 2000));
    pthread_create(&t2, NULL, timed_main, &early);
    g.waiting = 2;
    CU_ASSERT_TRUE_FATAL(tu_wait_until(gate_reached, &g, 2000));
    sim_bus_step_once(b);
    g = (gate_state){b, 1, 1};
    CU_ASSERT_TRUE(tu_wait_until(gate_reached, &g, 2000));
    sim_event seen[4];
    CU_ASSERT_EQUAL_FATAL(sim_bus_ring_read(b, seen, 4), 1);
    CU_ASSERT_EQUAL(seen[0].t_us, 1000);
    sim_bus_step_once(b);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    CU_ASSERT_EQUAL(sim_bus_ring_read(b, seen, 4), 1);
    CU_ASSERT_EQUAL(seen[0].t_us, 5000);
    sim_bus_destroy(b);
}

static bool is_tick_3(const sim_event *e, void *opaque) {
    (void)opaque;
    return e->t_us == 3;
}

/* A run-to lets events through until one matches, then holds again. */
static void test_bus_run_to_stops_at_the_match(void) {
    sim_bus *b = sim_bus_new(64);
    sim_bus_set_step(b, true);
    counting_emitter ce = {b, 6, 0};
    pthread_t t;
    pthread_create(&t, NULL, counting_main, &ce);
    gate_state g = {b, 1, 0};
    CU_ASSERT_TRUE_FATAL(tu_wait_until(gate_reached, &g, 2000));
    sim_bus_run_to(b, is_tick_3, NULL);
    g = (gate_state){b, 1, 4}; /* ticks 0..3 out, tick 4 held */
    CU_ASSERT_TRUE(tu_wait_until(gate_reached, &g, 2000));
    CU_ASSERT_FALSE(sim_bus_running_to(b));
    sim_bus_set_step(b, false);
    pthread_join(t, NULL);
    CU_ASSERT_EQUAL(sim_bus_total(b), 6);
    sim_bus_destroy(b);
}

static bool run_to_over(void *arg) {
    sim_bus_step_info gi;
    sim_bus_step_state(arg, &gi);
    return gi.on && !gi.running_to && gi.run_to_met > 0;
}

/* On a real run: `f` (run to the next fault) lets events through until the timeline's fault
 * line, then holds; the clock stands at the fault's time and stays there; `T` (run to the
 * next truncation) stops on a log.truncated. Faults come before their effects. The followers
 * copy 5 s late, so at 600 ms broker 1's partition holds records nobody else has: its crash
 * always truncates, however slowly a loaded machine produced them. */
static void test_runner_run_to_stops_on_the_fault_and_holds(void) {
    static const char json[] =
        "{\"name\":\"r\",\"cluster\":{\"brokers\":3,\"topics\":[{\"name\":\"t\","
        "\"partitions\":3,\"replication\":3}],\"follower_lag_ms\":5000},"
        "\"producer\":{\"acks\":1,\"enable.idempotence\":false,\"linger.ms\":1},"
        "\"workload\":{\"messages\":1000,\"rate\":1000,\"keys\":30},"
        "\"timeline\":[{\"at_ms\":600,\"fault\":\"broker_down\",\"broker\":1}]}";
    char err[512];
    sim_scenario *s = NULL;
    CU_ASSERT_EQUAL_FATAL(sim_scenario_parse(json, strlen(json), "t", &s, err, sizeof err), 0);
    sim_run_opts o = {.speed = 1.0, .ring_capacity = 1 << 16};
    sim_runner *r;
    CU_ASSERT_EQUAL_FATAL(sim_runner_new(s, &o, &r, err, sizeof err), 0);
    sim_bus *b = sim_runner_bus(r);
    sim_runner_set_step(r, true);
    CU_ASSERT_EQUAL_FATAL(sim_runner_start(r, err, sizeof err), 0);
    sim_runner_run_to(r, SIM_RUN_TO_FAULT, 0);
    CU_ASSERT_TRUE_FATAL(tu_wait_until(run_to_over, b, 10000));
    static sim_event ev[1 << 16];
    size_t n = sim_bus_ring_read(b, ev, 1 << 16);
    CU_ASSERT_FATAL(n > 0);
    CU_ASSERT_STRING_EQUAL(ev[n - 1].kind, "fault"); /* before broker.down and elections */
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_STRING_NOT_EQUAL(ev[i].kind, "broker.down");
    sim_progress p;
    sim_runner_progress(r, &p);
    CU_ASSERT(p.elapsed_ms >= 600);
    int64_t t = sim_clock_now_us(sim_runner_clock(r));
    CU_ASSERT(t - ev[n - 1].t_us < 1000); /* the clock stands at the fault, not past it */
    struct timespec ts = {0, 100 * 1000000L};
    nanosleep(&ts, NULL);
    CU_ASSERT_EQUAL(sim_clock_now_us(sim_runner_clock(r)), t); /* and stays there */
    sim_runner_run_to(r, SIM_RUN_TO_LOSS, 0);
    CU_ASSERT_TRUE(tu_wait_until(run_to_over, b, 10000));
    n = sim_bus_ring_read(b, ev, 1 << 16);
    CU_ASSERT_FATAL(n > 0);
    CU_ASSERT_STRING_EQUAL(ev[n - 1].kind, "log.truncated");
    sim_runner_set_step(r, false);
    CU_ASSERT_TRUE(sim_runner_wait(r, 30000));
    sim_runner_destroy(r);
    sim_scenario_free(s);
}

void suite_sim_clock(void);
void suite_sim_clock(void) {
    tu_suite("sim_clock");
    tu_test("test_clock_runs_at_speed", test_clock_runs_at_speed);
    tu_test("test_clock_pause_stops_time", test_clock_pause_stops_time);
    tu_test("test_clock_speed_change_is_continuous", test_clock_speed_change_is_continuous);
    tu_test("test_clock_epoch_follows_simulated_time", test_clock_epoch_follows_simulated_time);
    tu_test("test_clock_never_goes_backwards", test_clock_never_goes_backwards);
    tu_test("test_clock_paused_sleep_does_not_expire", test_clock_paused_sleep_does_not_expire);
    tu_test("test_clock_sleep_can_be_cancelled", test_clock_sleep_can_be_cancelled);
    tu_test("test_bus_ring_keeps_order_and_counts_drops",
            test_bus_ring_keeps_order_and_counts_drops);
    tu_test("test_bus_counts_255_kinds_and_the_total_beyond",
            test_bus_counts_255_kinds_and_the_total_beyond);
    tu_test("test_bus_sinks_see_every_event_without_a_ring",
            test_bus_sinks_see_every_event_without_a_ring);
    tu_test("test_bus_step_mode_advances_one_event_per_step",
            test_bus_step_mode_advances_one_event_per_step);
    tu_test("test_bus_step_releases_earliest_event_first",
            test_bus_step_releases_earliest_event_first);
    tu_test("test_bus_run_to_stops_at_the_match", test_bus_run_to_stops_at_the_match);
    tu_test("test_runner_run_to_stops_on_the_fault_and_holds",
            test_runner_run_to_stops_on_the_fault_and_holds);
}
