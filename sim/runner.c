/* The runner (the company's working day): builds the mock cluster and the producer from a
 * scenario, puts them on one simulation clock and one event bus, starts the workload and the
 * fault timeline, and a supervisor that decides when the day is over:
 *   workload finished + every record's outcome known + every timeline entry played,
 *   or the drain timeout (simulated) passed, or a stop was requested and its grace ran out.
 * Then the producer is closed (what is still outstanding fails with INTERRUPTED) and the
 * cluster stays up so the audit can read its logs. */
#include "sim/runner_int.h"
#include "sim/record.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t wall_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void sim_runner_emit(sim_runner *r, sim_event *e) {
    e->t_us = sim_clock_now_us(r->clock);
    sim_bus_emit(r->bus, e);
}

/* --- event adapters: kp_event / mb_event → sim_event ------------------------------------ */

static void on_kp_event(const kp_event *ev, void *opaque) {
    sim_runner *r = opaque;
    sim_event e;
    sim_event_init(&e, SIM_SRC_PRODUCER, kp_event_kind_name(ev->kind));
    e.t_us = ev->time_us;
    if (ev->topic)
        sim_copy(e.topic, sizeof e.topic, ev->topic);
    e.partition = ev->partition;
    e.node = ev->node_id;
    e.record_id = ev->record_seq ? (int64_t)ev->record_seq : -1;
    e.batch_id = ev->batch_id ? (int64_t)ev->batch_id : -1;
    e.corr_id = ev->correlation_id;
    if (ev->record_count)
        e.count = ev->record_count;
    else if (ev->batch_count)
        e.count = ev->batch_count;
    if (ev->bytes)
        e.bytes = ev->bytes;
    if (ev->raw_bytes)
        e.raw_bytes = ev->raw_bytes;
    e.offset = ev->base_offset;
    e.err = ev->err;
    if (ev->api_key >= 0)
        e.api = ev->api_key;
    if (ev->detail)
        sim_copy(e.detail, sizeof e.detail, ev->detail);
    else if (ev->kind == KP_EV_RESPONSE_RECEIVED || ev->kind == KP_EV_BUFFER_WAIT_DONE)
        snprintf(e.detail, sizeof e.detail, "after %.3f ms", (double)ev->duration_us / 1000.0);
    else if (ev->kind == KP_EV_BATCH_RETRIED)
        snprintf(e.detail, sizeof e.detail, "attempt %d, backoff %.0f ms", ev->attempt,
                 (double)ev->duration_us / 1000.0);
    else if (ev->kind == KP_EV_BATCH_DRAINED && ev->base_sequence >= 0)
        snprintf(e.detail, sizeof e.detail, "attempt %d, base sequence %d", ev->attempt,
                 ev->base_sequence);
    else if (ev->kind == KP_EV_PRODUCER_ID || ev->kind == KP_EV_PRODUCER_EPOCH_BUMPED)
        snprintf(e.detail, sizeof e.detail, "producer id %lld epoch %d", (long long)ev->producer_id,
                 ev->producer_epoch);
    if (ev->kind == KP_EV_RESPONSE_RECEIVED && ev->duration_us > 0) {
        sim_latency *l = &r->lat;
        pthread_mutex_lock(&l->lock);
        if (l->n == l->cap && l->cap < ((size_t)4 << 20)) {
            size_t nc = l->cap ? l->cap * 2 : 4096;
            int64_t *nu = realloc(l->us, nc * sizeof *nu);
            if (nu) {
                l->us = nu;
                l->cap = nc;
            }
        }
        if (l->n < l->cap)
            l->us[l->n++] = ev->duration_us;
        pthread_mutex_unlock(&l->lock);
    }
    sim_bus_emit(r->bus, &e);
}

