/* Recovery paths that need a broker which checks sequences and sizes like Kafka: Courier's
 * mock broker. A batch over message.max.bytes is split until it fits; a batch that fails for
 * good under idempotence makes the producer start numbering again under a new producer id,
 * and nothing after it is lost, duplicated or reordered. */
#include "tests/test_producer_util.h"

typedef struct order_check {
    int64_t next, dup, gap, n;
} order_check;

static void check_order(int32_t partition, const void *value, size_t len, void *arg) {
    (void)partition;
    order_check *o = arg;
    char buf[32];
    size_t n = len < sizeof buf - 1 ? len : sizeof buf - 1;
    memcpy(buf, value, n);
    buf[n] = 0;
    long long v = atoll(buf);
    if (v < o->next)
        o->dup++;
    else if (v > o->next)
        o->gap += v - o->next;
    o->next = v + 1;
    o->n++;
}

static mb_cluster *start_mb(int32_t message_max_bytes) {
    mb_config conf;
    mb_config_init(&conf);
    conf.brokers = 1;
    conf.log_cb = tcl_quiet_log;
    if (message_max_bytes > 0)
        conf.message_max_bytes = message_max_bytes;
    mb_topic_config t = {"r", 1, 1, 0};
    conf.topics = &t;
    conf.n_topics = 1;
    mb_cluster *c = NULL;
    char err[256];
    if (mb_cluster_new(&conf, &c, err, sizeof err) != MB_OK ||
        mb_cluster_start(c, err, sizeof err) != MB_OK) {
        fprintf(stderr, "mock broker: %s\n", err);
        mb_cluster_destroy(c);
        return NULL;
    }
    return c;
}

static int64_t read_all(mb_cluster *c, order_check *o, int64_t *max_batch_bytes) {
    tcl m = {.ours = true, .mb = c};
    int64_t n = tcl_read_back(&m, "r", 1, 0, 0, check_order, o);
    mb_partition_info info;
    if (max_batch_bytes && mb_partition_info_get(c, "r", 0, &info) == MB_OK && info.batches > 0)
        *max_batch_bytes = info.bytes / info.batches;
    return n;
}

/* Produces records from..to-1 to partition 0 of "r": each value is the record's number as six
 * digits padded with '.' to value_len bytes, so check_order can read the order back. */
static void produce_numbered(kp_producer *p, tdeliv *d, int from, int to, int32_t value_len) {
    char val[128];
    CU_ASSERT_FATAL(value_len > 6 && value_len <= (int32_t)sizeof val);
    for (int i = from; i < to; i++) {
        int n = snprintf(val, sizeof val, "%06d", i);
        memset(val + n, '.', sizeof val - (size_t)n);
        kp_record r = {.topic = "r",
                       .partition = 0,
                       .value = val,
                       .value_len = value_len,
                       .timestamp_ms = KP_TIMESTAMP_NOW};
        CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, d, NULL), KW_ERR_NONE);
    }
}

