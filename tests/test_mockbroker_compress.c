/* Compressed batches and Produce validation over real sockets: every codec is accepted, stored
 * and served as sent and read back by the inspection API; the bad frames Kafka refuses are
 * refused with Kafka's codes (more than one batch, an empty payload, magic 1: INVALID_RECORD;
 * codec ids 5-7 and zstd below Produce v7: UNSUPPORTED_COMPRESSION_TYPE); a decompression
 * bomb gets a clear error and the broker keeps serving. */
#include "tests/test_mockbroker_client.h"

static const kw_codec codecs[] = {KW_CODEC_GZIP, KW_CODEC_SNAPPY, KW_CODEC_LZ4, KW_CODEC_ZSTD};

/* One broker, topic "t" with one partition (broker 1 leads it). */
static mb_cluster *one_broker(void) {
    mb_config conf;
    mb_config_init(&conf);
    static mb_topic_config topics[1];
    topics[0] = (mb_topic_config){"t", 1, 1, 1};
    conf.brokers = 1;
    conf.topics = topics;
    conf.n_topics = 1;
    conf.log_cb = tc_quiet_log;
    mb_cluster *c = NULL;
    char err[256];
    if (mb_cluster_new(&conf, &c, err, sizeof err) != MB_OK ||
        mb_cluster_start(c, err, sizeof err) != MB_OK) {
        fprintf(stderr, "cluster: %s\n", err);
        mb_cluster_destroy(c);
        return NULL;
    }
    return c;
}

/* n records "ck<i>"/"compressible value <i> ..." closed with codec (malloc'd). */
static uint8_t *make_batch(kw_codec codec, int n, size_t *len) {
    size_t cap = 64 + (size_t)n * 128;
    uint8_t *raw = malloc(cap);
    kw_batch_writer w;
    kw_batch_writer_init(&w, raw, cap);
    for (int i = 0; i < n; i++) {
        char k[32], v[96];
        snprintf(k, sizeof k, "ck%d", i);
        snprintf(v, sizeof v, "compressible value %d compressible value %d", i, i);
        kw_batch_writer_append(&w, 1700000000000 + i, kw_slice_str(k), kw_slice_str(v), NULL, 0);
    }
    if (codec == KW_CODEC_NONE) {
        *len = kw_batch_writer_close(&w, -1, -1, -1);
        return raw;
    }
    size_t dcap = KW_BATCH_HEADER_SIZE + kw_compress_bound(codec, w.len);
    uint8_t *dst = malloc(dcap);
    char err[128];
    int level = codec == KW_CODEC_GZIP ? -1 : codec == KW_CODEC_LZ4 ? 9 : 3;
    CU_ASSERT_EQUAL(kw_batch_writer_close_compressed(&w, codec, level, -1, -1, -1, dst, dcap, len,
                                                     err, sizeof err),
                    KW_ERR_NONE);
    free(raw);
    return dst;
}

typedef struct produce_answer {
    bool answered;
    int16_t error;
    int64_t base_offset;
    char message[256];
} produce_answer;

/* Sends Produce version v carrying `records` (len -1: null) for t-0 on fd and decodes the
 * answer. */
static produce_answer produce_raw(int fd, int16_t v, const uint8_t *records, int32_t len) {
    static int32_t corr = 100;
    produce_answer res = {false, -1, -1, ""};
    kw_produce_req_partition pp = {0, {records, len}};
    kw_produce_req_topic pt = {kw_slice_str("t"), 1, &pp};
    kw_produce_req req = {KW_SLICE_NULL, -1, 5000, 1, &pt};
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_produce_req_encode(&body, v, &req);
    int32_t id = corr++;
    bool sent = tc_send_request(fd, KW_API_PRODUCE, v, id, &body);
    kw_wbuf_free(&body);
    if (!sent)
        return res;
    uint8_t *buf;
    kw_rbuf rb;
    kw_response_header h;
    if (tc_recv_response(fd, KW_API_PRODUCE, v, 10000, &buf, &rb, &h) <= 0)
        return res;
    kw_arena *a = kw_arena_new();
    kw_produce_resp resp;
    if (kw_produce_resp_decode(&rb, v, a, &resp) == KW_ERR_NONE && h.correlation_id == id &&
        resp.n_topics == 1 && resp.topics[0].n_partitions == 1) {
        kw_produce_resp_partition *p = &resp.topics[0].partitions[0];
        res.answered = true;
        res.error = p->error_code;
        res.base_offset = p->base_offset;
        kw_slice_cstr(p->error_message, res.message, sizeof res.message);
    }
    kw_arena_destroy(a);
    free(buf);
    return res;
}

