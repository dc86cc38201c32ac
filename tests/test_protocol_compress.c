/* Compression: every codec through our writer and our reader, Kafka's byte formats (gzip
 * member, xerial snappy framing and raw snappy, the LZ4 frame as Kafka writes it, zstd), the
 * CRC over the compressed bytes, the decompression bomb bound, corrupt and truncated input,
 * undefined codec ids, and batches written by other clients (tests/vectors/compressed/). */
#include "protocol/kw.h"
#include "tests/test_protocol_util.h"
#include "tests/tu.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const kw_codec all_codecs[] = {KW_CODEC_GZIP, KW_CODEC_SNAPPY, KW_CODEC_LZ4, KW_CODEC_ZSTD};
#define N_CODECS (sizeof all_codecs / sizeof all_codecs[0])

static int default_level(kw_codec c) {
    return c == KW_CODEC_GZIP ? -1 : c == KW_CODEC_LZ4 ? 9 : c == KW_CODEC_ZSTD ? 3 : 0;
}

/* Text-like bytes: words from a small vocabulary, a pseudo-random choice (deterministic). */
static void fill_text(uint8_t *p, size_t n, uint32_t seed) {
    static const char *const words[] = {"parcel ", "courier ", "sorting ", "room ",   "truck ",
                                        "broker ", "kafka ",   "batch ",   "linger ", "acks "};
    size_t i = 0;
    while (i < n) {
        seed = seed * 1103515245u + 12345u;
        const char *w = words[(seed >> 16) % 10];
        for (; *w && i < n; w++)
            p[i++] = (uint8_t)*w;
    }
}

static void fill_random(uint8_t *p, size_t n, uint32_t seed) {
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)(seed >> 16);
    }
}

/* Compresses and decompresses n bytes; checks the bytes come back. */
static void roundtrip_bytes(kw_codec c, const uint8_t *src, size_t n) {
    size_t cap = kw_compress_bound(c, n);
    uint8_t *z = malloc(cap);
    CU_ASSERT_PTR_NOT_NULL_FATAL(z);
    size_t zn = 0;
    char err[256] = "";
    CU_ASSERT_EQUAL_FATAL(kw_compress(c, default_level(c), src, n, z, cap, &zn, err, sizeof err),
                          KW_ERR_NONE);
    CU_ASSERT(zn <= cap);
    uint8_t *out = NULL;
    size_t on = 0;
    kw_err e = kw_decompress(c, z, zn, n + 1, &out, &on, err, sizeof err);
    if (e != KW_ERR_NONE)
        fprintf(stderr, "%s, %zu bytes: %s\n", kw_codec_name(c), n, err);
    CU_ASSERT_EQUAL(e, KW_ERR_NONE);
    CU_ASSERT_EQUAL(on, n);
    if (out && on == n && n)
        CU_ASSERT_EQUAL(memcmp(out, src, n), 0);
    free(out);
    free(z);
}

static void test_every_codec_round_trips_bytes(void) {
    static const size_t sizes[] = {0, 1, 100, 32767, 32768, 32769, 65536, 65537, 300000};
    uint8_t *buf = malloc(300000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    for (size_t c = 0; c < N_CODECS; c++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            fill_text(buf, sizes[s], (uint32_t)s);
            roundtrip_bytes(all_codecs[c], buf, sizes[s]);
            fill_random(buf, sizes[s], (uint32_t)s);
            roundtrip_bytes(all_codecs[c], buf, sizes[s]);
        }
    free(buf);
}

/* Writes n records (keys, values, a header on every fifth) into a batch closed with codec. */
static size_t write_batch(kw_codec c, int n, uint8_t **out, size_t *raw_len) {
    size_t cap = 1 << 20;
    uint8_t *raw = malloc(cap);
    CU_ASSERT_PTR_NOT_NULL_FATAL(raw);
    kw_batch_writer w;
    kw_batch_writer_init(&w, raw, cap);
    kw_header h = {kw_slice_str("h"), kw_slice_str("v")};
    for (int i = 0; i < n; i++) {
        char k[32], v[128];
        snprintf(k, sizeof k, "key-%d", i);
        snprintf(v, sizeof v, "hello courier, compressible text %d hello courier %d", i, i);
        CU_ASSERT_EQUAL(kw_batch_writer_append(&w, 1700000000000LL + i, kw_slice_str(k),
                                               kw_slice_str(v), i % 5 == 0 ? &h : NULL,
                                               i % 5 == 0 ? 1 : 0),
                        KW_ERR_NONE);
    }
    *raw_len = kw_batch_writer_records_size(&w);
    size_t len = 0;
    if (c == KW_CODEC_NONE) {
        len = kw_batch_writer_close(&w, 1000, 3, 42);
        *out = raw;
        return len;
    }
    size_t dcap = KW_BATCH_HEADER_SIZE + kw_compress_bound(c, *raw_len);
    uint8_t *dst = malloc(dcap);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dst);
    char err[256];
    CU_ASSERT_EQUAL(kw_batch_writer_close_compressed(&w, c, default_level(c), 1000, 3, 42, dst,
                                                     dcap, &len, err, sizeof err),
                    KW_ERR_NONE);
    free(raw);
    *out = dst;
    return len;
}

