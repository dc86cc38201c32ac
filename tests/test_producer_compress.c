/* compression.type in the sorting room: a compressed batch is full by Java's estimate, so
 * compressible records fill more than batch.size raw bytes; the per-topic estimate moves as
 * CompressionRatioEstimator's; every codec reaches our broker and librdkafka's mock and reads
 * back in order; a compressed batch over message.max.bytes is split until it fits. */
#include "producer/kp_int.h"
#include "tests/test_producer_util.h"

#include <unistd.h>

static const char *const codec_names[] = {"gzip", "snappy", "lz4", "zstd"};

/* The estimate: 1.0 at first, down by at most 0.005 per better batch, up by at least 0.05. */
static void test_ratio_estimate_moves_as_java(void) {
    kp_conf *conf = kp_conf_new();
    kp_bufpool pool;
    kp_bufpool_init(&pool, 1 << 20, 16384, kw_clock_monotonic());
    kp_accum a;
    CU_ASSERT_EQUAL_FATAL(kp_accum_init(&a, conf, &pool), KW_ERR_NONE);
    CU_ASSERT_DOUBLE_EQUAL(kp_accum_ratio_get(&a, "t"), 1.0, 1e-5);
    kp_accum_ratio_update(&a, "t", 0.1f);
    CU_ASSERT_DOUBLE_EQUAL(kp_accum_ratio_get(&a, "t"), 0.995, 1e-5);
    kp_accum_ratio_update(&a, "t", 0.994f); /* better by less than a step: taken as is */
    CU_ASSERT_DOUBLE_EQUAL(kp_accum_ratio_get(&a, "t"), 0.994, 1e-5);
    kp_accum_ratio_update(&a, "t", 1.0f); /* worse: up by the larger of 0.05 and the gap */
    CU_ASSERT_DOUBLE_EQUAL(kp_accum_ratio_get(&a, "t"), 1.044, 1e-5);
    kp_accum_ratio_update(&a, "t", 1.5f);
    CU_ASSERT_DOUBLE_EQUAL(kp_accum_ratio_get(&a, "t"), 1.5, 1e-5);
    CU_ASSERT_DOUBLE_EQUAL(kp_accum_ratio_get(&a, "other"), 1.0, 1e-5); /* per topic */
    kp_accum_ratio_set(&a, "t", 0.3f);
    CU_ASSERT_DOUBLE_EQUAL(kp_accum_ratio_get(&a, "t"), 0.3, 1e-5);
    kp_accum_destroy(&a);
    kp_bufpool_destroy(&pool);
    kp_conf_destroy(conf);
}

/* With an estimated ratio of 0.2 a 16 KiB batch takes about 16384 / (0.2 x 1.05) raw bytes;
 * its raw records leave the pool buffer; the wire batch is compressed and reads back. */
