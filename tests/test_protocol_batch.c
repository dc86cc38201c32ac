/* RecordBatch v2: writer against an independent oracle (kafka-python), parse, iterate, CRC,
 * in-place stamping, and hostile input at every byte. */
#include "protocol/kw.h"
#include "protocol/kw_wire.h" /* the field primitives under test */
#include "tests/test_protocol_util.h"
#include "tests/tu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Built by kafka-python 2.0.2 (Debian python3-kafka), not by this codec:
 *   b = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=0,
 *                                 producer_id=1000, producer_epoch=3, base_sequence=42,
 *                                 batch_size=1<<20)
 *   b.append(0, timestamp=1700000000000, key=b"k1", value=b"hello", headers=[])
 *   b.append(1, timestamp=1700000000005, key=None, value=b"world",
 *            headers=[("h", b"v"), ("n", None)])
 *   b.append(2, timestamp=1699999999990, key=b"", value=None, headers=[])
 *   bytes(b.build()).hex() */
static const char oracle_hex[] =
    "0000000000000000000000590000000002005b07290000000000020000018bcfe568000000018bcfe5680500"
    "000000000003e800030000002a000000031a000000046b310a68656c6c6f0024000a02010a776f726c640402"
    "680276026e010c001304000100";

/* Writes the oracle's three records with our writer. */
static size_t write_oracle_batch(uint8_t *buf, size_t cap) {
    kw_batch_writer w;
    kw_batch_writer_init(&w, buf, cap);
    kw_header hs[2] = {{kw_slice_str("h"), kw_slice_str("v")}, {kw_slice_str("n"), KW_SLICE_NULL}};
    CU_ASSERT_EQUAL(kw_batch_writer_append(&w, 1700000000000LL, kw_slice_str("k1"),
                                           kw_slice_str("hello"), NULL, 0),
                    KW_ERR_NONE);
    CU_ASSERT_EQUAL(
        kw_batch_writer_append(&w, 1700000000005LL, KW_SLICE_NULL, kw_slice_str("world"), hs, 2),
        KW_ERR_NONE);
    CU_ASSERT_EQUAL(
        kw_batch_writer_append(&w, 1699999999990LL, kw_slice_str(""), KW_SLICE_NULL, NULL, 0),
        KW_ERR_NONE);
    return kw_batch_writer_close(&w, 1000, 3, 42);
}

static void test_writer_matches_kafka_python_bytes(void) {
    uint8_t want[256], got[256];
    size_t wn = unhex(oracle_hex, want, sizeof want);
    CU_ASSERT_EQUAL_FATAL(wn, 101);
    size_t gn = write_oracle_batch(got, sizeof got);
    CU_ASSERT_EQUAL_FATAL(gn, wn);
    /* The one intended difference: Java (and we) write partitionLeaderEpoch -1
     * (RecordBatch.NO_PARTITION_LEADER_EPOCH); kafka-python writes 0. Outside the CRC. */
    CU_ASSERT_EQUAL(got[12] & got[13] & got[14] & got[15], 0xff);
    kw_batch_set_leader_epoch(got, 0);
    if (memcmp(got, want, wn) != 0) {
        for (size_t i = 0; i < wn; i++)
            if (got[i] != want[i])
                fprintf(stderr, "byte %zu: got %02x want %02x\n", i, got[i], want[i]);
        CU_FAIL("batch bytes differ from kafka-python's");
    }
}