/* Reads every record back; checks keys, values, offsets, timestamps, headers. */
static void check_records(const uint8_t *p, size_t len, int n) {
    kw_batch b;
    size_t used;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(kw_batch_parse(p, len, true, &b, &used, err, sizeof err), KW_ERR_NONE);
    CU_ASSERT_EQUAL(used, len);
    CU_ASSERT_EQUAL(b.record_count, n);
    CU_ASSERT_EQUAL(b.producer_id, 1000);
    CU_ASSERT_EQUAL(b.base_sequence, 42);
    kw_record_iter it;
    kw_record_iter_init(&it, &b);
    kw_arena *a = kw_arena_new();
    kw_record r;
    int i = 0, rc;
    while ((rc = kw_record_next(&it, a, &r)) == 1) {
        char k[32], v[128];
        snprintf(k, sizeof k, "key-%d", i);
        snprintf(v, sizeof v, "hello courier, compressible text %d hello courier %d", i, i);
        CU_ASSERT(kw_slice_eq(r.key, k));
        CU_ASSERT(kw_slice_eq(r.value, v));
        CU_ASSERT_EQUAL(r.offset_delta, i);
        CU_ASSERT_EQUAL(r.timestamp, 1700000000000LL + i);
        CU_ASSERT_EQUAL(r.n_headers, i % 5 == 0 ? 1 : 0);
        if (i % 5 == 0 && r.headers)
            CU_ASSERT(kw_slice_eq(r.headers[0].key, "h"));
        i++;
    }
    if (rc != 0)
        fprintf(stderr, "iterate: %s\n", it.rb.errmsg);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(i, n);
    kw_record_iter_release(&it);
    kw_arena_destroy(a);
}

static void test_every_codec_batch_round_trips_records(void) {
    for (size_t c = 0; c < N_CODECS; c++) {
        uint8_t *p;
        size_t raw;
        size_t len = write_batch(all_codecs[c], 500, &p, &raw);
        CU_ASSERT(len > KW_BATCH_HEADER_SIZE);
        CU_ASSERT(len < raw / 2);                              /* repetitive text compresses */
        CU_ASSERT_EQUAL(p[22] & KW_CODEC_MASK, all_codecs[c]); /* attributes, low byte */
        check_records(p, len, 500);
        free(p);
    }
}

/* The CRC covers the compressed bytes: a flipped byte in them fails the check; restamping the
 * producer fields recomputes it over the compressed bytes. */
static void test_crc_covers_compressed_bytes(void) {
    for (size_t c = 0; c < N_CODECS; c++) {
        uint8_t *p;
        size_t raw;
        size_t len = write_batch(all_codecs[c], 50, &p, &raw);
        kw_batch b;
        size_t used;
        char err[256];
        CU_ASSERT_EQUAL(kw_crc32c(0, p + KW_BATCH_ATTR_OFFSET, len - KW_BATCH_ATTR_OFFSET),
                        (uint32_t)p[17] << 24 | (uint32_t)p[18] << 16 | (uint32_t)p[19] << 8 |
                            p[20]);
        p[len - 3] ^= 0x40;
        CU_ASSERT_EQUAL(kw_batch_parse(p, len, true, &b, &used, err, sizeof err), KW_ERR__BAD_CRC);
        p[len - 3] ^= 0x40;
        kw_batch_set_producer(p, len, 77, 1, 9);
        CU_ASSERT_EQUAL(kw_batch_parse(p, len, true, &b, &used, err, sizeof err), KW_ERR_NONE);
        CU_ASSERT_EQUAL(b.producer_id, 77);
        free(p);
    }
}

