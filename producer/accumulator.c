/* The sorting room (分拣员): Java's RecordAccumulator. One deque of batches per
 * topic-partition, each with its own lock (Java's synchronized (dq)); the application threads
 * append at the tail, the sender thread drains from the head. ready() and drain() take `now`
 * so their rules (linger, full, backoff, muting, fairness) are tested without sleeping. */
#include "producer/kp_int.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

static uint32_t tp_hash(const char *topic, int32_t partition) {
    uint32_t h = 2166136261u;
    for (const char *c = topic; *c; c++)
        h = (h ^ (uint8_t)*c) * 16777619u;
    return (h ^ (uint32_t)partition) * 16777619u;
}

kw_err kp_accum_init(kp_accum *a, const kp_conf *conf, kp_bufpool *pool) {
    memset(a, 0, sizeof *a);
    a->conf = conf;
    a->pool = pool;
    pthread_rwlock_init(&a->map_lock, NULL);
    a->n_buckets = 1024;
    a->buckets = calloc((size_t)a->n_buckets, sizeof *a->buckets);
    if (!a->buckets)
        return KW_ERR__NO_MEMORY;
    atomic_init(&a->flushes_in_progress, 0);
    atomic_init(&a->closed, false);
    atomic_init(&a->next_batch_id, 1);
    pthread_mutex_init(&a->inc_lock, NULL);
    kp_cond_init(&a->inc_cv);
    pthread_mutex_init(&a->ratio_lock, NULL);
    return KW_ERR_NONE;
}

/* ------------------------------------------------------------------------------------------ */
/* Java's CompressionRatioEstimator: per topic (the producer has one codec), starting at 1.0,
 * moved after every compressed batch: up quickly (by at least 0.05) when compression got
 * worse, down slowly (by at most 0.005) when it got better, so batches rarely overshoot. */

#define RATIO_IMPROVING_STEP 0.005f
#define RATIO_DETERIORATE_STEP 0.05f

struct kp_ratio {
    struct kp_ratio *next;
    float ratio;
    char topic[]; /* NUL-terminated */
};

/* @locks ratio_lock MUST be held. Creates the entry (at 1.0) when missing; NULL when out of
 * memory. */
static struct kp_ratio *ratio_find(kp_accum *a, const char *topic) {
    for (struct kp_ratio *r = a->ratios; r; r = r->next)
        if (!strcmp(r->topic, topic))
            return r;
    size_t n = strlen(topic) + 1;
    struct kp_ratio *r = malloc(sizeof *r + n);
    if (!r)
        return NULL;
    r->ratio = 1.0f;
    memcpy(r->topic, topic, n);
    r->next = a->ratios;
    a->ratios = r;
    return r;
}

float kp_accum_ratio_get(kp_accum *a, const char *topic) {
    pthread_mutex_lock(&a->ratio_lock);
    struct kp_ratio *r = ratio_find(a, topic);
    float v = r ? r->ratio : 1.0f;
    pthread_mutex_unlock(&a->ratio_lock);
    return v;
}

void kp_accum_ratio_update(kp_accum *a, const char *topic, float observed) {
    pthread_mutex_lock(&a->ratio_lock);
    struct kp_ratio *r = ratio_find(a, topic);
    if (r) {
        float cur = r->ratio;
        if (observed > cur)
            r->ratio =
                cur + RATIO_DETERIORATE_STEP > observed ? cur + RATIO_DETERIORATE_STEP : observed;
        else if (observed < cur)
            r->ratio =
                cur - RATIO_IMPROVING_STEP > observed ? cur - RATIO_IMPROVING_STEP : observed;
    }
    pthread_mutex_unlock(&a->ratio_lock);
}

void kp_accum_ratio_set(kp_accum *a, const char *topic, float ratio) {
    pthread_mutex_lock(&a->ratio_lock);
    struct kp_ratio *r = ratio_find(a, topic);
    if (r)
        r->ratio = ratio;
    pthread_mutex_unlock(&a->ratio_lock);
}

