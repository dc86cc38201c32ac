/* The producer at its limits, over real sockets to librdkafka's mock cluster: buffer.memory
 * exhaustion, oversized records, a down cluster, unknown topics, flush and close as Kafka's,
 * keyless sticky partitioning, events (and that the sink is never called with a lock held),
 * and a paused clock that stops linger. */
#include "producer/kp_int.h"
#include "tests/test_producer_util.h"

#include <stdlib.h>
#include <time.h>

static kp_record rec_of(const char *topic, int32_t partition, const char *key, const void *value,
                        int32_t value_len) {
    kp_record r = {.topic = topic,
                   .partition = partition,
                   .key = key,
                   .key_len = -1,
                   .value = value,
                   .value_len = value_len,
                   .timestamp_ms = KP_TIMESTAMP_NOW};
    return r;
}

static bool acked_at_least(void *arg) {
    void **v = arg;
    return atomic_load(&((tdeliv *)v[0])->acked) >= (int64_t)(intptr_t)v[1];
}

static bool settled(void *arg) {
    void **v = arg;
    tdeliv *d = v[0];
    return atomic_load(&d->acked) + atomic_load(&d->failed) >= (int64_t)(intptr_t)v[1];
}

typedef struct evlog {
    pthread_mutex_t lock;
    int counts[KP_EV__COUNT];
    kp_producer *p; /* when set, the sink takes a snapshot (deadlocks if a lock were held) */
    int snapshots;
} evlog;

static void ev_sink(const kp_event *ev, void *opaque) {
    evlog *l = opaque;
    pthread_mutex_lock(&l->lock);
    l->counts[ev->kind]++;
    kp_producer *p = l->p;
    pthread_mutex_unlock(&l->lock);
    if (p && (ev->kind == KP_EV_RECORD_APPENDED || ev->kind == KP_EV_BATCH_DRAINED ||
              ev->kind == KP_EV_BATCH_COMPLETED || ev->kind == KP_EV_BUFFER_WAIT)) {
        kp_snap s;
        if (kp_snapshot(p, &s) == KW_ERR_NONE) {
            kp_snapshot_free(&s);
            pthread_mutex_lock(&l->lock);
            l->snapshots++;
            pthread_mutex_unlock(&l->lock);
        }
    }
}

static void test_buffer_exhaustion_blocks_then_fails_after_max_block(void) {
    tcl m;
    CU_ASSERT_FATAL(tcl_start(&m, false, 1, "mem", 1, 1));
    kp_conf *c = tconf(m.bootstraps);
    tset(c, "batch.size", "16384");
    tset(c, "buffer.memory", "32768");
    tset(c, "max.block.ms", "300");
    tset(c, "linger.ms", "0");
    evlog l = {.lock = PTHREAD_MUTEX_INITIALIZER};
    kp_conf_set_event_sink(c, ev_sink, &l);
    kp_producer *p = tproducer(c);
    pthread_mutex_lock(&l.lock);
    l.p = p;
    pthread_mutex_unlock(&l.lock);
    tdeliv d = {0};
    static char val[8000];
    memset(val, 'v', sizeof val);
    kp_record r = rec_of("mem", 0, NULL, val, sizeof val);
    CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, &d, NULL), KW_ERR_NONE); /* metadata known */
    void *w1[2] = {&d, (void *)1};
    CU_ASSERT(tu_wait_until(acked_at_least, w1, 10000));
    /* Now the broker answers after 3 s: batches stay in flight, holding their memory. */
    tcl_set_rtt(&m, 1, 3000);
    kw_err e = KW_ERR_NONE;
    int accepted = 0;
    int64_t t0 = 0, blocked_ms = 0;
    for (int i = 0; i < 20 && e == KW_ERR_NONE; i++) {
        t0 = tu_now_ms();
        e = kp_produce(p, &r, tdeliv_cb, &d, NULL);
        blocked_ms = tu_now_ms() - t0;
        if (e == KW_ERR_NONE)
            accepted++;
    }
    CU_ASSERT_EQUAL(e, KW_ERR__BUFFER_EXHAUSTED);
    CU_ASSERT(blocked_ms >= 290 && blocked_ms < 2500);
    CU_ASSERT(accepted >= 2 && accepted <= 4); /* 32 KiB holds two 16 KiB batches */
    pthread_mutex_lock(&l.lock);
    CU_ASSERT(l.counts[KP_EV_BUFFER_WAIT] >= 1);
    CU_ASSERT(l.counts[KP_EV_BUFFER_WAIT_DONE] >= 1);
    pthread_mutex_unlock(&l.lock);
    kp_metrics mt;
    kp_metrics_get(p, &mt);
    CU_ASSERT(mt.bufferpool_wait_time_ns_total >= 290e6);
    tcl_set_rtt(&m, 1, 0);
    CU_ASSERT_EQUAL(kp_flush(p, 20000), KW_ERR_NONE);
    CU_ASSERT_EQUAL(atomic_load(&d.acked), 1 + accepted);
    CU_ASSERT_EQUAL(atomic_load(&d.failed), 0);
    pthread_mutex_lock(&l.lock);
    l.p = NULL; /* destroy emits events too: no snapshots of a producer going away */
    pthread_mutex_unlock(&l.lock);
    kp_producer_destroy(p);
    CU_ASSERT(l.snapshots > 0);
    kp_conf_destroy(c);
    tcl_stop(&m);
}