/* The bytes after the header are in the formats Kafka's Java client writes. */
static void test_codec_byte_formats_are_kafkas(void) {
    uint8_t src[100000];
    fill_text(src, sizeof src, 7);
    uint8_t *z = malloc(kw_compress_bound(KW_CODEC_SNAPPY, sizeof src) + 100000);
    size_t zn;
    char err[256];
    /* gzip: one member, magic 1f 8b, deflate. */
    CU_ASSERT_EQUAL(kw_compress(KW_CODEC_GZIP, -1, src, sizeof src, z,
                                kw_compress_bound(KW_CODEC_GZIP, sizeof src), &zn, err, sizeof err),
                    KW_ERR_NONE);
    CU_ASSERT(z[0] == 0x1f && z[1] == 0x8b && z[2] == 8);
    /* snappy: xerial magic, version 1, compatible 1, then 32 KiB blocks (4 for 100000 bytes). */
    CU_ASSERT_EQUAL(kw_compress(KW_CODEC_SNAPPY, 0, src, sizeof src, z,
                                kw_compress_bound(KW_CODEC_SNAPPY, sizeof src), &zn, err,
                                sizeof err),
                    KW_ERR_NONE);
    static const uint8_t xerial[16] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0,
                                       0,    0,   0,   1,   0,   0,   0,   1};
    CU_ASSERT_EQUAL(memcmp(z, xerial, 16), 0);
    size_t pos = 16;
    int blocks = 0;
    while (pos + 4 <= zn) {
        pos += 4 + ((size_t)z[pos] << 24 | (size_t)z[pos + 1] << 16 | (size_t)z[pos + 2] << 8 |
                    z[pos + 3]);
        blocks++;
    }
    CU_ASSERT_EQUAL(pos, zn);
    CU_ASSERT_EQUAL(blocks, 4);
    /* lz4: frame magic 04 22 4d 18, FLG 0x60 (version 1, independent blocks, no checksums,
     * no content size), BD 0x40 (64 KiB blocks): KafkaLZ4BlockOutputStream's header. */
    CU_ASSERT_EQUAL(kw_compress(KW_CODEC_LZ4, 9, src, sizeof src, z,
                                kw_compress_bound(KW_CODEC_LZ4, sizeof src), &zn, err, sizeof err),
                    KW_ERR_NONE);
    CU_ASSERT(z[0] == 0x04 && z[1] == 0x22 && z[2] == 0x4d && z[3] == 0x18);
    CU_ASSERT_EQUAL(z[4], 0x60);
    CU_ASSERT_EQUAL(z[5], 0x40);
    /* zstd: frame magic 28 b5 2f fd. */
    CU_ASSERT_EQUAL(kw_compress(KW_CODEC_ZSTD, 3, src, sizeof src, z,
                                kw_compress_bound(KW_CODEC_ZSTD, sizeof src), &zn, err, sizeof err),
                    KW_ERR_NONE);
    CU_ASSERT(z[0] == 0x28 && z[1] == 0xb5 && z[2] == 0x2f && z[3] == 0xfd);
    free(z);
}

/* compression.lz4.level 9 (Kafka's default) is lz4's fast compressor, as Java's
 * Lz4BlockOutputStream; another level is LZ4 HC: a different (smaller) frame, same content. */
