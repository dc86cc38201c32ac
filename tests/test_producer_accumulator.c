/* The sorting room without a network: ready()/drain() rules with `now` handed in (linger,
 * full, backoff, flush, exhausted memory, muting with max.in.flight=1, fairness, sequences),
 * the buffer pool's accounting and blocking, and the retry backoff math. */
#include "producer/kp_int.h"
#include "tests/tu.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct room {
    kp_conf conf;
    kp_bufpool pool;
    kp_accum a;
} room;

static void room_init(room *r, int32_t batch_size, int64_t memory, int64_t linger,
                      int32_t in_flight) {
    kp_conf *c = kp_conf_new();
    char err[256];
    kp_conf_set(c, "bootstrap.servers", "127.0.0.1:1", err, sizeof err);
    kp_conf_resolve(c, &r->conf, err, sizeof err);
    kp_conf_destroy(c);
    r->conf.batch_size = batch_size;
    r->conf.buffer_memory = memory;
    r->conf.linger_ms = linger;
    r->conf.max_in_flight = in_flight;
    kp_bufpool_init(&r->pool, memory, batch_size, r->conf.clock);
    kp_accum_init(&r->a, &r->conf, &r->pool);
}

static void room_destroy(room *r) {
    kp_accum_destroy(&r->a);
    kp_bufpool_destroy(&r->pool);
}

static kp_tp *part(room *r, int32_t p, int32_t leader) {
    kp_tp *tp = kp_accum_tp(&r->a, "t", p);
    atomic_store(&tp->leader, leader);
    return tp;
}

/* Appends one record of `size` value bytes; returns the result. */
static kp_append_result put(room *r, kp_tp *tp, int size, int64_t now) {
    static char val[4096];
    kp_thunk th = {0};
    kp_append_result res;
    kp_accum_append(&r->a, tp, now, KW_SLICE_NULL, (kw_slice){(const uint8_t *)val, size}, NULL, 0,
                    &th, 0, false, now, NULL, NULL, &res);
    return res;
}

static bool is_ready(room *r, int64_t now, int32_t node, int64_t *next) {
    kp_ready rd = {0};
    kp_accum_ready(&r->a, now, &rd);
    bool found = false;
    for (int32_t i = 0; i < rd.n_nodes; i++)
        found |= rd.nodes[i] == node;
    if (next)
        *next = rd.next_ready_check_ms;
    kp_ready_free(&rd);
    return found;
}

static int32_t drain1(room *r, int32_t node, int32_t max_size, int64_t pid, int64_t now,
                      kp_drained *d) {
    memset(d, 0, sizeof *d);
    return kp_accum_drain(&r->a, &node, 1, max_size, pid, 0, now, d);
}

/* Completes a drained batch as the sender would (in-flight bookkeeping + memory). */
static void finish(room *r, kp_batch *b) {
    atomic_fetch_sub(&b->tp->in_flight, 1);
    atomic_store(&b->tp->muted, false);
    kp_accum_incomplete_remove(&r->a, b);
    kp_bufpool_deallocate(&r->pool, b->buf, b->cap);
    kp_batch_free(b);
}

static void test_ready_waits_for_linger(void) {
    room r;
    room_init(&r, 1024, 1 << 20, 100, 5);
    kp_tp *tp = part(&r, 0, 1);
    kp_append_result res = put(&r, tp, 10, 1000);
    CU_ASSERT_EQUAL(res.err, KW_ERR_NONE);
    CU_ASSERT(res.new_batch);
    int64_t next;
    CU_ASSERT_FALSE(is_ready(&r, 1000, 1, &next));
    CU_ASSERT_EQUAL(next, 100);
    CU_ASSERT_FALSE(is_ready(&r, 1099, 1, &next));
    CU_ASSERT_EQUAL(next, 1);
    CU_ASSERT(is_ready(&r, 1100, 1, NULL));
    kp_drained d;
    CU_ASSERT_EQUAL(drain1(&r, 1, 1 << 20, -1, 1100, &d), 1);
    CU_ASSERT(d.batches[0]->closed);
    CU_ASSERT_EQUAL(d.batches[0]->n_thunks, 1);
    finish(&r, d.batches[0]);
    kp_drained_free(&d);
    room_destroy(&r);
}