static void test_parse_and_iterate_kafka_python_batch(void) {
    uint8_t buf[256];
    size_t n = unhex(oracle_hex, buf, sizeof buf);
    kw_batch b;
    size_t used = 0;
    char err[160] = "";
    CU_ASSERT_EQUAL_FATAL(kw_batch_parse(buf, n, true, &b, &used, err, sizeof err), KW_ERR_NONE);
    CU_ASSERT_EQUAL(used, n);
    CU_ASSERT_EQUAL(b.base_offset, 0);
    CU_ASSERT_EQUAL(b.batch_length, (int32_t)n - 12);
    CU_ASSERT_EQUAL(b.partition_leader_epoch, 0); /* kafka-python writes 0 */
    CU_ASSERT_EQUAL(b.magic, 2);
    CU_ASSERT_EQUAL(b.attributes, 0);
    CU_ASSERT_EQUAL(b.last_offset_delta, 2);
    CU_ASSERT_EQUAL(b.base_timestamp, 1700000000000LL);
    CU_ASSERT_EQUAL(b.max_timestamp, 1700000000005LL);
    CU_ASSERT_EQUAL(b.producer_id, 1000);
    CU_ASSERT_EQUAL(b.producer_epoch, 3);
    CU_ASSERT_EQUAL(b.base_sequence, 42);
    CU_ASSERT_EQUAL(b.record_count, 3);
    CU_ASSERT_EQUAL(b.records.len, (int32_t)n - KW_BATCH_HEADER_SIZE);
    CU_ASSERT_PTR_EQUAL(b.whole.p, buf);

    kw_arena *a = kw_arena_new();
    kw_record_iter it;
    kw_record r;
    kw_record_iter_init(&it, &b);
    CU_ASSERT_EQUAL_FATAL(kw_record_next(&it, a, &r), 1);
    CU_ASSERT_EQUAL(r.offset, 0);
    CU_ASSERT_EQUAL(r.timestamp, 1700000000000LL);
    CU_ASSERT_TRUE(kw_slice_eq(r.key, "k1"));
    CU_ASSERT_TRUE(kw_slice_eq(r.value, "hello"));
    CU_ASSERT_EQUAL(r.n_headers, 0);
    CU_ASSERT_EQUAL_FATAL(kw_record_next(&it, a, &r), 1);
    CU_ASSERT_EQUAL(r.offset, 1);
    CU_ASSERT_EQUAL(r.offset_delta, 1);
    CU_ASSERT_EQUAL(r.timestamp, 1700000000005LL);
    CU_ASSERT_EQUAL(r.key.len, -1);
    CU_ASSERT_TRUE(kw_slice_eq(r.value, "world"));
    CU_ASSERT_EQUAL_FATAL(r.n_headers, 2);
    CU_ASSERT_TRUE(kw_slice_eq(r.headers[0].key, "h"));
    CU_ASSERT_TRUE(kw_slice_eq(r.headers[0].value, "v"));
    CU_ASSERT_TRUE(kw_slice_eq(r.headers[1].key, "n"));
    CU_ASSERT_EQUAL(r.headers[1].value.len, -1);
    CU_ASSERT_EQUAL_FATAL(kw_record_next(&it, a, &r), 1);
    CU_ASSERT_EQUAL(r.timestamp, 1699999999990LL); /* negative delta */
    CU_ASSERT_EQUAL(r.key.len, 0);
    CU_ASSERT_EQUAL(r.value.len, -1);
    CU_ASSERT_EQUAL(kw_record_next(&it, a, &r), 0);
    CU_ASSERT_EQUAL(kw_record_next(&it, a, &r), 0);
    kw_arena_destroy(a);
}

/* Parse → iterate → rewrite with the writer gives the same bytes, for many shapes. */
static void test_batch_round_trip_byte_for_byte(void) {
    enum { CAP = 1 << 16 };
    uint8_t *buf = malloc(CAP), *again = malloc(CAP);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(again);
    kw_arena *a = kw_arena_new();
    char val[300];
    memset(val, 'v', sizeof val);
    for (int shape = 0; shape < 40; shape++) {
        kw_batch_writer w;
        kw_batch_writer_init(&w, buf, CAP);
        int nrec = 1 + shape * 3;
        for (int i = 0; i < nrec; i++) {
            char key[16];
            snprintf(key, sizeof key, "key-%d", i);
            kw_header h[3] = {{kw_slice_str("trace"), kw_slice_str("abc")},
                              {kw_slice_str(""), KW_SLICE_NULL},
                              {kw_slice_str("x"), (kw_slice){(const uint8_t *)val, i % 200}}};
            kw_slice k = i % 5 == 0 ? KW_SLICE_NULL : kw_slice_str(key);
            kw_slice v =
                i % 7 == 3 ? KW_SLICE_NULL : (kw_slice){(const uint8_t *)val, (i * 37) % 300};
            int64_t ts = 1700000000000LL + (i % 3 == 0 ? -i * 1000 : i * 100000);
            CU_ASSERT_EQUAL_FATAL(kw_batch_writer_append(&w, ts, k, v, h, i % 4), KW_ERR_NONE);
        }
        int64_t pid = shape % 2 ? 7 + shape : KW_NO_PRODUCER_ID;
        int16_t epoch = (int16_t)(shape % 2 ? shape : -1);
        int32_t seq = shape % 2 ? shape * 100 : KW_NO_SEQUENCE;
        size_t n = kw_batch_writer_close(&w, pid, epoch, seq);
        CU_ASSERT_FATAL(n > KW_BATCH_HEADER_SIZE);

        kw_batch b;
        size_t used;
        char err[160];
        CU_ASSERT_EQUAL_FATAL(kw_batch_parse(buf, n, true, &b, &used, err, sizeof err),
                              KW_ERR_NONE);
        CU_ASSERT_EQUAL(b.record_count, nrec);
        CU_ASSERT_EQUAL(b.partition_leader_epoch, -1);
        kw_batch_writer w2;
        kw_batch_writer_init(&w2, again, CAP);
        kw_record_iter it;
        kw_record r;
        kw_record_iter_init(&it, &b);
        int got = 0, rc;
        while ((rc = kw_record_next(&it, a, &r)) == 1) {
            CU_ASSERT_EQUAL(r.offset_delta, got);
            CU_ASSERT_EQUAL(
                kw_batch_writer_append(&w2, r.timestamp, r.key, r.value, r.headers, r.n_headers),
                KW_ERR_NONE);
            got++;
        }
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_EQUAL(got, nrec);
        size_t n2 = kw_batch_writer_close(&w2, b.producer_id, b.producer_epoch, b.base_sequence);
        CU_ASSERT_EQUAL(n2, n);
        CU_ASSERT_EQUAL(memcmp(buf, again, n), 0);
        kw_arena_reset(a);
    }
    kw_arena_destroy(a);
    free(buf);
    free(again);
}