/* Every codec is accepted and stored as sent; the inspection API decompresses. */
static void test_every_codec_is_stored_as_sent_and_read_back(void) {
    mb_cluster *c = one_broker();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    int fd = tc_connect(mb_broker_port(c, 1));
    CU_ASSERT_FATAL(fd >= 0);
    for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++) {
        size_t len;
        uint8_t *b = make_batch(codecs[i], 50, &len);
        produce_answer r = produce_raw(fd, 7, b, (int32_t)len);
        CU_ASSERT(r.answered);
        CU_ASSERT_EQUAL(r.error, 0);
        CU_ASSERT_EQUAL(r.base_offset, (int64_t)i * 50);
        free(b);
    }
    /* Fetch serves the batches as the client sent them: attributes keep the codec. */
    tc_fetch f;
    tc_fetch_init(&f, 0, 0, 0);
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_fetch_req_encode(&body, 11, &f.req);
    CU_ASSERT(tc_send_request(fd, KW_API_FETCH, 11, 7, &body));
    kw_wbuf_free(&body);
    uint8_t *buf;
    kw_rbuf rb;
    kw_response_header h;
    CU_ASSERT_FATAL(tc_recv_response(fd, KW_API_FETCH, 11, 10000, &buf, &rb, &h) > 0);
    kw_arena *a = kw_arena_new();
    kw_fetch_resp resp;
    CU_ASSERT_EQUAL_FATAL(kw_fetch_resp_decode(&rb, 11, a, &resp), KW_ERR_NONE);
    kw_slice recs = resp.topics[0].partitions[0].records;
    size_t pos = 0;
    int nb = 0;
    while (recs.len > 0 && pos < (size_t)recs.len) {
        kw_batch kb;
        size_t used;
        char err[160];
        if (kw_batch_parse(recs.p + pos, (size_t)recs.len - pos, true, &kb, &used, err,
                           sizeof err) != KW_ERR_NONE)
            break;
        CU_ASSERT_EQUAL(kb.attributes & KW_CODEC_MASK, codecs[nb]);
        pos += used;
        nb++;
    }
    CU_ASSERT_EQUAL(nb, 4);
    kw_arena_destroy(a);
    free(buf);
    close(fd);
    /* mb_record_iter reads every record, decompressed. */
    mb_record_iter *it;
    CU_ASSERT_EQUAL_FATAL(mb_record_iter_new(c, "t", 0, 0, &it), MB_OK);
    mb_record rec;
    int n = 0;
    while (mb_record_iter_next(it, &rec) == MB_OK) {
        char k[32];
        snprintf(k, sizeof k, "ck%d", n % 50);
        CU_ASSERT_EQUAL(rec.offset, n);
        CU_ASSERT(rec.key_len == (int32_t)strlen(k) && !memcmp(rec.key, k, strlen(k)));
        n++;
    }
    CU_ASSERT_EQUAL(n, 200);
    mb_record_iter_destroy(it);
    mb_cluster_destroy(c);
}

/* Two batches for one partition, an empty payload, a null payload, magic 1: INVALID_RECORD
 * (87) with Kafka's message; the connection keeps working. */