static void test_ready_when_batch_full(void) {
    room r;
    room_init(&r, 256, 1 << 20, 10000, 5);
    kp_tp *tp = part(&r, 0, 1);
    kp_append_result res;
    int n = 0;
    do {
        res = put(&r, tp, 50, 1000);
        n++;
    } while (!res.batch_full && n < 100);
    CU_ASSERT(res.batch_full);
    CU_ASSERT(n > 1 && n < 10);
    CU_ASSERT(is_ready(&r, 1000, 1, NULL)); /* full: no linger wait */
    kp_drained d;
    CU_ASSERT_EQUAL(drain1(&r, 1, 1 << 20, -1, 1000, &d), 1); /* one batch per partition */
    finish(&r, d.batches[0]);
    kp_drained_free(&d);
    room_destroy(&r);
}

static void test_ready_during_flush_and_close(void) {
    room r;
    room_init(&r, 1024, 1 << 20, 10000, 5);
    put(&r, part(&r, 0, 1), 10, 1000);
    CU_ASSERT_FALSE(is_ready(&r, 1000, 1, NULL));
    atomic_fetch_add(&r.a.flushes_in_progress, 1);
    CU_ASSERT(is_ready(&r, 1000, 1, NULL));
    atomic_fetch_sub(&r.a.flushes_in_progress, 1);
    CU_ASSERT_FALSE(is_ready(&r, 1000, 1, NULL));
    atomic_store(&r.a.closed, true);
    CU_ASSERT(is_ready(&r, 1000, 1, NULL));
    room_destroy(&r);
}

static void test_unknown_leader_is_reported_not_ready(void) {
    room r;
    room_init(&r, 1024, 1 << 20, 0, 5);
    put(&r, part(&r, 0, -1), 10, 1000);
    kp_ready rd = {0};
    kp_accum_ready(&r.a, 5000, &rd);
    CU_ASSERT_EQUAL(rd.n_nodes, 0);
    CU_ASSERT(rd.unknown_leaders);
    kp_ready_free(&rd);
    room_destroy(&r);
}

static void test_retry_waits_for_backoff(void) {
    room r;
    room_init(&r, 1024, 1 << 20, 0, 5);
    kp_tp *tp = part(&r, 0, 1);
    put(&r, tp, 10, 1000);
    kp_drained d;
    CU_ASSERT_EQUAL(drain1(&r, 1, 1 << 20, -1, 1000, &d), 1);
    kp_batch *b = d.batches[0];
    kp_drained_free(&d);
    atomic_fetch_sub(&tp->in_flight, 1);
    kp_accum_reenqueue(&r.a, b, 100, 1010);
    int64_t next;
    CU_ASSERT_FALSE(is_ready(&r, 1050, 1, &next));
    CU_ASSERT_EQUAL(next, 60);
    CU_ASSERT_EQUAL(drain1(&r, 1, 1 << 20, -1, 1050, &d), 0);
    kp_drained_free(&d);
    CU_ASSERT(is_ready(&r, 1110, 1, NULL));
    CU_ASSERT_EQUAL(drain1(&r, 1, 1 << 20, -1, 1110, &d), 1);
    CU_ASSERT_PTR_EQUAL(d.batches[0], b);
    CU_ASSERT_EQUAL(b->attempts, 2);
    finish(&r, b);
    kp_drained_free(&d);
    room_destroy(&r);
}

