/* The workload (the customers at the front desk): N application threads that call
 * kp_produce() at the scenario's rate, with its keys and value sizes.
 *
 * Pacing is global and on the simulation clock: record id k is due at start + k / rate, so
 * the rate follows pause and speed, and ids are handed out in due order. Each record's value
 * starts with "<id>|" so the audit can recognise it in the cluster's logs; the key of key
 * index i is "key-<i>". Random choices come from a per-thread xorshift seeded from the
 * scenario seed, so a run is repeatable (as far as thread scheduling allows). */
#include "sim/runner_int.h"

#include <stdlib.h>
#include <string.h>

static uint64_t xorshift(uint64_t *s) {
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

int sim_workload_value(const sim_runner *r, int64_t id, uint64_t *rng, char *buf, size_t size) {
    const sim_workload_spec *w = &r->s->workload;
    int len = w->value_min;
    if (w->value_max > w->value_min)
        len += (int)(xorshift(rng) % (uint64_t)(w->value_max - w->value_min + 1));
    int n = snprintf(buf, size, "%lld|", (long long)id);
    if (len < n)
        len = n; /* the id always fits: a value is at least as long as its tag */
    if ((size_t)len >= size)
        len = (int)size - 1;
    for (int i = n; i < len; i++)
        buf[i] = (char)('a' + (id + i) % 26);
    buf[len] = '\0';
    return len;
}

static void on_delivery(const kp_record_metadata *md, kw_err err, void *opaque) {
    sim_rec *rec = opaque;
    sim_runner *r = rec->r;
    int64_t id = rec - r->recs;
    sim_event e;
    if (err == KW_ERR_NONE) {
        rec->partition = md->partition;
        rec->offset = md->offset;
        atomic_store_explicit(&rec->state, REC_ACKED, memory_order_release);
        atomic_fetch_add(&r->acked, 1);
        sim_event_init(&e, SIM_SRC_SIM, "delivery.acked");
        e.offset = md->offset;
    } else {
        rec->err = err;
        rec->partition = md ? md->partition : -1;
        atomic_store_explicit(&rec->state, REC_FAILED, memory_order_release);
        atomic_fetch_add(&r->failed, 1);
        sim_event_init(&e, SIM_SRC_SIM, "delivery.failed");
        e.err = err;
        sim_copy(e.detail, sizeof e.detail, kw_err_name(err));
    }
    e.record_id = id;
    if (md) {
        if (md->topic)
            sim_copy(e.topic, sizeof e.topic, md->topic);
        e.partition = md->partition;
    }
    sim_runner_emit(r, &e);
}

static void *worker_main(void *arg) {
    struct sim_worker *wk = arg;
    sim_runner *r = wk->r;
    const sim_workload_spec *w = &r->s->workload;
    uint64_t rng =
        r->seed * 0x9E3779B97F4A7C15ULL + (uint64_t)(uint32_t)wk->index * 0xBF58476D1CE4E5B9ULL + 1;
    size_t cap = (size_t)w->value_max + 32;
    char *value = malloc(cap);
    char key[32];
    double us_per_record = w->rate > 0 ? 1e6 / w->rate : 0;
    while (value && !atomic_load(&r->stop)) {
        int64_t id = atomic_fetch_add(&r->next_id, 1);
        if (id >= r->max_records)
            break;
        if (us_per_record > 0) {
            int64_t due = r->start_us + (int64_t)((double)id * us_per_record);
            if (!sim_clock_sleep_until(r->clock, due, &r->stop))
                break;
        }
        if (w->duration_ms > 0 && sim_clock_now_us(r->clock) - r->start_us >= w->duration_ms * 1000)
            break;
        sim_rec *rec = &r->recs[id];
        rec->r = r;
        rec->thread = (uint8_t)wk->index;
        rec->key = w->keys > 0 ? (int32_t)(xorshift(&rng) % (uint64_t)w->keys) : -1;
        rec->partition = -1;
        rec->offset = -1;
        int vlen = sim_workload_value(r, id, &rng, value, cap);
        kp_record kr = {
            .topic = w->topic,
            .partition = KP_PARTITION_ANY,
            .key = NULL,
            .key_len = -1,
            .value = value,
            .value_len = vlen,
            .timestamp_ms = KP_TIMESTAMP_NOW,
        };
        if (rec->key >= 0) {
            kr.key_len = snprintf(key, sizeof key, "key-%d", rec->key);
            kr.key = key;
        }
        atomic_store_explicit(&rec->state, REC_PENDING, memory_order_release);
        atomic_fetch_add(&r->sent, 1);
        kw_err err = kp_produce(r->producer, &kr, on_delivery, rec, NULL);
        if (err != KW_ERR_NONE) {
            /* the callback will never be called: this is the record's outcome */
            rec->err = err;
            atomic_store_explicit(&rec->state, REC_FAILED, memory_order_release);
            atomic_fetch_add(&r->failed, 1);
            sim_event e;
            sim_event_init(&e, SIM_SRC_SIM, "delivery.failed");
            e.record_id = id;
            e.err = err;
            sim_copy(e.topic, sizeof e.topic, w->topic);
            snprintf(e.detail, sizeof e.detail, "%s (kp_produce)", kw_err_name(err));
            sim_runner_emit(r, &e);
        }
    }
    free(value);
    atomic_fetch_sub(&r->active_workers, 1);
    return NULL;
}

int sim_workload_start(sim_runner *r, char *errbuf, size_t errsize) {
    int n = r->s->workload.threads;
    atomic_store(&r->active_workers, n);
    for (int i = 0; i < n; i++) {
        r->wk[i].r = r;
        r->wk[i].index = i;
        if (pthread_create(&r->workers[i], NULL, worker_main, &r->wk[i])) {
            atomic_store(&r->stop, true);
            atomic_fetch_sub(&r->active_workers, n - i);
            snprintf(errbuf, errsize, "cannot start workload thread %d", i);
            return -1;
        }
        r->n_workers = i + 1;
    }
    return 0;
}