static void test_bad_record_sets_are_invalid_record(void) {
    mb_cluster *c = one_broker();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    int fd = tc_connect(mb_broker_port(c, 1));
    CU_ASSERT_FATAL(fd >= 0);
    size_t l1, l2;
    uint8_t *b1 = make_batch(KW_CODEC_NONE, 3, &l1), *b2 = make_batch(KW_CODEC_GZIP, 3, &l2);
    uint8_t *two = malloc(l1 + l2);
    memcpy(two, b1, l1);
    memcpy(two + l1, b2, l2);
    produce_answer r = produce_raw(fd, 8, two, (int32_t)(l1 + l2));
    CU_ASSERT(r.answered);
    CU_ASSERT_EQUAL(r.error, KW_ERR_INVALID_RECORD);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.message, "exactly one record batch"));
    r = produce_raw(fd, 8, b1, 0);
    CU_ASSERT_EQUAL(r.error, KW_ERR_INVALID_RECORD);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.message, "at least one record batch"));
    r = produce_raw(fd, 7, NULL, -1);
    CU_ASSERT_EQUAL(r.error, KW_ERR_INVALID_RECORD);
    /* magic 1 (a v1 message set's magic byte sits at the same offset). */
    b1[16] = 1;
    r = produce_raw(fd, 8, b1, (int32_t)l1);
    CU_ASSERT_EQUAL(r.error, KW_ERR_INVALID_RECORD);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.message, "magic"));
    b1[16] = 2;
    r = produce_raw(fd, 8, b1, (int32_t)l1);
    CU_ASSERT_EQUAL(r.error, 0);
    CU_ASSERT_EQUAL(r.base_offset, 0);
    free(two);
    free(b1);
    free(b2);
    close(fd);
    mb_cluster_destroy(c);
}

/* Codec ids 5-7, and zstd below Produce v7: UNSUPPORTED_COMPRESSION_TYPE (76). */
static void test_unknown_codec_and_early_zstd_are_unsupported(void) {
    mb_cluster *c = one_broker();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    int fd = tc_connect(mb_broker_port(c, 1));
    CU_ASSERT_FATAL(fd >= 0);
    size_t len;
    uint8_t *b = make_batch(KW_CODEC_NONE, 3, &len);
    for (int id = 5; id <= 7; id++) {
        b[22] = (uint8_t)id;
        kw_batch_set_producer(b, len, -1, -1, -1); /* the CRC covers the attributes */
        produce_answer r = produce_raw(fd, 8, b, (int32_t)len);
        CU_ASSERT(r.answered);
        CU_ASSERT_EQUAL(r.error, KW_ERR_UNSUPPORTED_COMPRESSION_TYPE);
        CU_ASSERT_PTR_NOT_NULL(strstr(r.message, "compression type"));
    }
    free(b);
    b = make_batch(KW_CODEC_ZSTD, 3, &len);
    for (int16_t v = 3; v < 7; v++) {
        produce_answer r = produce_raw(fd, v, b, (int32_t)len);
        CU_ASSERT(r.answered);
        CU_ASSERT_EQUAL(r.error, KW_ERR_UNSUPPORTED_COMPRESSION_TYPE);
    }
    produce_answer r = produce_raw(fd, 7, b, (int32_t)len);
    CU_ASSERT_EQUAL(r.error, 0);
    CU_ASSERT_EQUAL(r.base_offset, 0);
    free(b);
    /* gzip is fine at v3. */
    b = make_batch(KW_CODEC_GZIP, 3, &len);
    r = produce_raw(fd, 3, b, (int32_t)len);
    CU_ASSERT_EQUAL(r.error, 0);
    free(b);
    close(fd);
    mb_cluster_destroy(c);
}

/* A few KB of zstd that expand past the broker's 64 MiB bound: INVALID_RECORD with a message
 * naming the codec and the bound; the broker keeps serving this connection and others. Corrupt
 * compressed data is CORRUPT_MESSAGE. */