static void on_mb_event(const mb_event *ev, void *opaque) {
    sim_runner *r = opaque;
    sim_event e;
    sim_event_init(&e, SIM_SRC_BROKER, mb_event_kind_name(ev->kind));
    e.t_us = ev->time_us;
    if (ev->topic)
        sim_copy(e.topic, sizeof e.topic, ev->topic);
    e.partition = ev->topic ? ev->partition : -1;
    e.node = ev->node_id;
    e.corr_id = ev->correlation_id;
    if (ev->count)
        e.count = ev->count;
    if (ev->bytes)
        e.bytes = ev->bytes;
    if (ev->raw_bytes)
        e.raw_bytes = ev->raw_bytes;
    e.offset = ev->offset;
    e.err = ev->error;
    e.api = ev->api_key;
    if (ev->detail) {
        sim_copy(e.detail, sizeof e.detail, ev->detail);
    } else {
        switch (ev->kind) {
        case MB_EV_LEADER_CHANGED:
            snprintf(e.detail, sizeof e.detail, "leader %d -> %d, epoch %d", ev->peer_node_id,
                     ev->node_id, ev->leader_epoch);
            break;
        case MB_EV_REQUEST_RECEIVED:
            snprintf(e.detail, sizeof e.detail, "%s v%d", kw_api_name(ev->api_key),
                     ev->api_version);
            break;
        case MB_EV_RECORDS_APPENDED:
        case MB_EV_REPLICA_FETCHED:
        case MB_EV_LOG_TRUNCATED:
            /* [offset, offset_end): shown inclusive, as the class counts records */
            e.offset_end = ev->offset_end;
            if (ev->offset_end - ev->offset == 1)
                snprintf(e.detail, sizeof e.detail, "offset %lld", (long long)ev->offset);
            else if (ev->offset_end > ev->offset)
                snprintf(e.detail, sizeof e.detail, "offsets %lld..%lld", (long long)ev->offset,
                         (long long)ev->offset_end - 1);
            /* an append says what it did to the HW (after the followers due at once) */
            if (ev->kind == MB_EV_RECORDS_APPENDED && ev->hw_before >= 0 && ev->hw_after >= 0) {
                size_t n = strlen(e.detail);
                snprintf(e.detail + n, sizeof e.detail - n, ", HW %lld -> %lld",
                         (long long)ev->hw_before, (long long)ev->hw_after);
            }
            break;
        case MB_EV_HW_ADVANCED:
            /* the event carries the new HW in `offset`; the old one is in the detail */
            e.offset = ev->offset_end;
            snprintf(e.detail, sizeof e.detail, "HW %lld -> %lld", (long long)ev->offset,
                     (long long)ev->offset_end);
            break;
        case MB_EV_ISR_CHANGED: {
            size_t n = (size_t)snprintf(e.detail, sizeof e.detail, "isr [");
            for (int i = 0; i < ev->n_isr && i < MB_MAX_BROKERS && n < sizeof e.detail - 8; i++)
                n += (size_t)snprintf(e.detail + n, sizeof e.detail - n, "%s%d", i ? "," : "",
                                      ev->isr[i]);
            snprintf(e.detail + n, sizeof e.detail - n, "]");
            break;
        }
        default:
            break;
        }
    }
    sim_bus_emit(r->bus, &e);
}

static void on_kp_log(int level, const char *msg, void *opaque) {
    sim_runner *r = opaque;
    sim_event e;
    sim_event_init(&e, SIM_SRC_PRODUCER, "log");
    e.count = level;
    sim_copy(e.detail, sizeof e.detail, msg);
    sim_runner_emit(r, &e);
}

static void on_mb_log(int level, const char *line, void *opaque) {
    sim_runner *r = opaque;
    sim_event e;
    sim_event_init(&e, SIM_SRC_BROKER, "log");
    e.count = level;
    sim_copy(e.detail, sizeof e.detail, line);
    sim_runner_emit(r, &e);
}

/* Step mode and time (sim/bus.h): the gate stops the clock whenever an event is held or no
 * step is pending, and lets it run only while a step waits for an event nobody has emitted
 * yet. Pause is the same gate with no step pending, so a paused run and a stepped run obey
 * one rule: simulated time moves only to the next event. */
static void step_run(void *opaque) {
    sim_runner *r = opaque;
    sim_clock_resume(r->clock);
}