static void test_lz4_default_level_is_the_fast_compressor(void) {
    static uint8_t src[200000];
    fill_text(src, sizeof src, 11);
    size_t cap = kw_compress_bound(KW_CODEC_LZ4, sizeof src);
    uint8_t *fast = malloc(cap), *hc = malloc(cap), *lvl1 = malloc(cap);
    size_t nf, nh, n1;
    char err[128];
    CU_ASSERT_EQUAL(kw_compress(KW_CODEC_LZ4, 9, src, sizeof src, fast, cap, &nf, err, sizeof err),
                    KW_ERR_NONE);
    CU_ASSERT_EQUAL(kw_compress(KW_CODEC_LZ4, 12, src, sizeof src, hc, cap, &nh, err, sizeof err),
                    KW_ERR_NONE);
    CU_ASSERT_EQUAL(kw_compress(KW_CODEC_LZ4, 1, src, sizeof src, lvl1, cap, &n1, err, sizeof err),
                    KW_ERR_NONE);
    CU_ASSERT(nh < nf);      /* HC finds more */
    CU_ASSERT_EQUAL(nf, n1); /* 9 is the fast mode, as liblz4's level 1 */
    CU_ASSERT(nf == n1 && memcmp(fast, lvl1, nf) == 0);
    uint8_t *out;
    size_t on;
    CU_ASSERT_EQUAL(kw_decompress(KW_CODEC_LZ4, hc, nh, sizeof src, &out, &on, err, sizeof err),
                    KW_ERR_NONE);
    CU_ASSERT(on == sizeof src && memcmp(out, src, on) == 0);
    free(out);
    free(fast);
    free(hc);
    free(lvl1);
}

/* A payload without the xerial magic is one raw snappy block (librdkafka may write that). */
static void test_raw_snappy_is_read(void) {
    /* snappy raw block of "hello hello hello hello!" made by python's cramjam-free reference:
     * preamble 24, literal "hello " (6), copy offset 6 length 18 would differ by encoder, so
     * use a pure-literal block: preamble 5, tag (5-1)<<2, "hello". */
    static const uint8_t raw[] = {0x05, 0x10, 'h', 'e', 'l', 'l', 'o'};
    uint8_t *out = NULL;
    size_t on = 0;
    char err[256];
    CU_ASSERT_EQUAL(
        kw_decompress(KW_CODEC_SNAPPY, raw, sizeof raw, 100, &out, &on, err, sizeof err),
        KW_ERR_NONE);
    CU_ASSERT_EQUAL(on, 5);
    if (out && on == 5)
        CU_ASSERT_EQUAL(memcmp(out, "hello", 5), 0);
    free(out);
}

/* A few KB that expand past the bound: a clear error naming the codec and the bound. */
static void test_decompression_bomb_is_refused(void) {
    size_t big = 8u << 20;
    uint8_t *zeros = calloc(1, big);
    CU_ASSERT_PTR_NOT_NULL_FATAL(zeros);
    for (size_t c = 0; c < N_CODECS; c++) {
        kw_codec codec = all_codecs[c];
        size_t cap = kw_compress_bound(codec, big);
        uint8_t *z = malloc(cap);
        size_t zn = 0;
        char err[256] = "";
        CU_ASSERT_EQUAL_FATAL(
            kw_compress(codec, default_level(codec), zeros, big, z, cap, &zn, err, sizeof err),
            KW_ERR_NONE);
        uint8_t *out = (uint8_t *)1;
        size_t on = 0;
        CU_ASSERT_EQUAL(kw_decompress(codec, z, zn, 1u << 20, &out, &on, err, sizeof err),
                        KW_ERR__TOO_LARGE);
        CU_ASSERT_PTR_NULL(out);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, kw_codec_name(codec)));
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "1048576"));
        /* The same bytes under a large enough bound are fine. */
        CU_ASSERT_EQUAL(kw_decompress(codec, z, zn, big, &out, &on, err, sizeof err), KW_ERR_NONE);
        CU_ASSERT_EQUAL(on, big);
        free(out);
        free(z);
    }
    free(zeros);
}

/* The record iterator applies the bound too, and says so. */
static void test_iterator_bound_names_codec(void) {
    uint8_t *p;
    size_t raw;
    size_t len = write_batch(KW_CODEC_ZSTD, 500, &p, &raw);
    kw_batch b;
    size_t used;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(kw_batch_parse(p, len, true, &b, &used, err, sizeof err), KW_ERR_NONE);
    kw_record_iter it;
    kw_record_iter_init_bounded(&it, &b, 1000);
    kw_record r;
    CU_ASSERT(kw_record_next(&it, NULL, &r) < 0);
    CU_ASSERT_EQUAL(it.rb.err, KW_ERR__TOO_LARGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(it.rb.errmsg, "zstd"));
    CU_ASSERT_PTR_NOT_NULL(strstr(it.rb.errmsg, "1000"));
    kw_record_iter_release(&it);
    free(p);
}