static void test_crc_mismatch_is_detected(void) {
    uint8_t buf[256];
    size_t n = write_oracle_batch(buf, sizeof buf);
    kw_batch b;
    size_t used;
    char err[160] = "";
    for (size_t i = KW_BATCH_ATTR_OFFSET; i < n; i++) {
        buf[i] ^= 0x01;
        kw_err e = kw_batch_parse(buf, n, true, &b, &used, err, sizeof err);
        CU_ASSERT_EQUAL(e, KW_ERR__BAD_CRC);
        buf[i] ^= 0x01;
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "crc"));
    /* The stored CRC itself is wrong. */
    buf[KW_BATCH_CRC_OFFSET] ^= 0x80;
    CU_ASSERT_EQUAL(kw_batch_parse(buf, n, true, &b, &used, err, sizeof err), KW_ERR__BAD_CRC);
    CU_ASSERT_EQUAL(kw_batch_parse(buf, n, false, &b, &used, err, sizeof err), KW_ERR_NONE);
    buf[KW_BATCH_CRC_OFFSET] ^= 0x80;
    /* baseOffset and partitionLeaderEpoch are outside the CRC. */
    kw_batch_set_base_offset(buf, 123456789);
    kw_batch_set_leader_epoch(buf, 17);
    CU_ASSERT_EQUAL_FATAL(kw_batch_parse(buf, n, true, &b, &used, err, sizeof err), KW_ERR_NONE);
    CU_ASSERT_EQUAL(b.base_offset, 123456789);
    CU_ASSERT_EQUAL(b.partition_leader_epoch, 17);
    kw_record_iter it;
    kw_record r;
    kw_record_iter_init(&it, &b);
    kw_arena *a = kw_arena_new();
    CU_ASSERT_EQUAL(kw_record_next(&it, a, &r), 1);
    CU_ASSERT_EQUAL(kw_record_next(&it, a, &r), 1);
    CU_ASSERT_EQUAL(r.offset, 123456790);
    kw_arena_destroy(a);
}

static void test_set_producer_recomputes_crc(void) {
    uint8_t buf[256], direct[256];
    size_t n = write_oracle_batch(buf, sizeof buf);
    kw_batch_set_producer(buf, n, 555, 9, 1234);
    kw_batch b;
    size_t used;
    char err[160] = "";
    CU_ASSERT_EQUAL_FATAL(kw_batch_parse(buf, n, true, &b, &used, err, sizeof err), KW_ERR_NONE);
    CU_ASSERT_EQUAL(b.producer_id, 555);
    CU_ASSERT_EQUAL(b.producer_epoch, 9);
    CU_ASSERT_EQUAL(b.base_sequence, 1234);
    /* Same bytes as a batch closed with those values in the first place. */
    kw_batch_writer w;
    kw_batch_writer_init(&w, direct, sizeof direct);
    kw_header hs[2] = {{kw_slice_str("h"), kw_slice_str("v")}, {kw_slice_str("n"), KW_SLICE_NULL}};
    kw_batch_writer_append(&w, 1700000000000LL, kw_slice_str("k1"), kw_slice_str("hello"), NULL, 0);
    kw_batch_writer_append(&w, 1700000000005LL, KW_SLICE_NULL, kw_slice_str("world"), hs, 2);
    kw_batch_writer_append(&w, 1699999999990LL, kw_slice_str(""), KW_SLICE_NULL, NULL, 0);
    CU_ASSERT_EQUAL_FATAL(kw_batch_writer_close(&w, 555, 9, 1234), n);
    CU_ASSERT_EQUAL(memcmp(buf, direct, n), 0);
}