void kp_accum_destroy(kp_accum *a) {
    for (int32_t i = 0; i < a->n_all; i++) {
        kp_tp *tp = a->all[i];
        kp_batch *b = tp->head;
        while (b) {
            kp_batch *n = b->next;
            kp_bufpool_deallocate(a->pool, b->buf, b->cap);
            kp_batch_free(b);
            b = n;
        }
        pthread_mutex_destroy(&tp->lock);
        free(tp->topic);
        free(tp);
    }
    free(a->all);
    free(a->buckets);
    free(a->nodes);
    pthread_rwlock_destroy(&a->map_lock);
    pthread_mutex_destroy(&a->inc_lock);
    while (a->ratios) {
        struct kp_ratio *r = a->ratios;
        a->ratios = r->next;
        free(r);
    }
    pthread_mutex_destroy(&a->ratio_lock);
    pthread_cond_destroy(&a->inc_cv);
}

kp_tp *kp_accum_tp(kp_accum *a, const char *topic, int32_t partition) {
    uint32_t h = tp_hash(topic, partition) % (uint32_t)a->n_buckets;
    pthread_rwlock_rdlock(&a->map_lock);
    for (kp_tp *tp = a->buckets[h]; tp; tp = tp->hnext)
        if (tp->partition == partition && !strcmp(tp->topic, topic)) {
            pthread_rwlock_unlock(&a->map_lock);
            return tp;
        }
    pthread_rwlock_unlock(&a->map_lock);
    pthread_rwlock_wrlock(&a->map_lock);
    kp_tp *tp;
    for (tp = a->buckets[h]; tp; tp = tp->hnext)
        if (tp->partition == partition && !strcmp(tp->topic, topic))
            break;
    if (!tp) {
        if (!kw_grow(&a->all, a->n_all, &a->cap_all, sizeof *a->all, 64))
            goto out;
        tp = calloc(1, sizeof *tp);
        if (!tp)
            goto out;
        tp->topic = strdup(topic);
        if (!tp->topic) {
            free(tp);
            tp = NULL;
            goto out;
        }
        tp->partition = partition;
        pthread_mutex_init(&tp->lock, NULL);
        atomic_init(&tp->leader, -1);
        atomic_init(&tp->in_flight, 0);
        atomic_init(&tp->muted, false);
        atomic_init(&tp->next_seq, 0);
        tp->last_acked_seq = -1;
        tp->seq_pid = KW_NO_PRODUCER_ID;
        tp->seq_epoch = -1;
        tp->unresolved_next = -1;
        tp->hnext = a->buckets[h];
        a->buckets[h] = tp;
        a->all[a->n_all++] = tp;
    }
out:
    pthread_rwlock_unlock(&a->map_lock);
    return tp;
}

void kp_accum_incomplete_add(kp_accum *a, kp_batch *b) {
    pthread_mutex_lock(&a->inc_lock);
    b->inc_next = NULL;
    b->inc_prev = a->inc_tail;
    if (a->inc_tail)
        a->inc_tail->inc_next = b;
    else
        a->inc_head = b;
    a->inc_tail = b;
    a->n_incomplete++;
    pthread_mutex_unlock(&a->inc_lock);
}

void kp_accum_incomplete_remove(kp_accum *a, kp_batch *b) {
    pthread_mutex_lock(&a->inc_lock);
    if (b->inc_prev)
        b->inc_prev->inc_next = b->inc_next;
    else
        a->inc_head = b->inc_next;
    if (b->inc_next)
        b->inc_next->inc_prev = b->inc_prev;
    else
        a->inc_tail = b->inc_prev;
    a->n_incomplete--;
    pthread_cond_broadcast(&a->inc_cv);
    pthread_mutex_unlock(&a->inc_lock);
}

/* Puts b into the deque before at, or at the tail when at is NULL. @locks tp->lock MUST be
 * held. */
static void link_batch(kp_tp *tp, kp_batch *at, kp_batch *b) {
    b->next = at;
    b->prev = at ? at->prev : tp->tail;
    if (b->prev)
        b->prev->next = b;
    else
        tp->head = b;
    if (at)
        at->prev = b;
    else
        tp->tail = b;
    tp->n_batches++;
}