static void step_hold(void *opaque) {
    sim_runner *r = opaque;
    sim_clock_pause(r->clock);
}

static int64_t step_now(void *opaque) {
    sim_runner *r = opaque;
    return sim_clock_now_us(r->clock);
}

/* --- life cycle ------------------------------------------------------------------------- */

static int fail(char *errbuf, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *errbuf, size_t errsize, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errsize, fmt, ap);
    va_end(ap);
    return -1;
}

/* The mock cluster of the scenario: sockets bound now, threads in sim_runner_start. */
static int new_mock_cluster(sim_runner *r, char *errbuf, size_t errsize) {
    const sim_scenario *s = r->s;
    mb_config mc;
    mb_config_init(&mc);
    mc.brokers = s->cluster.brokers;
    mb_topic_config tc[SIM_MAX_TOPICS];
    memset(tc, 0, sizeof tc);
    for (int i = 0; i < s->cluster.n_topics; i++) {
        tc[i].name = s->cluster.topics[i].name;
        tc[i].partitions = s->cluster.topics[i].partitions;
        tc[i].replication_factor = (int16_t)s->cluster.topics[i].replication;
        tc[i].min_insync_replicas = (int16_t)s->cluster.topics[i].min_isr;
    }
    mc.topics = tc;
    mc.n_topics = (size_t)s->cluster.n_topics;
    mc.auto_create_topics_enable = false;
    mc.replica_lag_time_max_ms = s->cluster.replica_lag_time_max_ms;
    for (int i = 0; i < s->cluster.brokers && i < MB_MAX_BROKERS; i++)
        mc.follower_lag_ms[i] = s->cluster.follower_lag_ms[i];
    mc.clock = sim_clock_kw(r->clock);
    mc.event_cb = on_mb_event;
    mc.event_opaque = r;
    mc.log_cb = on_mb_log;
    mc.log_opaque = r;
    char err[512];
    if (mb_cluster_new(&mc, &r->cluster, err, sizeof err) != MB_OK)
        return fail(errbuf, errsize, "cluster: %s", err);
    static const char *const rk[4] = {"retention.bytes", "retention.ms", "segment.bytes",
                                      "segment.ms"};
    for (int i = 0; i < s->cluster.n_topics; i++)
        for (int k = 0; k < 4; k++)
            if (s->cluster.topics[i].retention[k] &&
                mb_topic_set_config(r->cluster, s->cluster.topics[i].name, rk[k],
                                    s->cluster.topics[i].retention[k], err, sizeof err) != MB_OK)
                return fail(errbuf, errsize, "cluster: topic %s: %s", s->cluster.topics[i].name,
                            err);
    for (int i = 0; i < s->cluster.brokers; i++)
        if (s->cluster.rtt_ms[i] > 0)
            mb_broker_set_rtt(r->cluster, i + 1, s->cluster.rtt_ms[i]);

    return 0;
}

