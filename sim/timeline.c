/* The fault timeline (the lab's script of mishaps): plays each entry at its simulated time.
 * A key pressed in the view goes through the same sim_fault_apply(), so both leave the same
 * "fault" event in the trace. */
#include "sim/runner_int.h"

#include <stdlib.h>
#include <string.h>

/* Calls the mock cluster's fault API for one fault. Returns an mb_err. */
static int apply(sim_runner *r, const sim_fault *f) {
    mb_cluster *c = r->cluster;
    const char *topic = f->topic[0] ? f->topic : r->s->workload.topic;
    if (r->foreign) /* a cluster Courier does not own: network faults, through the proxy */
        return sim_runner_proxy_fault(r, f);
    switch (f->kind) {
    case SIM_FAULT_DISCONNECT:
    case SIM_FAULT_BLACKHOLE:
        return sim_runner_proxy_fault(r, f);
    case SIM_FAULT_BROKER_DOWN:
        return mb_broker_down(c, f->broker);
    case SIM_FAULT_BROKER_UP:
        return mb_broker_up(c, f->broker);
    case SIM_FAULT_RTT:
        return mb_broker_set_rtt(c, f->broker, f->ms);
    case SIM_FAULT_DROP_RESPONSES:
        return mb_broker_drop_responses(c, f->broker, f->count);
    case SIM_FAULT_INJECT_ERROR: {
        if (f->count < 1 || f->count > 1000000)
            return MB_ERR_INVALID_ARG;
        kw_err *errs = malloc((size_t)f->count * sizeof *errs);
        if (!errs)
            return MB_ERR_NO_MEMORY;
        for (int i = 0; i < f->count; i++)
            errs[i] = (kw_err)f->code;
        int rc = mb_push_request_errors(c, f->api, f->topic[0] ? f->topic : NULL, f->partition,
                                        errs, (size_t)f->count);
        free(errs);
        return rc;
    }
    case SIM_FAULT_MOVE_LEADER:
        return mb_partition_move_leader(c, topic, f->partition, f->broker);
    case SIM_FAULT_FOLLOWER_LAG:
        return mb_broker_set_follower_lag(c, f->broker, f->ms);
    case SIM_FAULT_ISOLATE_BROKER:
        return mb_broker_isolate(c, f->broker);
    case SIM_FAULT_HEAL:
        (void)sim_runner_proxy_fault(r, f); /* the proxy's faults end too, when there is one */
        if (f->broker >= 1)
            return mb_broker_heal(c, f->broker);
        for (int b = 1; b <= r->s->cluster.brokers; b++) {
            int rc = mb_broker_heal(c, b);
            if (rc != MB_OK)
                return rc;
        }
        return MB_OK;
    default:
        return MB_ERR_INVALID_ARG;
    }
}

/* The "fault" event goes out first, then the cluster is changed: the trace (and a class
 * stepping through it) reads the cause before its effects. A fault the cluster refuses is
 * followed by a "fault.failed" event naming why. */
int sim_fault_apply(sim_runner *r, const sim_fault *f, char *errbuf, size_t errsize) {
    char desc[200];
    if ((unsigned)f->kind >= SIM_FAULT__COUNT) {
        snprintf(errbuf, errsize, "unknown fault kind %d", (int)f->kind);
        return -1;
    }
    sim_fault_describe(f, desc, sizeof desc);
    sim_event e;
    sim_event_init(&e, SIM_SRC_SIM, "fault");
    e.node = f->broker;
    if (f->kind == SIM_FAULT_MOVE_LEADER || (f->kind == SIM_FAULT_INJECT_ERROR && f->topic[0])) {
        sim_copy(e.topic, sizeof e.topic, f->topic);
        e.partition = f->partition;
    }
    if (f->kind == SIM_FAULT_INJECT_ERROR) {
        e.err = f->code;
        e.count = f->count;
    }
    sim_copy(e.detail, sizeof e.detail, desc);
    sim_runner_emit(r, &e);
    if (f->pause && r->o.ring_capacity > 0) {
        /* the class looks at the fault's effects one step at a time (in the view: a headless
         * run has nobody to press a key, so it plays on) */
        atomic_store(&r->user_paused, true);
        sim_bus_set_step(r->bus, true);
    }
    int rc = apply(r, f);
    atomic_fetch_add(rc == MB_OK ? &r->faults_applied : &r->faults_failed, 1);
    if (rc != MB_OK) {
        sim_event_init(&e, SIM_SRC_SIM, "fault.failed");
        e.node = f->broker;
        snprintf(e.detail, sizeof e.detail, "%.90s FAILED: %.20s", desc, mb_err_name(rc));
        sim_runner_emit(r, &e);
        snprintf(errbuf, errsize, "%s: %s", desc, mb_err_name(rc));
        return -1;
    }
    return 0;
}

static void *timeline_main(void *arg) {
    sim_runner *r = arg;
    const sim_scenario *s = r->s;
    for (int i = 0; i < s->n_timeline; i++) {
        const sim_fault *f = &s->timeline[i];
        if (!sim_clock_sleep_until(r->clock, r->start_us + f->at_ms * 1000, &r->end))
            break;
        char err[256];
        (void)sim_fault_apply(r, f, err, sizeof err); /* a failure is in the trace event */
        atomic_store(&r->next_fault, i + 1);
    }
    return NULL;
}

int sim_timeline_start(sim_runner *r, char *errbuf, size_t errsize) {
    if (pthread_create(&r->timeline_thread, NULL, timeline_main, r)) {
        snprintf(errbuf, errsize, "cannot start the timeline thread");
        return -1;
    }
    return 0;
}