/* Takes b out of the deque. @locks tp->lock MUST be held. */
static void unlink_batch(kp_tp *tp, kp_batch *b) {
    if (b->prev)
        b->prev->next = b->next;
    else
        tp->head = b->next;
    if (b->next)
        b->next->prev = b->prev;
    else
        tp->tail = b->prev;
    b->next = b->prev = NULL;
    tp->n_batches--;
}

/* Appends to the tail batch if it is open and has room. @locks tp->lock MUST be held. */
static bool try_append_tail(kp_tp *tp, int64_t ts, kw_slice key, kw_slice value,
                            const kw_header *headers, int32_t n_headers, const kp_thunk *thunk,
                            kp_append_result *res, kp_batch **to_compress) {
    kp_batch *t = tp->tail;
    if (!t || t->sealed)
        return false;
    kw_err err = kp_batch_append(t, ts, key, value, headers, n_headers, thunk);
    if (err == KW_ERR_NONE) {
        res->batch = t;
        res->batch_id = t->id;
        res->batch_records = t->n_thunks;
        res->batch_full = res->batch_full || kp_batch_is_full(t) || tp->n_batches > 1;
        return true;
    }
    /* No room (or out of memory for the thunk): seal it, a new batch takes the record. A
     * compressing producer hands it to the packers (packer.c) once tp->lock is released: the
     * sender only stamps and sends. */
    t->sealed = true;
    if (t->codec != KW_CODEC_NONE && !t->closed && !t->precompressed && t->w.count > 0) {
        t->compressing = true;
        *to_compress = t;
    }
    res->sealed_batch_id = t->id;
    res->batch_full = true;
    return false;
}

void kp_accum_pack(kp_accum *a, kp_batch *b) {
    kp_tp *tp = b->tp;
    uint8_t *wire = NULL;
    size_t size = 0;
    bool ok = kp_batch_compress_records(b, &wire, &size) == KW_ERR_NONE;
    float ratio = 1.0f;
    pthread_mutex_lock(&tp->lock);
    if (ok) {
        b->wire = wire;
        b->size = size;
        b->precompressed = true;
        b->ratio_counted = true;
        ratio = kp_batch_observed_ratio(b);
    }
    b->compressing = false;
    pthread_mutex_unlock(&tp->lock);
    if (ok) /* as ProducerBatch.close(): update the topic's estimate */
        kp_accum_ratio_update(a, tp->topic, ratio);
}

/* A batch this thread sealed goes to the packers (packer.c), or is packed here when there are
 * none. @locks none held (tp->lock released: b->compressing keeps the sender away). */
static void compress_sealed(kp_accum *a, kp_batch *b) {
    if (!b)
        return;
    if (a->packer && a->packer->n_threads > 0)
        kp_packer_submit(a->packer, b);
    else
        kp_accum_pack(a, b);
}