static void test_compressed_batch_holds_more_than_batch_size(void) {
    int32_t cap = 16384;
    uint8_t *buf = malloc((size_t)cap);
    kp_batch *b = kp_batch_new(NULL, 1, buf, cap, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    kp_batch_set_compression(b, KW_CODEC_ZSTD, 3, 0.2f);
    kp_thunk th = {NULL, NULL, 1, 0};
    char v[100];
    memset(v, 'x', sizeof v);
    int n = 0;
    while (kp_batch_append(b, 1700000000000LL, KW_SLICE_NULL, (kw_slice){(const uint8_t *)v, 100},
                           NULL, 0, &th) == KW_ERR_NONE)
        n++;
    size_t raw = b->w.len;
    CU_ASSERT(raw > (size_t)cap * 4); /* ~78 KB of raw records */
    CU_ASSERT(raw < (size_t)cap * 5);
    CU_ASSERT(kp_batch_estimated_size(b) <= (size_t)cap);
    CU_ASSERT_PTR_NOT_NULL(b->raw_heap);
    kp_batch_close(b, 7, 0, 0);
    CU_ASSERT(b->size < (size_t)cap);
    CU_ASSERT_EQUAL(b->raw_size, raw);
    CU_ASSERT(kp_batch_observed_ratio(b) < 0.2f);
    kw_batch kb;
    size_t used;
    char err[160];
    CU_ASSERT_EQUAL_FATAL(
        kw_batch_parse(kp_batch_wire(b), b->size, true, &kb, &used, err, sizeof err), KW_ERR_NONE);
    CU_ASSERT_EQUAL(kb.attributes & KW_CODEC_MASK, KW_CODEC_ZSTD);
    CU_ASSERT_EQUAL(kb.record_count, n);
    CU_ASSERT_EQUAL(kb.producer_id, 7);
    kw_record_iter it;
    kw_record_iter_init(&it, &kb);
    kw_record r;
    int got = 0;
    while (kw_record_next(&it, NULL, &r) == 1)
        got += r.value.len == 100;
    CU_ASSERT_EQUAL(got, n);
    kw_record_iter_release(&it);
    /* Restamping (a retry under a new producer id) keeps the compressed batch valid. */
    kp_batch_close(b, 8, 1, 5);
    CU_ASSERT_EQUAL(kw_batch_parse(kp_batch_wire(b), b->size, true, &kb, &used, err, sizeof err),
                    KW_ERR_NONE);
    CU_ASSERT_EQUAL(kb.producer_id, 8);
    kp_batch_free(b);
    free(buf);
}

typedef struct raw_watch {
    _Atomic int64_t max_raw, max_wire, batches;
} raw_watch;

static void watch_batches(const kp_event *ev, void *opaque) {
    raw_watch *w = opaque;
    if (ev->kind != KP_EV_BATCH_COMPLETED || ev->err != KW_ERR_NONE)
        return;
    atomic_fetch_add(&w->batches, 1);
    int64_t cur = atomic_load(&w->max_raw);
    while (ev->raw_bytes > cur && !atomic_compare_exchange_weak(&w->max_raw, &cur, ev->raw_bytes))
        ;
    cur = atomic_load(&w->max_wire);
    while (ev->bytes > cur && !atomic_compare_exchange_weak(&w->max_wire, &cur, ev->bytes))
        ;
}

typedef struct seq_check {
    int64_t next, bad, n;
} seq_check;

static void check_seq(int32_t partition, const void *value, size_t len, void *arg) {
    (void)partition;
    seq_check *s = arg;
    char buf[16];
    size_t n = len < 6 ? len : 6;
    memcpy(buf, value, n);
    buf[n] = 0;
    if (atoll(buf) != s->next)
        s->bad++;
    s->next++;
    s->n++;
}

/* Records 0..n-1 to partition 0: six digits, then value_len-6 bytes of text (compressible)
 * or of pseudo-random letters (barely compressible by lz4). */
static void produce_n(kp_producer *p, tdeliv *d, const char *topic, int from, int to, int value_len,
                      bool text) {
    char val[512];
    uint32_t seed = 12345u + (uint32_t)from;
    for (int i = from; i < to; i++) {
        snprintf(val, sizeof val, "%06d", i);
        for (int k = 6; k < value_len; k++) {
            seed = seed * 1103515245u + 12345u;
            val[k] = text ? "parcel courier "[k % 15] : (char)('a' + (seed >> 16) % 26);
        }
        kp_record r = {.topic = topic,
                       .partition = 0,
                       .value = val,
                       .value_len = value_len,
                       .timestamp_ms = KP_TIMESTAMP_NOW};
        CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, d, NULL), KW_ERR_NONE);
    }
}

static void wait_done(kp_producer *p, tdeliv *d, int64_t n) {
    int64_t t0 = tu_now_ms();
    while (atomic_load(&d->acked) + atomic_load(&d->failed) < n && tu_now_ms() - t0 < 60000)
        kp_flush(p, 1000);
}

/* Every codec, our producer into a broker, read back in order; the bytes on the wire shrink;
 * batches of compressible records grow past batch.size raw bytes once the estimate learns. */