static void test_max_in_flight_1_mutes_partition(void) {
    room r;
    room_init(&r, 1024, 1 << 20, 0, 1);
    kp_tp *tp0 = part(&r, 0, 1);
    kp_tp *tp1 = part(&r, 1, 1);
    put(&r, tp0, 10, 1000);
    put(&r, tp1, 10, 1000);
    kp_drained d;
    CU_ASSERT_EQUAL(drain1(&r, 1, 1 << 20, -1, 1000, &d), 2);
    CU_ASSERT(atomic_load(&tp0->muted) && atomic_load(&tp1->muted));
    kp_batch *b0 = d.batches[0], *b1 = d.batches[1];
    kp_drained_free(&d);
    put(&r, tp0, 10, 1001);
    CU_ASSERT_FALSE(is_ready(&r, 2000, 1, NULL)); /* muted: not ready although lingered */
    CU_ASSERT_EQUAL(drain1(&r, 1, 1 << 20, -1, 2000, &d), 0);
    kp_drained_free(&d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b1);
    finish(&r, b0); /* the answers come back: both partitions unmuted */
    finish(&r, b1);
    CU_ASSERT(is_ready(&r, 2000, 1, NULL));
    CU_ASSERT_EQUAL(drain1(&r, 1, 1 << 20, -1, 2000, &d), 1);
    finish(&r, d.batches[0]);
    kp_drained_free(&d);
    room_destroy(&r);
}

static void test_drain_round_robin_is_fair(void) {
    room r;
    room_init(&r, 256, 1 << 20, 0, 5);
    kp_tp *tps[4];
    for (int i = 0; i < 4; i++) {
        tps[i] = part(&r, i, 1);
        for (int k = 0; k < 3; k++)
            put(&r, tps[i], 150, 1000); /* one record per batch: 3 batches each */
    }
    /* room for two batches per request */
    int32_t max = 2 * (61 + 150 + 20);
    int32_t seen[4] = {0};
    int32_t order[12];
    int no = 0;
    for (int round = 0; round < 6; round++) {
        kp_drained d;
        int32_t n = drain1(&r, 1, max, -1, 1000, &d);
        CU_ASSERT_EQUAL(n, 2);
        for (int32_t i = 0; i < d.n; i++) {
            seen[d.batches[i]->tp->partition]++;
            order[no++] = d.batches[i]->tp->partition;
            finish(&r, d.batches[i]);
        }
        kp_drained_free(&d);
    }
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(seen[i], 3);
    /* first two requests cover all four partitions */
    CU_ASSERT_EQUAL(order[0], 0);
    CU_ASSERT_EQUAL(order[1], 1);
    CU_ASSERT_EQUAL(order[2], 2);
    CU_ASSERT_EQUAL(order[3], 3);
    room_destroy(&r);
}

static void test_drain_stamps_consecutive_sequences(void) {
    room r;
    room_init(&r, 256, 1 << 20, 0, 5);
    kp_tp *tp = part(&r, 0, 1);
    for (int k = 0; k < 6; k++)
        put(&r, tp, 80, 1000); /* 2 records per batch */
    kp_drained d1, d2;
    drain1(&r, 1, 1 << 20, 42, 1000, &d1);
    drain1(&r, 1, 1 << 20, 42, 1000, &d2);
    kp_batch *a = d1.batches[0], *b = d2.batches[0];
    CU_ASSERT_EQUAL(a->base_seq, 0);
    CU_ASSERT_EQUAL(b->base_seq, a->n_thunks);
    CU_ASSERT_EQUAL(a->producer_id, 42);
    kw_batch parsed;
    size_t used;
    char err[128];
    CU_ASSERT_EQUAL(kw_batch_parse(b->buf, b->size, true, &parsed, &used, err, sizeof err),
                    KW_ERR_NONE);
    CU_ASSERT_EQUAL(parsed.base_sequence, a->n_thunks);
    CU_ASSERT_EQUAL(parsed.producer_id, 42);
    /* a fails and comes back: it waits until b is no longer in flight, then keeps seq 0 */
    atomic_fetch_sub(&tp->in_flight, 1);
    kp_accum_reenqueue(&r.a, a, 0, 1001);
    CU_ASSERT_PTR_EQUAL(tp->head, a); /* in sequence order: before the unsent batch */
    kp_drained d3;
    CU_ASSERT_EQUAL(drain1(&r, 1, 1 << 20, 42, 1002, &d3), 0);
    kp_drained_free(&d3);
    finish(&r, b);
    CU_ASSERT_EQUAL(drain1(&r, 1, 1 << 20, 42, 1003, &d3), 1);
    CU_ASSERT_PTR_EQUAL(d3.batches[0], a);
    CU_ASSERT_EQUAL(a->base_seq, 0);
    finish(&r, a);
    kp_drained_free(&d1);
    kp_drained_free(&d2);
    kp_drained_free(&d3);
    room_destroy(&r);
}

