/* API table and request/response headers, checked against frames captured from real clients.
 *
 * How the golden frames were made: a Python listener on 127.0.0.1:<port 0> accepted one
 * connection and printed the bytes it received, split into size-prefixed frames.
 * - librdkafka 2.0.2: `kcat -L -b 127.0.0.1:<port>` (first frame: ApiVersions v3).
 * - kafka-python 2.0.2 (Debian python3-kafka): `KafkaClient(bootstrap_servers=...)`, which
 *   pipelines ApiVersions v0 and Metadata v0 on the new connection. */
#include "protocol/kw.h"
#include "protocol/kw_wire.h" /* the field primitives under test */
#include "tests/test_protocol_util.h"
#include "tests/tu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char rdkafka_api_versions_v3_hex[] =
    "000000240012000300000001000772646b61666b61000b6c696272646b61666b6106322e302e3200";
static const char kafka_python_api_versions_v0_hex[] =
    "0000001c001200000000000100126b61666b612d707974686f6e2d322e302e32";
static const char kafka_python_metadata_v0_hex[] =
    "00000020000300000000000200126b61666b612d707974686f6e2d322e302e3200000000";

static void test_supported_api_ranges(void) {
    CU_ASSERT_EQUAL(kw_supported_api_count, 20); /* 6 + 14 group and admin APIs */
    static const struct {
        int16_t key, min, max;
        const char *name;
    } want[] = {{0, 0, 11, "Produce"},      {1, 4, 12, "Fetch"},
                {2, 1, 7, "ListOffsets"},   {3, 0, 12, "Metadata"},
                {18, 0, 4, "ApiVersions"},  {22, 0, 5, "InitProducerId"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const kw_api_range *r = kw_api_supported(want[i].key);
        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        CU_ASSERT_EQUAL(r->api_key, want[i].key);
        CU_ASSERT_EQUAL(r->min_version, want[i].min);
        CU_ASSERT_EQUAL(r->max_version, want[i].max);
        CU_ASSERT_STRING_EQUAL(kw_api_name(want[i].key), want[i].name);
    }
    CU_ASSERT_PTR_NULL(kw_api_supported(7)); /* ControlledShutdown */
    CU_ASSERT_EQUAL(kw_api_supported(9)->max_version, 5); /* OffsetFetch 1-5 */
    CU_ASSERT_PTR_NULL(kw_api_supported(-1));
    CU_ASSERT_STRING_EQUAL(kw_api_name(99), "Api99");
    CU_ASSERT_STRING_EQUAL(kw_api_name(-3), "Api-3");
}

static void test_header_versions_follow_flexible_versions(void) {
    /* "flexibleVersions" of each message JSON in apache/kafka. */
    static const struct {
        int16_t key, first_flexible;
    } flex_from[] = {{KW_API_PRODUCE, 9},      {KW_API_FETCH, 12},        {KW_API_LIST_OFFSETS, 6},
                     {KW_API_METADATA, 9},     {KW_API_API_VERSIONS, 3}, {KW_API_INIT_PRODUCER_ID, 2}};
    int flexible_versions = 0;
    for (size_t i = 0; i < kw_supported_api_count; i++) {
        const kw_api_range *r = &kw_supported_apis[i];
        int16_t first = -1;
        for (size_t k = 0; k < sizeof flex_from / sizeof flex_from[0]; k++)
            if (flex_from[k].key == r->api_key)
                first = flex_from[k].first_flexible;
        if (first < 0)
            continue; /* group and admin APIs: tests/test_protocol_groups*.c */
        for (int16_t v = r->min_version; v <= r->max_version; v++) {
            bool flex = v >= first;
            flexible_versions += flex;
            CU_ASSERT_EQUAL(kw_api_is_flexible(r->api_key, v), flex);
            CU_ASSERT_EQUAL(kw_request_header_version(r->api_key, v), flex ? 2 : 1);
            /* ApiVersions answers in header v0 even when flexible (KIP-511) */
            CU_ASSERT_EQUAL(kw_response_header_version(r->api_key, v),
                            flex && r->api_key != KW_API_API_VERSIONS ? 1 : 0);
        }
    }
    CU_ASSERT(flexible_versions >= 2 + 3 + 1 + 2 + 4); /* ApiVersions, Produce, Fetch, LO, Md */
    /* Above our ranges, Kafka's own thresholds (so a header is still read right). */
    CU_ASSERT_EQUAL(kw_request_header_version(KW_API_PRODUCE, 9), 2);
    CU_ASSERT_EQUAL(kw_response_header_version(KW_API_PRODUCE, 9), 1);
    CU_ASSERT_EQUAL(kw_request_header_version(KW_API_METADATA, 9), 2);
    CU_ASSERT_EQUAL(kw_request_header_version(KW_API_FETCH, 12), 2);
    CU_ASSERT_EQUAL(kw_request_header_version(KW_API_LIST_OFFSETS, 6), 2);
    CU_ASSERT_EQUAL(kw_request_header_version(KW_API_INIT_PRODUCER_ID, 2), 2);
    CU_ASSERT_EQUAL(kw_response_header_version(KW_API_API_VERSIONS, 4), 0);
    CU_ASSERT_EQUAL(kw_request_header_version(99, 10), 1);
    CU_ASSERT_EQUAL(kw_response_header_version(99, 10), 0);
}

/* Decodes a captured frame's header; checks it re-encodes to the same bytes. */
static void decode_reencode(const char *hex, kw_request_header *h, kw_rbuf *rb, uint8_t *buf,
                            size_t cap) {
    size_t n = unhex(hex, buf, cap);
    int32_t flen = 0;
    char err[128];
    CU_ASSERT_EQUAL_FATAL(kw_frame_peek(buf, n, KW_DEFAULT_MAX_FRAME, &flen, err, sizeof err), 1);
    CU_ASSERT_EQUAL_FATAL((size_t)flen + 4, n);
    kw_rbuf_init(rb, buf + 4, (size_t)flen, "request header");
    CU_ASSERT_EQUAL_FATAL(kw_request_header_decode(rb, h), KW_ERR_NONE);
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    size_t start = kw_frame_begin(&wb);
    kw_request_header_encode(&wb, h);
    kw_wbuf_append(&wb, buf + 4 + rb->pos, kw_rbuf_remaining(rb)); /* the body, as captured */
    kw_frame_end(&wb, start);
    CU_ASSERT_EQUAL(wb.len, n);
    CU_ASSERT_EQUAL(memcmp(wb.p, buf, n), 0);
    kw_wbuf_free(&wb);
}

static void test_librdkafka_api_versions_v3_header(void) {
    uint8_t buf[128];
    kw_request_header h;
    kw_rbuf rb;
    decode_reencode(rdkafka_api_versions_v3_hex, &h, &rb, buf, sizeof buf);
    CU_ASSERT_EQUAL(h.api_key, KW_API_API_VERSIONS);
    CU_ASSERT_EQUAL(h.api_version, 3);
    CU_ASSERT_EQUAL(h.correlation_id, 1);
    CU_ASSERT_TRUE(kw_slice_eq(h.client_id, "rdkafka"));
    /* Header v2 ended with its tagged fields; the flexible body follows. */
    CU_ASSERT_TRUE(kw_slice_eq(kw_read_compact_string(&rb, "client_software_name"), "librdkafka"));
    CU_ASSERT_TRUE(kw_slice_eq(kw_read_compact_string(&rb, "client_software_version"), "2.0.2"));
    kw_read_tagged_fields(&rb, "body tags");
    kw_read_expect_end(&rb, "ApiVersions v3 request");
    CU_ASSERT_EQUAL(rb.err, KW_ERR_NONE);
}

static void test_kafka_python_pipelined_headers(void) {
    uint8_t buf[128];
    kw_request_header h;
    kw_rbuf rb;
    decode_reencode(kafka_python_api_versions_v0_hex, &h, &rb, buf, sizeof buf);
    CU_ASSERT_EQUAL(h.api_key, KW_API_API_VERSIONS);
    CU_ASSERT_EQUAL(h.api_version, 0);
    CU_ASSERT_EQUAL(h.correlation_id, 1);
    CU_ASSERT_TRUE(kw_slice_eq(h.client_id, "kafka-python-2.0.2"));
    CU_ASSERT_EQUAL(kw_rbuf_remaining(&rb), 0); /* ApiVersions v0 has an empty body */
    decode_reencode(kafka_python_metadata_v0_hex, &h, &rb, buf, sizeof buf);
    CU_ASSERT_EQUAL(h.api_key, KW_API_METADATA);
    CU_ASSERT_EQUAL(h.api_version, 0);
    CU_ASSERT_EQUAL(h.correlation_id, 2);
    CU_ASSERT_EQUAL(kw_read_array_len(&rb, 2, "topics"), 0);
    kw_read_expect_end(&rb, "Metadata v0 request");
    CU_ASSERT_EQUAL(rb.err, KW_ERR_NONE);
}

static void test_request_header_encodes_known_bytes(void) {
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    kw_request_header h = {KW_API_METADATA, 1, 7, kw_slice_str("abc")};
    kw_request_header_encode(&wb, &h);
    static const uint8_t v1[] = {0, 3, 0, 1, 0, 0, 0, 7, 0, 3, 'a', 'b', 'c'};
    CU_ASSERT_EQUAL_FATAL(wb.len, sizeof v1);
    CU_ASSERT_EQUAL(memcmp(wb.p, v1, sizeof v1), 0);
    kw_wbuf_reset(&wb);
    kw_request_header n = {KW_API_API_VERSIONS, 3, -5, KW_SLICE_NULL};
    kw_request_header_encode(&wb, &n);
    static const uint8_t v2[] = {0, 18, 0, 3, 0xff, 0xff, 0xff, 0xfb, 0xff, 0xff, 0x00};
    CU_ASSERT_EQUAL_FATAL(wb.len, sizeof v2);
    CU_ASSERT_EQUAL(memcmp(wb.p, v2, sizeof v2), 0);
    kw_rbuf rb;
    kw_request_header d;
    kw_rbuf_init(&rb, wb.p, wb.len, NULL);
    CU_ASSERT_EQUAL(kw_request_header_decode(&rb, &d), KW_ERR_NONE);
    CU_ASSERT_EQUAL(d.correlation_id, -5);
    CU_ASSERT_EQUAL(d.client_id.len, -1);
    CU_ASSERT_EQUAL(kw_rbuf_remaining(&rb), 0);
    kw_wbuf_free(&wb);
}

static void test_unknown_api_decodes_with_v1_header(void) {
    /* Api 99 v12, corr 3, client "x", then body bytes that must be left unread. */
    static const uint8_t f[] = {0, 99, 0, 12, 0, 0, 0, 3, 0, 1, 'x', 0x00, 0xaa};
    kw_rbuf rb;
    kw_request_header h;
    kw_rbuf_init(&rb, f, sizeof f, NULL);
    CU_ASSERT_EQUAL(kw_request_header_decode(&rb, &h), KW_ERR_NONE);
    CU_ASSERT_EQUAL(h.api_key, 99);
    CU_ASSERT_EQUAL(h.api_version, 12);
    CU_ASSERT_EQUAL(h.correlation_id, 3);
    CU_ASSERT_EQUAL(kw_rbuf_remaining(&rb), 2);
    /* An unsupported version of a known API still decodes (the broker answers it). */
    static const uint8_t g[] = {0, 18, 0, 9, 0, 0, 0, 4, 0xff, 0xff, 0x00};
    kw_rbuf_init(&rb, g, sizeof g, NULL);
    CU_ASSERT_EQUAL(kw_request_header_decode(&rb, &h), KW_ERR_NONE);
    CU_ASSERT_EQUAL(h.api_version, 9);
    CU_ASSERT_EQUAL(kw_rbuf_remaining(&rb), 0);
}

static void test_header_v2_skips_unknown_tags(void) {
    static const uint8_t f[] = {0,    18,   0,    3,    0,    0,    0,   1,   0,   0,
                                0x02, 0x00, 0x01, 0xaa, 0x07, 0x02, 'h', 'i', 0x55};
    kw_rbuf rb;
    kw_request_header h;
    kw_rbuf_init(&rb, f, sizeof f, NULL);
    CU_ASSERT_EQUAL(kw_request_header_decode(&rb, &h), KW_ERR_NONE);
    CU_ASSERT_EQUAL(h.client_id.len, 0);
    CU_ASSERT_EQUAL(kw_rbuf_remaining(&rb), 1);
    CU_ASSERT_EQUAL(kw_read_i8(&rb, "body"), 0x55);
}

static void test_truncated_request_header_names_the_field(void) {
    uint8_t buf[128];
    size_t n = unhex(rdkafka_api_versions_v3_hex, buf, sizeof buf);
    /* Header bytes: key 2, version 2, corr 4, client_id 2+7, tags 1 = 18 after the size. */
    static const struct {
        size_t upto;
        const char *field;
    } spans[] = {{2, "request_api_key"},
                 {4, "request_api_version"},
                 {8, "correlation_id"},
                 {17, "client_id"},
                 {18, "_tagged_fields"}};
    CU_ASSERT_TRUE_FATAL(n > 4 + 18);
    for (size_t cut = 0; cut < 18; cut++) {
        uint8_t *p = malloc(cut ? cut : 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        memcpy(p, buf + 4, cut);
        kw_rbuf rb;
        kw_request_header h;
        kw_rbuf_init(&rb, p, cut, "request");
        CU_ASSERT_EQUAL(kw_request_header_decode(&rb, &h), KW_ERR__TRUNCATED);
        size_t s = 0;
        while (cut >= spans[s].upto)
            s++;
        if (!strstr(rb.errmsg, spans[s].field)) {
            fprintf(stderr, "cut %zu: \"%s\" lacks %s\n", cut, rb.errmsg, spans[s].field);
            CU_FAIL("truncated header message does not name the field");
        }
        free(p);
    }
}

static void test_response_header_v0_and_v1(void) {
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    kw_response_header h = {0x01020304};
    kw_response_header_encode(&wb, &h, 0);
    kw_response_header_encode(&wb, &h, 1);
    static const uint8_t want[] = {1, 2, 3, 4, 1, 2, 3, 4, 0};
    CU_ASSERT_EQUAL_FATAL(wb.len, sizeof want);
    CU_ASSERT_EQUAL(memcmp(wb.p, want, sizeof want), 0);
    kw_rbuf rb;
    kw_response_header d = {0};
    kw_rbuf_init(&rb, wb.p, wb.len, NULL);
    CU_ASSERT_EQUAL(kw_response_header_decode(&rb, &d, 0), KW_ERR_NONE);
    CU_ASSERT_EQUAL(d.correlation_id, 0x01020304);
    d.correlation_id = 0;
    CU_ASSERT_EQUAL(kw_response_header_decode(&rb, &d, 1), KW_ERR_NONE);
    CU_ASSERT_EQUAL(d.correlation_id, 0x01020304);
    CU_ASSERT_EQUAL(kw_rbuf_remaining(&rb), 0);
    for (size_t cut = 0; cut < 5; cut++) {
        kw_rbuf_init(&rb, wb.p + 4, cut, NULL);
        CU_ASSERT_EQUAL(kw_response_header_decode(&rb, &d, 1), KW_ERR__TRUNCATED);
        CU_ASSERT_PTR_NOT_NULL(strstr(rb.errmsg, "response_header"));
    }
    kw_wbuf_free(&wb);
}

void suite_protocol_headers(void);
void suite_protocol_headers(void) {
    tu_suite("protocol_headers");
    tu_test("test_supported_api_ranges", test_supported_api_ranges);
    tu_test("test_header_versions_follow_flexible_versions",
            test_header_versions_follow_flexible_versions);
    tu_test("test_librdkafka_api_versions_v3_header", test_librdkafka_api_versions_v3_header);
    tu_test("test_kafka_python_pipelined_headers", test_kafka_python_pipelined_headers);
    tu_test("test_request_header_encodes_known_bytes", test_request_header_encodes_known_bytes);
    tu_test("test_unknown_api_decodes_with_v1_header", test_unknown_api_decodes_with_v1_header);
    tu_test("test_header_v2_skips_unknown_tags", test_header_v2_skips_unknown_tags);
    tu_test("test_truncated_request_header_names_the_field",
            test_truncated_request_header_names_the_field);
    tu_test("test_response_header_v0_and_v1", test_response_header_v0_and_v1);
}