static void round_trip(bool ours) {
    for (size_t c = 0; c < sizeof codec_names / sizeof codec_names[0]; c++) {
        tcl m;
        CU_ASSERT_FATAL(tcl_start(&m, ours, 1, "z", 1, 1));
        kp_conf *conf = tconf(m.bootstraps);
        tset(conf, "compression.type", codec_names[c]);
        tset(conf, "linger.ms", "50");
        raw_watch w = {0};
        kp_conf_set_event_sink(conf, watch_batches, &w);
        kp_producer *p = tproducer(conf);
        tdeliv d = {0};
        int n = 20000;
        /* In waves: a batch's estimate is fixed when it is created, so the estimator must
         * see some batches drained before later ones can grow. */
        for (int wave = 0; wave < 10; wave++) {
            produce_n(p, &d, "z", wave * n / 10, (wave + 1) * n / 10, 100, true);
            kp_flush(p, 10000);
        }
        wait_done(p, &d, n);
        CU_ASSERT_EQUAL(atomic_load(&d.acked), n);
        CU_ASSERT_EQUAL(atomic_load(&d.failed), 0);
        kp_metrics mt;
        kp_metrics_get(p, &mt);
        CU_ASSERT(mt.batch_byte_total < mt.batch_raw_byte_total / 3);
        CU_ASSERT(mt.compression_rate_avg > 0 && mt.compression_rate_avg < 0.5);
        if (atomic_load(&w.max_raw) <= 16384)
            fprintf(stderr, "%s: largest raw batch %lld bytes in %lld batches\n", codec_names[c],
                    (long long)atomic_load(&w.max_raw), (long long)atomic_load(&w.batches));
        CU_ASSERT(atomic_load(&w.max_raw) > 16384);
        CU_ASSERT(atomic_load(&w.max_wire) <= 16384);
        kp_producer_destroy(p);
        seq_check s = {0};
        CU_ASSERT_EQUAL(tcl_read_back(&m, "z", 1, n, 30000, check_seq, &s), n);
        CU_ASSERT_EQUAL(s.bad, 0);
        kp_conf_destroy(conf);
        tcl_stop(&m);
    }
}

static void test_every_codec_round_trips_through_our_broker(void) {
    round_trip(true);
}

static void test_every_codec_round_trips_through_librdkafka_mock(void) {
    round_trip(false);
}

/* A compressed batch over message.max.bytes comes back MESSAGE_TOO_LARGE and is split, its
 * pieces compressed too, until each fits: every record acknowledged once, in order. */
static void test_compressed_batch_too_large_is_split(void) {
    mb_config mc;
    mb_config_init(&mc);
    mc.brokers = 1;
    mc.log_cb = tcl_quiet_log;
    mc.message_max_bytes = 2000;
    mb_topic_config t = {"r", 1, 1, 0};
    mc.topics = &t;
    mc.n_topics = 1;
    mb_cluster *c = NULL;
    char err[256];
    CU_ASSERT_FATAL(mb_cluster_new(&mc, &c, err, sizeof err) == MB_OK &&
                    mb_cluster_start(c, err, sizeof err) == MB_OK);
    kp_conf *conf = tconf(mb_cluster_bootstrap(c));
    tset(conf, "linger.ms", "100");
    tset(conf, "compression.type", "lz4");
    kp_producer *p = tproducer(conf);
    tdeliv d = {0};
    produce_n(p, &d, "r", 0, 300, 100, false);
    wait_done(p, &d, 300);
    CU_ASSERT_EQUAL(atomic_load(&d.acked), 300);
    CU_ASSERT_EQUAL(atomic_load(&d.failed), 0);
    kp_metrics mt;
    kp_metrics_get(p, &mt);
    CU_ASSERT(mt.batch_split_total > 0);
    kp_producer_destroy(p);
    tcl m = {.ours = true, .mb = c};
    seq_check s = {0};
    CU_ASSERT_EQUAL(tcl_read_back(&m, "r", 1, 300, 0, check_seq, &s), 300);
    CU_ASSERT_EQUAL(s.bad, 0);
    mb_partition_info info;
    CU_ASSERT_EQUAL(mb_partition_info_get(c, "r", 0, &info), MB_OK);
    CU_ASSERT(info.batches > 1 && info.bytes / info.batches <= 2000);
    kp_conf_destroy(conf);
    mb_cluster_destroy(c);
}

