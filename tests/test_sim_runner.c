/* The runner object as the view drives it, in-process over real loopback sockets: a paused
 * clock holds a lingering batch (no ack however long we wait), step mode publishes exactly one
 * event per step, faults from the control thread take effect and appear on the bus, the audit
 * reads the logs. */
#include "mockbroker/mb.h"
#include "sim/runner.h"
#include "tests/tu.h"

#include <stdio.h>
#include <string.h>

static sim_scenario *parse(const char *text) {
    char err[512];
    sim_scenario *s = NULL;
    if (sim_scenario_parse(text, strlen(text), "test", &s, err, sizeof err)) {
        fprintf(stderr, "\n  %s\n", err);
        return NULL;
    }
    return s;
}

static bool acked_one(void *arg) {
    sim_progress p;
    sim_runner_progress(arg, &p);
    return p.acknowledged >= 1;
}

static bool sent_one(void *arg) {
    sim_progress p;
    sim_runner_progress(arg, &p);
    return p.sent >= 1;
}

/* linger.ms 300 and one record: while the clock is paused the batch never becomes ready, so
 * nothing is acknowledged in 600 ms of wall time (twice the linger); after resume it is. */
static void test_paused_clock_holds_linger(void) {
    sim_scenario *s = parse("{\"name\":\"p\",\"cluster\":{\"brokers\":1,\"topics\":[{\"name\":"
                            "\"t\"}]},\"producer\":{\"linger.ms\":300,\"batch.size\":100000},"
                            "\"workload\":{\"messages\":1}}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    sim_run_opts o = {.speed = 1.0};
    sim_runner *r;
    char err[512];
    CU_ASSERT_EQUAL_FATAL(sim_runner_new(s, &o, &r, err, sizeof err), 0);
    sim_runner_pause(r);
    CU_ASSERT_EQUAL_FATAL(sim_runner_start(r, err, sizeof err), 0);
    CU_ASSERT_TRUE(tu_wait_until(sent_one, r, 5000));
    int64_t t0 = sim_clock_now_us(sim_runner_clock(r));
    CU_ASSERT_FALSE(tu_wait_until(acked_one, r, 600));
    CU_ASSERT_EQUAL(sim_clock_now_us(sim_runner_clock(r)), t0);
    sim_runner_resume(r);
    CU_ASSERT_TRUE(tu_wait_until(acked_one, r, 5000));
    CU_ASSERT_TRUE(sim_runner_wait(r, 10000));
    sim_audit a;
    CU_ASSERT_EQUAL(sim_runner_audit(r, &a), 0);
    CU_ASSERT_EQUAL(a.acknowledged, 1);
    CU_ASSERT_EQUAL(a.in_log, 1);
    CU_ASSERT_EQUAL(a.lost, 0);
    CU_ASSERT_TRUE(a.elapsed_ms >= 300); /* the linger was served in simulated time */
    sim_runner_destroy(r);
    sim_scenario_free(s);
}

/* Events published: in step mode held events are not, so this moves by one per step. */
static uint64_t moved(sim_bus *b) {
    return sim_bus_total(b);
}

typedef struct settle {
    sim_bus *b;
    uint64_t want;
    int hits; /* consecutive samples at `want` */
} settle;

/* True once moved() has read `want` on 20 consecutive samples (~20 ms): a step that let two
 * events through would never settle at `want`. */
static bool settled_at(void *arg) {
    settle *st = arg;
    st->hits = moved(st->b) == st->want ? st->hits + 1 : 0;
    return st->hits >= 20;
}

typedef struct clock_at {
    sim_clock *c;
    int64_t t;
} clock_at;

static bool clock_moved(void *arg) {
    clock_at *ca = arg;
    return sim_clock_now_us(ca->c) != ca->t;
}

static bool anyone_waiting(void *arg) {
    return sim_bus_step_waiting(arg) > 0;
}

/* Step mode on a real run: every step lets exactly one held thread go on by one event, and
 * simulated time does not run while the pipeline is held. */
static void test_step_mode_moves_one_event_per_step(void) {
    sim_scenario *s = parse("{\"name\":\"s\",\"cluster\":{\"brokers\":2,\"topics\":[{\"name\":"
                            "\"t\",\"partitions\":2,\"replication\":2}]},"
                            "\"producer\":{\"linger.ms\":1},"
                            "\"workload\":{\"messages\":20,\"rate\":1000}}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    sim_run_opts o = {.speed = 1.0, .ring_capacity = 1024};
    sim_runner *r;
    char err[512];
    CU_ASSERT_EQUAL_FATAL(sim_runner_new(s, &o, &r, err, sizeof err), 0);
    sim_bus *b = sim_runner_bus(r);
    /* step mode from the start: only the control thread's own events (exempt) move on */
    sim_runner_set_step(r, true);
    CU_ASSERT_EQUAL_FATAL(sim_runner_start(r, err, sizeof err), 0);
    CU_ASSERT_TRUE_FATAL(tu_wait_until(anyone_waiting, b, 5000));
    uint64_t base = sim_bus_count(b, "run.started"); /* emitted by this (exempt) thread */
    settle st = {b, base, 0};
    CU_ASSERT_TRUE_FATAL(tu_wait_until(settled_at, &st, 5000));
    for (int i = 1; i <= 25; i++) {
        sim_runner_step_once(r);
        st = (settle){b, base + (uint64_t)i, 0};
        CU_ASSERT_TRUE(tu_wait_until(settled_at, &st, 5000));
        if (i == 5) {
            /* held between steps, simulated time stands still: no linger or timeout runs */
            clock_at ca = {sim_runner_clock(r), sim_clock_now_us(sim_runner_clock(r))};
            CU_ASSERT_FALSE(tu_wait_until(clock_moved, &ca, 200));
        }
    }
    sim_progress p;
    sim_runner_progress(r, &p);
    CU_ASSERT_TRUE(p.stepping);
    CU_ASSERT_TRUE(p.acknowledged < 20); /* the held pipeline has not finished on its own */
    sim_runner_set_step(r, false);
    CU_ASSERT_TRUE(sim_runner_wait(r, 20000));
    sim_audit a;
    sim_runner_audit(r, &a);
    CU_ASSERT_EQUAL(a.acknowledged, 20);
    sim_runner_destroy(r);
    sim_scenario_free(s);
}

static bool saw_fault_event(void *arg) {
    sim_bus *b = arg;
    return sim_bus_count(b, "fault") >= 1 && sim_bus_count(b, "leader.changed") >= 1;
}

/* A view key: broker 1 down from the control thread; the cluster moves its leaders, the bus
 * carries the fault, a bad broker id is refused with a reason. Stop ends the run early with
 * a partial audit. */
static void test_fault_from_the_control_thread(void) {
    sim_scenario *s = parse("{\"name\":\"f\",\"cluster\":{\"brokers\":3,\"topics\":[{\"name\":"
                            "\"t\",\"partitions\":3,\"replication\":3}]},"
                            "\"producer\":{\"request.timeout.ms\":2000,"
                            "\"delivery.timeout.ms\":20000},"
                            "\"workload\":{\"duration_ms\":60000,\"rate\":500,\"keys\":5}}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    sim_run_opts o = {.speed = 1.0, .ring_capacity = 4096, .stop_grace_ms = 2000};
    sim_runner *r;
    char err[512];
    CU_ASSERT_EQUAL_FATAL(sim_runner_new(s, &o, &r, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(sim_runner_start(r, err, sizeof err), 0);
    CU_ASSERT_TRUE(tu_wait_until(acked_one, r, 5000));
    sim_fault f = {.kind = SIM_FAULT_BROKER_DOWN, .broker = 1, .partition = -1};
    CU_ASSERT_EQUAL(sim_runner_fault(r, &f, err, sizeof err), 0);
    CU_ASSERT_FALSE(mb_broker_is_up(sim_runner_cluster(r), 1));
    CU_ASSERT_TRUE(tu_wait_until(saw_fault_event, sim_runner_bus(r), 5000));
    mb_partition_info pi;
    CU_ASSERT_EQUAL(mb_partition_info_get(sim_runner_cluster(r), "t", 0, &pi), MB_OK);
    CU_ASSERT_NOT_EQUAL(pi.leader, 1);
    sim_fault bad = {.kind = SIM_FAULT_RTT, .broker = 9, .ms = 5, .partition = -1};
    CU_ASSERT_EQUAL(sim_runner_fault(r, &bad, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "rtt broker=9"));
    sim_runner_stop(r);
    CU_ASSERT_TRUE(sim_runner_wait(r, 10000));
    sim_audit a;
    sim_runner_audit(r, &a);
    CU_ASSERT_TRUE(a.interrupted);
    CU_ASSERT_TRUE(a.sent > 0 && a.sent < 30000);
    CU_ASSERT_EQUAL(a.lost, 0); /* acks=all (the default) */
    CU_ASSERT_EQUAL(a.faults_applied, 1);
    CU_ASSERT_EQUAL(a.faults_failed, 1);
    sim_runner_destroy(r);
    sim_scenario_free(s);
}

/* Every fault kind maps onto the cluster's fault API and takes effect on a live run;
 * with acks=all and idempotence nothing acknowledged is lost. */
static void test_every_fault_kind_applies(void) {
    sim_scenario *s = parse("{\"name\":\"k\",\"cluster\":{\"brokers\":3,\"topics\":[{\"name\":"
                            "\"t\",\"partitions\":3,\"replication\":3}]},"
                            "\"producer\":{\"request.timeout.ms\":1000,"
                            "\"delivery.timeout.ms\":30000},"
                            "\"workload\":{\"messages\":400,\"rate\":200,\"keys\":7}}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    sim_run_opts o = {.speed = 5.0};
    sim_runner *r;
    char err[512];
    CU_ASSERT_EQUAL_FATAL(sim_runner_new(s, &o, &r, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(sim_runner_start(r, err, sizeof err), 0);
    CU_ASSERT_TRUE(tu_wait_until(acked_one, r, 5000));
    const sim_fault faults[] = {
        {.kind = SIM_FAULT_RTT, .broker = 2, .ms = 10, .partition = -1},
        {.kind = SIM_FAULT_DROP_RESPONSES, .broker = 3, .count = 1, .partition = -1},
        {.kind = SIM_FAULT_INJECT_ERROR,
         .broker = -1,
         .api = 0,
         .code = 19,
         .count = 2,
         .partition = -1},
        {.kind = SIM_FAULT_INJECT_ERROR,
         .broker = -1,
         .api = 0,
         .code = 6,
         .count = 1,
         .topic = "t",
         .partition = 1},
        {.kind = SIM_FAULT_FOLLOWER_LAG, .broker = 3, .ms = 50, .partition = -1},
        {.kind = SIM_FAULT_ISOLATE_BROKER, .broker = 3, .partition = -1},
        {.kind = SIM_FAULT_HEAL, .broker = 3, .partition = -1},
        {.kind = SIM_FAULT_HEAL, .broker = -1, .partition = -1},
        {.kind = SIM_FAULT_MOVE_LEADER, .broker = 2, .topic = "t", .partition = 0},
        {.kind = SIM_FAULT_BROKER_DOWN, .broker = 3, .partition = -1},
        {.kind = SIM_FAULT_BROKER_UP, .broker = 3, .partition = -1},
    };
    int n = (int)(sizeof faults / sizeof faults[0]);
    for (int i = 0; i < n; i++) {
        err[0] = '\0';
        int rc = sim_runner_fault(r, &faults[i], err, sizeof err);
        if (rc)
            fprintf(stderr, "\n  fault %d: %s\n", i, err);
        CU_ASSERT_EQUAL(rc, 0);
    }
    mb_partition_info pi;
    CU_ASSERT_EQUAL(mb_partition_info_get(sim_runner_cluster(r), "t", 0, &pi), MB_OK);
    CU_ASSERT_EQUAL(pi.leader, 2);
    CU_ASSERT_TRUE(mb_broker_is_up(sim_runner_cluster(r), 3));
    CU_ASSERT_EQUAL(sim_bus_count(sim_runner_bus(r), "fault"), (uint64_t)n);
    CU_ASSERT_TRUE(sim_runner_wait(r, 30000));
    sim_audit a;
    sim_runner_audit(r, &a);
    CU_ASSERT_EQUAL(a.faults_applied, n);
    CU_ASSERT_EQUAL(a.sent, 400);
    CU_ASSERT_EQUAL(a.lost, 0);
    CU_ASSERT_EQUAL(a.acknowledged + a.failed, 400);
    sim_runner_destroy(r);
    sim_scenario_free(s);
}

void suite_sim_runner(void);
void suite_sim_runner(void) {
    tu_suite("sim_runner");
    tu_test("test_paused_clock_holds_linger", test_paused_clock_holds_linger);
    tu_test("test_step_mode_moves_one_event_per_step", test_step_mode_moves_one_event_per_step);
    tu_test("test_fault_from_the_control_thread", test_fault_from_the_control_thread);
    tu_test("test_every_fault_kind_applies", test_every_fault_kind_applies);
}