static void test_writer_reports_no_space_and_keeps_batch(void) {
    uint8_t buf[200];
    kw_batch_writer w;
    kw_batch_writer_init(&w, buf, sizeof buf);
    kw_slice v = kw_slice_str("0123456789");
    int appended = 0;
    size_t before = 0;
    kw_err e;
    for (;;) {
        before = w.len;
        size_t predicted = kw_record_size(w.count, 0, KW_SLICE_NULL, v, NULL, 0);
        e = kw_batch_writer_append(&w, 1000, KW_SLICE_NULL, v, NULL, 0);
        if (e != KW_ERR_NONE)
            break;
        CU_ASSERT_EQUAL(w.len - before, predicted);
        appended++;
    }
    CU_ASSERT_EQUAL(e, KW_ERR__NO_SPACE);
    CU_ASSERT_EQUAL(w.len, before);
    CU_ASSERT_EQUAL(w.count, appended);
    CU_ASSERT_TRUE(appended == (200 - 61) / 16); /* 16-byte records */
    size_t n = kw_batch_writer_close(&w, -1, -1, -1);
    CU_ASSERT_TRUE(n <= sizeof buf);
    kw_batch b;
    size_t used;
    char err[160];
    CU_ASSERT_EQUAL(kw_batch_parse(buf, n, true, &b, &used, err, sizeof err), KW_ERR_NONE);
    CU_ASSERT_EQUAL(b.record_count, appended);
    /* A buffer smaller than the header takes nothing, and an empty batch closes to 0 bytes. */
    uint8_t tiny[40];
    kw_batch_writer_init(&w, tiny, sizeof tiny);
    CU_ASSERT_EQUAL(kw_batch_writer_append(&w, 1, KW_SLICE_NULL, v, NULL, 0), KW_ERR__NO_SPACE);
    CU_ASSERT_EQUAL(kw_batch_writer_close(&w, -1, -1, -1), 0);
    /* Bad arguments. */
    kw_batch_writer_init(&w, buf, sizeof buf);
    kw_header nullkey = {KW_SLICE_NULL, v};
    CU_ASSERT_EQUAL(kw_batch_writer_append(&w, 1, v, v, &nullkey, 1), KW_ERR__INVALID_ARG);
    CU_ASSERT_EQUAL(kw_batch_writer_append(&w, 1, v, v, NULL, 2), KW_ERR__INVALID_ARG);
    CU_ASSERT_EQUAL(w.count, 0);
}

static void test_size_upper_bound_matches_java(void) {
    /* Java: 61 + 21 + sizeOf(key, value, headers); lengths are zigzag varints. Null key (1)
     * + value of 100 (varint 200: 2 bytes, + 100) + header count (1) = 186. */
    char v100[100];
    memset(v100, 'x', sizeof v100);
    kw_slice value = {(const uint8_t *)v100, 100};
    CU_ASSERT_EQUAL(kw_batch_size_upper_bound(KW_SLICE_NULL, value, NULL, 0), 186);
    /* key "abc" (1+3), value null (1), one header "hk"→"hv" ((1+2)+(1+2)): 61+21+4+1+1+6 = 94 */
    kw_header h = {kw_slice_str("hk"), kw_slice_str("hv")};
    CU_ASSERT_EQUAL(kw_batch_size_upper_bound(kw_slice_str("abc"), KW_SLICE_NULL, &h, 1), 94);
    /* The bound holds for the actual one-record batch. */
    uint8_t buf[512];
    kw_batch_writer w;
    kw_batch_writer_init(&w, buf, sizeof buf);
    kw_batch_writer_append(&w, 1700000000000LL, kw_slice_str("abc"), value, &h, 1);
    size_t n = kw_batch_writer_close(&w, -1, -1, -1);
    CU_ASSERT_TRUE(n <= kw_batch_size_upper_bound(kw_slice_str("abc"), value, &h, 1));
    /* Length varint boundaries: a record body of 63/64 bytes needs a 1/2-byte length
     * (attributes, ts delta, offset delta, null key, value length, header count: 6 bytes). */
    CU_ASSERT_EQUAL(
        kw_record_size(0, 0, KW_SLICE_NULL, (kw_slice){(const uint8_t *)v100, 57}, NULL, 0),
        1 + 63);
    CU_ASSERT_EQUAL(
        kw_record_size(0, 0, KW_SLICE_NULL, (kw_slice){(const uint8_t *)v100, 58}, NULL, 0),
        2 + 64);
}