int sim_runner_new(const sim_scenario *s, const sim_run_opts *o, sim_runner **out, char *errbuf,
                   size_t errsize) {
    *out = NULL;
    sim_runner *r = calloc(1, sizeof *r);
    if (!r)
        return fail(errbuf, errsize, "out of memory");
    r->s = s;
    if (o)
        r->o = *o;
    if (r->o.speed <= 0)
        r->o.speed = 1.0;
    if (r->o.stop_grace_ms <= 0)
        r->o.stop_grace_ms = 3000;
    r->seed = r->o.seed_set ? r->o.seed : s->workload.seed;
    pthread_mutex_init(&r->trace_lock, NULL);
    pthread_mutex_init(&r->done_lock, NULL);
    pthread_mutex_init(&r->turn_lock, NULL);
    pthread_cond_init(&r->done_cond, NULL);
    pthread_mutex_init(&r->lat.lock, NULL);
    atomic_store(&r->state, SIM_RUN_NEW);

    const sim_workload_spec *w = &s->workload;
    if (w->messages > 0)
        r->max_records = w->messages;
    else
        r->max_records = (int64_t)(w->rate * (double)w->duration_ms / 1000.0) + 1;
    if (r->max_records > 10000000) {
        sim_runner_destroy(r);
        return fail(errbuf, errsize,
                    "workload: %lld records planned (rate x duration); at most "
                    "10000000",
                    (long long)r->max_records);
    }
    r->recs = calloc((size_t)r->max_records, sizeof *r->recs);
    r->clock = sim_clock_new(r->o.speed);
    r->bus = sim_bus_new(r->o.ring_capacity);
    if (!r->recs || !r->clock || !r->bus) {
        sim_runner_destroy(r);
        return fail(errbuf, errsize, "out of memory");
    }
    sim_bus_set_step_hooks(r->bus, step_run, step_hold, r);
    sim_bus_set_step_clock(r->bus, step_now, r);
    if (r->o.trace_path) {
        r->trace = fopen(r->o.trace_path, "w");
        if (!r->trace) {
            int e = errno;
            sim_runner_destroy(r);
            return fail(errbuf, errsize, "cannot write the trace %s: %s", o->trace_path,
                        strerror(e));
        }
        setvbuf(r->trace, NULL, _IOFBF, 1 << 20);
        sim_trace_write_header(r);
        sim_bus_add_sink(r->bus, sim_trace_sink, r);
    }
    if (r->o.recorder && sim_record_attach(r->o.recorder, r, errbuf, errsize)) {
        sim_runner_destroy(r);
        return -1;
    }

    char err[512];
    if (!r->o.bootstrap && new_mock_cluster(r, errbuf, errsize)) {
        sim_runner_destroy(r);
        return -1;
    }

    /* the producer config: the scenario's keys, then ours */
    r->conf = kp_conf_new();
    if (!r->conf) {
        sim_runner_destroy(r);
        return fail(errbuf, errsize, "out of memory");
    }
    err[0] = '\0';
    if (kp_conf_set(r->conf, "client.id", "courier-sim", err, sizeof err) != KW_ERR_NONE) {
        sim_runner_destroy(r);
        return fail(errbuf, errsize, "producer: %s", err);
    }
    for (int i = 0; i < s->n_producer; i++) {
        err[0] = '\0';
        if (kp_conf_set(r->conf, s->producer[i].key, s->producer[i].value, err, sizeof err) !=
            KW_ERR_NONE) {
            sim_runner_destroy(r);
            return fail(errbuf, errsize, "producer.%s: %s", s->producer[i].key, err);
        }
    }
    err[0] = '\0';
    if (kp_conf_set(r->conf, "bootstrap.servers",
                    r->o.bootstrap ? r->o.bootstrap : mb_cluster_bootstrap(r->cluster), err,
                    sizeof err) != KW_ERR_NONE) {
        sim_runner_destroy(r);
        return fail(errbuf, errsize, "producer: bootstrap.servers: %s", err);
    }
    kp_conf_set_clock(r->conf, sim_clock_kw(r->clock));
    kp_conf_set_event_sink(r->conf, on_kp_event, r);
    kp_conf_set_log_cb(r->conf, on_kp_log, r);
    err[0] = '\0';
    if (kp_conf_validate(r->conf, err, sizeof err) != KW_ERR_NONE) {
        sim_runner_destroy(r);
        return fail(errbuf, errsize, "producer: %s", err);
    }
    *out = r;
    return 0;
}

static void finish(sim_runner *r) {
    pthread_mutex_lock(&r->done_lock);
    r->end_us = sim_clock_now_us(r->clock);
    r->end_wall_us = wall_now_us();
    atomic_store(&r->state, SIM_RUN_DONE);
    pthread_cond_broadcast(&r->done_cond);
    pthread_mutex_unlock(&r->done_lock);
}

static bool outcomes_known(sim_runner *r) {
    return atomic_load(&r->acked) + atomic_load(&r->failed) >= atomic_load(&r->sent);
}

static void sleep_ms(int ms) {
    struct timespec ts = {0, (long)ms * 1000000};
    nanosleep(&ts, NULL);
}

