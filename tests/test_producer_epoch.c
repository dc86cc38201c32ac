/* KIP-360 on the producer against librdkafka's mock cluster (another broker implementation):
 * a batch that fails for good loses its sequences; with InitProducerId v3+ on the broker the
 * producer bumps its epoch (same producer id, producer.epoch_bumped) and goes on; against a
 * broker from before KIP-360 (InitProducerId capped at v1) it takes a new producer id instead,
 * as before. Either way every other record is acknowledged once. */
#include "tests/test_producer_util.h"
#include "tests/tu.h"

#if TP_HAVE_RDKAFKA

typedef struct epoch_events {
    _Atomic int pids, bumps;
    _Atomic int last_epoch;
} epoch_events;

static void on_event(const kp_event *ev, void *opaque) {
    epoch_events *e = opaque;
    if (ev->kind == KP_EV_PRODUCER_ID && ev->err == KW_ERR_NONE)
        atomic_fetch_add(&e->pids, 1);
    if (ev->kind == KP_EV_PRODUCER_EPOCH_BUMPED) {
        atomic_fetch_add(&e->bumps, 1);
        atomic_store(&e->last_epoch, ev->producer_epoch);
    }
}

typedef struct seen {
    int count[2000];
} seen;

static void note_value(int32_t partition, const void *value, size_t len, void *arg) {
    (void)partition;
    char buf[16];
    snprintf(buf, sizeof buf, "%.*s", (int)(len < 15 ? len : 15), (const char *)value);
    int i = atoi(buf + 1);
    if (i >= 0 && i < 2000)
        ((seen *)arg)->count[i]++;
}

/* Produces n records to one partition, with one request failing for good (INVALID_REQUIRED_ACKS,
 * not retriable) after the first half; returns the failed count. */
static int64_t run(int16_t init_pid_max, epoch_events *ev, int64_t *acked) {
    tcl m;
    CU_ASSERT_FATAL(tcl_start(&m, false, 1, "epoch", 1, 1));
    if (init_pid_max >= 0)
        rd_kafka_mock_set_apiversion(m.mc, KW_API_INIT_PRODUCER_ID, 0, init_pid_max);
    kp_conf *c = tconf(m.bootstraps);
    tset(c, "linger.ms", "1");
    tset(c, "batch.size", "1024");
    kp_conf_set_event_sink(c, on_event, ev);
    kp_producer *p = tproducer(c);
    tdeliv d = {0};
    const int n = 2000;
    for (int i = 0; i < n; i++) {
        if (i == n / 2) {
            CU_ASSERT_EQUAL(kp_flush(p, 20000), KW_ERR_NONE);
            static const kw_err fatal[] = {KW_ERR_INVALID_REQUIRED_ACKS};
            tcl_push_produce_errors(&m, fatal, 1);
        }
        char val[32];
        snprintf(val, sizeof val, "v%06d", i);
        kp_record r = {.topic = "epoch",
                       .partition = 0,
                       .value = val,
                       .value_len = -1,
                       .timestamp_ms = KP_TIMESTAMP_NOW};
        CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, &d, NULL), KW_ERR_NONE);
    }
    CU_ASSERT_EQUAL(kp_flush(p, 30000), KW_ERR_NONE);
    *acked = atomic_load(&d.acked);
    int64_t failed = atomic_load(&d.failed);
    CU_ASSERT_EQUAL(*acked + failed, n);
    CU_ASSERT_EQUAL(kp_close(p, 5000), KW_ERR_NONE);
    kp_producer_destroy(p);
    kp_conf_destroy(c);
    /* what the partition holds: every acknowledged record, once */
    static seen sn;
    memset(&sn, 0, sizeof sn);
    int64_t read = tcl_read_back(&m, "epoch", 1, *acked, 20000, note_value, &sn);
    int twice = 0;
    for (int i = 0; i < n; i++)
        twice += sn.count[i] > 1;
    CU_ASSERT_EQUAL(twice, 0);
    fprintf(stderr, "\n    InitProducerId max %d: acked %lld, failed %lld, read back %lld, ids %d, "
                    "bumps %d", (int)init_pid_max, (long long)*acked, (long long)failed,
            (long long)read, atomic_load(&ev->pids), atomic_load(&ev->bumps));
    CU_ASSERT_EQUAL(read, *acked);
    tcl_stop(&m);
    return failed;
}

static void test_lost_sequence_bumps_the_epoch_on_a_kip360_broker(void) {
    epoch_events ev = {0};
    int64_t acked;
    int64_t failed = run(-1, &ev, &acked); /* librdkafka's mock: InitProducerId 0-4 */
    CU_ASSERT(failed >= 1 && failed <= 100); /* the one refused request's batch */
    CU_ASSERT_EQUAL(atomic_load(&ev.pids), 1);
    CU_ASSERT(atomic_load(&ev.bumps) >= 1);
    CU_ASSERT(atomic_load(&ev.last_epoch) >= 1);
}

static void test_lost_sequence_takes_a_new_id_on_an_old_broker(void) {
    epoch_events ev = {0};
    int64_t acked;
    int64_t failed = run(1, &ev, &acked); /* InitProducerId 0-1: no KIP-360 */
    CU_ASSERT(failed >= 1 && failed <= 100);
    CU_ASSERT(atomic_load(&ev.pids) >= 2);
    CU_ASSERT_EQUAL(atomic_load(&ev.bumps), 0);
}

#endif

void suite_producer_epoch(void);
void suite_producer_epoch(void) {
    tu_suite("producer_epoch");
#if TP_HAVE_RDKAFKA
    tu_test("test_lost_sequence_bumps_the_epoch_on_a_kip360_broker",
            test_lost_sequence_bumps_the_epoch_on_a_kip360_broker);
    tu_test("test_lost_sequence_takes_a_new_id_on_an_old_broker",
            test_lost_sequence_takes_a_new_id_on_an_old_broker);
#endif
}