static void test_decompression_bomb_is_refused_and_broker_keeps_serving(void) {
    mb_cluster *c = one_broker();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    size_t big = KW_DECOMPRESS_MAX_DEFAULT + (1u << 20);
    uint8_t *zeros = calloc(1, big);
    CU_ASSERT_PTR_NOT_NULL_FATAL(zeros);
    size_t zcap = kw_compress_bound(KW_CODEC_ZSTD, big);
    uint8_t *bomb = malloc(KW_BATCH_HEADER_SIZE + zcap);
    size_t zn = 0;
    char err[128];
    CU_ASSERT_EQUAL_FATAL(kw_compress(KW_CODEC_ZSTD, 19, zeros, big, bomb + KW_BATCH_HEADER_SIZE,
                                      zcap, &zn, err, sizeof err),
                          KW_ERR_NONE);
    free(zeros);
    CU_ASSERT(zn < 16384); /* "a few KB" */
    /* A valid header around it: 1000 records claimed, codec zstd. */
    size_t hl;
    uint8_t *h = make_batch(KW_CODEC_NONE, 1, &hl);
    memcpy(bomb, h, KW_BATCH_HEADER_SIZE);
    free(h);
    size_t len = KW_BATCH_HEADER_SIZE + zn;
    bomb[8] = (uint8_t)((len - 12) >> 24), bomb[9] = (uint8_t)((len - 12) >> 16);
    bomb[10] = (uint8_t)((len - 12) >> 8), bomb[11] = (uint8_t)(len - 12);
    bomb[21] = 0, bomb[22] = KW_CODEC_ZSTD;
    kw_batch_set_producer(bomb, len, -1, -1, -1);
    int fd = tc_connect(mb_broker_port(c, 1));
    CU_ASSERT_FATAL(fd >= 0);
    produce_answer r = produce_raw(fd, 8, bomb, (int32_t)len);
    CU_ASSERT(r.answered);
    CU_ASSERT_EQUAL(r.error, KW_ERR_INVALID_RECORD);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.message, "zstd"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.message, "67108864"));
    /* Corrupt compressed bytes (CRC fixed up): CORRUPT_MESSAGE. */
    size_t gl;
    uint8_t *g = make_batch(KW_CODEC_GZIP, 20, &gl);
    g[gl - 12] ^= 0xff;
    kw_batch_set_producer(g, gl, -1, -1, -1);
    r = produce_raw(fd, 8, g, (int32_t)gl);
    CU_ASSERT_EQUAL(r.error, KW_ERR_CORRUPT_MESSAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.message, "gzip"));
    free(g);
    /* The same connection and a new one still work. */
    size_t ol;
    uint8_t *ok = make_batch(KW_CODEC_LZ4, 5, &ol);
    r = produce_raw(fd, 8, ok, (int32_t)ol);
    CU_ASSERT_EQUAL(r.error, 0);
    CU_ASSERT_EQUAL(r.base_offset, 0);
    int fd2 = tc_connect(mb_broker_port(c, 1));
    r = produce_raw(fd2, 7, ok, (int32_t)ol);
    CU_ASSERT_EQUAL(r.error, 0);
    CU_ASSERT_EQUAL(r.base_offset, 5);
    close(fd2);
    free(ok);
    free(bomb);
    close(fd);
    mb_cluster_destroy(c);
}

/* The codec of every batch the broker serves for topic-0 from offset 0 (Fetch v11 over a
 * socket), into codecs[] (at most max); returns how many batches. */