static void test_record_over_max_request_size_fails_before_accumulator(void) {
    tcl m;
    CU_ASSERT_FATAL(tcl_start(&m, false, 1, "big", 1, 1));
    kp_conf *c = tconf(m.bootstraps);
    tset(c, "max.request.size", "1000");
    kp_producer *p = tproducer(c);
    tdeliv d = {0};
    static char val[2000];
    memset(val, 'b', sizeof val);
    kp_record r = rec_of("big", KP_PARTITION_ANY, "k", val, sizeof val);
    CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, &d, NULL), KW_ERR__RECORD_TOO_LARGE);
    CU_ASSERT_EQUAL(kp_outstanding(p), 0);
    kp_snap s;
    CU_ASSERT_EQUAL(kp_snapshot(p, &s), KW_ERR_NONE);
    int batches = 0;
    for (int32_t i = 0; i < s.n_partitions; i++)
        batches += s.partitions[i].n_batches;
    CU_ASSERT_EQUAL(batches, 0);
    CU_ASSERT_EQUAL(s.buffer_used, 0);
    kp_snapshot_free(&s);
    /* a small one still goes through */
    r.value_len = 100;
    CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, &d, NULL), KW_ERR_NONE);
    CU_ASSERT_EQUAL(kp_flush(p, 10000), KW_ERR_NONE);
    CU_ASSERT_EQUAL(atomic_load(&d.acked), 1);
    CU_ASSERT_EQUAL(atomic_load(&d.failed), 0); /* the callback never ran for the big one */
    kp_producer_destroy(p);
    kp_conf_destroy(c);
    tcl_stop(&m);
}

static void test_down_cluster_fails_records_with_delivery_timeout(void) {
    tcl m;
    CU_ASSERT_FATAL(tcl_start(&m, false, 3, "down", 3, 3));
    kp_conf *c = tconf(m.bootstraps);
    tset(c, "linger.ms", "0");
    tset(c, "request.timeout.ms", "500");
    tset(c, "delivery.timeout.ms", "1500");
    kp_producer *p = tproducer(c);
    tdeliv d = {0};
    kp_record r = rec_of("down", KP_PARTITION_ANY, "k", "v", 1);
    CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, &d, NULL), KW_ERR_NONE);
    void *w1[2] = {&d, (void *)1};
    CU_ASSERT(tu_wait_until(acked_at_least, w1, 10000));
    for (int b = 1; b <= 3; b++)
        tcl_broker_down(&m, b);
    int64_t t0 = tu_now_ms();
    for (int i = 0; i < 50; i++)
        CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, &d, NULL), KW_ERR_NONE);
    void *w2[2] = {&d, (void *)51};
    CU_ASSERT(tu_wait_until(settled, w2, 15000));
    int64_t took = tu_now_ms() - t0;
    CU_ASSERT_EQUAL(atomic_load(&d.failed), 50);
    CU_ASSERT_EQUAL(atomic_load(&d.last_err), KW_ERR__DELIVERY_TIMEOUT);
    CU_ASSERT(took >= 1400);
    kp_metrics mt;
    kp_metrics_get(p, &mt);
    CU_ASSERT_EQUAL(mt.record_error_total, 50);
    CU_ASSERT_EQUAL(kp_close(p, 2000), KW_ERR_NONE);
    kp_producer_destroy(p);
    kp_conf_destroy(c);
    tcl_stop(&m);
}

typedef struct timed_deliv {
    _Atomic int retried;
    _Atomic int64_t failed_at_ms; /* 0 until the first failure */
    _Atomic int first_err, failures, acked;
} timed_deliv;

static void timed_cb(const kp_record_metadata *md, kw_err err, void *opaque) {
    timed_deliv *t = opaque;
    (void)md;
    if (err == KW_ERR_NONE) {
        atomic_fetch_add(&t->acked, 1);
        return;
    }
    if (atomic_fetch_add(&t->failures, 1) == 0) {
        atomic_store(&t->first_err, (int)err);
        atomic_store(&t->failed_at_ms, tu_now_ms());
    }
}

static void note_retry(const kp_event *ev, void *opaque) {
    if (ev->kind == KP_EV_BATCH_RETRIED)
        atomic_store(&((timed_deliv *)opaque)->retried, 1);
}

static bool was_retried(void *arg) {
    return atomic_load(&((timed_deliv *)arg)->retried) != 0;
}

static bool has_failed(void *arg) {
    return atomic_load(&((timed_deliv *)arg)->failures) > 0;
}

static bool acked_twice(void *arg) {
    return atomic_load(&((timed_deliv *)arg)->acked) >= 2;
}

/* A batch whose retry is in flight when delivery.timeout.ms passes fails then, as Java's
 * Sender.getExpiredInflightBatches, not only when its request times out later; the late end
 * of that request neither calls back again nor disturbs the next records. */