static void test_truncated_batch_fails_at_every_length(void) {
    uint8_t full[256];
    size_t n = write_oracle_batch(full, sizeof full);
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *p = malloc(cut ? cut : 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        memcpy(p, full, cut);
        kw_batch b;
        size_t used = 99;
        char err[160] = "";
        kw_err e = kw_batch_parse(p, cut, true, &b, &used, err, sizeof err);
        CU_ASSERT_EQUAL(e, KW_ERR__TRUNCATED);
        CU_ASSERT_EQUAL(used, 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, cut < 12 ? "batchLength" : "needs"));
        free(p);
    }
}

static void test_header_fields_are_validated(void) {
    uint8_t buf[256];
    size_t n = write_oracle_batch(buf, sizeof buf);
    kw_batch b;
    size_t used;
    char err[160] = "";
    buf[16] = 1; /* magic 1 */
    CU_ASSERT_EQUAL(kw_batch_parse(buf, n, false, &b, &used, err, sizeof err), KW_ERR__MALFORMED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "magic 1"));
    buf[16] = 2;
    uint8_t save[4];
    memcpy(save, buf + 8, 4);
    buf[8] = 0, buf[9] = 0, buf[10] = 0, buf[11] = 48; /* batchLength < 49 */
    CU_ASSERT_EQUAL(kw_batch_parse(buf, n, false, &b, &used, err, sizeof err), KW_ERR__MALFORMED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "batchLength 48"));
    buf[8] = 0x80; /* negative batchLength */
    CU_ASSERT_EQUAL(kw_batch_parse(buf, n, false, &b, &used, err, sizeof err), KW_ERR__MALFORMED);
    memcpy(buf + 8, save, 4);
    /* A record count that cannot fit in the bytes (checked before any iteration). */
    buf[57] = 0x7f;
    kw_batch_set_producer(buf, n, 1000, 3, 42); /* recompute CRC */
    CU_ASSERT_EQUAL(kw_batch_parse(buf, n, true, &b, &used, err, sizeof err), KW_ERR__MALFORMED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "record count"));
    buf[57] = 0xff; /* negative */
    kw_batch_set_producer(buf, n, 1000, 3, 42);
    CU_ASSERT_EQUAL(kw_batch_parse(buf, n, true, &b, &used, err, sizeof err), KW_ERR__MALFORMED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "negative record count"));
    CU_ASSERT_EQUAL(kw_batch_parse(NULL, 0, true, &b, &used, err, sizeof err), KW_ERR__TRUNCATED);
}

static kw_err iterate_all(const uint8_t *buf, size_t n, char *msg, size_t msgsize, int *count) {
    kw_batch b;
    size_t used;
    kw_err e = kw_batch_parse(buf, n, true, &b, &used, msg, msgsize);
    if (e != KW_ERR_NONE)
        return e;
    kw_arena *a = kw_arena_new();
    kw_record_iter it;
    kw_record r;
    kw_record_iter_init(&it, &b);
    int rc;
    *count = 0;
    while ((rc = kw_record_next(&it, a, &r)) == 1)
        (*count)++;
    snprintf(msg, msgsize, "%s", it.rb.errmsg);
    kw_arena_destroy(a);
    CU_ASSERT_TRUE(rc >= 0 || it.rb.err != KW_ERR_NONE);
    return rc < 0 ? it.rb.err : KW_ERR_NONE;
}

static void test_record_errors_name_the_record(void) {
    uint8_t buf[256];
    char msg[160];
    int count = 0;
    size_t n = write_oracle_batch(buf, sizeof buf);
    /* Record count says 2 but 3 records are there: trailing bytes. */
    buf[60] = 2;
    kw_batch_set_producer(buf, n, 1000, 3, 42);
    CU_ASSERT_EQUAL(iterate_all(buf, n, msg, sizeof msg, &count), KW_ERR__MALFORMED);
    CU_ASSERT_EQUAL(count, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "after the last of 2 records"));
    /* Record count says 4 but only 3 records: truncated at records[3]. */
    buf[60] = 4;
    kw_batch_set_producer(buf, n, 1000, 3, 42);
    CU_ASSERT_EQUAL(iterate_all(buf, n, msg, sizeof msg, &count), KW_ERR__TRUNCATED);
    CU_ASSERT_EQUAL(count, 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "records[3]"));
    buf[60] = 3;
    /* First record's length one too large (0x1a = 13 → 14): its key/value shift. */
    CU_ASSERT_EQUAL(buf[61], 0x1a);
    buf[61] = 0x1c;
    kw_batch_set_producer(buf, n, 1000, 3, 42);
    kw_err e = iterate_all(buf, n, msg, sizeof msg, &count);
    CU_ASSERT_NOT_EQUAL(e, KW_ERR_NONE);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "records[0]"));
    buf[61] = 0x1a;
    /* First record's key length 2 → 1: fields end before the record length says. */
    CU_ASSERT_EQUAL(buf[65], 0x04);
    buf[65] = 0x02;
    kw_batch_set_producer(buf, n, 1000, 3, 42);
    e = iterate_all(buf, n, msg, sizeof msg, &count);
    CU_ASSERT_NOT_EQUAL(e, KW_ERR_NONE);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "records[0]"));
    buf[65] = 0x04;
    /* A codec id Kafka does not define (5-7) is refused by the iterator with Kafka's error. */
    buf[22] = 5;
    kw_batch_set_producer(buf, n, 1000, 3, 42);
    CU_ASSERT_EQUAL(iterate_all(buf, n, msg, sizeof msg, &count),
                    KW_ERR_UNSUPPORTED_COMPRESSION_TYPE);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "compression"));
}

