/* Primitive readers/writers, arena, framing, error table: known bytes and hostile input. */
#include "protocol/kw.h"
#include "protocol/kw_wire.h" /* the field primitives under test */
#include "tests/tu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Asserts that the write buffer holds exactly the expected bytes. */
#define ASSERT_BYTES(wb, ...)                                                                      \
    do {                                                                                           \
        static const uint8_t exp_[] = {__VA_ARGS__};                                               \
        CU_ASSERT_FALSE((wb)->oom);                                                                \
        CU_ASSERT_EQUAL_FATAL((wb)->len, sizeof exp_);                                             \
        CU_ASSERT_EQUAL(memcmp((wb)->p, exp_, sizeof exp_), 0);                                    \
    } while (0)

static void test_varint_edge_values_encode_to_known_bytes(void) {
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    kw_write_varint(&wb, 0);
    ASSERT_BYTES(&wb, 0x00);
    kw_wbuf_reset(&wb);
    kw_write_varint(&wb, -1);
    ASSERT_BYTES(&wb, 0x01);
    kw_wbuf_reset(&wb);
    kw_write_varint(&wb, 1);
    ASSERT_BYTES(&wb, 0x02);
    kw_wbuf_reset(&wb);
    kw_write_varint(&wb, 63);
    ASSERT_BYTES(&wb, 0x7e);
    kw_wbuf_reset(&wb);
    kw_write_varint(&wb, -64);
    ASSERT_BYTES(&wb, 0x7f);
    kw_wbuf_reset(&wb);
    kw_write_varint(&wb, 64);
    ASSERT_BYTES(&wb, 0x80, 0x01);
    kw_wbuf_reset(&wb);
    kw_write_varint(&wb, 300);
    ASSERT_BYTES(&wb, 0xd8, 0x04);
    kw_wbuf_reset(&wb);
    kw_write_varint(&wb, INT32_MAX);
    ASSERT_BYTES(&wb, 0xfe, 0xff, 0xff, 0xff, 0x0f);
    kw_wbuf_reset(&wb);
    kw_write_varint(&wb, INT32_MIN);
    ASSERT_BYTES(&wb, 0xff, 0xff, 0xff, 0xff, 0x0f);
    kw_wbuf_free(&wb);
}