static void test_in_flight_batch_expires_at_delivery_timeout(void) {
    tcl m;
    CU_ASSERT_FATAL(tcl_start(&m, true, 1, "late", 1, 1));
    kp_conf *c = tconf(m.bootstraps);
    tset(c, "linger.ms", "0");
    tset(c, "request.timeout.ms", "1000");
    tset(c, "delivery.timeout.ms", "1000");
    tset(c, "retry.backoff.ms", "600");
    tset(c, "retry.backoff.max.ms", "600");
    tset(c, "enable.idempotence", "false");
    timed_deliv t = {0};
    kp_conf_set_event_sink(c, note_retry, &t);
    kp_producer *p = tproducer(c);
    kp_record r = rec_of("late", 0, NULL, "v", 1);
    CU_ASSERT_EQUAL(kp_produce(p, &r, timed_cb, &t, NULL), KW_ERR_NONE);
    CU_ASSERT_EQUAL(kp_flush(p, 10000), KW_ERR_NONE); /* connection and metadata settled */
    CU_ASSERT_EQUAL(atomic_load(&t.acked), 1);
    /* The first attempt fails at once (retriable); the retry, 480..720 ms later, meets a
     * broker that answers after 5 s, so its request would time out only at 1480..1720 ms. */
    static const kw_err nes[] = {KW_ERR_NOT_ENOUGH_REPLICAS};
    tcl_push_produce_errors(&m, nes, 1);
    int64_t t0 = tu_now_ms();
    CU_ASSERT_EQUAL(kp_produce(p, &r, timed_cb, &t, NULL), KW_ERR_NONE);
    CU_ASSERT_FATAL(tu_wait_until(was_retried, &t, 5000));
    tcl_set_rtt(&m, 1, 5000);
    CU_ASSERT(tu_wait_until(has_failed, &t, 10000));
    int64_t took = atomic_load(&t.failed_at_ms) - t0;
    CU_ASSERT_EQUAL(atomic_load(&t.first_err), KW_ERR__DELIVERY_TIMEOUT);
    CU_ASSERT(took >= 950);
    CU_ASSERT(took < 1400);
    /* The expired batch's request ends later (timed out); the producer carries on. */
    tcl_set_rtt(&m, 1, 0);
    CU_ASSERT_EQUAL(kp_produce(p, &r, timed_cb, &t, NULL), KW_ERR_NONE);
    CU_ASSERT(tu_wait_until(acked_twice, &t, 15000));
    CU_ASSERT_EQUAL(kp_flush(p, 10000), KW_ERR_NONE);
    CU_ASSERT_EQUAL(atomic_load(&t.failures), 1);
    CU_ASSERT_EQUAL(kp_close(p, 10000), KW_ERR_NONE);
    kp_producer_destroy(p);
    CU_ASSERT_EQUAL(atomic_load(&t.failures), 1);
    CU_ASSERT_EQUAL(atomic_load(&t.acked), 2);
    kp_conf_destroy(c);
    tcl_stop(&m);
}

static void count_metadata(const kp_event *ev, void *opaque) {
    if (ev->kind == KP_EV_METADATA_UPDATED)
        atomic_fetch_add((_Atomic int *)opaque, 1);
}

static bool metadata_seen(void *arg) {
    return atomic_load((_Atomic int *)arg) > 0;
}

/* A topic new to the producer is asked for at once, even right after a Metadata request (as
 * Java's requestUpdateForNewTopics resets the refresh backoff): the first record does not
 * wait retry.backoff.ms, and a paused clock cannot hold it forever. */
static void test_new_topic_metadata_skips_the_retry_backoff(void) {
    tcl m;
    CU_ASSERT_FATAL(tcl_start(&m, true, 1, "fresh", 1, 1));
    kp_conf *c = tconf(m.bootstraps);
    tset(c, "retry.backoff.ms", "5000");
    tset(c, "max.block.ms", "2000");
    _Atomic int updates = 0;
    kp_conf_set_event_sink(c, count_metadata, &updates);
    kp_producer *p = tproducer(c);
    /* the producer's first Metadata request (no topics yet) has been answered */
    CU_ASSERT_FATAL(tu_wait_until(metadata_seen, &updates, 10000));
    tdeliv d = {0};
    kp_record r = rec_of("fresh", KP_PARTITION_ANY, NULL, "v", 1);
    int64_t t0 = tu_now_ms();
    CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, &d, NULL), KW_ERR_NONE);
    CU_ASSERT(tu_now_ms() - t0 < 1500);
    CU_ASSERT_EQUAL(kp_flush(p, 10000), KW_ERR_NONE);
    CU_ASSERT_EQUAL(atomic_load(&d.acked), 1);
    kp_producer_destroy(p);
    kp_conf_destroy(c);
    tcl_stop(&m);
}

static void test_unreachable_cluster_fails_with_metadata_timeout(void) {
    kp_conf *c = tconf("127.0.0.1:1"); /* nothing listens on port 1 */
    tset(c, "max.block.ms", "200");
    kp_producer *p = tproducer(c);
    kp_record r = rec_of("nowhere", KP_PARTITION_ANY, NULL, "v", 1);
    int64_t t0 = tu_now_ms();
    CU_ASSERT_EQUAL(kp_produce(p, &r, NULL, NULL, NULL), KW_ERR__METADATA_TIMEOUT);
    int64_t took = tu_now_ms() - t0;
    CU_ASSERT(took >= 190 && took < 3000);
    CU_ASSERT_EQUAL(kp_close(p, 1000), KW_ERR_NONE);
    kp_producer_destroy(p);
    kp_conf_destroy(c);
}

static void test_flush_sends_at_once_despite_long_linger(void) {
    tcl m;
    CU_ASSERT_FATAL(tcl_start(&m, false, 3, "flush", 6, 3));
    kp_conf *c = tconf(m.bootstraps);
    tset(c, "linger.ms", "60000");
    kp_producer *p = tproducer(c);
    tdeliv d = {0};
    for (int i = 0; i < 500; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        kp_record r = rec_of("flush", KP_PARTITION_ANY, key, "value", -1);
        CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, &d, NULL), KW_ERR_NONE);
    }
    CU_ASSERT_EQUAL(atomic_load(&d.acked), 0); /* lingering */
    int64_t t0 = tu_now_ms();
    CU_ASSERT_EQUAL(kp_flush(p, 20000), KW_ERR_NONE);
    CU_ASSERT(tu_now_ms() - t0 < 10000);
    CU_ASSERT_EQUAL(atomic_load(&d.acked), 500);
    CU_ASSERT_EQUAL(kp_outstanding(p), 0);
    kp_producer_destroy(p);
    kp_conf_destroy(c);
    tcl_stop(&m);
}