/* `courier produce -X compression.type=C` for every codec into our broker and into
 * librdkafka's mock cluster; `kcat -C` reads every line back (kcat decompresses with
 * librdkafka's own codecs: an independent reader). Against our broker the log holds the
 * batches compressed (its raw size is larger than its stored size). */
static void cli_round_trip(bool ours) {
    char in[] = "/tmp/kp-compress-in-XXXXXX";
    int fd = mkstemp(in);
    CU_ASSERT_FATAL(fd >= 0);
    FILE *f = fdopen(fd, "w");
    for (int i = 0; i < 3000; i++)
        fprintf(f, "k%d:parcel %d for the courier, parcel %d for the courier\n", i % 17, i, i);
    fclose(f);
    for (size_t c = 0; c < sizeof codec_names / sizeof codec_names[0]; c++) {
        tcl m;
        CU_ASSERT_FATAL(tcl_start(&m, ours, 1, "cz", 1, 1));
        char cmd[2048];
        snprintf(cmd, sizeof cmd,
                 "'%s' produce -b %s -t cz -k : -X compression.type=%s -X linger.ms=20 < %s "
                 "> /dev/null 2>&1",
                 tu_courier_path(), m.bootstraps, codec_names[c], in);
        CU_ASSERT_EQUAL(system(cmd), 0);
        snprintf(cmd, sizeof cmd,
                 "test \"$(timeout 60 kcat -q -b %s -C -t cz -e -o beginning -f '%%k:%%s\\n' "
                 "| sort | uniq | grep -c '^k[0-9]*:parcel [0-9]* for the courier')\" = 3000",
                 m.bootstraps);
        int rc = system(cmd);
        if (rc != 0)
            fprintf(stderr, "%s (%s): kcat did not read 3000 distinct lines back\n", codec_names[c],
                    ours ? "courier broker" : "librdkafka mock");
        CU_ASSERT_EQUAL(rc, 0);
        if (ours) {
            mb_partition_info info;
            CU_ASSERT_EQUAL(mb_partition_info_get(m.mb, "cz", 0, &info), MB_OK);
            CU_ASSERT(info.raw_bytes > 2 * info.bytes);
        }
        tcl_stop(&m);
    }
    unlink(in);
}

static void test_courier_produce_compresses_into_our_broker_and_kcat_reads_back(void) {
    cli_round_trip(true);
}

static void test_courier_produce_compresses_into_librdkafka_mock_and_kcat_reads_back(void) {
    cli_round_trip(false);
}

/* The packers (packer.c): sealed batches handed to two packer threads come back compressed
 * (wire bytes smaller than the raw records, precompressed, no longer `compressing`), the
 * topic's estimate moves below 1.0, the sender is woken, and kp_packer_stop returns only once
 * the whole queue is packed (the sender may be waiting for those batches). */