static int served_codecs(mb_cluster *c, const char *topic, int *codecs_out, int max) {
    int fd = tc_connect(mb_broker_port(c, 1));
    if (fd < 0)
        return -1;
    kw_fetch_req_partition part = {0, -1, 0, -1, 1 << 20, -1};
    kw_fetch_req_topic t = {kw_slice_str(topic), 1, &part};
    kw_fetch_req req = {0};
    req.replica_id = -1;
    req.max_wait_ms = 0;
    req.min_bytes = 1;
    req.max_bytes = 1 << 20;
    req.session_epoch = -1;
    req.n_topics = 1;
    req.topics = &t;
    req.rack_id = kw_slice_str("");
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_fetch_req_encode(&body, 11, &req);
    bool sent = tc_send_request(fd, KW_API_FETCH, 11, 9, &body);
    kw_wbuf_free(&body);
    uint8_t *buf = NULL;
    kw_rbuf rb;
    kw_response_header h;
    int n = -1;
    kw_arena *a = kw_arena_new();
    kw_fetch_resp resp;
    if (sent && tc_recv_response(fd, KW_API_FETCH, 11, 10000, &buf, &rb, &h) > 0 &&
        kw_fetch_resp_decode(&rb, 11, a, &resp) == KW_ERR_NONE && resp.n_topics == 1) {
        kw_slice recs = resp.topics[0].partitions[0].records;
        size_t pos = 0;
        n = 0;
        while (recs.len > 0 && pos < (size_t)recs.len && n < max) {
            kw_batch kb;
            size_t used;
            char err[160];
            if (kw_batch_parse(recs.p + pos, (size_t)recs.len - pos, true, &kb, &used, err,
                               sizeof err) != KW_ERR_NONE)
                break;
            codecs_out[n++] = kb.attributes & KW_CODEC_MASK;
            pos += used;
        }
    }
    kw_arena_destroy(a);
    free(buf);
    close(fd);
    return n;
}

/* The lowest Produce version the broker advertises (ApiVersions v0). */
static int produce_min_version(mb_cluster *c) {
    int fd = tc_connect(mb_broker_port(c, 1));
    kw_wbuf body;
    kw_wbuf_init(&body);
    bool sent = tc_send_request(fd, KW_API_API_VERSIONS, 0, 3, &body);
    kw_wbuf_free(&body);
    uint8_t *buf = NULL;
    kw_rbuf rb;
    kw_response_header h;
    int min = -1;
    kw_arena *a = kw_arena_new();
    kw_api_versions_resp resp;
    if (sent && tc_recv_response(fd, KW_API_API_VERSIONS, 0, 10000, &buf, &rb, &h) > 0 &&
        kw_api_versions_resp_decode(&rb, 0, a, &resp) == KW_ERR_NONE)
        for (int32_t i = 0; i < resp.n_api_keys; i++)
            if (resp.api_keys[i].api_key == KW_API_PRODUCE)
                min = resp.api_keys[i].min_version;
    kw_arena_destroy(a);
    free(buf);
    close(fd);
    return min;
}

/* Counts the records of topic-0 whose key is k<i> and value "cline <i> ..." in order. */
static int count_lines(mb_cluster *c, const char *topic) {
    mb_record_iter *it;
    if (mb_record_iter_new(c, topic, 0, 0, &it) != MB_OK)
        return -1;
    mb_record r;
    int n = 0;
    while (mb_record_iter_next(it, &r) == MB_OK) {
        char v[64];
        int len = snprintf(v, sizeof v, "cline %d cline %d cline %d", n, n, n);
        if (r.value_len != len || memcmp(r.value, v, (size_t)len))
            break;
        n++;
    }
    mb_record_iter_destroy(it);
    return n;
}

/* kafka-python (gzip, snappy, lz4, zstd: Debian's python3-kafka with python3-snappy,
 * python3-lz4, python3-zstandard) and kcat (-z) produce compressed batches into our broker:
 * the broker validates and stores them as sent (the batch attributes keep the codec), its
 * inspection API reads every record, and kcat -C reads them back. librdkafka 2.0.2 compresses
 * with gzip, snappy and lz4 only when the broker advertises Produce from v0 (KAFKA-18659); zstd
 * needs v7 and always works. */