static void test_varlong_edge_values_encode_to_known_bytes(void) {
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    kw_write_varlong(&wb, 0);
    ASSERT_BYTES(&wb, 0x00);
    kw_wbuf_reset(&wb);
    kw_write_varlong(&wb, -1);
    ASSERT_BYTES(&wb, 0x01);
    kw_wbuf_reset(&wb);
    kw_write_varlong(&wb, 1);
    ASSERT_BYTES(&wb, 0x02);
    kw_wbuf_reset(&wb);
    kw_write_varlong(&wb, INT32_MAX);
    ASSERT_BYTES(&wb, 0xfe, 0xff, 0xff, 0xff, 0x0f);
    kw_wbuf_reset(&wb);
    kw_write_varlong(&wb, INT32_MIN);
    ASSERT_BYTES(&wb, 0xff, 0xff, 0xff, 0xff, 0x0f);
    kw_wbuf_reset(&wb);
    kw_write_varlong(&wb, INT64_MAX);
    ASSERT_BYTES(&wb, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
    kw_wbuf_reset(&wb);
    kw_write_varlong(&wb, INT64_MIN);
    ASSERT_BYTES(&wb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
    kw_wbuf_free(&wb);
}

static void test_uvarint_encodes_to_known_bytes(void) {
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    kw_write_uvarint(&wb, 0);
    ASSERT_BYTES(&wb, 0x00);
    kw_wbuf_reset(&wb);
    kw_write_uvarint(&wb, 127);
    ASSERT_BYTES(&wb, 0x7f);
    kw_wbuf_reset(&wb);
    kw_write_uvarint(&wb, 128);
    ASSERT_BYTES(&wb, 0x80, 0x01);
    kw_wbuf_reset(&wb);
    kw_write_uvarint(&wb, UINT32_MAX);
    ASSERT_BYTES(&wb, 0xff, 0xff, 0xff, 0xff, 0x0f);
    kw_wbuf_free(&wb);
}

static void test_varint_round_trip_and_sizes(void) {
    static const int32_t v32[] = {
        0,     1,       -1,        63,        -64,           64,           -65, 8191, 8192,
        -8193, 1 << 20, INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1};
    static const int64_t v64[] = {0,
                                  1,
                                  -1,
                                  INT64_MAX,
                                  INT64_MIN,
                                  (int64_t)1 << 40,
                                  -((int64_t)1 << 40),
                                  INT32_MAX,
                                  INT32_MIN,
                                  1234567890123LL};
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    for (size_t i = 0; i < sizeof v32 / sizeof v32[0]; i++) {
        kw_wbuf_reset(&wb);
        kw_write_varint(&wb, v32[i]);
        CU_ASSERT_EQUAL(wb.len, kw_varint_size(v32[i]));
        kw_rbuf rb;
        kw_rbuf_init(&rb, wb.p, wb.len, NULL);
        CU_ASSERT_EQUAL(kw_read_varint(&rb, "v"), v32[i]);
        kw_read_expect_end(&rb, "v");
        CU_ASSERT_EQUAL(rb.err, KW_ERR_NONE);
    }
    for (size_t i = 0; i < sizeof v64 / sizeof v64[0]; i++) {
        kw_wbuf_reset(&wb);
        kw_write_varlong(&wb, v64[i]);
        CU_ASSERT_EQUAL(wb.len, kw_varlong_size(v64[i]));
        kw_rbuf rb;
        kw_rbuf_init(&rb, wb.p, wb.len, NULL);
        CU_ASSERT_EQUAL(kw_read_varlong(&rb, "v"), v64[i]);
        kw_read_expect_end(&rb, "v");
        CU_ASSERT_EQUAL(rb.err, KW_ERR_NONE);
    }
    CU_ASSERT_EQUAL(kw_varint_size(0), 1);
    CU_ASSERT_EQUAL(kw_varint_size(-1), 1);
    CU_ASSERT_EQUAL(kw_varint_size(INT32_MIN), 5);
    CU_ASSERT_EQUAL(kw_varlong_size(INT64_MIN), 10);
    kw_wbuf_free(&wb);
}

static void test_varint_too_long_or_overflowing_is_malformed(void) {
    static const uint8_t six[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    static const uint8_t over[] = {0xff, 0xff, 0xff, 0xff, 0x1f};
    static const uint8_t long11[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0x01};
    static const uint8_t over64[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x03};
    kw_rbuf rb;
    kw_rbuf_init(&rb, six, sizeof six, NULL);
    CU_ASSERT_EQUAL(kw_read_varint(&rb, "len"), 0);
    CU_ASSERT_EQUAL(rb.err, KW_ERR__MALFORMED);
    CU_ASSERT_PTR_NOT_NULL(strstr(rb.errmsg, "len"));
    kw_rbuf_init(&rb, over, sizeof over, NULL);
    kw_read_uvarint(&rb, "n");
    CU_ASSERT_EQUAL(rb.err, KW_ERR__MALFORMED);
    kw_rbuf_init(&rb, long11, sizeof long11, NULL);
    kw_read_varlong(&rb, "ts");
    CU_ASSERT_EQUAL(rb.err, KW_ERR__MALFORMED);
    kw_rbuf_init(&rb, over64, sizeof over64, NULL);
    kw_read_varlong(&rb, "ts");
    CU_ASSERT_EQUAL(rb.err, KW_ERR__MALFORMED);
    /* An overlong but in-range encoding of 0 is accepted, as Kafka does. */
    static const uint8_t overlong0[] = {0x80, 0x80, 0x00};
    kw_rbuf_init(&rb, overlong0, sizeof overlong0, NULL);
    CU_ASSERT_EQUAL(kw_read_uvarint(&rb, "n"), 0);
    CU_ASSERT_EQUAL(rb.err, KW_ERR_NONE);
}

static void test_fixed_ints_are_big_endian(void) {
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    kw_write_i8(&wb, -2);
    kw_write_i16(&wb, 0x1234);
    kw_write_i32(&wb, -2);
    kw_write_i64(&wb, 0x0102030405060708LL);
    kw_write_u32(&wb, 0xE3069283u);
    kw_write_bool(&wb, true);
    kw_write_bool(&wb, false);
    ASSERT_BYTES(&wb, 0xfe, 0x12, 0x34, 0xff, 0xff, 0xff, 0xfe, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
                 0x07, 0x08, 0xe3, 0x06, 0x92, 0x83, 0x01, 0x00);
    kw_rbuf rb;
    kw_rbuf_init(&rb, wb.p, wb.len, NULL);
    CU_ASSERT_EQUAL(kw_read_i8(&rb, "a"), -2);
    CU_ASSERT_EQUAL(kw_read_i16(&rb, "b"), 0x1234);
    CU_ASSERT_EQUAL(kw_read_i32(&rb, "c"), -2);
    CU_ASSERT_EQUAL(kw_read_i64(&rb, "d"), 0x0102030405060708LL);
    CU_ASSERT_EQUAL(kw_read_u32(&rb, "e"), 0xE3069283u);
    CU_ASSERT_TRUE(kw_read_bool(&rb, "f"));
    CU_ASSERT_FALSE(kw_read_bool(&rb, "g"));
    kw_read_expect_end(&rb, "ints");
    CU_ASSERT_EQUAL(rb.err, KW_ERR_NONE);
    kw_wbuf_free(&wb);
}

static void test_strings_and_bytes_round_trip_with_null(void) {
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    kw_write_string(&wb, kw_slice_str("ab"));
    kw_write_nullable_string(&wb, KW_SLICE_NULL);
    kw_write_nullable_string(&wb, kw_slice_str(""));
    kw_write_bytes(&wb, kw_slice_str("x"));
    kw_write_nullable_bytes(&wb, KW_SLICE_NULL);
    kw_write_compact_string(&wb, kw_slice_str("hi"));
    kw_write_compact_string(&wb, KW_SLICE_NULL);
    kw_write_compact_bytes(&wb, kw_slice_str(""));
    ASSERT_BYTES(&wb, 0x00, 0x02, 'a', 'b', 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 'x',
                 0xff, 0xff, 0xff, 0xff, 0x03, 'h', 'i', 0x00, 0x01);
    kw_rbuf rb;
    kw_rbuf_init(&rb, wb.p, wb.len, NULL);
    CU_ASSERT_TRUE(kw_slice_eq(kw_read_string(&rb, "s"), "ab"));
    CU_ASSERT_TRUE(kw_slice_eq(kw_read_nullable_string(&rb, "ns"), NULL));
    kw_slice empty = kw_read_nullable_string(&rb, "ns2");
    CU_ASSERT_EQUAL(empty.len, 0);
    CU_ASSERT_TRUE(kw_slice_eq(kw_read_bytes(&rb, "b"), "x"));
    CU_ASSERT_EQUAL(kw_read_nullable_bytes(&rb, "nb").len, -1);
    CU_ASSERT_TRUE(kw_slice_eq(kw_read_compact_string(&rb, "cs"), "hi"));
    CU_ASSERT_EQUAL(kw_read_compact_string(&rb, "cs2").len, -1);
    CU_ASSERT_EQUAL(kw_read_compact_bytes(&rb, "cb").len, 0);
    kw_read_expect_end(&rb, "strings");
    CU_ASSERT_EQUAL(rb.err, KW_ERR_NONE);
    kw_wbuf_free(&wb);
}

static void test_non_nullable_string_rejects_null_length(void) {
    static const uint8_t s[] = {0xff, 0xff};
    kw_rbuf rb;
    kw_rbuf_init(&rb, s, sizeof s, "Metadata v1 request");
    kw_slice r = kw_read_string(&rb, "topics[0].name");
    CU_ASSERT_EQUAL(r.len, -1);
    CU_ASSERT_EQUAL(rb.err, KW_ERR__MALFORMED);
    CU_ASSERT_PTR_NOT_NULL(strstr(rb.errmsg, "Metadata v1 request: topics[0].name"));
    static const uint8_t b[] = {0xff, 0xff, 0xff, 0xfe};
    kw_rbuf_init(&rb, b, sizeof b, NULL);
    kw_read_nullable_bytes(&rb, "records");
    CU_ASSERT_EQUAL(rb.err, KW_ERR__MALFORMED);
    CU_ASSERT_PTR_NOT_NULL(strstr(rb.errmsg, "records"));
}

static void test_unencodable_string_marks_buffer_failed(void) {
    char *big = malloc(40000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    memset(big, 'a', 39999);
    big[39999] = '\0';
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    kw_write_string(&wb, kw_slice_str(big));
    CU_ASSERT_TRUE(wb.oom);
    kw_wbuf_reset(&wb);
    CU_ASSERT_FALSE(wb.oom);
    kw_write_compact_string(&wb, kw_slice_str(big));
    CU_ASSERT_TRUE(wb.oom);
    kw_wbuf_free(&wb);
    free(big);
}

static void test_huge_lengths_fail_without_allocating(void) {
    /* 2 GiB claimed by an array, a bytes field, a compact array and a compact bytes field,
     * each followed by only a few bytes. */
    static const uint8_t arr[] = {0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0};
    static const uint8_t byt[] = {0x7f, 0xff, 0xff, 0xff, 1, 2, 3};
    static const uint8_t carr[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0};
    static const uint8_t cbyt[] = {0x80, 0x80, 0x80, 0x80, 0x08, 1};
    kw_rbuf rb;
    kw_rbuf_init(&rb, arr, sizeof arr, NULL);
    CU_ASSERT_EQUAL(kw_read_array_len(&rb, 4, "partitions"), 0);
    CU_ASSERT_EQUAL(rb.err, KW_ERR__TRUNCATED);
    CU_ASSERT_PTR_NOT_NULL(strstr(rb.errmsg, "partitions"));
    CU_ASSERT_PTR_NOT_NULL(strstr(rb.errmsg, "2147483647"));
    kw_rbuf_init(&rb, byt, sizeof byt, NULL);
    CU_ASSERT_EQUAL(kw_read_bytes(&rb, "records").len, -1);
    CU_ASSERT_EQUAL(rb.err, KW_ERR__TRUNCATED);
    CU_ASSERT_PTR_NOT_NULL(strstr(rb.errmsg, "records"));
    kw_rbuf_init(&rb, carr, sizeof carr, NULL);
    CU_ASSERT_EQUAL(kw_read_compact_array_len(&rb, 1, "api_keys"), 0);
    CU_ASSERT_EQUAL(rb.err, KW_ERR__MALFORMED); /* 4294967294 elements: beyond int32 */
    CU_ASSERT_PTR_NOT_NULL(strstr(rb.errmsg, "api_keys"));
    static const uint8_t carr2g[] = {0x80, 0x80, 0x80, 0x80, 0x08, 0, 0}; /* 2^31 - 1 */
    kw_rbuf_init(&rb, carr2g, sizeof carr2g, NULL);
    CU_ASSERT_EQUAL(kw_read_compact_array_len(&rb, 1, "api_keys"), 0);
    CU_ASSERT_EQUAL(rb.err, KW_ERR__TRUNCATED);
    kw_rbuf_init(&rb, cbyt, sizeof cbyt, NULL);
    kw_read_compact_bytes(&rb, "data");
    CU_ASSERT_NOT_EQUAL(rb.err, KW_ERR_NONE);
    /* A count that fits only when elements are 1 byte fails when they are 8. */
    static const uint8_t eight[] = {0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0};
    kw_rbuf_init(&rb, eight, sizeof eight, NULL);
    CU_ASSERT_EQUAL(kw_read_array_len(&rb, 1, "a"), 4);
    CU_ASSERT_EQUAL(rb.err, KW_ERR_NONE);
    kw_rbuf_init(&rb, eight, sizeof eight, NULL);
    kw_read_array_len(&rb, 8, "a");
    CU_ASSERT_EQUAL(rb.err, KW_ERR__TRUNCATED);
    /* Null array (-1) is returned as -1; -2 is malformed. */
    static const uint8_t nul[] = {0xff, 0xff, 0xff, 0xff};
    static const uint8_t neg2[] = {0xff, 0xff, 0xff, 0xfe};
    kw_rbuf_init(&rb, nul, sizeof nul, NULL);
    CU_ASSERT_EQUAL(kw_read_array_len(&rb, 4, "a"), -1);
    CU_ASSERT_EQUAL(rb.err, KW_ERR_NONE);
    kw_rbuf_init(&rb, neg2, sizeof neg2, NULL);
    kw_read_array_len(&rb, 4, "a");
    CU_ASSERT_EQUAL(rb.err, KW_ERR__MALFORMED);
    static const uint8_t cnul[] = {0x00};
    kw_rbuf_init(&rb, cnul, sizeof cnul, NULL);
    CU_ASSERT_EQUAL(kw_read_compact_array_len(&rb, 4, "a"), -1);
    CU_ASSERT_EQUAL(rb.err, KW_ERR_NONE);
}

/* One of every primitive, in a known order, so truncation can be tried at every byte. */
enum {
    F_I8,
    F_I16,
    F_I32,
    F_I64,
    F_U32,
    F_BOOL,
    F_VARINT,
    F_VARLONG,
    F_UVARINT,
    F_STR,
    F_NSTR,
    F_BYTES,
    F_NBYTES,
    F_CSTR,
    F_CBYTES,
    F_RAW,
    F_ARR,
    F_CARR,
    F_TAGS,
    F_COUNT
};
static const char *const field_names[F_COUNT] = {
    "f_i8",      "f_i16",     "f_i32", "f_i64",  "f_u32",   "f_bool",   "f_varint",
    "f_varlong", "f_uvarint", "f_str", "f_nstr", "f_bytes", "f_nbytes", "f_cstr",
    "f_cbytes",  "f_raw",     "f_arr", "f_carr", "f_tags"};

static void write_all(kw_wbuf *wb, size_t starts[F_COUNT]) {
    starts[F_I8] = wb->len;
    kw_write_i8(wb, 7);
    starts[F_I16] = wb->len;
    kw_write_i16(wb, -300);
    starts[F_I32] = wb->len;
    kw_write_i32(wb, 123456);
    starts[F_I64] = wb->len;
    kw_write_i64(wb, -5);
    starts[F_U32] = wb->len;
    kw_write_u32(wb, 0xdeadbeef);
    starts[F_BOOL] = wb->len;
    kw_write_bool(wb, true);
    starts[F_VARINT] = wb->len;
    kw_write_varint(wb, INT32_MIN);
    starts[F_VARLONG] = wb->len;
    kw_write_varlong(wb, INT64_MAX);
    starts[F_UVARINT] = wb->len;
    kw_write_uvarint(wb, 300);
    starts[F_STR] = wb->len;
    kw_write_string(wb, kw_slice_str("topic"));
    starts[F_NSTR] = wb->len;
    kw_write_nullable_string(wb, kw_slice_str("cid"));
    starts[F_BYTES] = wb->len;
    kw_write_bytes(wb, kw_slice_str("val"));
    starts[F_NBYTES] = wb->len;
    kw_write_nullable_bytes(wb, kw_slice_str("k"));
    starts[F_CSTR] = wb->len;
    kw_write_compact_string(wb, kw_slice_str("compact"));
    starts[F_CBYTES] = wb->len;
    kw_write_compact_bytes(wb, kw_slice_str("cb"));
    starts[F_RAW] = wb->len;
    kw_wbuf_append(wb, "RAW", 3);
    starts[F_ARR] = wb->len;
    kw_write_array_len(wb, 1);
    kw_write_i32(wb, 42);
    starts[F_CARR] = wb->len;
    kw_write_compact_array_len(wb, 1);
    kw_write_i8(wb, 1);
    starts[F_TAGS] = wb->len;
    kw_write_uvarint(wb, 1); /* one tagged field: tag 0, 2 bytes */
    kw_write_uvarint(wb, 0);
    kw_write_uvarint(wb, 2);
    kw_write_i16(wb, 0x0102);
}

static void read_all(kw_rbuf *rb) {
    kw_read_i8(rb, field_names[F_I8]);
    kw_read_i16(rb, field_names[F_I16]);
    kw_read_i32(rb, field_names[F_I32]);
    kw_read_i64(rb, field_names[F_I64]);
    kw_read_u32(rb, field_names[F_U32]);
    kw_read_bool(rb, field_names[F_BOOL]);
    kw_read_varint(rb, field_names[F_VARINT]);
    kw_read_varlong(rb, field_names[F_VARLONG]);
    kw_read_uvarint(rb, field_names[F_UVARINT]);
    kw_read_string(rb, field_names[F_STR]);
    kw_read_nullable_string(rb, field_names[F_NSTR]);
    kw_read_bytes(rb, field_names[F_BYTES]);
    kw_read_nullable_bytes(rb, field_names[F_NBYTES]);
    kw_read_compact_string(rb, field_names[F_CSTR]);
    kw_read_compact_bytes(rb, field_names[F_CBYTES]);
    kw_read_raw(rb, 3, field_names[F_RAW]);
    int32_t n = kw_read_array_len(rb, 4, field_names[F_ARR]);
    for (int32_t i = 0; i < n; i++)
        kw_read_i32(rb, field_names[F_ARR]);
    n = kw_read_compact_array_len(rb, 1, field_names[F_CARR]);
    for (int32_t i = 0; i < n; i++)
        kw_read_i8(rb, field_names[F_CARR]);
    kw_read_tagged_fields(rb, field_names[F_TAGS]);
    kw_read_expect_end(rb, "all");
}

static void test_truncation_at_every_byte_names_the_field(void) {
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    size_t starts[F_COUNT];
    write_all(&wb, starts);
    CU_ASSERT_FALSE_FATAL(wb.oom);
    kw_rbuf rb;
    kw_rbuf_init(&rb, wb.p, wb.len, "all");
    read_all(&rb);
    CU_ASSERT_EQUAL_FATAL(rb.err, KW_ERR_NONE);
    for (size_t cut = 0; cut < wb.len; cut++) {
        /* Copy the prefix to its own allocation so ASan would catch a read past it. */
        uint8_t *pre = malloc(cut ? cut : 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(pre);
        memcpy(pre, wb.p, cut);
        kw_rbuf_init(&rb, pre, cut, "all");
        read_all(&rb);
        CU_ASSERT_EQUAL(rb.err, KW_ERR__TRUNCATED);
        size_t f = 0;
        while (f + 1 < F_COUNT && starts[f + 1] <= cut)
            f++;
        char want[64];
        snprintf(want, sizeof want, "all: %s:", field_names[f]);
        if (strstr(rb.errmsg, want) == NULL) {
            fprintf(stderr, "cut %zu: expected \"%s\" in \"%s\"\n", cut, want, rb.errmsg);
            CU_FAIL("truncation message does not name the field");
        }
        CU_ASSERT(rb.pos <= cut);
        free(pre);
    }
    kw_wbuf_free(&wb);
}

static void test_first_error_sticks_and_later_reads_return_zero(void) {
    static const uint8_t two[] = {0x00, 0x05};
    kw_rbuf rb;
    kw_rbuf_init(&rb, two, sizeof two, NULL);
    CU_ASSERT_EQUAL(kw_read_i32(&rb, "first"), 0);
    CU_ASSERT_EQUAL(rb.err, KW_ERR__TRUNCATED);
    char saved[sizeof rb.errmsg];
    memcpy(saved, rb.errmsg, sizeof saved);
    CU_ASSERT_EQUAL(kw_read_i8(&rb, "second"), 0); /* a byte is there, but the error sticks */
    CU_ASSERT_EQUAL(kw_read_i16(&rb, "third"), 0);
    CU_ASSERT_EQUAL(kw_read_string(&rb, "fourth").len, -1);
    kw_rbuf_fail(&rb, KW_ERR__MALFORMED, "other");
    CU_ASSERT_EQUAL(rb.err, KW_ERR__TRUNCATED);
    CU_ASSERT_STRING_EQUAL(rb.errmsg, saved);
    CU_ASSERT_PTR_NOT_NULL(strstr(rb.errmsg, "first"));
}

static void test_tagged_fields_are_skipped_and_checked(void) {
    static const uint8_t ok[] = {0x02, 0x00, 0x01, 0xaa, 0x05, 0x00, 0x7f};
    kw_rbuf rb;
    kw_rbuf_init(&rb, ok, sizeof ok, NULL);
    kw_read_tagged_fields(&rb, "tags");
    CU_ASSERT_EQUAL(rb.err, KW_ERR_NONE);
    CU_ASSERT_EQUAL(kw_read_i8(&rb, "after"), 0x7f);
    static const uint8_t bad[] = {0x01, 0x00, 0x05, 0xaa};
    kw_rbuf_init(&rb, bad, sizeof bad, NULL);
    kw_read_tagged_fields(&rb, "tags");
    CU_ASSERT_EQUAL(rb.err, KW_ERR__TRUNCATED);
    CU_ASSERT_PTR_NOT_NULL(strstr(rb.errmsg, "tags"));
    static const uint8_t many[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x00};
    kw_rbuf_init(&rb, many, sizeof many, NULL);
    kw_read_tagged_fields(&rb, "tags");
    CU_ASSERT_EQUAL(rb.err, KW_ERR__MALFORMED);
    static const uint8_t lots[] = {0xe8, 0x07, 0x00, 0x00}; /* 1000 tags in 2 bytes */
    kw_rbuf_init(&rb, lots, sizeof lots, NULL);
    kw_read_tagged_fields(&rb, "tags");
    CU_ASSERT_EQUAL(rb.err, KW_ERR__TRUNCATED);
}

static void test_trailing_bytes_are_malformed(void) {
    static const uint8_t b[] = {0, 0, 0, 1, 9};
    kw_rbuf rb;
    kw_rbuf_init(&rb, b, sizeof b, "Produce v7 response");
    kw_read_i32(&rb, "x");
    kw_read_expect_end(&rb, "the body");
    CU_ASSERT_EQUAL(rb.err, KW_ERR__MALFORMED);
    CU_ASSERT_STRING_EQUAL(rb.errmsg, "Produce v7 response: 1 trailing bytes after the body");
}

static void test_wbuf_grows_and_patches(void) {
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    for (int i = 0; i < 10000; i++)
        kw_write_i32(&wb, i);
    CU_ASSERT_EQUAL(wb.len, 40000);
    CU_ASSERT_FALSE(wb.oom);
    kw_rbuf rb;
    kw_rbuf_init(&rb, wb.p, wb.len, NULL);
    int bad = 0;
    for (int i = 0; i < 10000; i++)
        bad += kw_read_i32(&rb, "i") != i;
    CU_ASSERT_EQUAL(bad, 0);
    kw_wbuf_put_i32_at(&wb, 4, -7);
    CU_ASSERT_EQUAL(wb.p[4], 0xff);
    CU_ASSERT_EQUAL(wb.p[7], 0xf9);
    uint8_t *r = kw_wbuf_reserve(&wb, 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(wb.len, 40000); /* reserve does not advance */
    CU_ASSERT_TRUE(wb.cap >= wb.len + 3);
    kw_wbuf_reset(&wb);
    CU_ASSERT_EQUAL(wb.len, 0);
    CU_ASSERT_TRUE(wb.cap >= 40000);
    CU_ASSERT_PTR_NULL(kw_wbuf_reserve(&wb, SIZE_MAX - 8));
    CU_ASSERT_TRUE(wb.oom);
    kw_write_i32(&wb, 1); /* sticky: nothing written */
    CU_ASSERT_EQUAL(wb.len, 0);
    kw_wbuf_free(&wb);
    CU_ASSERT_PTR_NULL(wb.p);
}

static void test_frame_peek_needs_whole_frame(void) {
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    size_t start = kw_frame_begin(&wb);
    kw_wbuf_append(&wb, "hello", 5);
    kw_frame_end(&wb, start);
    ASSERT_BYTES(&wb, 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o');
    int32_t n = -1;
    char err[128] = "";
    for (size_t avail = 0; avail < wb.len; avail++) {
        n = -1;
        CU_ASSERT_EQUAL(kw_frame_peek(wb.p, avail, KW_DEFAULT_MAX_FRAME, &n, err, sizeof err), 0);
        CU_ASSERT_EQUAL(n, avail >= 4 ? 5 : -1); /* the size is known once its 4 bytes are */
    }
    CU_ASSERT_EQUAL(kw_frame_peek(wb.p, wb.len, KW_DEFAULT_MAX_FRAME, &n, err, sizeof err), 1);
    CU_ASSERT_EQUAL(n, 5);
    kw_wbuf_free(&wb);
}

static void test_frame_peek_rejects_negative_and_oversized(void) {
    static const uint8_t neg[] = {0xff, 0xff, 0xff, 0xff};
    static const uint8_t huge[] = {0x7f, 0xff, 0xff, 0xff};
    static const uint8_t big[] = {0x00, 0x00, 0x04, 0x01}; /* 1025 */
    int32_t n = 0;
    char err[128] = "";
    CU_ASSERT_EQUAL(kw_frame_peek(neg, 4, KW_DEFAULT_MAX_FRAME, &n, err, sizeof err),
                    KW_ERR__MALFORMED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "-1"));
    CU_ASSERT_EQUAL(kw_frame_peek(huge, 4, KW_DEFAULT_MAX_FRAME, &n, err, sizeof err),
                    KW_ERR__TOO_LARGE);
    CU_ASSERT_STRING_EQUAL(err, "frame size 2147483647 exceeds the maximum 104857600");
    CU_ASSERT_EQUAL(kw_frame_peek(big, 4, 1024, &n, err, sizeof err), KW_ERR__TOO_LARGE);
    CU_ASSERT_EQUAL(kw_frame_peek(big, 4, 1025, &n, NULL, 0), 0);
    /* An empty frame is whole with just its size. */
    static const uint8_t zero[] = {0, 0, 0, 0};
    CU_ASSERT_EQUAL(kw_frame_peek(zero, 4, 1024, &n, err, sizeof err), 1);
    CU_ASSERT_EQUAL(n, 0);
}

static void test_arena_allocations_are_zeroed_aligned_and_reset(void) {
    kw_arena *a = kw_arena_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    for (int round = 0; round < 3; round++) {
        for (size_t i = 1; i < 3000; i += 7) {
            uint8_t *p = kw_arena_alloc(a, i);
            CU_ASSERT_PTR_NOT_NULL_FATAL(p);
            CU_ASSERT_EQUAL((uintptr_t)p % 16, 0);
            size_t nz = 0;
            for (size_t j = 0; j < i; j++)
                nz += p[j] != 0;
            CU_ASSERT_EQUAL(nz, 0);
            memset(p, 0xab, i);
        }
        uint8_t *big = kw_arena_alloc(a, 1 << 20);
        CU_ASSERT_PTR_NOT_NULL(big);
        if (big)
            memset(big, 1, 1 << 20);
        kw_arena_reset(a);
    }
    CU_ASSERT_PTR_NULL(kw_arena_alloc(a, (size_t)1 << 40));
    CU_ASSERT_PTR_NULL(kw_arena_alloc(a, SIZE_MAX));
    CU_ASSERT_PTR_NULL(kw_arena_alloc(NULL, 8));
    kw_arena_destroy(a);
    kw_arena_destroy(NULL);
}

static void test_slices_compare_and_copy(void) {
    kw_slice s = kw_slice_str("hello");
    CU_ASSERT_EQUAL(s.len, 5);
    CU_ASSERT_TRUE(kw_slice_eq(s, "hello"));
    CU_ASSERT_FALSE(kw_slice_eq(s, "hell"));
    CU_ASSERT_FALSE(kw_slice_eq(s, NULL));
    CU_ASSERT_TRUE(kw_slice_eq(KW_SLICE_NULL, NULL));
    CU_ASSERT_FALSE(kw_slice_eq(KW_SLICE_NULL, ""));
    CU_ASSERT_TRUE(kw_slice_eq(kw_slice_str(""), ""));
    CU_ASSERT_EQUAL(kw_slice_str(NULL).len, -1);
    char buf[4];
    CU_ASSERT_STRING_EQUAL(kw_slice_cstr(s, buf, sizeof buf), "hel");
    CU_ASSERT_STRING_EQUAL(kw_slice_cstr(KW_SLICE_NULL, buf, sizeof buf), "");
}

static void test_error_table_names_and_retriable_flags(void) {
    CU_ASSERT_STRING_EQUAL(kw_err_name(KW_ERR_NOT_LEADER_OR_FOLLOWER), "NOT_LEADER_OR_FOLLOWER");
    CU_ASSERT_STRING_EQUAL(kw_err_name(KW_ERR_NONE), "NONE");
    CU_ASSERT_STRING_EQUAL(kw_err_name(KW_ERR__BUFFER_EXHAUSTED), "BUFFER_EXHAUSTED");
    CU_ASSERT_STRING_EQUAL(kw_err_name(KW_ERR__DELIVERY_TIMEOUT), "DELIVERY_TIMEOUT");
    CU_ASSERT_STRING_EQUAL(kw_err_name((kw_err)12345), "UNKNOWN_ERROR_12345");
    CU_ASSERT_PTR_NOT_NULL(kw_err_str((kw_err)12345));
    CU_ASSERT_TRUE(strlen(kw_err_str(KW_ERR_MESSAGE_TOO_LARGE)) > 10);
    /* Retriable as Kafka's RetriableException subclasses. */
    CU_ASSERT_TRUE(kw_err_is_retriable(KW_ERR_NOT_LEADER_OR_FOLLOWER));
    CU_ASSERT_TRUE(kw_err_is_retriable(KW_ERR_LEADER_NOT_AVAILABLE));
    CU_ASSERT_TRUE(kw_err_is_retriable(KW_ERR_NOT_ENOUGH_REPLICAS));
    CU_ASSERT_TRUE(kw_err_is_retriable(KW_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND));
    CU_ASSERT_TRUE(kw_err_is_retriable(KW_ERR_REQUEST_TIMED_OUT));
    CU_ASSERT_TRUE(kw_err_is_retriable(KW_ERR_CORRUPT_MESSAGE));
    CU_ASSERT_TRUE(kw_err_is_retriable(KW_ERR_UNKNOWN_TOPIC_OR_PARTITION));
    CU_ASSERT_TRUE(kw_err_is_retriable(KW_ERR_KAFKA_STORAGE_ERROR));
    CU_ASSERT_TRUE(kw_err_is_retriable(KW_ERR__TRANSPORT));
    CU_ASSERT_TRUE(kw_err_is_retriable(KW_ERR__TIMED_OUT));
    CU_ASSERT_FALSE(kw_err_is_retriable(KW_ERR_NONE));
    CU_ASSERT_FALSE(kw_err_is_retriable(KW_ERR_MESSAGE_TOO_LARGE));
    CU_ASSERT_FALSE(kw_err_is_retriable(KW_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER));
    CU_ASSERT_FALSE(kw_err_is_retriable(KW_ERR_UNKNOWN_SERVER_ERROR));
    CU_ASSERT_FALSE(kw_err_is_retriable(KW_ERR_INVALID_PRODUCER_EPOCH));
    CU_ASSERT_FALSE(kw_err_is_retriable(KW_ERR__DELIVERY_TIMEOUT));
    CU_ASSERT_FALSE(kw_err_is_retriable((kw_err)9999));
    kw_err e = KW_ERR_NONE;
    CU_ASSERT_TRUE(kw_err_from_name("NOT_ENOUGH_REPLICAS", &e));
    CU_ASSERT_EQUAL(e, KW_ERR_NOT_ENOUGH_REPLICAS);
    CU_ASSERT_TRUE(kw_err_from_name("__TRANSPORT", &e));
    CU_ASSERT_EQUAL(e, KW_ERR__TRANSPORT);
    CU_ASSERT_TRUE(kw_err_from_name("TIMED_OUT", &e));
    CU_ASSERT_EQUAL(e, KW_ERR__TIMED_OUT);
    CU_ASSERT_TRUE(kw_err_from_name("UNKNOWN_ERROR_777", &e));
    CU_ASSERT_EQUAL(e, 777);
    CU_ASSERT_FALSE(kw_err_from_name("__NONE", &e));
    CU_ASSERT_FALSE(kw_err_from_name("NOT_AN_ERROR", &e));
    CU_ASSERT_FALSE(kw_err_from_name("UNKNOWN_ERROR_", &e));
    CU_ASSERT_FALSE(kw_err_from_name(NULL, &e));
}

static void test_every_error_name_round_trips(void) {
    int bad = 0, n = 0;
    for (int code = -300; code < 200; code++) {
        const char *name = kw_err_name((kw_err)code);
        kw_err back;
        if (strncmp(name, "UNKNOWN_ERROR_", 14) == 0)
            continue;
        n++;
        if (!kw_err_from_name(name, &back) || back != (kw_err)code) {
            fprintf(stderr, "error %d (%s) does not round-trip\n", code, name);
            bad++;
        }
        if (strcmp(kw_err_str((kw_err)code), "Unknown error code.") == 0)
            bad++;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_TRUE(n > 70);
}

static void test_monotonic_clock_moves_forward(void) {
    const kw_clock *c = kw_clock_monotonic();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    int64_t a = kw_clock_now_us(c);
    int64_t ms = kw_clock_now_ms(c);
    int64_t b = kw_clock_now_us(c);
    CU_ASSERT_TRUE(a > 0);
    CU_ASSERT_TRUE(b >= a);
    CU_ASSERT_TRUE(ms >= a / 1000 && ms <= b / 1000);
    CU_ASSERT_EQUAL(c->wall_us(c->opaque, 5000), 5000);
}

void suite_protocol_primitives(void);
void suite_protocol_primitives(void) {
    tu_suite("protocol_primitives");
    tu_test("test_varint_edge_values_encode_to_known_bytes",
            test_varint_edge_values_encode_to_known_bytes);
    tu_test("test_varlong_edge_values_encode_to_known_bytes",
            test_varlong_edge_values_encode_to_known_bytes);
    tu_test("test_uvarint_encodes_to_known_bytes", test_uvarint_encodes_to_known_bytes);
    tu_test("test_varint_round_trip_and_sizes", test_varint_round_trip_and_sizes);
    tu_test("test_varint_too_long_or_overflowing_is_malformed",
            test_varint_too_long_or_overflowing_is_malformed);
    tu_test("test_fixed_ints_are_big_endian", test_fixed_ints_are_big_endian);
    tu_test("test_strings_and_bytes_round_trip_with_null",
            test_strings_and_bytes_round_trip_with_null);
    tu_test("test_non_nullable_string_rejects_null_length",
            test_non_nullable_string_rejects_null_length);
    tu_test("test_unencodable_string_marks_buffer_failed",
            test_unencodable_string_marks_buffer_failed);
    tu_test("test_huge_lengths_fail_without_allocating", test_huge_lengths_fail_without_allocating);
    tu_test("test_truncation_at_every_byte_names_the_field",
            test_truncation_at_every_byte_names_the_field);
    tu_test("test_first_error_sticks_and_later_reads_return_zero",
            test_first_error_sticks_and_later_reads_return_zero);
    tu_test("test_tagged_fields_are_skipped_and_checked",
            test_tagged_fields_are_skipped_and_checked);
    tu_test("test_trailing_bytes_are_malformed", test_trailing_bytes_are_malformed);
    tu_test("test_wbuf_grows_and_patches", test_wbuf_grows_and_patches);
    tu_test("test_frame_peek_needs_whole_frame", test_frame_peek_needs_whole_frame);
    tu_test("test_frame_peek_rejects_negative_and_oversized",
            test_frame_peek_rejects_negative_and_oversized);
    tu_test("test_arena_allocations_are_zeroed_aligned_and_reset",
            test_arena_allocations_are_zeroed_aligned_and_reset);
    tu_test("test_slices_compare_and_copy", test_slices_compare_and_copy);
    tu_test("test_error_table_names_and_retriable_flags",
            test_error_table_names_and_retriable_flags);
    tu_test("test_every_error_name_round_trips", test_every_error_name_round_trips);
    tu_test("test_monotonic_clock_moves_forward", test_monotonic_clock_moves_forward);
}