/* Every single-byte corruption (CRC not checked) either parses or fails with a message; the
 * iterator never reads outside the batch (ASan runs of this suite would catch it). */
static void test_every_byte_corruption_fails_cleanly(void) {
    uint8_t full[256];
    size_t n = write_oracle_batch(full, sizeof full);
    static const uint8_t vals[] = {0x00, 0x01, 0x7f, 0x80, 0xff};
    int errors = 0, oks = 0;
    kw_arena *a = kw_arena_new();
    for (size_t i = 0; i < n; i++) {
        for (size_t v = 0; v < sizeof vals; v++) {
            uint8_t *p = malloc(n);
            CU_ASSERT_PTR_NOT_NULL_FATAL(p);
            memcpy(p, full, n);
            p[i] = vals[v];
            kw_batch b;
            size_t used;
            char err[160] = "";
            kw_err e = kw_batch_parse(p, n, false, &b, &used, err, sizeof err);
            if (e == KW_ERR_NONE) {
                kw_record_iter it;
                kw_record r;
                kw_record_iter_init(&it, &b);
                int rc;
                while ((rc = kw_record_next(&it, a, &r)) == 1)
                    ;
                if (rc < 0) {
                    errors++;
                    CU_ASSERT_TRUE(strlen(it.rb.errmsg) > 0);
                } else {
                    oks++;
                }
            } else {
                errors++;
                CU_ASSERT_TRUE(strlen(err) > 0);
            }
            kw_arena_reset(a);
            free(p);
        }
    }
    kw_arena_destroy(a);
    CU_ASSERT_TRUE(errors > 0);
    CU_ASSERT_TRUE(oks > 0);
}

static void test_concatenated_batches_parse_one_by_one(void) {
    uint8_t buf[512];
    size_t n1 = write_oracle_batch(buf, 256);
    kw_batch_writer w;
    kw_batch_writer_init(&w, buf + n1, sizeof buf - n1);
    kw_batch_writer_append(&w, 5, kw_slice_str("a"), kw_slice_str("b"), NULL, 0);
    size_t n2 = kw_batch_writer_close(&w, -1, -1, -1);
    kw_batch_set_base_offset(buf + n1, 3);
    size_t pos = 0, used;
    int batches = 0;
    while (pos < n1 + n2) {
        kw_batch b;
        char err[160];
        CU_ASSERT_EQUAL_FATAL(
            kw_batch_parse(buf + pos, n1 + n2 - pos, true, &b, &used, err, sizeof err),
            KW_ERR_NONE);
        pos += used;
        batches++;
    }
    CU_ASSERT_EQUAL(batches, 2);
    CU_ASSERT_EQUAL(pos, n1 + n2);
}

/* A NULL arena still validates headers, but does not return them. */
static void test_iterator_without_arena_skips_headers(void) {
    uint8_t buf[256];
    size_t n = write_oracle_batch(buf, sizeof buf);
    kw_batch b;
    size_t used;
    char err[160];
    CU_ASSERT_EQUAL_FATAL(kw_batch_parse(buf, n, true, &b, &used, err, sizeof err), KW_ERR_NONE);
    kw_record_iter it;
    kw_record r;
    kw_record_iter_init(&it, &b);
    CU_ASSERT_EQUAL(kw_record_next(&it, NULL, &r), 1);
    CU_ASSERT_EQUAL(kw_record_next(&it, NULL, &r), 1);
    CU_ASSERT_EQUAL(r.n_headers, 2);
    CU_ASSERT_PTR_NULL(r.headers);
    CU_ASSERT_EQUAL(kw_record_next(&it, NULL, &r), 1);
    CU_ASSERT_EQUAL(kw_record_next(&it, NULL, &r), 0);
}