static void test_close_delivers_everything_then_refuses(void) {
    tcl m;
    CU_ASSERT_FATAL(tcl_start(&m, false, 3, "close", 6, 3));
    kp_conf *c = tconf(m.bootstraps);
    tset(c, "linger.ms", "60000");
    kp_producer *p = tproducer(c);
    tdeliv d = {0};
    for (int i = 0; i < 300; i++) {
        kp_record r = rec_of("close", KP_PARTITION_ANY, NULL, "value", -1);
        CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, &d, NULL), KW_ERR_NONE);
    }
    CU_ASSERT_EQUAL(kp_close(p, -1), KW_ERR_NONE);
    CU_ASSERT_EQUAL(atomic_load(&d.acked), 300);
    kp_record r = rec_of("close", KP_PARTITION_ANY, NULL, "late", -1);
    CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, &d, NULL), KW_ERR__STATE);
    CU_ASSERT_EQUAL(kp_close(p, 0), KW_ERR_NONE); /* idempotent */
    kp_producer_destroy(p);
    CU_ASSERT_EQUAL(atomic_load(&d.acked), 300);
    CU_ASSERT_EQUAL(atomic_load(&d.failed), 0);
    kp_conf_destroy(c);
    tcl_stop(&m);
}

static void test_close_with_zero_timeout_aborts_pending(void) {
    tcl m;
    CU_ASSERT_FATAL(tcl_start(&m, false, 1, "abort", 1, 1));
    kp_conf *c = tconf(m.bootstraps);
    tset(c, "linger.ms", "60000");
    kp_producer *p = tproducer(c);
    tdeliv d = {0};
    kp_record r = rec_of("abort", KP_PARTITION_ANY, NULL, "v", -1);
    CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, &d, NULL), KW_ERR_NONE);
    CU_ASSERT_EQUAL(kp_flush(p, 10000), KW_ERR_NONE);
    tcl_broker_down(&m, 1);
    for (int i = 0; i < 10; i++)
        CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, &d, NULL), KW_ERR_NONE);
    int64_t t0 = tu_now_ms();
    CU_ASSERT_EQUAL(kp_close(p, 0), KW_ERR__TIMED_OUT);
    CU_ASSERT(tu_now_ms() - t0 < 3000);
    CU_ASSERT_EQUAL(atomic_load(&d.acked), 1);
    CU_ASSERT_EQUAL(atomic_load(&d.failed), 10);
    CU_ASSERT_EQUAL(atomic_load(&d.last_err), KW_ERR__INTERRUPTED);
    kp_producer_destroy(p);
    kp_conf_destroy(c);
    tcl_stop(&m);
}

typedef struct part_log {
    pthread_mutex_t lock;
    int32_t parts[400];
    int n;
} part_log;

static void log_partition(const kp_record_metadata *md, kw_err err, void *opaque) {
    part_log *l = opaque;
    if (err != KW_ERR_NONE)
        return;
    pthread_mutex_lock(&l->lock);
    if (md->record_seq >= 2 && md->record_seq - 2 < 400)
        l->parts[md->record_seq - 2] = md->partition;
    l->n++;
    pthread_mutex_unlock(&l->lock);
}

static void test_keyless_records_stick_to_a_partition_until_its_batch_fills(void) {
    tcl m;
    CU_ASSERT_FATAL(tcl_start(&m, false, 3, "sticky", 6, 3));
    kp_conf *c = tconf(m.bootstraps);
    tset(c, "batch.size", "1100");
    tset(c, "linger.ms", "60000");
    kp_producer *p = tproducer(c);
    part_log l = {.lock = PTHREAD_MUTEX_INITIALIZER};
    static char val[100];
    memset(val, 's', sizeof val);
    kp_record warm = rec_of("sticky", 0, NULL, val, 10);
    CU_ASSERT_EQUAL(kp_produce(p, &warm, NULL, NULL, NULL), KW_ERR_NONE); /* seq 1: metadata */
    kp_record r = rec_of("sticky", KP_PARTITION_ANY, NULL, val, sizeof val);
    for (int i = 0; i < 400; i++)
        CU_ASSERT_EQUAL(kp_produce(p, &r, log_partition, &l, NULL), KW_ERR_NONE);
    CU_ASSERT_EQUAL(kp_flush(p, 20000), KW_ERR_NONE);
    CU_ASSERT_EQUAL(l.n, 400);
    /* runs of the same partition, each about one batch (~9 records of 100 bytes) long */
    int runs = 1, longest = 1, cur = 1;
    int distinct[6] = {0};
    for (int i = 0; i < 400; i++) {
        distinct[l.parts[i]] = 1;
        if (i > 0) {
            if (l.parts[i] == l.parts[i - 1])
                cur++;
            else {
                runs++;
                cur = 1;
            }
            if (cur > longest)
                longest = cur;
        }
    }
    int nd = 0;
    for (int i = 0; i < 6; i++)
        nd += distinct[i];
    CU_ASSERT(nd >= 4);
    CU_ASSERT(runs >= 30 && runs <= 60);
    CU_ASSERT(longest <= 12);
    kp_producer_destroy(p);
    kp_conf_destroy(c);
    tcl_stop(&m);
}