/* Corrupt or cut compressed data fails with a message naming the codec; never a crash. */
static void test_corrupt_and_truncated_input_fail_cleanly(void) {
    uint8_t src[20000];
    fill_text(src, sizeof src, 3);
    for (size_t c = 0; c < N_CODECS; c++) {
        kw_codec codec = all_codecs[c];
        size_t cap = kw_compress_bound(codec, sizeof src);
        uint8_t *z = malloc(cap);
        size_t zn = 0;
        char err[256];
        CU_ASSERT_EQUAL_FATAL(
            kw_compress(codec, default_level(codec), src, sizeof src, z, cap, &zn, err, sizeof err),
            KW_ERR_NONE);
        int failures = 0;
        for (size_t cut = 0; cut < zn; cut += zn / 37 + 1) {
            uint8_t *out = NULL;
            size_t on = 0;
            err[0] = 0;
            kw_err e = kw_decompress(codec, z, cut, 1u << 20, &out, &on, err, sizeof err);
            if (e != KW_ERR_NONE) {
                failures++;
                CU_ASSERT_PTR_NOT_NULL(strstr(err, kw_codec_name(codec)));
            }
            free(out);
        }
        CU_ASSERT(failures > 30); /* nearly every cut is detected */
        for (size_t i = 0; i < zn; i += 7) {
            z[i] ^= 0x5a;
            uint8_t *out = NULL;
            size_t on = 0;
            (void)kw_decompress(codec, z, zn, 1u << 20, &out, &on, err, sizeof err);
            free(out);
            z[i] ^= 0x5a;
        }
        free(z);
    }
}

/* Codec ids 5-7 are not Kafka's: UNSUPPORTED_COMPRESSION_TYPE, as the broker answers. */
static void test_undefined_codec_ids_are_unsupported(void) {
    for (int id = 5; id <= 7; id++) {
        uint8_t *p;
        size_t raw;
        size_t len = write_batch(KW_CODEC_NONE, 3, &p, &raw);
        p[22] = (uint8_t)id;
        kw_batch_set_producer(p, len, 1000, 3, 42);
        kw_batch b;
        size_t used;
        char err[256];
        CU_ASSERT_EQUAL_FATAL(kw_batch_parse(p, len, true, &b, &used, err, sizeof err),
                              KW_ERR_NONE);
        kw_record_iter it;
        kw_record_iter_init(&it, &b);
        kw_record r;
        CU_ASSERT_EQUAL(kw_record_next(&it, NULL, &r), KW_ERR__MALFORMED);
        CU_ASSERT_EQUAL(it.rb.err, KW_ERR_UNSUPPORTED_COMPRESSION_TYPE);
        CU_ASSERT_PTR_NOT_NULL(strstr(it.rb.errmsg, "compression type"));
        kw_record_iter_release(&it);
        free(p);
        uint8_t *out = NULL;
        size_t on;
        CU_ASSERT_EQUAL(
            kw_decompress((kw_codec)id, (const uint8_t *)"x", 1, 10, &out, &on, err, sizeof err),
            KW_ERR_UNSUPPORTED_COMPRESSION_TYPE);
    }
    kw_codec c;
    CU_ASSERT(kw_codec_from_name("zstd", &c) && c == KW_CODEC_ZSTD);
    CU_ASSERT(!kw_codec_from_name("brotli", &c));
    CU_ASSERT_STRING_EQUAL(kw_codec_name(7), "unknown");
    CU_ASSERT_STRING_EQUAL(kw_err_name(KW_ERR_INVALID_RECORD), "INVALID_RECORD");
    CU_ASSERT(!kw_err_is_retriable(KW_ERR_INVALID_RECORD));
}

/* Built by kafka-python 2.0.2 (Debian python3-kafka), not by this codec:
 *   b = DefaultRecordBatchBuilder(magic=2, compression_type=1, is_transactional=0,
 *                                 producer_id=1000, producer_epoch=3, base_sequence=42,
 *                                 batch_size=1<<20)
 *   for i in range(20):
 *       b.append(i, timestamp=1700000000000+i, key=b"key-%d"%i,
 *                value=b"hello courier, compressible text %d "%i*3,
 *                headers=[("h", b"v")] if i%5==0 else [])
 *   bytes(b.build()).hex() */