/* A Produce v7 request sent by librdkafka 2.0.2 (kcat 1.7.1) to librdkafka's own mock cluster,
 * captured with tshark on lo:
 *   printf 'k1:hello\nk2:world\n:nokey\n' | kcat -b 127.0.0.1:1 -X test.mock.num.brokers=1 \
 *       -P -t courier -p 0 -K: -H trace=abc -H empty= -X linger.ms=50
 *   tshark -r cap.pcap -Y "tcp.port==<mock port> && tcp.len>0" -T fields -e tcp.payload */
static const char rdkafka_produce_v7_hex[] =
    "000000ca0000000700000004000772646b61666b61ffffffff00007530000000010007636f75726965720000"
    "0001000000000000009800000000000000000000008c00000000020091951f000000000002000001a21776c2"
    "61000001a21776c261ffffffffffffffffffffffffffff000000033c000000046b310a68656c6c6f040a7472"
    "616365066162630a656d707479003c000002046b320a776f726c64040a7472616365066162630a656d707479"
    "0038000004000a6e6f6b6579040a7472616365066162630a656d70747900";

static void test_librdkafka_batch_parses_and_rewrites_identically(void) {
    uint8_t frame[256];
    size_t n = unhex(rdkafka_produce_v7_hex, frame, sizeof frame);
    int32_t flen;
    char err[160];
    CU_ASSERT_EQUAL_FATAL(kw_frame_peek(frame, n, KW_DEFAULT_MAX_FRAME, &flen, err, sizeof err), 1);
    kw_rbuf rb;
    kw_request_header h;
    kw_rbuf_init(&rb, frame + 4, (size_t)flen, "Produce v7 request");
    CU_ASSERT_EQUAL_FATAL(kw_request_header_decode(&rb, &h), KW_ERR_NONE);
    CU_ASSERT_EQUAL(h.api_key, KW_API_PRODUCE);
    CU_ASSERT_EQUAL(h.api_version, 7);
    /* The Produce v7 body, read with primitives up to the records. */
    CU_ASSERT_EQUAL(kw_read_nullable_string(&rb, "transactional_id").len, -1);
    CU_ASSERT_EQUAL(kw_read_i16(&rb, "acks"), -1);
    CU_ASSERT_EQUAL(kw_read_i32(&rb, "timeout_ms"), 30000);
    CU_ASSERT_EQUAL(kw_read_array_len(&rb, 6, "topic_data"), 1);
    CU_ASSERT_TRUE(kw_slice_eq(kw_read_string(&rb, "name"), "courier"));
    CU_ASSERT_EQUAL(kw_read_array_len(&rb, 8, "partition_data"), 1);
    CU_ASSERT_EQUAL(kw_read_i32(&rb, "index"), 0);
    kw_slice records = kw_read_nullable_bytes(&rb, "records");
    kw_read_expect_end(&rb, "Produce v7 request");
    CU_ASSERT_EQUAL_FATAL(rb.err, KW_ERR_NONE);

    kw_batch b;
    size_t used;
    CU_ASSERT_EQUAL_FATAL(
        kw_batch_parse(records.p, (size_t)records.len, true, &b, &used, err, sizeof err),
        KW_ERR_NONE);
    CU_ASSERT_EQUAL(used, (size_t)records.len);
    CU_ASSERT_EQUAL(b.record_count, 3);
    CU_ASSERT_EQUAL(b.producer_id, -1);
    CU_ASSERT_EQUAL(b.partition_leader_epoch, 0); /* librdkafka writes 0, Java -1 */
    static const char *const keys[] = {"k1", "k2", ""};
    static const char *const values[] = {"hello", "world", "nokey"};
    uint8_t again[256];
    kw_batch_writer w;
    kw_batch_writer_init(&w, again, sizeof again);
    kw_arena *a = kw_arena_new();
    kw_record_iter it;
    kw_record r;
    kw_record_iter_init(&it, &b);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL_FATAL(kw_record_next(&it, a, &r), 1);
        CU_ASSERT_TRUE(kw_slice_eq(r.key, keys[i]));
        CU_ASSERT_TRUE(kw_slice_eq(r.value, values[i]));
        CU_ASSERT_EQUAL_FATAL(r.n_headers, 2);
        CU_ASSERT_TRUE(kw_slice_eq(r.headers[0].key, "trace"));
        CU_ASSERT_TRUE(kw_slice_eq(r.headers[0].value, "abc"));
        CU_ASSERT_TRUE(kw_slice_eq(r.headers[1].key, "empty"));
        CU_ASSERT_EQUAL(r.headers[1].value.len, 0); /* empty, not null */
        CU_ASSERT_EQUAL(r.timestamp, b.base_timestamp);
        CU_ASSERT_EQUAL(
            kw_batch_writer_append(&w, r.timestamp, r.key, r.value, r.headers, r.n_headers),
            KW_ERR_NONE);
    }
    CU_ASSERT_EQUAL(kw_record_next(&it, a, &r), 0);
    size_t n2 = kw_batch_writer_close(&w, b.producer_id, b.producer_epoch, b.base_sequence);
    CU_ASSERT_EQUAL_FATAL(n2, (size_t)records.len);
    kw_batch_set_leader_epoch(again, 0);
    CU_ASSERT_EQUAL(memcmp(again, records.p, n2), 0);
    kw_arena_destroy(a);
}

