/* The runner's cluster side beyond its own mock (sim/runner_int.h): a cluster Courier does not
 * own (--bootstrap; sim/foreign.h), and the fault proxy (sim/proxy.h) that plays network
 * faults the mock cluster has no API for (disconnect, blackhole). */
#include "sim/runner_int.h"

#include "sim/foreign.h"
#include "sim/proxy.h"

#include <string.h>
#include <time.h>

/* Proxy and map lines become "log" events of the simulator (and trace lines). They come
 * from the proxy's and the poller's threads, which the step gate must never hold. */
static void on_cluster_log(int level, const char *line, void *opaque) {
    sim_runner *r = opaque;
    sim_bus_exempt_thread(true);
    sim_event e;
    sim_event_init(&e, SIM_SRC_SIM, "log");
    e.count = level;
    sim_copy(e.detail, sizeof e.detail, line);
    sim_runner_emit(r, &e);
}

static bool has_fault(const sim_scenario *s, sim_fault_kind k) {
    for (int i = 0; i < s->n_timeline; i++)
        if (s->timeline[i].kind == k)
            return true;
    return false;
}

int sim_runner_cluster_start(sim_runner *r, char *errbuf, size_t errsize) {
    char err[512] = "";
    const char *boot;
    if (r->o.bootstrap) {
        /* the view's fault keys need the proxy even when the timeline has none */
        bool with_proxy = sim_foreign_needs_proxy(r->s) || r->o.ring_capacity > 0;
        int parts = 0, rf = 1; /* the scenario's topic, used only if Courier must create it */
        for (int i = 0; i < r->s->cluster.n_topics; i++)
            if (!strcmp(r->s->cluster.topics[i].name, r->s->workload.topic)) {
                parts = r->s->cluster.topics[i].partitions;
                rf = r->s->cluster.topics[i].replication;
            }
        if (sim_foreign_new(r->o.bootstrap, r->s->workload.topic, parts, rf, with_proxy,
                            on_cluster_log, r, &r->foreign, err, sizeof err)) {
            snprintf(errbuf, errsize, "%s", err);
            return -1;
        }
        boot = sim_foreign_producer_bootstrap(r->foreign);
        /* The run's time zero is when the cluster is ready: finding (or creating) the topic
         * on a remote cluster can take seconds that are no part of the workload's day. */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        r->start_us = sim_clock_now_us(r->clock);
        r->start_wall_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    } else {
        if (mb_cluster_start(r->cluster, err, sizeof err) != MB_OK) {
            snprintf(errbuf, errsize, "cluster: %s", err);
            return -1;
        }
        boot = mb_cluster_bootstrap(r->cluster);
        if (has_fault(r->s, SIM_FAULT_DISCONNECT) || has_fault(r->s, SIM_FAULT_BLACKHOLE)) {
            sim_proxy_opts po = {.upstream = boot, .log_cb = on_cluster_log, .log_opaque = r};
            if (sim_proxy_new(&po, &r->proxy, err, sizeof err)) {
                snprintf(errbuf, errsize, "proxy: %s", err);
                return -1;
            }
            boot = sim_proxy_bootstrap(r->proxy);
        }
    }
    if (kp_conf_set(r->conf, "bootstrap.servers", boot, err, sizeof err) != KW_ERR_NONE) {
        snprintf(errbuf, errsize, "producer: bootstrap.servers: %s", err);
        return -1;
    }
    return 0;
}

int sim_runner_proxy_fault(sim_runner *r, const sim_fault *f) {
    if (r->foreign) {
        char err[256];
        return sim_foreign_fault(r->foreign, f, err, sizeof err) ? MB_ERR_INVALID_ARG : MB_OK;
    }
    if (!r->proxy)
        return f->kind == SIM_FAULT_HEAL ? MB_OK : MB_ERR_INVALID_ARG;
    int32_t b = f->broker >= 1 ? f->broker : -1;
    int rc;
    switch (f->kind) {
    case SIM_FAULT_DISCONNECT:
        rc = sim_proxy_cut(r->proxy, b);
        break;
    case SIM_FAULT_BLACKHOLE:
        rc = sim_proxy_blackhole(r->proxy, b);
        break;
    case SIM_FAULT_HEAL:
        rc = sim_proxy_heal(r->proxy, b);
        break;
    default:
        return MB_ERR_INVALID_ARG;
    }
    return rc ? MB_ERR_UNKNOWN_BROKER : MB_OK;
}

void sim_runner_cluster_destroy(sim_runner *r) {
    sim_foreign_destroy(r->foreign);
    r->foreign = NULL;
    sim_proxy_destroy(r->proxy);
    r->proxy = NULL;
}