static const char kpy_gzip_hex[] =
    "0000000000000000000001730000000002482ed1540001000000130000018bcfe568000000018bcfe56813000000"
    "00000003e800030000002a000000141f8b0800d540136b02ffadd4cb6a02411085e1ea46448641444444440a11"
    "5709ccfdf23a090d4a2618461392d7cc2acf90a5cbac32558dfbb3e8dd2c7ef8a0a939374344d18bfb7a4cbecd"
    "d175dd999fcfeffdc9f50fc3c7eb5bef2e97d353e7f8ea3eaf9c7098c4daa3fdf83564add22940a71c26a1811d"
    "8d94cd0036e33089b0e3b1b239c0e61c2611763251b600d882c32474331445ca96005b7298e47e5671ac7405d0"
    "158749e4a1a753656b80ad394c22ec6ca66c03b00d8749849dcf956d01b6e53009fd195a2c629d8ce407d80c60"
    "8cc0464f6bb8eae5d2f329c223838435f243ad569ece101a1825b0117abdf6748ed0c030818dd09b8da70b8406"
    "c6096ce4d4b65b4f97080d0c14d8dc4f8dd9f315c203230536f2e8bb9da76b8406860a6c84deef3ddd20343056"
    "6023f4e1e0e916a181c1021bfa07ee95263984090000";

static void test_kafka_python_gzip_batch_is_read(void) {
    uint8_t buf[1024];
    size_t n = unhex(kpy_gzip_hex, buf, sizeof buf);
    kw_batch b;
    size_t used;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(kw_batch_parse(buf, n, true, &b, &used, err, sizeof err), KW_ERR_NONE);
    CU_ASSERT_EQUAL(b.attributes & KW_CODEC_MASK, KW_CODEC_GZIP);
    kw_record_iter it;
    kw_record_iter_init(&it, &b);
    kw_arena *a = kw_arena_new();
    kw_record r;
    int i = 0;
    while (kw_record_next(&it, a, &r) == 1) {
        char k[32], v[200], one[64];
        snprintf(k, sizeof k, "key-%d", i);
        snprintf(one, sizeof one, "hello courier, compressible text %d ", i);
        snprintf(v, sizeof v, "%s%s%s", one, one, one);
        CU_ASSERT(kw_slice_eq(r.key, k));
        CU_ASSERT(kw_slice_eq(r.value, v));
        CU_ASSERT_EQUAL(r.timestamp, 1700000000000LL + i);
        CU_ASSERT_EQUAL(r.n_headers, i % 5 == 0 ? 1 : 0);
        i++;
    }
    CU_ASSERT_EQUAL(it.rb.err, KW_ERR_NONE);
    CU_ASSERT_EQUAL(i, 20);
    kw_record_iter_release(&it);
    kw_arena_destroy(a);
}

/* Reads a hex file (whitespace ignored) into a malloc'd buffer. */
static uint8_t *read_hex_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *txt = malloc(cap);
    int ch;
    while (txt && (ch = fgetc(f)) != EOF)
        if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')) {
            if (len + 1 >= cap)
                break;
            txt[len++] = (char)ch;
        }
    fclose(f);
    if (!txt)
        return NULL;
    txt[len] = 0;
    uint8_t *out = malloc(len / 2 + 1);
    *n = out ? unhex(txt, out, len / 2) : 0;
    free(txt);
    return out;
}

/* tests/vectors/compressed/<where>_<client>_<codec>.hex: the record bytes a broker served for
 * 20 records written by kcat (librdkafka 2.0.2) or kafka-python 2.0.2 with that codec
 * (tests/vectors/tools/compressed_vectors.py). Our reader must find the codec in the batch
 * attributes and every record: key "k<i>", value "courier compressed line <i> " x 4. */
