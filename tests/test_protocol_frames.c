/* The narrow calls other rooms use instead of the field primitives (protocol/kw_wire.h):
 * kw_frame_request() frames a request around an encoded body, kw_produce_req_acks() reads a
 * Produce request's acks without its records, kw_wbuf_append() appends bytes. Each is checked
 * against the full codecs. kw_sync_group_resp_decode_null_assignment() reads librdkafka's
 * mock's SyncGroup answer that the strict decoder refuses. */
#include "protocol/kw.h"
#include "protocol/kw_wire.h" /* a peer's malformed answer, by hand */
#include "tests/tu.h"

#include <string.h>

/* A Produce request body at `version` with `acks` and one record set. */
static void produce_body(kw_wbuf *wb, int16_t version, int16_t acks) {
    static const uint8_t records[] = {1, 2, 3, 4, 5};
    kw_produce_req_partition part = {.index = 2, .records = {records, (int32_t)sizeof records}};
    kw_produce_req_topic topic = {
        .name = kw_slice_str("t"), .n_partitions = 1, .partitions = &part};
    kw_produce_req req = {.transactional_id = KW_SLICE_NULL,
                          .acks = acks,
                          .timeout_ms = 30000,
                          .n_topics = 1,
                          .topics = &topic};
    kw_produce_req_encode(wb, version, &req);
}