static void test_events_cover_the_pipeline(void) {
    tcl m;
    CU_ASSERT_FATAL(tcl_start(&m, false, 3, "events", 6, 3));
    kp_conf *c = tconf(m.bootstraps);
    evlog l = {.lock = PTHREAD_MUTEX_INITIALIZER};
    kp_conf_set_event_sink(c, ev_sink, &l);
    kp_producer *p = tproducer(c);
    pthread_mutex_lock(&l.lock);
    l.p = p;
    pthread_mutex_unlock(&l.lock);
    tdeliv d = {0};
    for (int i = 0; i < 200; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i % 10);
        kp_record r = rec_of("events", KP_PARTITION_ANY, key, "v", -1);
        CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, &d, NULL), KW_ERR_NONE);
    }
    CU_ASSERT_EQUAL(kp_flush(p, 10000), KW_ERR_NONE);
    kp_snap s;
    CU_ASSERT_EQUAL(kp_snapshot(p, &s), KW_ERR_NONE);
    CU_ASSERT_EQUAL(s.n_meta, 6);
    CU_ASSERT(s.n_nodes >= 3);
    CU_ASSERT(s.producer_id >= 0); /* idempotence is on by default */
    CU_ASSERT_EQUAL(s.buffer_total, 33554432);
    kp_snapshot_free(&s);
    pthread_mutex_lock(&l.lock);
    l.p = NULL;
    pthread_mutex_unlock(&l.lock);
    kp_producer_destroy(p);
    static const kp_event_kind must[] = {
        KP_EV_RECORD_SENT,        KP_EV_RECORD_INTERCEPTED, KP_EV_RECORD_SERIALIZED,
        KP_EV_RECORD_PARTITIONED, KP_EV_RECORD_APPENDED,    KP_EV_BATCH_CREATED,
        KP_EV_BATCH_DRAINED,      KP_EV_BATCH_COMPLETED,    KP_EV_REQUEST_SENT,
        KP_EV_RESPONSE_RECEIVED,  KP_EV_METADATA_REQUESTED, KP_EV_METADATA_UPDATED,
        KP_EV_CONNECTION_UP,      KP_EV_PRODUCER_ID};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++) {
        if (l.counts[must[i]] == 0)
            fprintf(stderr, "no %s event\n", kp_event_kind_name(must[i]));
        CU_ASSERT(l.counts[must[i]] > 0);
    }
    CU_ASSERT_EQUAL(l.counts[KP_EV_RECORD_SENT], 200);
    CU_ASSERT_EQUAL(l.counts[KP_EV_RECORD_APPENDED], 200);
    CU_ASSERT(l.snapshots > 0);
    CU_ASSERT_STRING_EQUAL(kp_event_kind_name(KP_EV_BATCH_RETRIED), "batch.retried");
    CU_ASSERT_STRING_EQUAL(kp_event_kind_name(KP_EV__COUNT), "?");
    kp_conf_destroy(c);
    tcl_stop(&m);
}

/* A clock the test moves by hand: paused unless advanced. */
typedef struct manual_clock {
    _Atomic int64_t now_us;
} manual_clock;

static int64_t mc_now(void *o) {
    return atomic_load(&((manual_clock *)o)->now_us);
}

static int64_t mc_wall(void *o, int64_t sim_us) {
    (void)o;
    return sim_us < 20000 ? sim_us : 20000; /* paused: poll again in 20 ms */
}

static void test_paused_clock_stops_linger(void) {
    tcl m;
    CU_ASSERT_FATAL(tcl_start(&m, false, 1, "clock", 1, 1));
    manual_clock mc;
    atomic_init(&mc.now_us, 1000000000);
    kw_clock clk = {mc_now, mc_wall, &mc, NULL};
    kp_conf *c = tconf(m.bootstraps);
    kp_conf_set_clock(c, &clk);
    tset(c, "linger.ms", "100");
    kp_producer *p = tproducer(c);
    tdeliv d = {0};
    kp_record r = rec_of("clock", 0, NULL, "v", -1);
    CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, &d, NULL), KW_ERR_NONE);
    /* 300 ms of wall time pass, none on the producer's clock: the batch keeps lingering. */
    void *w1[2] = {&d, (void *)1};
    CU_ASSERT_FALSE(tu_wait_until(acked_at_least, w1, 300));
    kp_snap s;
    CU_ASSERT_EQUAL(kp_snapshot(p, &s), KW_ERR_NONE);
    CU_ASSERT_EQUAL(s.n_partitions, 1);
    if (s.n_partitions == 1) {
        CU_ASSERT_EQUAL(s.partitions[0].n_batches, 1);
        if (s.partitions[0].n_batches == 1) {
            CU_ASSERT_EQUAL(s.partitions[0].batches[0].age_ms, 0);
            CU_ASSERT_EQUAL(s.partitions[0].batches[0].linger_ms, 100);
        }
    }
    kp_snapshot_free(&s);
    atomic_fetch_add(&mc.now_us, 100000); /* linger passes */
    CU_ASSERT(tu_wait_until(acked_at_least, w1, 5000));
    kp_producer_destroy(p);
    kp_conf_destroy(c);
    tcl_stop(&m);
}

typedef struct ic_state {
    _Atomic int sends, acks, closes;
} ic_state;

static kw_err ic_on_send(void *o, kp_record *rec) {
    ic_state *s = o;
    int n = atomic_fetch_add(&s->sends, 1);
    if (n % 2)
        return KW_ERR__INVALID_ARG; /* failures are logged and swallowed */
    rec->value = "intercepted";
    rec->value_len = -1;
    return KW_ERR_NONE;
}

static void ic_on_ack(void *o, const kp_record_metadata *md, kw_err err) {
    (void)md;
    if (err == KW_ERR_NONE)
        atomic_fetch_add(&((ic_state *)o)->acks, 1);
}

static void ic_on_close(void *o) {
    atomic_fetch_add(&((ic_state *)o)->closes, 1);
}

static void quiet_log(int level, const char *msg, void *o) {
    (void)level;
    (void)msg;
    (void)o;
}