static void test_batches_written_by_other_clients_are_read(void) {
    const char *dir = "tests/vectors/compressed";
    DIR *d = opendir(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    struct dirent *e;
    int files = 0;
    bool seen[5] = {false};
    while ((e = readdir(d))) {
        size_t nl = strlen(e->d_name);
        if (nl < 5 || strcmp(e->d_name + nl - 4, ".hex"))
            continue;
        char path[512], name[256];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        snprintf(name, sizeof name, "%.*s", (int)(nl - 4), e->d_name);
        const char *cname = strrchr(name, '_');
        kw_codec want;
        CU_ASSERT_FATAL(cname && kw_codec_from_name(cname + 1, &want));
        size_t n = 0;
        uint8_t *buf = read_hex_file(path, &n);
        CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
        kw_arena *a = kw_arena_new();
        size_t pos = 0;
        int rec_i = 0;
        while (pos < n) {
            kw_batch b;
            size_t used;
            char err[256];
            kw_err pe = kw_batch_parse(buf + pos, n - pos, true, &b, &used, err, sizeof err);
            if (pe != KW_ERR_NONE)
                fprintf(stderr, "%s: %s\n", name, err);
            CU_ASSERT_EQUAL_FATAL(pe, KW_ERR_NONE);
            CU_ASSERT_EQUAL(b.attributes & KW_CODEC_MASK, want);
            kw_record_iter it;
            kw_record_iter_init(&it, &b);
            kw_record r;
            int rc;
            while ((rc = kw_record_next(&it, a, &r)) == 1) {
                char k[16], one[64], v[256];
                snprintf(k, sizeof k, "k%d", rec_i);
                snprintf(one, sizeof one, "courier compressed line %d ", rec_i);
                snprintf(v, sizeof v, "%s%s%s%s", one, one, one, one);
                CU_ASSERT(kw_slice_eq(r.key, k));
                CU_ASSERT(kw_slice_eq(r.value, v));
                CU_ASSERT_EQUAL(r.offset, rec_i);
                rec_i++;
            }
            if (rc != 0)
                fprintf(stderr, "%s: %s\n", name, it.rb.errmsg);
            CU_ASSERT_EQUAL(rc, 0);
            kw_record_iter_release(&it);
            pos += used;
        }
        CU_ASSERT_EQUAL(rec_i, 20);
        seen[want] = true;
        files++;
        kw_arena_destroy(a);
        free(buf);
    }
    closedir(d);
    CU_ASSERT(files >= 8);
    for (int c = 1; c <= 4; c++)
        CU_ASSERT(seen[c]);
}

/* Writes one TCP segment (client 127.0.0.1:40000 -> 127.0.0.1:9092, sequence seq) carrying
 * payload as a classic pcap record (Ethernet, IPv4, TCP). */
static void pcap_segment(FILE *f, uint32_t seq, const uint8_t *payload, size_t n) {
    uint8_t h[54] = {0};
    h[12] = 0x08; /* EtherType IPv4 */
    uint8_t *ip = h + 14;
    size_t total = 20 + 20 + n;
    ip[0] = 0x45;
    ip[2] = (uint8_t)(total >> 8), ip[3] = (uint8_t)total;
    ip[8] = 64, ip[9] = 6; /* TTL, TCP */
    ip[12] = 127, ip[15] = 1, ip[16] = 127, ip[19] = 1;
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += (uint32_t)ip[i] << 8 | ip[i + 1];
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    ip[10] = (uint8_t)(~sum >> 8), ip[11] = (uint8_t)~sum;
    uint8_t *tcp = ip + 20;
    tcp[0] = 40000 >> 8, tcp[1] = 40000 & 0xff, tcp[2] = 9092 >> 8, tcp[3] = 9092 & 0xff;
    tcp[4] = (uint8_t)(seq >> 24), tcp[5] = (uint8_t)(seq >> 16), tcp[6] = (uint8_t)(seq >> 8);
    tcp[7] = (uint8_t)seq;
    tcp[12] = 0x50, tcp[13] = 0x18; /* header 20 bytes; PSH, ACK */
    tcp[14] = 0xff, tcp[15] = 0xff;
    uint32_t rec[4] = {1700000000u, seq, (uint32_t)(54 + n), (uint32_t)(54 + n)};
    fwrite(rec, sizeof rec, 1, f);
    fwrite(h, sizeof h, 1, f);
    fwrite(payload, 1, n, f);
}

/* Wireshark's Kafka dissector (tshark, an independent decoder with its own codecs) reads a
 * Produce v8 request whose four partitions carry our gzip, snappy, lz4 and zstd batches: it
 * names each codec, decompresses every record, and flags nothing malformed. */
static void test_tshark_decodes_our_compressed_batches(void) {
    if (system("command -v tshark > /dev/null 2>&1") != 0) {
        CU_FAIL("tshark is not installed (.ci/deps.sh installs it)");
        return;
    }
    uint8_t *batches[N_CODECS];
    kw_produce_req_partition parts[N_CODECS];
    for (size_t c = 0; c < N_CODECS; c++) {
        size_t raw, len = write_batch(all_codecs[c], 40, &batches[c], &raw);
        parts[c] = (kw_produce_req_partition){(int32_t)c, {batches[c], (int32_t)len}};
    }
    kw_produce_req_topic t = {kw_slice_str("zipped"), (int32_t)N_CODECS, parts};
    kw_produce_req req = {KW_SLICE_NULL, -1, 30000, 1, &t};
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    size_t st = kw_frame_begin(&wb);
    kw_request_header h = {KW_API_PRODUCE, 8, 1, kw_slice_str("courier-test")};
    kw_request_header_encode(&wb, &h);
    kw_produce_req_encode(&wb, 8, &req);
    kw_frame_end(&wb, st);
    char path[] = "/tmp/courier-tshark-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    uint32_t gh[6] = {0xa1b2c3d4u, 0x00040002u, 0, 0, 262144, 1}; /* v2.4, Ethernet */
    fwrite(gh, sizeof gh, 1, f);
    pcap_segment(f, 1000, wb.p, wb.len);
    fclose(f);
    kw_wbuf_free(&wb);
    char cmd[512];
    static char out[1 << 16];
    snprintf(cmd, sizeof cmd,
             "tshark -r %s -d tcp.port==9092,kafka -T fields -e kafka.batch_codec "
             "-e kafka.message_value -e _ws.malformed -e _ws.expert.severity 2>&1",
             path);
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
    out[n] = 0;
    if (p)
        pclose(p);
    unlink(path);
    /* One line (one packet): codecs "1,2,3,4", 160 values ("compressible text" in hex, as
     * tshark prints bytes fields), no malformed mark. */
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "1,2,3,4"));
    int values = 0;
    for (const char *q = out; (q = strstr(q, "636f6d707265737369626c652074657874")); q++)
        values++;
    if (values != 160)
        fprintf(stderr, "tshark: %d values\n%.400s\n", values, out);
    CU_ASSERT_EQUAL(values, 160);
    CU_ASSERT_PTR_NULL(strstr(out, "alformed"));
    for (size_t c = 0; c < N_CODECS; c++)
        free(batches[c]);
}

