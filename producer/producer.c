/* The front office building: creating and closing the producer (Java's KafkaProducer
 * constructor, flush() and close()), plus the small helpers every stage shares: the clock,
 * events, logging and clock-aware waits. */
#include "producer/kp_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *event_names[KP_EV__COUNT] = {
    [KP_EV_RECORD_SENT] = "record.sent",
    [KP_EV_RECORD_INTERCEPTED] = "record.intercepted",
    [KP_EV_RECORD_SERIALIZED] = "record.serialized",
    [KP_EV_RECORD_PARTITIONED] = "record.partitioned",
    [KP_EV_RECORD_APPENDED] = "record.appended",
    [KP_EV_RECORD_FAILED] = "record.failed",
    [KP_EV_BATCH_CREATED] = "batch.created",
    [KP_EV_BATCH_SEALED] = "batch.sealed",
    [KP_EV_BATCH_DRAINED] = "batch.drained",
    [KP_EV_BATCH_COMPLETED] = "batch.completed",
    [KP_EV_BATCH_RETRIED] = "batch.retried",
    [KP_EV_BATCH_EXPIRED] = "batch.expired",
    [KP_EV_BATCH_SPLIT] = "batch.split",
    [KP_EV_REQUEST_SENT] = "request.sent",
    [KP_EV_RESPONSE_RECEIVED] = "response.received",
    [KP_EV_REQUEST_TIMED_OUT] = "request.timed_out",
    [KP_EV_BUFFER_WAIT] = "buffer.wait",
    [KP_EV_BUFFER_WAIT_DONE] = "buffer.wait_done",
    [KP_EV_METADATA_REQUESTED] = "metadata.requested",
    [KP_EV_METADATA_UPDATED] = "metadata.updated",
    [KP_EV_CONNECTION_UP] = "connection.up",
    [KP_EV_CONNECTION_DOWN] = "connection.down",
    [KP_EV_PRODUCER_ID] = "producer.id",
    [KP_EV_INTERCEPTOR_ERROR] = "interceptor.error",
    [KP_EV_PRODUCER_EPOCH_BUMPED] = "producer.epoch_bumped",
};

const char *kp_event_kind_name(kp_event_kind kind) {
    if ((unsigned)kind >= KP_EV__COUNT || !event_names[kind])
        return "?";
    return event_names[kind];
}

int64_t kp_now_ms(const struct kp_producer *p) {
    return kw_clock_now_ms(p->clock);
}

int64_t kp_epoch_ms(const struct kp_producer *p) {
    return kw_clock_epoch_ms(p->clock);
}

int64_t kp_epoch_ms_at(struct kp_producer *p, int64_t now_us) {
    if (p->clock != kw_clock_monotonic())
        return kp_epoch_ms(p);
    int64_t at = atomic_load_explicit(&p->epoch_off_at_us, memory_order_acquire);
    int64_t off = atomic_load_explicit(&p->epoch_off_us, memory_order_relaxed);
    if (now_us - at >= 1000 || at - now_us >= 1000) {
        /* monotonic first: the offset is never below the true one, so a timestamp is never
         * earlier than a CLOCK_REALTIME read made before now_us */
        int64_t m = kw_clock_now_us(p->clock);
        off = kw_realtime_us() - m;
        atomic_store_explicit(&p->epoch_off_us, off, memory_order_relaxed);
        atomic_store_explicit(&p->epoch_off_at_us, m, memory_order_release);
    }
    return (now_us + off) / 1000;
}

int64_t kp_now_us(const struct kp_producer *p) {
    return kw_clock_now_us(p->clock);
}

kp_event kp_ev(const struct kp_producer *p, kp_event_kind kind) {
    kp_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = kind;
    ev.time_us = kp_now_us(p);
    ev.partition = -1;
    ev.node_id = -1;
    ev.correlation_id = -1;
    ev.base_offset = -1;
    ev.base_sequence = -1;
    ev.producer_id = -1;
    ev.producer_epoch = -1;
    ev.key_len = -1;
    ev.api_key = -1;
    return ev;
}

void kp_emit(const struct kp_producer *p, const kp_event *ev) {
    if (p->conf.sink)
        p->conf.sink(ev, p->conf.sink_opaque);
}

void kp_log(const struct kp_producer *p, int level, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->conf.log_cb)
        p->conf.log_cb(level, msg, p->conf.log_opaque);
    else if (level <= 4)
        fprintf(stderr, "courier producer: %s\n", msg);
}

void kp_cond_init(pthread_cond_t *cv) {
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
}