static void test_too_large_batch_is_split_until_accepted(void) {
    mb_cluster *c = start_mb(2000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    kp_conf *conf = tconf(mb_cluster_bootstrap(c));
    tset(conf, "linger.ms", "100");
    kp_producer *p = tproducer(conf);
    tdeliv d = {0};
    produce_numbered(p, &d, 0, 300, 100);
    CU_ASSERT_EQUAL(kp_flush(p, 20000), KW_ERR_NONE);
    int64_t t0 = tu_now_ms();
    while (atomic_load(&d.acked) + atomic_load(&d.failed) < 300 && tu_now_ms() - t0 < 20000)
        kp_flush(p, 1000);
    CU_ASSERT_EQUAL(atomic_load(&d.acked), 300);
    CU_ASSERT_EQUAL(atomic_load(&d.failed), 0);
    kp_metrics mt;
    kp_metrics_get(p, &mt);
    CU_ASSERT(mt.batch_split_total > 0);
    kp_producer_destroy(p);
    order_check o = {0};
    int64_t avg = 0;
    CU_ASSERT_EQUAL(read_all(c, &o, &avg), 300);
    CU_ASSERT_EQUAL(o.dup, 0);
    CU_ASSERT_EQUAL(o.gap, 0);
    CU_ASSERT(avg > 0 && avg <= 2000);
    kp_conf_destroy(conf);
    mb_cluster_destroy(c);
}

typedef struct pid_events {
    _Atomic int pids;
    _Atomic int bumps;
} pid_events;

static void count_pids(const kp_event *ev, void *opaque) {
    if (ev->kind == KP_EV_PRODUCER_ID && ev->err == KW_ERR_NONE)
        atomic_fetch_add(&((pid_events *)opaque)->pids, 1);
    if (ev->kind == KP_EV_PRODUCER_EPOCH_BUMPED)
        atomic_fetch_add(&((pid_events *)opaque)->bumps, 1);
}

/* A batch fails for good: its sequences are lost, so (Java's handleFailedBatch) the producer
 * bumps its epoch and renumbers the partition from 0 — the same producer id. */
static void test_fatal_batch_error_bumps_the_epoch_and_keeps_order(void) {
    mb_cluster *c = start_mb(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    kp_conf *conf = tconf(mb_cluster_bootstrap(c));
    tset(conf, "linger.ms", "1");
    tset(conf, "batch.size", "1024");
    pid_events pe = {0};
    kp_conf_set_event_sink(conf, count_pids, &pe);
    kp_producer *p = tproducer(conf);
    tdeliv d = {0};
    const int N = 3000;
    produce_numbered(p, &d, 0, N / 2 + 1, 60);
    static const kw_err fatal[] = {KW_ERR_INVALID_REQUIRED_ACKS};
    mb_push_request_errors(c, 0, NULL, -1, fatal, 1);
    produce_numbered(p, &d, N / 2 + 1, N, 60);
    int64_t t0 = tu_now_ms();
    while (atomic_load(&d.acked) + atomic_load(&d.failed) < N && tu_now_ms() - t0 < 20000)
        kp_flush(p, 1000);
    int64_t failed = atomic_load(&d.failed);
    CU_ASSERT_EQUAL(atomic_load(&d.acked) + failed, N);
    CU_ASSERT(failed >= 1 && failed <= 20); /* one batch of ~14 records */
    CU_ASSERT_EQUAL(atomic_load(&d.last_err), KW_ERR_INVALID_REQUIRED_ACKS);
    CU_ASSERT(atomic_load(&pe.bumps) >= 1); /* an epoch bump after the failure */
    CU_ASSERT_EQUAL(atomic_load(&pe.pids), 1); /* and no new producer id */
    kp_producer_destroy(p);
    order_check o = {0};
    CU_ASSERT_EQUAL(read_all(c, &o, NULL), N - failed);
    CU_ASSERT_EQUAL(o.dup, 0);
    CU_ASSERT_EQUAL(o.gap, failed); /* exactly the failed batch is missing */
    kp_conf_destroy(conf);
    mb_cluster_destroy(c);
}

/* Responses dropped by the broker: the next answer has the wrong correlation id (or none comes
 * and the request times out), the producer drops the connection, reconnects and sends
 * the same batches again; the broker recognises the sequences, so nothing is duplicated. */
static void test_lost_responses_are_retried_without_duplicates(void) {
    mb_cluster *c = start_mb(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    kp_conf *conf = tconf(mb_cluster_bootstrap(c));
    tset(conf, "request.timeout.ms", "400");
    tset(conf, "linger.ms", "2");
    tset(conf, "batch.size", "2048");
    kp_producer *p = tproducer(conf);
    tdeliv d = {0};
    const int N = 600;
    produce_numbered(p, &d, 0, 100, 50);
    /* connections and producer id are settled: now lose three Produce answers */
    CU_ASSERT_EQUAL(kp_flush(p, 10000), KW_ERR_NONE);
    mb_broker_drop_responses(c, 1, 3);
    produce_numbered(p, &d, 100, N, 50);
    CU_ASSERT_EQUAL(kp_flush(p, 30000), KW_ERR_NONE);
    CU_ASSERT_EQUAL(atomic_load(&d.acked), N);
    CU_ASSERT_EQUAL(atomic_load(&d.failed), 0);
    kp_metrics mt;
    kp_metrics_get(p, &mt);
    CU_ASSERT(mt.record_retry_total > 0);
    kp_producer_destroy(p);
    order_check o = {0};
    CU_ASSERT_EQUAL(read_all(c, &o, NULL), N);
    CU_ASSERT_EQUAL(o.dup, 0);
    CU_ASSERT_EQUAL(o.gap, 0);
    kp_conf_destroy(conf);
    mb_cluster_destroy(c);
}

typedef struct offsets_seen {
    _Atomic int64_t minus_one, other;
} offsets_seen;

static void note_offset(const kp_record_metadata *md, kw_err err, void *opaque) {
    offsets_seen *o = opaque;
    if (err == KW_ERR_NONE && md->offset == -1)
        atomic_fetch_add(&o->minus_one, 1);
    else
        atomic_fetch_add(&o->other, 1);
}

typedef struct log_end_wait {
    mb_cluster *c;
    int64_t end;
    mb_partition_info info; /* the last one read */
} log_end_wait;

static bool log_end_reached(void *arg) {
    log_end_wait *w = arg;
    return mb_partition_info_get(w->c, "r", 0, &w->info) == MB_OK &&
           w->info.log_end_offset >= w->end;
}

/* acks=0: no responses expected; batches complete once written, offsets unknown (-1). */
static void test_acks_0_completes_without_responses(void) {
    mb_cluster *c = start_mb(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    kp_conf *conf = tconf(mb_cluster_bootstrap(c));
    tset(conf, "acks", "0");
    kp_producer *p = tproducer(conf);
    offsets_seen os = {0};
    char val[16];
    for (int i = 0; i < 500; i++) {
        snprintf(val, sizeof val, "%06d", i);
        kp_record r = {.topic = "r",
                       .partition = 0,
                       .value = val,
                       .value_len = -1,
                       .timestamp_ms = KP_TIMESTAMP_NOW};
        CU_ASSERT_EQUAL(kp_produce(p, &r, note_offset, &os, NULL), KW_ERR_NONE);
    }
    CU_ASSERT_EQUAL(kp_flush(p, 10000), KW_ERR_NONE);
    CU_ASSERT_EQUAL(atomic_load(&os.minus_one), 500);
    CU_ASSERT_EQUAL(atomic_load(&os.other), 0);
    kp_producer_destroy(p);
    /* the records did arrive (the broker may need a moment after the last write) */
    log_end_wait w = {c, 500, {0}};
    tu_wait_until(log_end_reached, &w, 5000);
    CU_ASSERT_EQUAL(w.info.log_end_offset, 500);
    kp_conf_destroy(conf);
    mb_cluster_destroy(c);
}

/* The broker answers a whole request with UNKNOWN_PRODUCER_ID and no log start offset: as
 * Java's TransactionManager.canRetry, the batches are simply retried (no new id); everything is
 * acknowledged once and in order. (With the log start offset the epoch is bumped:
 * tests/test_sim_epoch.c.) */
static void test_unknown_producer_id_is_retried_under_the_same_id(void) {
    mb_cluster *c = start_mb(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    kp_conf *conf = tconf(mb_cluster_bootstrap(c));
    tset(conf, "linger.ms", "1");
    tset(conf, "batch.size", "1024");
    tset(conf, "retry.backoff.ms", "10");
    pid_events pe = {0};
    kp_conf_set_event_sink(conf, count_pids, &pe);
    kp_producer *p = tproducer(conf);
    tdeliv d = {0};
    const int N = 2000;
    produce_numbered(p, &d, 0, N / 2 + 1, 40);
    static const kw_err lost[] = {KW_ERR_UNKNOWN_PRODUCER_ID};
    mb_push_request_errors(c, 0, NULL, -1, lost, 1);
    produce_numbered(p, &d, N / 2 + 1, N, 40);
    CU_ASSERT_EQUAL(kp_flush(p, 20000), KW_ERR_NONE);
    CU_ASSERT_EQUAL(atomic_load(&d.acked), N);
    CU_ASSERT_EQUAL(atomic_load(&d.failed), 0);
    CU_ASSERT_EQUAL(atomic_load(&pe.pids), 1);
    kp_producer_destroy(p);
    order_check o = {0};
    CU_ASSERT_EQUAL(read_all(c, &o, NULL), N);
    CU_ASSERT_EQUAL(o.dup, 0);
    CU_ASSERT_EQUAL(o.gap, 0);
    kp_conf_destroy(conf);
    mb_cluster_destroy(c);
}

/* A leader error asks for new metadata even when the batch is not retried (retries=0), as
 * Java's Sender.completeBatch() does: the next records find the new leader instead of failing
 * against the old one until metadata.max.age.ms. */
static void test_leader_error_refreshes_metadata_without_retries(void) {
    tcl m;
    CU_ASSERT_FATAL(tcl_start(&m, true, 2, "m", 1, 2));
    kp_conf *conf = tconf(m.bootstraps);
    tset(conf, "retries", "0");
    tset(conf, "enable.idempotence", "false");
    tset(conf, "acks", "1");
    tset(conf, "linger.ms", "0");
    kp_producer *p = tproducer(conf);
    tdeliv d = {0};
    kp_record r = {.topic = "m",
                   .partition = 0,
                   .value = "x",
                   .value_len = 1,
                   .timestamp_ms = KP_TIMESTAMP_NOW};
    CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, &d, NULL), KW_ERR_NONE);
    CU_ASSERT_EQUAL(kp_flush(p, 10000), KW_ERR_NONE);
    CU_ASSERT_EQUAL(atomic_load(&d.acked), 1);
    mb_partition_info info;
    CU_ASSERT_EQUAL_FATAL(mb_partition_info_get(m.mb, "m", 0, &info), MB_OK);
    int32_t other = info.leader == 1 ? 2 : 1;
    CU_ASSERT_EQUAL_FATAL(mb_partition_move_leader(m.mb, "m", 0, other), MB_OK);
    /* The first record after the move meets the old leader and fails for good; with the
     * refresh (after at most retry.backoff.ms) later ones reach the new leader. Without it
     * every record would fail until metadata.max.age.ms (300 s), far past this deadline. */
    int64_t deadline = tu_now_ms() + 5000;
    while (atomic_load(&d.acked) < 2 && tu_now_ms() < deadline) {
        CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, &d, NULL), KW_ERR_NONE);
        CU_ASSERT_EQUAL(kp_flush(p, 10000), KW_ERR_NONE);
    }
    CU_ASSERT_EQUAL(atomic_load(&d.acked), 2);
    CU_ASSERT(atomic_load(&d.failed) >= 1);
    CU_ASSERT_EQUAL(atomic_load(&d.last_err), KW_ERR_NOT_LEADER_OR_FOLLOWER);
    kp_producer_destroy(p);
    kp_conf_destroy(conf);
    tcl_stop(&m);
}

static _Atomic int timed_out_api = -2;
static void note_timeout(const kp_event *ev, void *opaque) {
    (void)opaque;
    int none = -2;
    if (ev->kind == KP_EV_REQUEST_TIMED_OUT)
        atomic_compare_exchange_strong(&timed_out_api, &none, (int)ev->api_key);
}
static bool timeout_seen(void *arg) {
    (void)arg;
    return atomic_load(&timed_out_api) != -2;
}

/* request.timed_out names the API of the request that timed out: here the connection's first
 * request (ApiVersions) or the first Metadata, never a Produce, since nothing is produced. */
static void test_timed_out_event_names_the_request_api(void) {
    tcl m;
    CU_ASSERT_FATAL(tcl_start(&m, true, 1, "t", 1, 1));
    mb_broker_set_rtt(m.mb, 1, 5000);
    atomic_store(&timed_out_api, -2);
    kp_conf *conf = tconf(m.bootstraps);
    tset(conf, "request.timeout.ms", "300");
    kp_conf_set_event_sink(conf, note_timeout, NULL);
    kp_producer *p = tproducer(conf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_TRUE(tu_wait_until(timeout_seen, NULL, 10000));
    int api = atomic_load(&timed_out_api);
    CU_ASSERT(api == KW_API_API_VERSIONS || api == KW_API_METADATA);
    kp_producer_destroy(p);
    kp_conf_destroy(conf);
    tcl_stop(&m);
}

void suite_producer_recovery(void);
void suite_producer_recovery(void) {
    tu_suite("producer_recovery");
    tu_test("test_too_large_batch_is_split_until_accepted",
            test_too_large_batch_is_split_until_accepted);
    tu_test("test_fatal_batch_error_bumps_the_epoch_and_keeps_order",
            test_fatal_batch_error_bumps_the_epoch_and_keeps_order);
    tu_test("test_lost_responses_are_retried_without_duplicates",
            test_lost_responses_are_retried_without_duplicates);
    tu_test("test_acks_0_completes_without_responses", test_acks_0_completes_without_responses);
    tu_test("test_timed_out_event_names_the_request_api",
            test_timed_out_event_names_the_request_api);
    tu_test("test_leader_error_refreshes_metadata_without_retries",
            test_leader_error_refreshes_metadata_without_retries);
    tu_test("test_unknown_producer_id_is_retried_under_the_same_id",
            test_unknown_producer_id_is_retried_under_the_same_id);
}