/* Measures (and prints) writer and reader speed: 100-byte values with 8-byte keys in 16 KiB
 * batches (batch.size's default). The asserted floor is loose so sanitizer builds pass. */
static void test_batch_write_and_read_throughput(void) {
    enum { CAP = 16384, RECORDS = 200000 };
    uint8_t *buf = malloc(CAP);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    char val[100], key[8];
    memset(val, 'v', sizeof val);
    memset(key, 'k', sizeof key);
    kw_slice k = {(const uint8_t *)key, 8}, v = {(const uint8_t *)val, 100};
    kw_arena *a = kw_arena_new();
    int written = 0, read = 0, batches = 0;
    double t_write = 0, t_read = 0;
    while (written < RECORDS) {
        double t0 = now_s();
        kw_batch_writer w;
        kw_batch_writer_init(&w, buf, CAP);
        while (written < RECORDS &&
               kw_batch_writer_append(&w, 1700000000000LL + written, k, v, NULL, 0) == KW_ERR_NONE)
            written++;
        size_t n = kw_batch_writer_close(&w, 1, 0, written);
        double t1 = now_s();
        kw_batch b;
        size_t used;
        char err[160];
        CU_ASSERT_EQUAL_FATAL(kw_batch_parse(buf, n, true, &b, &used, err, sizeof err),
                              KW_ERR_NONE);
        kw_record_iter it;
        kw_record r;
        kw_record_iter_init(&it, &b);
        while (kw_record_next(&it, a, &r) == 1)
            read++;
        kw_arena_reset(a);
        t_write += t1 - t0;
        t_read += now_s() - t1;
        batches++;
    }
    CU_ASSERT_EQUAL(read, RECORDS);
    fprintf(stderr,
            "\n    batch: %d records in %d batches; write %.1f M records/s, "
            "parse+CRC+iterate %.1f M records/s ",
            RECORDS, batches, RECORDS / t_write / 1e6, RECORDS / t_read / 1e6);
    CU_ASSERT_TRUE(RECORDS / t_write > 100000.0);
    CU_ASSERT_TRUE(RECORDS / t_read > 100000.0);
    kw_arena_destroy(a);
    free(buf);
}

void suite_protocol_batch(void);
void suite_protocol_batch(void) {
    tu_suite("protocol_batch");
    tu_test("test_writer_matches_kafka_python_bytes", test_writer_matches_kafka_python_bytes);
    tu_test("test_parse_and_iterate_kafka_python_batch", test_parse_and_iterate_kafka_python_batch);
    tu_test("test_batch_round_trip_byte_for_byte", test_batch_round_trip_byte_for_byte);
    tu_test("test_crc_mismatch_is_detected", test_crc_mismatch_is_detected);
    tu_test("test_set_producer_recomputes_crc", test_set_producer_recomputes_crc);
    tu_test("test_writer_reports_no_space_and_keeps_batch",
            test_writer_reports_no_space_and_keeps_batch);
    tu_test("test_size_upper_bound_matches_java", test_size_upper_bound_matches_java);
    tu_test("test_truncated_batch_fails_at_every_length",
            test_truncated_batch_fails_at_every_length);
    tu_test("test_header_fields_are_validated", test_header_fields_are_validated);
    tu_test("test_record_errors_name_the_record", test_record_errors_name_the_record);
    tu_test("test_every_byte_corruption_fails_cleanly", test_every_byte_corruption_fails_cleanly);
    tu_test("test_concatenated_batches_parse_one_by_one",
            test_concatenated_batches_parse_one_by_one);
    tu_test("test_iterator_without_arena_skips_headers", test_iterator_without_arena_skips_headers);
    tu_test("test_librdkafka_batch_parses_and_rewrites_identically",
            test_librdkafka_batch_parses_and_rewrites_identically);
    tu_test("test_batch_write_and_read_throughput", test_batch_write_and_read_throughput);
}