void kp_accum_append(kp_accum *a, kp_tp *tp, int64_t timestamp_ms, kw_slice key, kw_slice value,
                     const kw_header *headers, int32_t n_headers, const kp_thunk *thunk,
                     int64_t max_block_ms, bool abort_on_new_batch, int64_t now_ms,
                     void (*on_wait)(void *arg, int32_t size), void *wait_arg,
                     kp_append_result *res) {
    memset(res, 0, sizeof *res);
    pthread_mutex_lock(&tp->lock);
    if (atomic_load(&a->closed)) {
        pthread_mutex_unlock(&tp->lock);
        res->err = KW_ERR__STATE;
        return;
    }
    kp_batch *sealed = NULL;
    if (try_append_tail(tp, timestamp_ms, key, value, headers, n_headers, thunk, res, &sealed)) {
        pthread_mutex_unlock(&tp->lock);
        return;
    }
    pthread_mutex_unlock(&tp->lock);
    compress_sealed(a, sealed);
    sealed = NULL;
    if (abort_on_new_batch) {
        res->aborted_for_new_batch = true;
        return;
    }

    size_t upper = kw_batch_size_upper_bound(key, value, headers, n_headers);
    int32_t size = a->conf->batch_size;
    if (upper > (size_t)size)
        size = upper > INT32_MAX ? INT32_MAX : (int32_t)upper;
    uint8_t *buf = kp_bufpool_try_allocate(a->pool, size);
    if (!buf) {
        if (on_wait)
            on_wait(wait_arg, size);
        res->waited = true;
        int64_t t0 = kw_clock_now_us(a->conf->clock);
        kw_err err = kp_bufpool_allocate(a->pool, size, max_block_ms, &buf);
        res->waited_us = kw_clock_now_us(a->conf->clock) - t0;
        if (err != KW_ERR_NONE) {
            res->err = err == KW_ERR__INVALID_ARG ? KW_ERR__RECORD_TOO_LARGE : err;
            return;
        }
        now_ms = kw_clock_now_ms(a->conf->clock);
    }

    pthread_mutex_lock(&tp->lock);
    if (atomic_load(&a->closed)) {
        pthread_mutex_unlock(&tp->lock);
        kp_bufpool_deallocate(a->pool, buf, size);
        res->err = KW_ERR__STATE;
        return;
    }
    if (try_append_tail(tp, timestamp_ms, key, value, headers, n_headers, thunk, res, &sealed)) {
        pthread_mutex_unlock(&tp->lock);
        kp_bufpool_deallocate(a->pool, buf, size);
        return; /* it went into the tail: nothing was sealed */
    }
    uint64_t id = atomic_fetch_add(&a->next_batch_id, 1);
    kp_batch *b = kp_batch_new(tp, id, buf, size, now_ms);
    if (b && a->conf->compression != KW_CODEC_NONE)
        kp_batch_set_compression(b, a->conf->compression, kp_conf_codec_level(a->conf),
                                 kp_accum_ratio_get(a, tp->topic));
    kw_err err = b ? kp_batch_append(b, timestamp_ms, key, value, headers, n_headers, thunk)
                   : KW_ERR__NO_MEMORY;
    if (err != KW_ERR_NONE) {
        pthread_mutex_unlock(&tp->lock);
        compress_sealed(a, sealed);
        kp_batch_free(b);
        kp_bufpool_deallocate(a->pool, buf, size);
        res->err = err == KW_ERR__NO_SPACE ? KW_ERR__RECORD_TOO_LARGE : err;
        return;
    }
    link_batch(tp, NULL, b);
    kp_accum_incomplete_add(a, b);
    res->batch = b;
    res->batch_id = b->id;
    res->batch_records = 1;
    res->new_batch = true;
    res->batch_full = res->batch_full || kp_batch_is_full(b) || tp->n_batches > 1;
    pthread_mutex_unlock(&tp->lock);
    compress_sealed(a, sealed);
}

static void ready_add(kp_ready *r, int32_t node) {
    for (int32_t i = 0; i < r->n_nodes; i++)
        if (r->nodes[i] == node)
            return;
    if (!kw_grow(&r->nodes, r->n_nodes, &r->cap_nodes, sizeof *r->nodes, 8))
        return;
    r->nodes[r->n_nodes++] = node;
}

void kp_ready_free(kp_ready *r) {
    free(r->nodes);
    memset(r, 0, sizeof *r);
}