void kp_cond_wait_until(const kw_clock *clock, pthread_cond_t *cv, pthread_mutex_t *m,
                        int64_t deadline_ms) {
    int64_t now_us = kw_clock_now_us(clock);
    int64_t left_us = deadline_ms >= INT64_MAX / 2000 ? 1000000 : deadline_ms * 1000 - now_us;
    if (left_us <= 0)
        return;
    int64_t wall = clock->wall_us(clock->opaque, left_us);
    if (wall < 1000)
        wall = 1000;
    if (wall > 200000)
        wall = 200000; /* re-check at least 5 times a second */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t ns = ts.tv_nsec + (wall % 1000000) * 1000;
    ts.tv_sec += (time_t)(wall / 1000000 + ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    pthread_cond_timedwait(cv, m, &ts);
}

kp_producer *kp_producer_new(const kp_conf *conf, char *errbuf, size_t errsize) {
    char scratch[256];
    if (!errbuf || errsize == 0) {
        errbuf = scratch;
        errsize = sizeof scratch;
    }
    if (!conf) {
        snprintf(errbuf, errsize, "kp_producer_new: NULL conf");
        return NULL;
    }
    kp_producer *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(errbuf, errsize, "out of memory");
        return NULL;
    }
    if (kp_conf_resolve(conf, &p->conf, errbuf, errsize) != KW_ERR_NONE) {
        free(p);
        return NULL;
    }
    p->clock = p->conf.clock;
    int64_t now = kp_now_ms(p);
    /* Parse bootstrap.servers before anything else can fail half-way. */
    char list[sizeof p->conf.bootstrap_servers];
    snprintf(list, sizeof list, "%s", p->conf.bootstrap_servers);
    struct {
        char host[128];
        int port;
    } boots[32];
    memset(boots, 0, sizeof boots);
    int nb = 0;
    char *save = NULL;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        if (!*tok)
            continue;
        char *colon = strrchr(tok, ':');
        char *end = NULL;
        long port = colon ? strtol(colon + 1, &end, 10) : -1;
        if (!colon || colon == tok || !end || *end || port <= 0 || port > 65535 || nb >= 32 ||
            (size_t)(colon - tok) >= sizeof boots[0].host) {
            snprintf(errbuf, errsize, "bootstrap.servers: '%s' is not HOST:PORT", tok);
            free(p);
            return NULL;
        }
        snprintf(boots[nb].host, sizeof boots[nb].host, "%.*s", (int)(colon - tok), tok);
        boots[nb].port = (int)port;
        nb++;
    }
    if (nb == 0) {
        snprintf(errbuf, errsize, "bootstrap.servers: no HOST:PORT given");
        free(p);
        return NULL;
    }
    kp_bufpool_init(&p->pool, p->conf.buffer_memory, p->conf.batch_size, p->clock);
    p->net.wake_fd = -1; /* so a failure before kp_net_init() closes no one's fd 0 */
    if (kp_accum_init(&p->accum, &p->conf, &p->pool) != KW_ERR_NONE ||
        kp_net_init(&p->net, p) != KW_ERR_NONE || !(p->arena = kw_arena_new()) ||
        !(p->rec_arena = kw_arena_new())) {
        snprintf(errbuf, errsize, "out of resources creating the producer");
        kp_accum_destroy(&p->accum);
        kp_bufpool_destroy(&p->pool);
        kp_net_destroy(&p->net);
        kw_arena_destroy(p->arena);
        kw_arena_destroy(p->rec_arena);
        free(p);
        return NULL;
    }
    kp_metadata_init(&p->md, p->clock);
    kp_sticky_init(&p->sticky);
    kp_stats_init(&p->stats, now);
    kw_wbuf_init(&p->sbuf);
    for (int i = 0; i < nb; i++)
        kp_net_conn(&p->net, -1 - i, boots[i].host, boots[i].port);
    atomic_init(&p->producer_id, -1);
    atomic_init(&p->producer_epoch, -1);
    atomic_init(&p->next_record_seq, 1);
    atomic_init(&p->outstanding, 0);
    atomic_init(&p->epoch_off_us, 0);
    atomic_init(&p->epoch_off_at_us, 0);
    pthread_mutex_init(&p->close_lock, NULL);
    kp_cond_init(&p->close_cv);
    p->rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)now ^ (uint64_t)(uintptr_t)p;
    p->pid_last_attempt_ms = INT64_MIN / 2;
    p->cluster_version_seen = -1;
    p->tps_seen = -1;
    /* Compression runs on the packers (packer.c); without any, on the sealing thread. */
    kp_packer_init(&p->packer, &p->accum, &p->net,
                   p->conf.compression != KW_CODEC_NONE ? kp_packer_default_threads() : 0);
    p->accum.packer = &p->packer;
    if (pthread_create(&p->sender, NULL, kp_sender_main, p) != 0) {
        snprintf(errbuf, errsize, "cannot start the sender thread");
        p->sender_started = false;
        atomic_store(&p->sender_done, true);
        kp_producer_destroy(p);
        return NULL;
    }
    p->sender_started = true;
    return p;
}