/* The supervisor: decides when the day is over (see the file comment). */
static void *supervisor_main(void *arg) {
    sim_runner *r = arg;
    int64_t grace_deadline = -1;
    int64_t drain_start = -1;
    bool timed_out = false;
    for (;;) {
        bool stop = atomic_load(&r->stop);
        if (stop && grace_deadline < 0)
            grace_deadline = wall_now_us() + r->o.stop_grace_ms * 1000;
        bool workload_done = atomic_load(&r->active_workers) == 0;
        if (workload_done && atomic_load(&r->state) == SIM_RUN_SENDING) {
            atomic_store(&r->state, SIM_RUN_DRAINING);
            drain_start = sim_clock_now_us(r->clock);
            sim_event e;
            sim_event_init(&e, SIM_SRC_SIM, "workload.done");
            e.count = (int32_t)atomic_load(&r->sent);
            sim_runner_emit(r, &e);
        }
        bool timeline_done = atomic_load(&r->next_fault) >= r->s->n_timeline;
        if (workload_done && outcomes_known(r) && (timeline_done || stop))
            break;
        if (stop && wall_now_us() >= grace_deadline)
            break;
        if (drain_start >= 0 &&
            sim_clock_now_us(r->clock) - drain_start > r->s->drain_timeout_ms * 1000) {
            timed_out = true;
            break;
        }
        sleep_ms(5);
    }
    atomic_store(&r->end, true);
    atomic_store(&r->stop, true); /* workload threads still blocked give up */
    /* What is still outstanding fails with INTERRUPTED (Java's forced close). */
    kp_close(r->producer, outcomes_known(r) ? 1000 : 0);
    for (int i = 0; i < r->n_workers; i++)
        pthread_join(r->workers[i], NULL);
    r->n_workers = 0;
    pthread_join(r->timeline_thread, NULL);
    sim_event e;
    sim_event_init(&e, SIM_SRC_SIM, "run.ended");
    e.count = (int32_t)atomic_load(&r->sent);
    snprintf(e.detail, sizeof e.detail, "%s",
             timed_out                      ? "drain timeout"
             : atomic_load(&r->interrupted) ? "stopped"
                                            : "complete");
    sim_runner_emit(r, &e);
    finish(r);
    return NULL;
}

int sim_runner_start(sim_runner *r, char *errbuf, size_t errsize) {
    sim_bus_exempt_thread(true);
    if (atomic_load(&r->state) != SIM_RUN_NEW)
        return fail(errbuf, errsize, "the run was already started");
    /* The run's time zero, before any thread that could emit exists (the trace reads it). */
    r->start_us = sim_clock_now_us(r->clock);
    r->start_wall_us = wall_now_us();
    char err[512] = "";
    if (sim_runner_cluster_start(r, errbuf, errsize))
        return -1;
    r->producer = kp_producer_new(r->conf, err, sizeof err);
    if (!r->producer)
        return fail(errbuf, errsize, "producer: %s", err);
    atomic_store(&r->state, SIM_RUN_SENDING);
    sim_event e;
    sim_event_init(&e, SIM_SRC_SIM, "run.started");
    sim_copy(e.detail, sizeof e.detail, r->s->name);
    sim_runner_emit(r, &e);
    if (sim_timeline_start(r, errbuf, errsize))
        goto fail_threads;
    if (sim_workload_start(r, errbuf, errsize)) {
        atomic_store(&r->end, true);
        pthread_join(r->timeline_thread, NULL);
        goto fail_threads;
    }
    if (pthread_create(&r->supervisor, NULL, supervisor_main, r)) {
        atomic_store(&r->stop, true);
        atomic_store(&r->end, true);
        for (int i = 0; i < r->n_workers; i++)
            pthread_join(r->workers[i], NULL);
        r->n_workers = 0;
        pthread_join(r->timeline_thread, NULL);
        snprintf(errbuf, errsize, "cannot start the supervisor thread");
        goto fail_threads;
    }
    r->threads_started = true;
    return 0;
fail_threads:
    kp_close(r->producer, 0);
    finish(r);
    return -1;
}