static void test_interceptors_see_sends_and_acks(void) {
    tcl m;
    CU_ASSERT_FATAL(tcl_start(&m, false, 1, "ic", 1, 1));
    kp_conf *c = tconf(m.bootstraps);
    ic_state st = {0};
    kp_interceptor ic = {"test", ic_on_send, ic_on_ack, ic_on_close, &st};
    CU_ASSERT_EQUAL(kp_conf_add_interceptor(c, &ic), KW_ERR_NONE);
    kp_conf_set_log_cb(c, quiet_log, NULL);
    kp_producer *p = tproducer(c);
    tdeliv d = {0};
    for (int i = 0; i < 10; i++) {
        kp_record r = rec_of("ic", KP_PARTITION_ANY, NULL, "original", -1);
        CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, &d, NULL), KW_ERR_NONE);
    }
    CU_ASSERT_EQUAL(kp_flush(p, 10000), KW_ERR_NONE);
    CU_ASSERT_EQUAL(atomic_load(&st.sends), 10);
    CU_ASSERT_EQUAL(atomic_load(&st.acks), 10);
    CU_ASSERT_EQUAL(atomic_load(&d.acked), 10);
    kp_producer_destroy(p);
    CU_ASSERT_EQUAL(atomic_load(&st.closes), 1);
    kp_conf_destroy(c);
    tcl_stop(&m);
}

static void test_bad_records_are_refused_with_reasons(void) {
    tcl m;
    CU_ASSERT_FATAL(tcl_start(&m, false, 1, "bad", 2, 1));
    kp_conf *c = tconf(m.bootstraps);
    kp_producer *p = tproducer(c);
    tdeliv d = {0};
    kp_record r = rec_of("bad", KP_PARTITION_ANY, "k", "v", -1);
    kp_header h[2] = {{"trace", "abc", 3}, {NULL, "x", 1}};
    r.headers = h;
    r.n_headers = 2;
    CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, &d, NULL), KW_ERR__INVALID_ARG);
    r.n_headers = 1; /* a good header is fine */
    CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, &d, NULL), KW_ERR_NONE);
    r.n_headers = 0;
    r.timestamp_ms = -7;
    CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, &d, NULL), KW_ERR__INVALID_ARG);
    r.timestamp_ms = KP_TIMESTAMP_NOW;
    r.partition = 2; /* the topic has partitions 0 and 1 */
    CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, &d, NULL), KW_ERR__UNKNOWN_PARTITION);
    r.partition = -5;
    CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, &d, NULL), KW_ERR__INVALID_ARG);
    r.partition = KP_PARTITION_ANY;
    r.topic = "";
    CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, &d, NULL), KW_ERR__INVALID_ARG);
    CU_ASSERT_EQUAL(kp_produce(p, NULL, tdeliv_cb, &d, NULL), KW_ERR__INVALID_ARG);
    CU_ASSERT_EQUAL(kp_flush(p, 10000), KW_ERR_NONE);
    CU_ASSERT_EQUAL(atomic_load(&d.acked), 1);
    CU_ASSERT_EQUAL(atomic_load(&d.failed), 0); /* refused records never call back */
    kp_metrics mt;
    kp_metrics_get(p, &mt);
    CU_ASSERT_EQUAL(mt.record_error_total, 5);
    kp_producer_destroy(p);
    kp_conf_destroy(c);
    tcl_stop(&m);
}

static void *closer(void *arg) {
    kp_close(arg, 5000);
    return NULL;
}

static void test_concurrent_close_is_safe(void) {
    tcl m;
    CU_ASSERT_FATAL(tcl_start(&m, false, 1, "cc", 1, 1));
    kp_conf *c = tconf(m.bootstraps);
    kp_producer *p = tproducer(c);
    tdeliv d = {0};
    for (int i = 0; i < 100; i++) {
        kp_record r = rec_of("cc", KP_PARTITION_ANY, NULL, "v", -1);
        CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, &d, NULL), KW_ERR_NONE);
    }
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, closer, p);
    kp_close(p, 5000);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    CU_ASSERT_EQUAL(atomic_load(&d.acked), 100);
    kp_producer_destroy(p);
    kp_conf_destroy(c);
    tcl_stop(&m);
}

/* The simulator's step mode: a sink that holds the sender thread inside an event. The
 * producing thread, the snapshot and the metrics must all keep working meanwhile (no producer
 * lock is held around a sink call), and the pipeline goes on when the sink lets go. */
typedef struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    bool held, released;
} gate;

static void gate_sink(const kp_event *ev, void *opaque) {
    gate *g = opaque;
    if (ev->kind != KP_EV_BATCH_DRAINED)
        return;
    pthread_mutex_lock(&g->lock);
    if (!g->released) {
        g->held = true;
        while (!g->released)
            pthread_cond_wait(&g->cv, &g->lock);
    }
    pthread_mutex_unlock(&g->lock);
}

static bool gate_held(void *arg) {
    gate *g = arg;
    pthread_mutex_lock(&g->lock);
    bool h = g->held;
    pthread_mutex_unlock(&g->lock);
    return h;
}

static void test_sink_may_block_the_sender_without_stalling_others(void) {
    tcl m;
    CU_ASSERT_FATAL(tcl_start(&m, false, 1, "gate", 2, 1));
    kp_conf *c = tconf(m.bootstraps);
    gate g = {.lock = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    kp_conf_set_event_sink(c, gate_sink, &g);
    kp_producer *p = tproducer(c);
    tdeliv d = {0};
    kp_record r = rec_of("gate", 0, NULL, "first", -1);
    CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, &d, NULL), KW_ERR_NONE);
    CU_ASSERT_FATAL(tu_wait_until(gate_held, &g, 10000)); /* the sender sits in the sink */
    for (int i = 0; i < 100; i++) {
        kp_record r2 = rec_of("gate", i % 2, NULL, "more", -1);
        CU_ASSERT_EQUAL(kp_produce(p, &r2, tdeliv_cb, &d, NULL), KW_ERR_NONE);
    }
    kp_snap s;
    CU_ASSERT_EQUAL(kp_snapshot(p, &s), KW_ERR_NONE);
    int queued = 0;
    for (int32_t i = 0; i < s.n_partitions; i++)
        for (int32_t k = 0; k < s.partitions[i].n_batches; k++)
            queued += s.partitions[i].batches[k].record_count;
    CU_ASSERT_EQUAL(queued, 100);
    kp_snapshot_free(&s);
    kp_metrics mt;
    kp_metrics_get(p, &mt);
    CU_ASSERT_EQUAL(mt.record_send_total, 101);
    CU_ASSERT_EQUAL(atomic_load(&d.acked), 0);
    pthread_mutex_lock(&g.lock);
    g.released = true;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.lock);
    CU_ASSERT_EQUAL(kp_flush(p, 10000), KW_ERR_NONE);
    CU_ASSERT_EQUAL(atomic_load(&d.acked), 101);
    kp_producer_destroy(p);
    kp_conf_destroy(c);
    tcl_stop(&m);
}