kw_err kp_flush(kp_producer *p, int64_t timeout_ms) {
    if (!p)
        return KW_ERR__INVALID_ARG;
    /* Java's flush(): every batch that exists now becomes ready; wait for each of them. */
    uint64_t last = atomic_load(&p->accum.next_batch_id) - 1;
    atomic_fetch_add(&p->accum.flushes_in_progress, 1);
    kp_net_wakeup(&p->net);
    int64_t deadline = timeout_ms < 0 ? INT64_MAX / 4 : kp_now_ms(p) + timeout_ms;
    kw_err err = KW_ERR_NONE;
    pthread_mutex_lock(&p->accum.inc_lock);
    for (;;) {
        bool pending = false;
        for (kp_batch *b = p->accum.inc_head; b && !pending; b = b->inc_next)
            if (b->id <= last)
                pending = true;
        if (!pending)
            break;
        if (atomic_load(&p->sender_done)) {
            err = KW_ERR__STATE;
            break;
        }
        if (kp_now_ms(p) >= deadline) {
            err = KW_ERR__TIMED_OUT;
            break;
        }
        kp_cond_wait_until(p->clock, &p->accum.inc_cv, &p->accum.inc_lock, deadline);
    }
    pthread_mutex_unlock(&p->accum.inc_lock);
    atomic_fetch_sub(&p->accum.flushes_in_progress, 1);
    return err;
}

kw_err kp_close(kp_producer *p, int64_t timeout_ms) {
    if (!p)
        return KW_ERR__INVALID_ARG;
    pthread_mutex_lock(&p->close_lock);
    if (p->close_in_progress || p->closed) {
        /* Another thread closes (or closed) it: wait for that close to finish. */
        while (!p->closed)
            kp_cond_wait_until(p->clock, &p->close_cv, &p->close_lock, INT64_MAX / 4);
        pthread_mutex_unlock(&p->close_lock);
        return KW_ERR_NONE;
    }
    p->close_in_progress = true;
    pthread_mutex_unlock(&p->close_lock);
    kw_err err = KW_ERR_NONE;
    atomic_store(&p->accum.closed, true);
    atomic_store(&p->closing, true);
    kp_metadata_wake_all(&p->md);
    kp_net_wakeup(&p->net);
    int64_t deadline = timeout_ms < 0 ? INT64_MAX / 4 : kp_now_ms(p) + timeout_ms;
    pthread_mutex_lock(&p->close_lock);
    while (!atomic_load(&p->sender_done)) {
        if (kp_now_ms(p) >= deadline) {
            if (!atomic_load(&p->force_close)) {
                err = KW_ERR__TIMED_OUT;
                atomic_store(&p->force_close, true);
                kp_bufpool_close(&p->pool);
                kp_net_wakeup(&p->net);
            }
            deadline = INT64_MAX / 4; /* now wait for the forced stop */
        }
        kp_cond_wait_until(p->clock, &p->close_cv, &p->close_lock, deadline);
        if (atomic_load(&p->force_close))
            kp_net_wakeup(&p->net);
    }
    pthread_mutex_unlock(&p->close_lock);
    if (p->sender_started) {
        pthread_join(p->sender, NULL);
        p->sender_started = false;
    }
    kp_packer_stop(&p->packer); /* after the sender: it may wait for a batch being packed */
    kp_bufpool_close(&p->pool);
    pthread_mutex_lock(&p->close_lock);
    p->closed = true;
    pthread_cond_broadcast(&p->close_cv);
    pthread_mutex_unlock(&p->close_lock);
    return err;
}

int64_t kp_outstanding(kp_producer *p) {
    return atomic_load(&p->outstanding);
}

void kp_producer_destroy(kp_producer *p) {
    if (!p)
        return;
    pthread_mutex_lock(&p->close_lock);
    bool need_close = p->sender_started && !p->closed;
    pthread_mutex_unlock(&p->close_lock);
    if (need_close)
        kp_close(p, -1);
    for (int i = 0; i < p->conf.n_interceptors; i++)
        if (p->conf.interceptors[i].on_close)
            p->conf.interceptors[i].on_close(p->conf.interceptors[i].opaque);
    kp_packer_destroy(&p->packer);
    kp_net_destroy(&p->net);
    kp_accum_destroy(&p->accum);
    kp_bufpool_destroy(&p->pool);
    kp_metadata_destroy(&p->md);
    kp_sticky_destroy(&p->sticky);
    kp_stats_destroy(&p->stats);
    kw_wbuf_free(&p->sbuf);
    kw_arena_destroy(p->arena);
    kw_arena_destroy(p->rec_arena);
    pthread_mutex_destroy(&p->close_lock);
    pthread_cond_destroy(&p->close_cv);
    free(p);
}