bool sim_runner_wait(sim_runner *r, int timeout_ms) {
    sim_bus_exempt_thread(true);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&r->done_lock);
    while (atomic_load(&r->state) != SIM_RUN_DONE) {
        if (timeout_ms >= 0) {
            if (pthread_cond_timedwait(&r->done_cond, &r->done_lock, &ts) == ETIMEDOUT)
                break;
        } else {
            pthread_cond_wait(&r->done_cond, &r->done_lock);
        }
    }
    bool done = atomic_load(&r->state) == SIM_RUN_DONE;
    pthread_mutex_unlock(&r->done_lock);
    if (done && r->threads_started) {
        pthread_join(r->supervisor, NULL);
        r->threads_started = false;
    }
    return done;
}

void sim_runner_stop(sim_runner *r) {
    sim_bus_exempt_thread(true);
    if (!atomic_exchange(&r->stop, true)) {
        atomic_store(&r->interrupted, true);
        /* a paused or stepping run could never finish: let it go */
        atomic_store(&r->user_paused, false);
        sim_bus_set_step(r->bus, false);
        sim_clock_resume(r->clock);
        sim_event e;
        sim_event_init(&e, SIM_SRC_SIM, "run.stopping");
        sim_runner_emit(r, &e);
    }
}

void sim_runner_progress(sim_runner *r, sim_progress *p) {
    memset(p, 0, sizeof *p);
    const sim_workload_spec *w = &r->s->workload;
    p->state = (sim_run_state)atomic_load(&r->state);
    p->planned = w->messages > 0 ? w->messages : -1;
    p->duration_ms = w->duration_ms > 0 ? w->duration_ms : -1;
    p->sent = atomic_load(&r->sent);
    p->acknowledged = atomic_load(&r->acked);
    p->failed = atomic_load(&r->failed);
    int64_t now = p->state == SIM_RUN_DONE ? r->end_us : sim_clock_now_us(r->clock);
    p->elapsed_us = p->state == SIM_RUN_NEW ? 0 : now - r->start_us;
    p->start_us = r->start_us;
    p->elapsed_ms = p->elapsed_us / 1000;
    sim_bus_step_info gi;
    sim_bus_step_state(r->bus, &gi);
    p->stepping = gi.on;
    p->paused = gi.on && gi.steps == 0; /* held, and no step taken since */
    p->speed = sim_clock_speed(r->clock);
    p->steps = gi.steps;
    p->held = gi.held;
    p->running_to = gi.running_to;
    p->stopping = atomic_load(&r->stop);
    p->next_fault = atomic_load(&r->next_fault);
    double el_s = (double)p->elapsed_ms / 1000.0;
    p->ack_rate = el_s > 0 ? (double)p->acknowledged / el_s : 0;
    p->eta_s = -1;
    if (p->state == SIM_RUN_SENDING && el_s > 0.2) {
        double left_sim = -1;
        if (p->duration_ms > 0)
            left_sim = (double)(p->duration_ms - p->elapsed_ms) / 1000.0;
        if (p->planned > 0 && p->sent > 0) {
            double by_count = (double)(p->planned - p->sent) * el_s / (double)p->sent;
            if (left_sim < 0 || by_count < left_sim)
                left_sim = by_count;
        }
        if (left_sim >= 0)
            p->eta_s = left_sim / p->speed;
    }
}

int sim_runner_audit(sim_runner *r, sim_audit *out) {
    sim_bus_exempt_thread(true);
    int rc = sim_audit_compute(r, out);
    if (r->trace && atomic_load(&r->state) == SIM_RUN_DONE &&
        !atomic_exchange(&r->footer_written, true))
        sim_trace_write_footer(r, out);
    return rc;
}