static void test_reenqueue_keeps_sequence_order(void) {
    room r;
    room_init(&r, 256, 1 << 20, 0, 5);
    kp_tp *tp = part(&r, 0, 1);
    for (int k = 0; k < 6; k++)
        put(&r, tp, 80, 1000);
    kp_batch *bs[3];
    for (int i = 0; i < 3; i++) {
        kp_drained d;
        drain1(&r, 1, 1 << 20, 7, 1000, &d);
        bs[i] = d.batches[0];
        kp_drained_free(&d);
    }
    /* they fail in reverse order; the deque must still hold them by sequence */
    for (int i = 2; i >= 0; i--) {
        atomic_fetch_sub(&tp->in_flight, 1);
        kp_accum_reenqueue(&r.a, bs[i], 0, 1001);
    }
    kp_batch *b = tp->head;
    for (int i = 0; i < 3; i++, b = b->next)
        CU_ASSERT_PTR_EQUAL(b, bs[i]);
    kp_batch **all;
    int32_t n = kp_accum_take_all(&r.a, &all);
    CU_ASSERT_EQUAL(n, 3);
    for (int32_t i = 0; i < n; i++) {
        kp_accum_incomplete_remove(&r.a, all[i]);
        kp_bufpool_deallocate(&r.pool, all[i]->buf, all[i]->cap);
        kp_batch_free(all[i]);
    }
    free(all);
    room_destroy(&r);
}

static void test_expire_after_delivery_timeout(void) {
    room r;
    room_init(&r, 1024, 1 << 20, 0, 5);
    r.conf.delivery_timeout_ms = 500;
    kp_tp *tp = part(&r, 0, 1);
    put(&r, tp, 10, 1000);
    kp_batch **exp;
    CU_ASSERT_EQUAL(kp_accum_expire(&r.a, 1499, &exp), 0);
    free(exp);
    CU_ASSERT_EQUAL(kp_accum_expire(&r.a, 1500, &exp), 1);
    CU_ASSERT_PTR_NULL(tp->head);
    kp_accum_incomplete_remove(&r.a, exp[0]);
    kp_bufpool_deallocate(&r.pool, exp[0]->buf, exp[0]->cap);
    kp_batch_free(exp[0]);
    free(exp);
    room_destroy(&r);
}

static void test_backoff_math(void) {
    CU_ASSERT_EQUAL(kp_retry_backoff_ms(1, 100, 1000, 0.5), 100);
    CU_ASSERT_EQUAL(kp_retry_backoff_ms(2, 100, 1000, 0.5), 200);
    CU_ASSERT_EQUAL(kp_retry_backoff_ms(3, 100, 1000, 0.5), 400);
    CU_ASSERT_EQUAL(kp_retry_backoff_ms(4, 100, 1000, 0.5), 800);
    CU_ASSERT_EQUAL(kp_retry_backoff_ms(5, 100, 1000, 0.5), 1000);
    CU_ASSERT_EQUAL(kp_retry_backoff_ms(40, 100, 1000, 0.5), 1000);
    CU_ASSERT_EQUAL(kp_retry_backoff_ms(1, 100, 1000, 0.0), 80);  /* -20% jitter */
    CU_ASSERT_EQUAL(kp_retry_backoff_ms(1, 100, 1000, 1.0), 120); /* +20% jitter */
    CU_ASSERT_EQUAL(kp_retry_backoff_ms(1, 0, 1000, 0.5), 0);
}

/* --- buffer pool ------------------------------------------------------------------------ */