static void test_real_clients_compress_into_our_broker(void) {
    mb_config conf;
    mb_config_init(&conf);
    conf.brokers = 1;
    conf.log_cb = tc_quiet_log;
    mb_cluster *c = NULL;
    char err[256];
    CU_ASSERT_FATAL(mb_cluster_new(&conf, &c, err, sizeof err) == MB_OK &&
                    mb_cluster_start(c, err, sizeof err) == MB_OK);
    const char *boot = mb_cluster_bootstrap(c);
    bool from_v0 = produce_min_version(c) == 0;
    char in[] = "/tmp/mb-compress-XXXXXX";
    int fd = mkstemp(in);
    CU_ASSERT_FATAL(fd >= 0);
    FILE *f = fdopen(fd, "w");
    for (int i = 0; i < 200; i++)
        fprintf(f, "k%d:cline %d cline %d cline %d\n", i, i, i, i);
    fclose(f);
    static const char *const names[] = {"gzip", "snappy", "lz4", "zstd"};
    for (int k = 0; k < 4; k++) {
        char cmd[1024], topic[32];
        snprintf(topic, sizeof topic, "kcat_%s", names[k]);
        snprintf(cmd, sizeof cmd,
                 "timeout 60 kcat -q -b %s -P -t %s -p 0 -z %s -K: -X linger.ms=20 -l %s", boot,
                 topic, names[k], in);
        CU_ASSERT_EQUAL(system(cmd), 0);
        snprintf(topic, sizeof topic, "kpy_%s", names[k]);
        snprintf(cmd, sizeof cmd,
                 "timeout 60 /usr/bin/python3 -c \"import kafka\n"
                 "p = kafka.KafkaProducer(bootstrap_servers='%s', compression_type='%s', "
                 "linger_ms=20)\n"
                 "for i in range(200): p.send('%s', key=b'k%%d' %% i, value=(b'cline %%d cline "
                 "%%d cline %%d' %% (i, i, i)), partition=0)\n"
                 "p.flush(); p.close()\"",
                 boot, names[k], topic);
        CU_ASSERT_EQUAL(system(cmd), 0);
    }
    for (int k = 0; k < 4; k++) {
        for (int client = 0; client < 2; client++) {
            char topic[32];
            snprintf(topic, sizeof topic, "%s_%s", client ? "kpy" : "kcat", names[k]);
            int codecs_seen[64];
            int nb = served_codecs(c, topic, codecs_seen, 64);
            CU_ASSERT(nb >= 1);
            bool compressed = client == 1 || k == 3 || from_v0;
            for (int b = 0; b < nb; b++) {
                if (codecs_seen[b] != (compressed ? k + 1 : 0))
                    fprintf(stderr, "%s: batch %d has codec %d\n", topic, b, codecs_seen[b]);
                CU_ASSERT_EQUAL(codecs_seen[b], compressed ? k + 1 : 0);
            }
            CU_ASSERT_EQUAL(count_lines(c, topic), 200);
            char cmd[512];
            snprintf(cmd, sizeof cmd,
                     "test \"$(timeout 60 kcat -q -b %s -C -t %s -e -o beginning -f '%%k %%s\\n' "
                     "| grep -c '^k[0-9]* cline')\" = 200",
                     boot, topic);
            CU_ASSERT_EQUAL(system(cmd), 0);
        }
    }
    unlink(in);
    mb_cluster_destroy(c);
}

void suite_mockbroker_compress(void);
void suite_mockbroker_compress(void) {
    tu_suite("mockbroker_compress");
    tu_test("every_codec_is_stored_as_sent_and_read_back",
            test_every_codec_is_stored_as_sent_and_read_back);
    tu_test("bad_record_sets_are_invalid_record", test_bad_record_sets_are_invalid_record);
    tu_test("unknown_codec_and_early_zstd_are_unsupported",
            test_unknown_codec_and_early_zstd_are_unsupported);
    tu_test("decompression_bomb_is_refused_and_broker_keeps_serving",
            test_decompression_bomb_is_refused_and_broker_keeps_serving);
    tu_test("real_clients_compress_into_our_broker", test_real_clients_compress_into_our_broker);
}