/* Every Produce version we encode, each acks value: the peek says what the decoder says. */
static void test_produce_acks_peek_agrees_with_the_decoder(void) {
    const int16_t acks_values[] = {0, 1, -1};
    const kw_api_range *r = kw_api_supported(KW_API_PRODUCE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    int checked = 0;
    for (int16_t v = r->min_version; v <= r->max_version; v++) {
        for (size_t i = 0; i < sizeof acks_values / sizeof acks_values[0]; i++) {
            kw_wbuf wb;
            kw_wbuf_init(&wb);
            produce_body(&wb, v, acks_values[i]);
            kw_rbuf rb;
            kw_rbuf_init(&rb, wb.p, wb.len, "Produce request");
            int16_t acks = 99;
            CU_ASSERT_EQUAL(kw_produce_req_acks(&rb, v, &acks), KW_ERR_NONE);
            CU_ASSERT_EQUAL(acks, acks_values[i]);
            kw_arena *a = kw_arena_new();
            kw_produce_req full;
            kw_rbuf_init(&rb, wb.p, wb.len, "Produce request");
            CU_ASSERT_EQUAL(kw_produce_req_decode(&rb, v, a, &full), KW_ERR_NONE);
            CU_ASSERT_EQUAL(full.acks, acks);
            kw_arena_destroy(a);
            kw_wbuf_free(&wb);
            checked++;
        }
    }
    CU_ASSERT_TRUE(checked >= 3);
}

/* A body cut before acks fails, naming the field. */
static void test_produce_acks_peek_on_a_cut_body_fails(void) {
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    produce_body(&wb, 7, 0);
    kw_rbuf rb;
    kw_rbuf_init(&rb, wb.p, 3, "Produce request"); /* null transactional_id (2) + 1 byte */
    int16_t acks = 99;
    CU_ASSERT_NOT_EQUAL(kw_produce_req_acks(&rb, 7, &acks), KW_ERR_NONE);
    CU_ASSERT_PTR_NOT_NULL(strstr(rb.errmsg, "acks"));
    kw_wbuf_free(&wb);
}

/* kw_frame_request = size + header + body, as framing them by hand gives; appended after what
 * the buffer holds. */
static void test_frame_request_is_size_header_body(void) {
    kw_wbuf body, got, want;
    kw_wbuf_init(&body);
    kw_wbuf_init(&got);
    kw_wbuf_init(&want);
    kw_metadata_req req = {.n_topics = 0, .allow_auto_topic_creation = false};
    kw_metadata_req_encode(&body, 9, &req); /* flexible: request header v2 */
    kw_request_header h = {KW_API_METADATA, 9, 42, kw_slice_str("courier")};
    kw_wbuf_append(&got, "xy", 2);
    kw_frame_request(&got, &h, body.p, body.len);

    kw_wbuf_append(&want, "xy", 2);
    size_t st = kw_frame_begin(&want);
    kw_request_header_encode(&want, &h);
    kw_wbuf_append(&want, body.p, body.len);
    kw_frame_end(&want, st);
    CU_ASSERT_EQUAL_FATAL(got.len, want.len);
    CU_ASSERT_EQUAL(memcmp(got.p, want.p, got.len), 0);

    int32_t flen = 0;
    CU_ASSERT_EQUAL(kw_frame_peek(got.p + 2, got.len - 2, KW_DEFAULT_MAX_FRAME, &flen, NULL, 0), 1);
    CU_ASSERT_EQUAL((size_t)flen, got.len - 2 - 4);
    kw_rbuf rb;
    kw_rbuf_init(&rb, got.p + 6, (size_t)flen, "frame");
    kw_request_header back;
    CU_ASSERT_EQUAL(kw_request_header_decode(&rb, &back), KW_ERR_NONE);
    CU_ASSERT_EQUAL(back.api_key, KW_API_METADATA);
    CU_ASSERT_EQUAL(back.api_version, 9);
    CU_ASSERT_EQUAL(back.correlation_id, 42);
    CU_ASSERT_TRUE(kw_slice_eq(back.client_id, "courier"));
    CU_ASSERT_EQUAL(kw_rbuf_remaining(&rb), body.len);
    kw_wbuf_free(&body);
    kw_wbuf_free(&got);
    kw_wbuf_free(&want);
}

/* SyncGroup v1 answered with a null assignment (librdkafka 2.0's mock): the strict decoder
 * refuses it, the lenient read takes its error code; a well-formed answer is not taken. */
static void test_sync_group_null_assignment_is_read_leniently(void) {
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    kw_write_i32(&wb, 0);  /* throttle_time_ms */
    kw_write_i16(&wb, 27); /* REBALANCE_IN_PROGRESS */
    kw_write_i32(&wb, -1); /* a null assignment */
    kw_arena *a = kw_arena_new();
    kw_sync_group_resp m;
    kw_rbuf rb;
    kw_rbuf_init(&rb, wb.p, wb.len, "SyncGroup response");
    CU_ASSERT_NOT_EQUAL(kw_sync_group_resp_decode(&rb, 1, a, &m), KW_ERR_NONE);
    kw_rbuf_init(&rb, wb.p, wb.len, "SyncGroup response");
    CU_ASSERT_TRUE(kw_sync_group_resp_decode_null_assignment(&rb, 1, &m));
    CU_ASSERT_EQUAL(m.error_code, 27);
    CU_ASSERT_EQUAL(m.assignment.len, -1);

    kw_wbuf ok;
    kw_wbuf_init(&ok);
    kw_sync_group_resp good = {.error_code = 0, .assignment = kw_slice_str("x")};
    kw_sync_group_resp_encode(&ok, 1, &good);
    kw_rbuf_init(&rb, ok.p, ok.len, "SyncGroup response");
    CU_ASSERT_FALSE(kw_sync_group_resp_decode_null_assignment(&rb, 1, &m));
    kw_arena_destroy(a);
    kw_wbuf_free(&wb);
    kw_wbuf_free(&ok);
}

void suite_protocol_frames(void);
void suite_protocol_frames(void) {
    tu_suite("protocol_frames");
    tu_test("test_produce_acks_peek_agrees_with_the_decoder",
            test_produce_acks_peek_agrees_with_the_decoder);
    tu_test("test_produce_acks_peek_on_a_cut_body_fails",
            test_produce_acks_peek_on_a_cut_body_fails);
    tu_test("test_frame_request_is_size_header_body", test_frame_request_is_size_header_body);
    tu_test("test_sync_group_null_assignment_is_read_leniently",
            test_sync_group_null_assignment_is_read_leniently);
}