static void test_bufpool_accounting(void) {
    kp_bufpool bp;
    kp_bufpool_init(&bp, 1000, 100, NULL);
    uint8_t *a, *b, *c;
    CU_ASSERT_EQUAL(kp_bufpool_allocate(&bp, 100, 0, &a), KW_ERR_NONE);
    CU_ASSERT_EQUAL(kp_bufpool_available(&bp), 900);
    kp_bufpool_deallocate(&bp, a, 100);
    CU_ASSERT_EQUAL(kp_bufpool_available(&bp), 1000);
    CU_ASSERT_EQUAL(bp.n_free, 1); /* kept for reuse */
    CU_ASSERT_EQUAL(kp_bufpool_allocate(&bp, 100, 0, &b), KW_ERR_NONE);
    CU_ASSERT_PTR_EQUAL(b, a); /* the pooled buffer comes back */
    CU_ASSERT_EQUAL(kp_bufpool_allocate(&bp, 950, 0, &c), KW_ERR__BUFFER_EXHAUSTED);
    CU_ASSERT_EQUAL(kp_bufpool_allocate(&bp, 900, 0, &c), KW_ERR_NONE);
    CU_ASSERT_EQUAL(kp_bufpool_available(&bp), 0);
    kp_bufpool_deallocate(&bp, c, 900);
    kp_bufpool_deallocate(&bp, b, 100);
    CU_ASSERT_EQUAL(kp_bufpool_available(&bp), 1000);
    CU_ASSERT_EQUAL(kp_bufpool_allocate(&bp, 2000, 0, &c), KW_ERR__INVALID_ARG);
    CU_ASSERT_EQUAL(kp_bufpool_allocate(&bp, 1000, 0, &c), KW_ERR_NONE); /* frees the pooled one */
    CU_ASSERT_EQUAL(bp.n_free, 0);
    kp_bufpool_deallocate(&bp, c, 1000);
    kp_bufpool_destroy(&bp);
}

static void test_bufpool_blocks_then_times_out(void) {
    kp_bufpool bp;
    kp_bufpool_init(&bp, 100, 100, NULL);
    uint8_t *a, *b;
    CU_ASSERT_EQUAL(kp_bufpool_allocate(&bp, 100, 0, &a), KW_ERR_NONE);
    int64_t t0 = tu_now_ms();
    CU_ASSERT_EQUAL(kp_bufpool_allocate(&bp, 100, 80, &b), KW_ERR__BUFFER_EXHAUSTED);
    int64_t waited = tu_now_ms() - t0;
    CU_ASSERT(waited >= 79 && waited < 2000);
    CU_ASSERT(atomic_load(&bp.wait_time_ns_total) >= 79 * 1000000LL);
    CU_ASSERT_EQUAL(kp_bufpool_queued(&bp), 0);
    CU_ASSERT_EQUAL(kp_bufpool_available(&bp), 0); /* nothing leaked by the failed wait */
    kp_bufpool_deallocate(&bp, a, 100);
    CU_ASSERT_EQUAL(kp_bufpool_available(&bp), 100);
    kp_bufpool_destroy(&bp);
}

typedef struct waiter_arg {
    kp_bufpool *bp;
    int32_t size;
    kw_err err;
    uint8_t *buf;
    _Atomic int done;
    int order;
    _Atomic int *counter;
} waiter_arg;

static void *waiter(void *arg) {
    waiter_arg *w = arg;
    w->err = kp_bufpool_allocate(w->bp, w->size, 10000, &w->buf);
    w->order = atomic_fetch_add(w->counter, 1);
    atomic_store(&w->done, 1);
    return NULL;
}

static bool queued_is(void *arg) {
    void **v = arg;
    return kp_bufpool_queued(v[0]) == (int32_t)(intptr_t)v[1];
}

static bool is_done(void *arg) {
    return atomic_load(&((waiter_arg *)arg)->done) == 1;
}