#define PACK_BATCHES 12
static void test_packers_compress_sealed_batches_before_stopping(void) {
    kp_conf *conf = kp_conf_new();
    kp_bufpool pool;
    kp_bufpool_init(&pool, 1 << 20, 16384, kw_clock_monotonic());
    kp_accum a;
    CU_ASSERT_EQUAL_FATAL(kp_accum_init(&a, conf, &pool), KW_ERR_NONE);
    kp_net net;
    CU_ASSERT_EQUAL_FATAL(kp_net_init(&net, NULL), KW_ERR_NONE);
    kp_packer pk;
    CU_ASSERT_EQUAL_FATAL(kp_packer_init(&pk, &a, &net, 2), KW_ERR_NONE);
    CU_ASSERT_EQUAL(pk.n_threads, 2);
    kp_tp *tp = kp_accum_tp(&a, "t", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tp);
    kp_batch *bs[PACK_BATCHES];
    const char *text = "the courier sorts parcels into crates, the truck takes the crates; ";
    kp_thunk th = {NULL, NULL, 1, 0};
    for (int i = 0; i < PACK_BATCHES; i++) {
        bs[i] = kp_batch_new(tp, (uint64_t)i + 1, malloc(16384), 16384, 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(bs[i]);
        kp_batch_set_compression(bs[i], KW_CODEC_GZIP, 6, 1.0f);
        while (kp_batch_append(bs[i], 1700000000000LL, KW_SLICE_NULL, kw_slice_str(text), NULL,
                               0, &th) == KW_ERR_NONE)
            ;
        pthread_mutex_lock(&tp->lock); /* as try_append_tail seals it */
        bs[i]->sealed = true;
        bs[i]->compressing = true;
        pthread_mutex_unlock(&tp->lock);
        kp_packer_submit(&pk, bs[i]);
    }
    kp_packer_stop(&pk);
    for (int i = 0; i < PACK_BATCHES; i++) {
        pthread_mutex_lock(&tp->lock);
        CU_ASSERT_FALSE(bs[i]->compressing);
        CU_ASSERT_TRUE(bs[i]->precompressed);
        CU_ASSERT_PTR_NOT_NULL(bs[i]->wire);
        CU_ASSERT(bs[i]->size < bs[i]->w.len / 4);
        pthread_mutex_unlock(&tp->lock);
    }
    CU_ASSERT(kp_accum_ratio_get(&a, "t") < 1.0f);
    CU_ASSERT_TRUE(atomic_load(&net.wake_pending));
    /* closed after packing: the wire batch parses, compressed, with every record */
    kp_batch_close(bs[0], KW_NO_PRODUCER_ID, -1, KW_NO_SEQUENCE);
    kw_batch kb;
    size_t used;
    char err[160];
    CU_ASSERT_EQUAL(kw_batch_parse(kp_batch_wire(bs[0]), bs[0]->size, true, &kb, &used, err,
                                   sizeof err),
                    KW_ERR_NONE);
    CU_ASSERT_EQUAL(kb.attributes & KW_CODEC_MASK, KW_CODEC_GZIP);
    CU_ASSERT_EQUAL(kb.record_count, bs[0]->n_thunks);
    for (int i = 0; i < PACK_BATCHES; i++) {
        free(bs[i]->buf);
        kp_batch_free(bs[i]);
    }
    kp_packer_destroy(&pk);
    kp_net_destroy(&net);
    kp_accum_destroy(&a);
    kp_bufpool_destroy(&pool);
    kp_conf_destroy(conf);
}

void suite_producer_compress(void);
void suite_producer_compress(void) {
    tu_suite("producer_compress");
    tu_test("ratio_estimate_moves_as_java", test_ratio_estimate_moves_as_java);
    tu_test("compressed_batch_holds_more_than_batch_size",
            test_compressed_batch_holds_more_than_batch_size);
    tu_test("every_codec_round_trips_through_our_broker",
            test_every_codec_round_trips_through_our_broker);
    tu_test("every_codec_round_trips_through_librdkafka_mock",
            test_every_codec_round_trips_through_librdkafka_mock);
    tu_test("compressed_batch_too_large_is_split", test_compressed_batch_too_large_is_split);
    tu_test("packers_compress_sealed_batches_before_stopping",
            test_packers_compress_sealed_batches_before_stopping);
    tu_test("courier_produce_compresses_into_our_broker_and_kcat_reads_back",
            test_courier_produce_compresses_into_our_broker_and_kcat_reads_back);
    tu_test("courier_produce_compresses_into_librdkafka_mock_and_kcat_reads_back",
            test_courier_produce_compresses_into_librdkafka_mock_and_kcat_reads_back);
}