void kp_accum_ready(kp_accum *a, int64_t now_ms, kp_ready *r) {
    r->n_nodes = 0;
    r->unknown_leaders = false;
    r->next_ready_check_ms = INT64_MAX;
    bool exhausted = kp_bufpool_queued(a->pool) > 0;
    bool flushing = atomic_load(&a->flushes_in_progress) > 0 || atomic_load(&a->closed);
    int64_t linger = a->conf->linger_ms;
    pthread_rwlock_rdlock(&a->map_lock);
    for (int32_t i = 0; i < a->n_all; i++) {
        kp_tp *tp = a->all[i];
        int32_t leader = atomic_load_explicit(&tp->leader, memory_order_relaxed);
        pthread_mutex_lock(&tp->lock);
        kp_batch *b = tp->head;
        if (!b || b->compressing) { /* a compressing head: its thread wakes the sender */
            pthread_mutex_unlock(&tp->lock);
            continue;
        }
        if (leader < 0) {
            r->unknown_leaders = true;
        } else if (!atomic_load_explicit(&tp->muted, memory_order_relaxed)) {
            /* As RecordAccumulator.partitionReady(). */
            int64_t waited = now_ms - b->last_attempt_ms;
            bool backing_off = b->retry && waited < b->backoff_ms;
            int64_t time_to_wait = backing_off ? b->backoff_ms : linger;
            bool full = tp->n_batches > 1 || kp_batch_is_full(b);
            bool expired = waited >= time_to_wait;
            bool sendable = full || expired || exhausted || flushing;
            if (sendable && !backing_off) {
                ready_add(r, leader);
            } else {
                int64_t left = time_to_wait - waited;
                if (left < 0)
                    left = 0;
                if (left < r->next_ready_check_ms)
                    r->next_ready_check_ms = left;
            }
        }
        pthread_mutex_unlock(&tp->lock);
    }
    pthread_rwlock_unlock(&a->map_lock);
}

static kp_node_parts *node_parts(kp_accum *a, int32_t node) {
    for (int32_t i = 0; i < a->n_nodes; i++)
        if (a->nodes[i].node_id == node)
            return &a->nodes[i];
    if (!kw_grow(&a->nodes, a->n_nodes, &a->cap_nodes, sizeof *a->nodes, 8))
        return NULL;
    a->nodes[a->n_nodes] = (kp_node_parts){node, 0};
    return &a->nodes[a->n_nodes++];
}

/* Appends b to a growing array of batches; false when out of memory. */
static bool out_add(kp_batch ***out, int32_t *n, int32_t *cap, kp_batch *b) {
    if (!kw_grow(out, *n, cap, sizeof **out, 16))
        return false;
    (*out)[(*n)++] = b;
    return true;
}

void kp_drained_free(kp_drained *d) {
    free(d->batches);
    memset(d, 0, sizeof *d);
}

int32_t kp_accum_drain(kp_accum *a, const int32_t *nodes, int32_t n_nodes, int32_t max_request_size,
                       int64_t pid, int16_t epoch, int64_t now_ms, kp_drained *out) {
    int32_t total = 0;
    bool ordered = a->conf->max_in_flight == 1;
    kp_tp **mine = NULL;
    int32_t cap_mine = 0;
    pthread_rwlock_rdlock(&a->map_lock);
    for (int32_t k = 0; k < n_nodes; k++) {
        kp_drained *d = &out[k];
        d->node_id = nodes[k];
        d->n = 0;
        d->bytes = 0;
        kp_node_parts *np = node_parts(a, nodes[k]);
        if (!np)
            continue;
        /* The partitions this node leads, in a stable order. */
        int32_t n = 0;
        for (int32_t i = 0; i < a->n_all; i++) {
            if (atomic_load_explicit(&a->all[i]->leader, memory_order_relaxed) != nodes[k])
                continue;
            if (!kw_grow(&mine, n, &cap_mine, sizeof *mine, 32))
                break;
            mine[n++] = a->all[i];
        }
        if (n == 0)
            continue;
        int32_t start = np->drain_index % n;
        int32_t i = start;
        do {
            kp_tp *tp = mine[i];
            np->drain_index = i; /* as Java's updateDrainIndex: resume where we stopped */
            i = (i + 1) % n;
            if (atomic_load_explicit(&tp->muted, memory_order_relaxed))
                continue;
            pthread_mutex_lock(&tp->lock);
            kp_batch *b = tp->head;
            if (!b) {
                pthread_mutex_unlock(&tp->lock);
                continue;
            }
            if (b->compressing || (b->retry && now_ms - b->last_attempt_ms < b->backoff_ms)) {
                pthread_mutex_unlock(&tp->lock);
                continue;
            }
            int64_t est = (int64_t)kp_batch_estimated_size(b);
            if (d->bytes + est > max_request_size && d->n > 0) {
                pthread_mutex_unlock(&tp->lock);
                break; /* as Java: this request is full; the rest waits for the next one */
            }
            /* Idempotence: a retry goes again only as the partition's lowest sequence with
             * nothing of its partition in flight; a new batch waits while the partition's
             * sequences are unresolved or belong to an older epoch (idempotence.c). */
            if (pid >= 0 && !kp_idem_may_drain(tp, b, pid, epoch)) {
                pthread_mutex_unlock(&tp->lock);
                continue;
            }
            unlink_batch(tp, b);
            b->sealed_at_drain = !b->sealed;
            b->sealed = true;
            pthread_mutex_unlock(&tp->lock);

            bool first_close = !b->closed;
            if (pid >= 0) {
                kp_idem_stamp(tp, b, pid, epoch);
            } else {
                kp_batch_close(b, KW_NO_PRODUCER_ID, -1, KW_NO_SEQUENCE);
            }
            if (first_close && b->wire && !b->ratio_counted) /* as ProducerBatch.close() */
                kp_accum_ratio_update(a, tp->topic, kp_batch_observed_ratio(b));
            b->attempts++;
            if (!out_add(&d->batches, &d->n, &d->cap, b)) {
                /* cannot happen in practice; put it back at the head */
                kp_accum_reenqueue(a, b, 0, now_ms);
                break;
            }
            d->bytes += (int64_t)b->size;
            total++;
            atomic_fetch_add(&tp->in_flight, 1);
            if (ordered)
                atomic_store(&tp->muted, true);
        } while (i != start);
    }
    pthread_rwlock_unlock(&a->map_lock);
    free(mine);
    return total;
}