static void test_bufpool_waiters_served_fifo(void) {
    kp_bufpool bp;
    kp_bufpool_init(&bp, 200, 100, NULL);
    uint8_t *a, *b;
    kp_bufpool_allocate(&bp, 100, 0, &a);
    kp_bufpool_allocate(&bp, 100, 0, &b);
    _Atomic int counter = 0;
    waiter_arg w1 = {&bp, 100, KW_ERR_NONE, NULL, 0, -1, &counter};
    waiter_arg w2 = {&bp, 100, KW_ERR_NONE, NULL, 0, -1, &counter};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, waiter, &w1);
    void *q1[2] = {&bp, (void *)(intptr_t)1};
    CU_ASSERT(tu_wait_until(queued_is, q1, 5000));
    pthread_create(&t2, NULL, waiter, &w2);
    void *q2[2] = {&bp, (void *)(intptr_t)2};
    CU_ASSERT(tu_wait_until(queued_is, q2, 5000));
    kp_bufpool_deallocate(&bp, a, 100);
    CU_ASSERT(tu_wait_until(is_done, &w1, 5000));
    CU_ASSERT_EQUAL(atomic_load(&w2.done), 0); /* the second waits for the next buffer */
    kp_bufpool_deallocate(&bp, b, 100);
    CU_ASSERT(tu_wait_until(is_done, &w2, 5000));
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    CU_ASSERT_EQUAL(w1.err, KW_ERR_NONE);
    CU_ASSERT_EQUAL(w2.err, KW_ERR_NONE);
    CU_ASSERT_EQUAL(w1.order, 0);
    CU_ASSERT_EQUAL(w2.order, 1);
    kp_bufpool_deallocate(&bp, w1.buf, 100);
    kp_bufpool_deallocate(&bp, w2.buf, 100);
    CU_ASSERT_EQUAL(kp_bufpool_available(&bp), 200);
    kp_bufpool_destroy(&bp);
}

static void test_ready_when_memory_exhausted(void) {
    room r;
    room_init(&r, 256, 256, 100000, 5);
    kp_tp *tp = part(&r, 0, 1);
    put(&r, tp, 10, 1000);
    CU_ASSERT_FALSE(is_ready(&r, 1000, 1, NULL));
    _Atomic int counter = 0;
    waiter_arg w = {&r.pool, 256, KW_ERR_NONE, NULL, 0, -1, &counter};
    pthread_t t;
    pthread_create(&t, NULL, waiter, &w);
    void *q[2] = {&r.pool, (void *)(intptr_t)1};
    CU_ASSERT(tu_wait_until(queued_is, q, 5000));
    CU_ASSERT(is_ready(&r, 1000, 1, NULL)); /* someone waits for memory: send now */
    kp_drained d;
    CU_ASSERT_EQUAL(drain1(&r, 1, 1 << 20, -1, 1000, &d), 1);
    finish(&r, d.batches[0]);
    kp_drained_free(&d);
    CU_ASSERT(tu_wait_until(is_done, &w, 5000));
    pthread_join(t, NULL);
    kp_bufpool_deallocate(&r.pool, w.buf, 256);
    room_destroy(&r);
}

void suite_producer_accumulator(void);
void suite_producer_accumulator(void) {
    tu_suite("producer_accumulator");
    tu_test("test_ready_waits_for_linger", test_ready_waits_for_linger);
    tu_test("test_ready_when_batch_full", test_ready_when_batch_full);
    tu_test("test_ready_during_flush_and_close", test_ready_during_flush_and_close);
    tu_test("test_unknown_leader_is_reported_not_ready", test_unknown_leader_is_reported_not_ready);
    tu_test("test_retry_waits_for_backoff", test_retry_waits_for_backoff);
    tu_test("test_max_in_flight_1_mutes_partition", test_max_in_flight_1_mutes_partition);
    tu_test("test_drain_round_robin_is_fair", test_drain_round_robin_is_fair);
    tu_test("test_drain_stamps_consecutive_sequences", test_drain_stamps_consecutive_sequences);
    tu_test("test_reenqueue_keeps_sequence_order", test_reenqueue_keeps_sequence_order);
    tu_test("test_expire_after_delivery_timeout", test_expire_after_delivery_timeout);
    tu_test("test_backoff_math", test_backoff_math);
    tu_test("test_bufpool_accounting", test_bufpool_accounting);
    tu_test("test_bufpool_blocks_then_times_out", test_bufpool_blocks_then_times_out);
    tu_test("test_bufpool_waiters_served_fifo", test_bufpool_waiters_served_fifo);
    tu_test("test_ready_when_memory_exhausted", test_ready_when_memory_exhausted);
}