void suite_protocol_compress(void);
void suite_protocol_compress(void) {
    tu_suite("protocol_compress");
    tu_test("every_codec_round_trips_bytes", test_every_codec_round_trips_bytes);
    tu_test("every_codec_batch_round_trips_records", test_every_codec_batch_round_trips_records);
    tu_test("crc_covers_compressed_bytes", test_crc_covers_compressed_bytes);
    tu_test("codec_byte_formats_are_kafkas", test_codec_byte_formats_are_kafkas);
    tu_test("raw_snappy_is_read", test_raw_snappy_is_read);
    tu_test("lz4_default_level_is_the_fast_compressor",
            test_lz4_default_level_is_the_fast_compressor);
    tu_test("decompression_bomb_is_refused", test_decompression_bomb_is_refused);
    tu_test("iterator_bound_names_codec", test_iterator_bound_names_codec);
    tu_test("corrupt_and_truncated_input_fail_cleanly",
            test_corrupt_and_truncated_input_fail_cleanly);
    tu_test("undefined_codec_ids_are_unsupported", test_undefined_codec_ids_are_unsupported);
    tu_test("kafka_python_gzip_batch_is_read", test_kafka_python_gzip_batch_is_read);
    tu_test("batches_written_by_other_clients_are_read",
            test_batches_written_by_other_clients_are_read);
    tu_test("tshark_decodes_our_compressed_batches", test_tshark_decodes_our_compressed_batches);
}