static kw_err upper_ser(void *opaque, const char *topic, const void *data, int32_t len,
                        kw_wbuf *out, bool *is_null) {
    (void)opaque;
    (void)topic;
    if (!data) {
        *is_null = true;
        return KW_ERR_NONE;
    }
    const char *s = data;
    size_t n = len >= 0 ? (size_t)len : strlen(s);
    if (n == 4 && !memcmp(s, "FAIL", 4))
        return KW_ERR__INVALID_ARG;
    uint8_t *dst = kw_wbuf_reserve(out, n);
    if (!dst)
        return KW_ERR__NO_MEMORY;
    for (size_t i = 0; i < n; i++)
        dst[i] = (uint8_t)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
    out->len += n;
    return KW_ERR_NONE;
}

typedef struct key_seen {
    pthread_mutex_t lock;
    char detail[64];
    char key[16];
} key_seen;

static void key_sink(const kp_event *ev, void *opaque) {
    key_seen *k = opaque;
    if (ev->kind != KP_EV_RECORD_PARTITIONED || !ev->detail)
        return;
    pthread_mutex_lock(&k->lock);
    snprintf(k->detail, sizeof k->detail, "%s", ev->detail);
    if (ev->key && ev->key_len > 0 && ev->key_len < 16) {
        memcpy(k->key, ev->key, (size_t)ev->key_len);
        k->key[ev->key_len] = 0;
    }
    pthread_mutex_unlock(&k->lock);
}

static void read_upper(int32_t partition, const void *value, size_t len, void *arg) {
    (void)partition;
    int *ok = arg;
    if (len == 5 && !memcmp(value, "HELLO", 5))
        (*ok)++;
}

static void test_user_serializer_and_key_in_events(void) {
    tcl m;
    CU_ASSERT_FATAL(tcl_start(&m, false, 1, "ser", 1, 1));
    kp_conf *c = tconf(m.bootstraps);
    kp_conf_set_value_serializer(c, upper_ser, NULL);
    key_seen ks = {.lock = PTHREAD_MUTEX_INITIALIZER};
    kp_conf_set_event_sink(c, key_sink, &ks);
    kp_producer *p = tproducer(c);
    tdeliv d = {0};
    kp_record r = rec_of("ser", KP_PARTITION_ANY, "k-1", "hello", -1);
    CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, &d, NULL), KW_ERR_NONE);
    r.value = "FAIL";
    CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, &d, NULL), KW_ERR__SERIALIZATION);
    CU_ASSERT_EQUAL(kp_flush(p, 10000), KW_ERR_NONE);
    CU_ASSERT_EQUAL(atomic_load(&d.acked), 1);
    pthread_mutex_lock(&ks.lock);
    CU_ASSERT_STRING_EQUAL(ks.detail, "key=k-1");
    CU_ASSERT_STRING_EQUAL(ks.key, "k-1");
    pthread_mutex_unlock(&ks.lock);
    kp_producer_destroy(p);
    int ok = 0;
    CU_ASSERT_EQUAL(tcl_read_back(&m, "ser", 1, 1, 10000, read_upper, &ok), 1);
    CU_ASSERT_EQUAL(ok, 1);
    kp_conf_destroy(c);
    tcl_stop(&m);
}

typedef struct md_copy {
    pthread_mutex_t lock;
    int n;
    kp_record_metadata md[2];
    char topic[32];
} md_copy;

static void copy_md(const kp_record_metadata *md, kw_err err, void *opaque) {
    md_copy *c = opaque;
    pthread_mutex_lock(&c->lock);
    if (err == KW_ERR_NONE && c->n < 2) {
        c->md[c->n++] = *md;
        snprintf(c->topic, sizeof c->topic, "%s", md->topic);
    }
    pthread_mutex_unlock(&c->lock);
}

/* Against Courier's mock broker: librdkafka 2.0.2's mock answers every Produce with
 * log_append_time 1234, which (as in Java's RecordMetadata) would replace CreateTime. */