void sim_runner_destroy(sim_runner *r) {
    if (!r)
        return;
    sim_bus_exempt_thread(true);
    atomic_store(&r->user_paused, false);
    if (r->bus)
        sim_bus_set_step(r->bus, false);
    if (r->clock)
        sim_clock_resume(r->clock);
    /* a view fault held at the gate goes through now that the gate is open */
    for (int i = 0; i < 10000; i++) {
        pthread_mutex_lock(&r->turn_lock);
        bool busy = r->turn_thread || r->turn_n > 0;
        pthread_mutex_unlock(&r->turn_lock);
        if (!busy)
            break;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    if (r->threads_started) {
        atomic_store(&r->interrupted,
                     atomic_load(&r->interrupted) || atomic_load(&r->state) != SIM_RUN_DONE);
        atomic_store(&r->stop, true);
        sim_runner_wait(r, -1);
    }
    if (r->o.recorder) /* its sampler reads the producer and the cluster: stop it first */
        sim_record_detach(r->o.recorder);
    kp_producer_destroy(r->producer);
    sim_runner_cluster_destroy(r);
    mb_cluster_destroy(r->cluster);
    kp_conf_destroy(r->conf);
    if (r->trace)
        fclose(r->trace);
    sim_bus_destroy(r->bus);
    sim_clock_destroy(r->clock);
    free(r->recs);
    free(r->lat.us);
    pthread_mutex_destroy(&r->lat.lock);
    pthread_mutex_destroy(&r->trace_lock);
    pthread_mutex_destroy(&r->done_lock);
    pthread_mutex_destroy(&r->turn_lock);
    pthread_cond_destroy(&r->done_cond);
    free(r);
}

/* --- control ---------------------------------------------------------------------------- */

void sim_runner_pause(sim_runner *r) {
    sim_bus_exempt_thread(true);
    atomic_store(&r->user_paused, true);
    sim_bus_set_step(r->bus, true); /* the gate holds every event; the clock stands still */
    sim_event e;
    sim_event_init(&e, SIM_SRC_SIM, "clock.paused");
    sim_runner_emit(r, &e);
}

void sim_runner_resume(sim_runner *r) {
    sim_bus_exempt_thread(true);
    atomic_store(&r->user_paused, false);
    sim_bus_set_step(r->bus, false);
    sim_event e;
    sim_event_init(&e, SIM_SRC_SIM, "clock.resumed");
    sim_runner_emit(r, &e);
}

void sim_runner_set_speed(sim_runner *r, double speed) {
    sim_bus_exempt_thread(true);
    sim_clock_set_speed(r->clock, speed);
    sim_event e;
    sim_event_init(&e, SIM_SRC_SIM, "clock.speed");
    snprintf(e.detail, sizeof e.detail, "speed %g", sim_clock_speed(r->clock));
    sim_runner_emit(r, &e);
}

void sim_runner_set_step(sim_runner *r, bool on) {
    sim_bus_exempt_thread(true);
    atomic_store(&r->user_paused, on);
    sim_bus_set_step(r->bus, on);
}

void sim_runner_step_once(sim_runner *r) {
    sim_bus_exempt_thread(true);
    if (!sim_bus_stepping(r->bus))
        sim_runner_set_step(r, true);
    sim_bus_step_once(r->bus);
}

/* The run-to condition travels in the opaque pointer itself (what | room << 8), so a new
 * run-to never writes memory an emitting thread may be reading under the gate lock. */
static bool run_to_match(const sim_event *e, void *opaque) {
    uintptr_t packed = (uintptr_t)opaque;
    sim_run_to_what what = (sim_run_to_what)(packed & 0xff);
    int room = (int)(packed >> 8);
    switch (what) {
    case SIM_RUN_TO_FAULT:
        return !strcmp(e->kind, "fault") || !strcmp(e->kind, "broker.down") ||
               !strcmp(e->kind, "broker.isolated") || !strcmp(e->kind, "leader.changed");
    case SIM_RUN_TO_ERROR:
        return e->err != 0;
    case SIM_RUN_TO_LOSS:
        return !strcmp(e->kind, "log.truncated");
    case SIM_RUN_TO_ROOM:
        return (int)sim_event_room(e) == room;
    }
    return true;
}

void sim_runner_run_to(sim_runner *r, sim_run_to_what what, int room) {
    sim_bus_exempt_thread(true);
    if (!sim_bus_stepping(r->bus))
        sim_runner_set_step(r, true);
    uintptr_t packed = ((uintptr_t)(unsigned)room << 8) | ((uintptr_t)what & 0xff);
    sim_bus_run_to(r->bus, run_to_match, (void *)packed);
}

int sim_runner_fault(sim_runner *r, const sim_fault *f, char *errbuf, size_t errsize) {
    sim_bus_exempt_thread(true);
    if (!r->cluster && !r->foreign)
        return fail(errbuf, errsize, "the cluster is not running");
    return sim_fault_apply(r, f, errbuf, errsize);
}

/* The thread that plays queued view faults. The bus expects it (sim_bus_expect, counted when
 * it was created): while it works between two of its events, a step waits for it, so each
 * fault's line and effects come within a bounded number of steps however it is scheduled. */
static void *fault_in_turn_main(void *arg) {
    sim_runner *r = arg;
    sim_bus_expect_claim();
    for (;;) {
        pthread_mutex_lock(&r->turn_lock);
        if (r->turn_n == 0) {
            /* before the flag: sim_runner_destroy frees the bus once it sees it cleared */
            sim_bus_expect_done(r->bus);
            r->turn_thread = false;
            pthread_mutex_unlock(&r->turn_lock);
            return NULL;
        }
        sim_fault f = r->turn_q[r->turn_head];
        r->turn_head = (r->turn_head + 1) % 16;
        r->turn_n--;
        pthread_mutex_unlock(&r->turn_lock);
        char err[256];
        (void)sim_fault_apply(r, &f, err, sizeof err); /* a refusal is a fault.failed event */
        atomic_fetch_sub(&r->faults_in_turn, 1);
    }
}

int sim_runner_fault_in_turn(sim_runner *r, const sim_fault *f, char *errbuf, size_t errsize) {
    if (!r->bus || !sim_bus_stepping(r->bus) || atomic_load(&r->end) ||
        (!r->cluster && !r->foreign))
        return sim_runner_fault(r, f, errbuf, errsize);
    pthread_mutex_lock(&r->turn_lock);
    if (r->turn_n == 16) {
        pthread_mutex_unlock(&r->turn_lock);
        return fail(errbuf, errsize, "16 faults already wait for a step");
    }
    r->turn_q[(r->turn_head + r->turn_n) % 16] = *f;
    r->turn_n++;
    atomic_fetch_add(&r->faults_in_turn, 1);
    int rc = 0;
    if (!r->turn_thread) {
        pthread_attr_t at;
        pthread_t t;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        sim_bus_expect(r->bus); /* from now: the next step waits for its fault line */
        rc = pthread_create(&t, &at, fault_in_turn_main, r);
        pthread_attr_destroy(&at);
        if (rc == 0)
            r->turn_thread = true;
        else { /* no thread: take it back and apply it now */
            sim_bus_expect_done(r->bus);
            r->turn_n--;
            atomic_fetch_sub(&r->faults_in_turn, 1);
        }
    }
    pthread_mutex_unlock(&r->turn_lock);
    if (rc)
        return sim_runner_fault(r, f, errbuf, errsize);
    return 1;
}

const sim_scenario *sim_runner_scenario(sim_runner *r) {
    return r->s;
}
sim_clock *sim_runner_clock(sim_runner *r) {
    return r->clock;
}
sim_bus *sim_runner_bus(sim_runner *r) {
    return r->bus;
}
struct kp_producer *sim_runner_producer(sim_runner *r) {
    return r->producer;
}
struct mb_cluster *sim_runner_cluster(sim_runner *r) {
    return r->cluster;
}
struct sim_foreign *sim_runner_foreign(sim_runner *r) {
    return r->foreign;
}
struct sim_record *sim_runner_recorder(sim_runner *r) {
    return r ? r->o.recorder : NULL;
}