void kp_accum_reenqueue(kp_accum *a, kp_batch *b, int64_t backoff_ms, int64_t now_ms) {
    (void)a;
    kp_tp *tp = b->tp;
    b->retry = true;
    b->last_attempt_ms = now_ms;
    b->backoff_ms = backoff_ms;
    pthread_mutex_lock(&tp->lock);
    kp_batch *at = tp->head;
    if (b->base_seq >= 0) {
        /* Java's insertInSequenceOrder: before the first batch with a higher (or no)
         * sequence. */
        while (at && at->base_seq >= 0 && at->base_seq < b->base_seq)
            at = at->next;
    }
    link_batch(tp, at, b);
    pthread_mutex_unlock(&tp->lock);
}

/* Takes, from the head of every deque, the batches created at or before created_by_ms, sealed,
 * into *out (malloc'd array); returns how many. */
/* A batch its sealing thread is still compressing is skipped (expiry takes it next time) or,
 * with wait (forced close), waited for: compression takes microseconds to milliseconds. */
static int32_t take_heads(kp_accum *a, int64_t created_by_ms, bool wait, kp_batch ***out) {
    int32_t n = 0, cap = 0;
    *out = NULL;
    pthread_rwlock_rdlock(&a->map_lock);
    for (int32_t i = 0; i < a->n_all; i++) {
        kp_tp *tp = a->all[i];
        pthread_mutex_lock(&tp->lock);
        while (tp->head && tp->head->created_ms <= created_by_ms) {
            kp_batch *b = tp->head;
            if (b->compressing) {
                if (!wait)
                    break;
                pthread_mutex_unlock(&tp->lock);
                sched_yield();
                pthread_mutex_lock(&tp->lock);
                continue;
            }
            if (!out_add(out, &n, &cap, b))
                break;
            unlink_batch(tp, b);
            b->sealed = true;
        }
        pthread_mutex_unlock(&tp->lock);
    }
    pthread_rwlock_unlock(&a->map_lock);
    return n;
}

int32_t kp_accum_expire(kp_accum *a, int64_t now_ms, kp_batch ***out) {
    return take_heads(a, now_ms - a->conf->delivery_timeout_ms, false, out);
}

int32_t kp_accum_take_all(kp_accum *a, kp_batch ***out) {
    return take_heads(a, INT64_MAX, true, out);
}