static void test_delivery_report_carries_record_metadata(void) {
    tcl m;
    CU_ASSERT_FATAL(tcl_start(&m, true, 1, "md", 1, 1));
    kp_conf *c = tconf(m.bootstraps);
    kp_producer *p = tproducer(c);
    md_copy mc = {.lock = PTHREAD_MUTEX_INITIALIZER};
    kp_record r = rec_of("md", 0, "abc", "hello", -1);
    r.timestamp_ms = 1234567;
    uint64_t seq1 = 0, seq2 = 0;
    CU_ASSERT_EQUAL(kp_produce(p, &r, copy_md, &mc, &seq1), KW_ERR_NONE);
    kp_record r2 = rec_of("md", 0, NULL, "x", -1);
    CU_ASSERT_EQUAL(kp_produce(p, &r2, copy_md, &mc, &seq2), KW_ERR_NONE);
    CU_ASSERT_EQUAL(kp_flush(p, 10000), KW_ERR_NONE);
    pthread_mutex_lock(&mc.lock);
    CU_ASSERT_EQUAL_FATAL(mc.n, 2);
    CU_ASSERT_STRING_EQUAL(mc.topic, "md");
    CU_ASSERT_EQUAL(mc.md[0].partition, 0);
    CU_ASSERT(mc.md[0].offset >= 0);
    CU_ASSERT_EQUAL(mc.md[1].offset, mc.md[0].offset + 1);
    CU_ASSERT_EQUAL(mc.md[0].timestamp_ms, 1234567);
    /* "now" is CreateTime: epoch milliseconds, whatever the machine's uptime. */
    CU_ASSERT(llabs(mc.md[1].timestamp_ms - (int64_t)time(NULL) * 1000) < 60000);
    CU_ASSERT_EQUAL(mc.md[0].serialized_key_size, 3);
    CU_ASSERT_EQUAL(mc.md[0].serialized_value_size, 5);
    CU_ASSERT_EQUAL(mc.md[1].serialized_key_size, -1);
    CU_ASSERT_EQUAL(mc.md[0].record_seq, seq1);
    CU_ASSERT_EQUAL(mc.md[1].record_seq, seq2);
    CU_ASSERT(mc.md[0].latency_us >= 0 && mc.md[0].latency_us < 10000000);
    pthread_mutex_unlock(&mc.lock);
    kp_producer_destroy(p);
    kp_conf_destroy(c);
    tcl_stop(&m);
}

/* A machine booted a minute ago: the producer's (monotonic) clock reads 60 s, yet a record
 * that asks for "now" carries today's epoch milliseconds as CreateTime, in the batch the broker
 * stores and in the delivery report. */
static void test_create_time_is_epoch_ms_on_a_freshly_booted_clock(void) {
    tcl m;
    CU_ASSERT_FATAL(tcl_start(&m, true, 1, "boot", 1, 1));
    manual_clock mc;
    atomic_init(&mc.now_us, 60 * 1000000);
    kw_clock clk = {mc_now, mc_wall, &mc, NULL};
    kp_conf *c = tconf(m.bootstraps);
    kp_conf_set_clock(c, &clk);
    tset(c, "linger.ms", "0");
    kp_producer *p = tproducer(c);
    md_copy got = {.lock = PTHREAD_MUTEX_INITIALIZER};
    kp_record r = rec_of("boot", 0, NULL, "v", -1);
    CU_ASSERT_EQUAL(kp_produce(p, &r, copy_md, &got, NULL), KW_ERR_NONE);
    CU_ASSERT_EQUAL(kp_flush(p, 10000), KW_ERR_NONE);
    int64_t now_ms = (int64_t)time(NULL) * 1000;
    pthread_mutex_lock(&got.lock);
    CU_ASSERT_EQUAL_FATAL(got.n, 1);
    CU_ASSERT(llabs(got.md[0].timestamp_ms - now_ms) < 60000);
    pthread_mutex_unlock(&got.lock);
    mb_record_iter *it = NULL;
    CU_ASSERT_EQUAL_FATAL(mb_record_iter_new(m.mb, "boot", 0, 0, &it), MB_OK);
    mb_record rec;
    CU_ASSERT_EQUAL(mb_record_iter_next(it, &rec), MB_OK);
    CU_ASSERT(llabs(rec.timestamp - now_ms) < 60000);
    mb_record_iter_destroy(it);
    kp_producer_destroy(p);
    kp_conf_destroy(c);
    tcl_stop(&m);
}

void suite_producer_limits(void);
void suite_producer_limits(void) {
    tu_suite("producer_limits");
    tu_test("test_buffer_exhaustion_blocks_then_fails_after_max_block",
            test_buffer_exhaustion_blocks_then_fails_after_max_block);
    tu_test("test_record_over_max_request_size_fails_before_accumulator",
            test_record_over_max_request_size_fails_before_accumulator);
    tu_test("test_down_cluster_fails_records_with_delivery_timeout",
            test_down_cluster_fails_records_with_delivery_timeout);
    tu_test("test_in_flight_batch_expires_at_delivery_timeout",
            test_in_flight_batch_expires_at_delivery_timeout);
    tu_test("test_new_topic_metadata_skips_the_retry_backoff",
            test_new_topic_metadata_skips_the_retry_backoff);
    tu_test("test_unreachable_cluster_fails_with_metadata_timeout",
            test_unreachable_cluster_fails_with_metadata_timeout);
    tu_test("test_flush_sends_at_once_despite_long_linger",
            test_flush_sends_at_once_despite_long_linger);
    tu_test("test_close_delivers_everything_then_refuses",
            test_close_delivers_everything_then_refuses);
    tu_test("test_close_with_zero_timeout_aborts_pending",
            test_close_with_zero_timeout_aborts_pending);
    tu_test("test_keyless_records_stick_to_a_partition_until_its_batch_fills",
            test_keyless_records_stick_to_a_partition_until_its_batch_fills);
    tu_test("test_events_cover_the_pipeline", test_events_cover_the_pipeline);
    tu_test("test_paused_clock_stops_linger", test_paused_clock_stops_linger);
    tu_test("test_interceptors_see_sends_and_acks", test_interceptors_see_sends_and_acks);
    tu_test("test_bad_records_are_refused_with_reasons", test_bad_records_are_refused_with_reasons);
    tu_test("test_concurrent_close_is_safe", test_concurrent_close_is_safe);
    tu_test("test_sink_may_block_the_sender_without_stalling_others",
            test_sink_may_block_the_sender_without_stalling_others);
    tu_test("test_user_serializer_and_key_in_events", test_user_serializer_and_key_in_events);
    tu_test("test_delivery_report_carries_record_metadata",
            test_delivery_report_carries_record_metadata);
    tu_test("test_create_time_is_epoch_ms_on_a_freshly_booted_clock",
            test_create_time_is_epoch_ms_on_a_freshly_booted_clock);
}
