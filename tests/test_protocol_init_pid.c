/* InitProducerId 0–5: golden bytes from a real peer (kcat/librdkafka 2.0.2 and librdkafka's
 * mock at v4, tests/vectors/golden/pid4_*), and hand-built bodies for the other versions,
 * each field checked by hand against apache/kafka's InitProducerIdRequest.json /
 * InitProducerIdResponse.json:
 *   request:  TransactionalId (nullable string, compact from v2), TransactionTimeoutMs int32,
 *             ProducerId int64 (3+, default -1), ProducerEpoch int16 (3+, default -1),
 *             tagged fields (2+)
 *   response: ThrottleTimeMs int32, ErrorCode int16, ProducerId int64, ProducerEpoch int16,
 *             tagged fields (2+) */
#include "protocol/kw.h"
#include "tests/test_protocol_util.h"
#include "tests/tu.h"

#include <stdlib.h>
#include <string.h>

/* The body of a whole request frame: after size, api key, version, correlation id, client id
 * and (header v2) the header's tagged fields. */
static kw_rbuf frame_body(const uint8_t *frame, size_t len, kw_request_header *h) {
    kw_rbuf rb;
    kw_rbuf_init(&rb, frame + 4, len - 4, "frame");
    CU_ASSERT_EQUAL(kw_request_header_decode(&rb, h), KW_ERR_NONE);
    return rb;
}

/* kcat's InitProducerId v4 (flexible): null transactional id, timeout -1, id -1, epoch -1. */
static void test_librdkafka_v4_request_decodes_and_reencodes(void) {
    static const char hex[] = "000000290016000400000004000e636f75726965722d676f6c64656e0000ffff"
                              "ffffffffffffffffffffffff00";
    uint8_t f[64];
    size_t n = unhex(hex, f, sizeof f);
    CU_ASSERT_EQUAL_FATAL(n, 45);
    kw_request_header h;
    kw_rbuf rb = frame_body(f, n, &h);
    CU_ASSERT_EQUAL(h.api_key, KW_API_INIT_PRODUCER_ID);
    CU_ASSERT_EQUAL(h.api_version, 4);
    CU_ASSERT(kw_slice_eq(h.client_id, "courier-golden"));
    size_t body_at = 4 + rb.pos;
    kw_init_pid_req req;
    CU_ASSERT_EQUAL_FATAL(kw_init_pid_req_decode(&rb, 4, NULL, &req), KW_ERR_NONE);
    CU_ASSERT_EQUAL(req.transactional_id.len, -1);
    CU_ASSERT_EQUAL(req.transaction_timeout_ms, -1);
    CU_ASSERT_EQUAL(req.producer_id, -1);
    CU_ASSERT_EQUAL(req.producer_epoch, -1);
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    kw_init_pid_req_encode(&wb, 4, &req);
    CU_ASSERT_EQUAL_FATAL(wb.len, n - body_at);
    CU_ASSERT(memcmp(wb.p, f + body_at, wb.len) == 0);
    kw_wbuf_free(&wb);
}

/* librdkafka's mock answers v4 with response header v1 (one empty tag section). */
static void test_librdkafka_mock_v4_response_decodes(void) {
    static const char hex[] = "0000001600000004000000000000000000000024a875e0000000";
    uint8_t f[32];
    size_t n = unhex(hex, f, sizeof f);
    CU_ASSERT_EQUAL_FATAL(n, 26);
    kw_rbuf rb;
    kw_rbuf_init(&rb, f + 4, n - 4, "frame");
    kw_response_header rh;
    CU_ASSERT_EQUAL(kw_response_header_decode(&rb, &rh, 1), KW_ERR_NONE);
    CU_ASSERT_EQUAL(rh.correlation_id, 4);
    kw_init_pid_resp resp;
    CU_ASSERT_EQUAL_FATAL(kw_init_pid_resp_decode(&rb, 4, NULL, &resp), KW_ERR_NONE);
    CU_ASSERT_EQUAL(resp.error_code, 0);
    CU_ASSERT_EQUAL(resp.producer_id, 0x24a875e0LL);
    CU_ASSERT_EQUAL(resp.producer_epoch, 0);
}

/* Hand-built bodies, one per layout. */
static const struct {
    int16_t v;
    bool request;
    const char *hex;
    const char *why;
} bodies[] = {
    {0, true, "0003747831" "0000ea60", "string \"tx1\", timeout 60000"},
    {1, true, "ffff" "7fffffff", "null string, timeout INT32_MAX (Java's idempotent producer)"},
    {2, true, "04747831" "0000ea60" "00", "compact string len+1=4, timeout, no tags"},
    {3, true, "00" "7fffffff" "00000000000003e8" "0002" "00",
     "compact null, timeout, producer id 1000, epoch 2, no tags"},
    {5, true, "04747831" "0000ea60" "ffffffffffffffff" "ffff" "00", "v5 = v3 layout, defaults -1"},
    {0, false, "00000000" "0000" "00000000000003e8" "0000", "throttle, error, id 1000, epoch 0"},
    {2, false, "00000000" "0000" "00000000000003e8" "0001" "00", "flexible: a tag section"},
    {4, false, "00000000" "005a" "ffffffffffffffff" "ffff" "00", "PRODUCER_FENCED (90), id -1"},
    {3, false, "00000000" "002f" "ffffffffffffffff" "ffff" "00", "INVALID_PRODUCER_EPOCH (47)"},
};

static void test_hand_built_bodies_match_the_json_layouts(void) {
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        uint8_t want[64];
        size_t n = unhex(bodies[i].hex, want, sizeof want);
        kw_rbuf rb;
        kw_rbuf_init(&rb, want, n, "body");
        kw_wbuf_reset(&wb);
        kw_err err;
        if (bodies[i].request) {
            kw_init_pid_req m;
            err = kw_init_pid_req_decode(&rb, bodies[i].v, NULL, &m);
            if (err == KW_ERR_NONE)
                kw_init_pid_req_encode(&wb, bodies[i].v, &m);
        } else {
            kw_init_pid_resp m;
            err = kw_init_pid_resp_decode(&rb, bodies[i].v, NULL, &m);
            if (err == KW_ERR_NONE)
                kw_init_pid_resp_encode(&wb, bodies[i].v, &m);
        }
        if (err != KW_ERR_NONE || wb.len != n || memcmp(wb.p, want, n) != 0)
            fprintf(stderr, "\nInitProducerId v%d %s (%s): %s\n", bodies[i].v,
                    bodies[i].request ? "request" : "response", bodies[i].why, rb.errmsg);
        CU_ASSERT_EQUAL(err, KW_ERR_NONE);
        CU_ASSERT_EQUAL(wb.len, n);
        CU_ASSERT(wb.len == n && memcmp(wb.p, want, n) == 0);
    }
    kw_wbuf_free(&wb);
}

/* The values the v3 bump request carries come out as sent; below v3 they are absent and
 * decode as -1 (the JSON default). */
static void test_expected_id_and_epoch_only_from_v3(void) {
    kw_init_pid_req m = {KW_SLICE_NULL, 1000, 4242, 7}, got;
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    for (int16_t v = 0; v <= 5; v++) {
        kw_wbuf_reset(&wb);
        kw_init_pid_req_encode(&wb, v, &m);
        kw_rbuf rb;
        kw_rbuf_init(&rb, wb.p, wb.len, "body");
        CU_ASSERT_EQUAL_FATAL(kw_init_pid_req_decode(&rb, v, NULL, &got), KW_ERR_NONE);
        CU_ASSERT_EQUAL(got.producer_id, v >= 3 ? 4242 : -1);
        CU_ASSERT_EQUAL(got.producer_epoch, v >= 3 ? 7 : -1);
        /* sizes: 2+4 (v0,v1), 1+4+1 (v2), 1+4+8+2+1 (v3-5) */
        CU_ASSERT_EQUAL(wb.len, v < 2 ? 6u : v == 2 ? 6u : 16u);
    }
    kw_wbuf_free(&wb);
}

static void test_version_6_and_truncations_are_refused(void) {
    uint8_t body[16] = {0};
    kw_rbuf rb;
    kw_init_pid_req m;
    kw_rbuf_init(&rb, body, sizeof body, "body");
    CU_ASSERT_EQUAL(kw_init_pid_req_decode(&rb, 6, NULL, &m), KW_ERR__UNSUPPORTED_API);
    CU_ASSERT_PTR_NOT_NULL(strstr(rb.errmsg, "v0-v5"));
    /* a v3 body cut anywhere fails and names an InitProducerId field */
    uint8_t full[16];
    size_t n = unhex("00" "7fffffff" "00000000000003e8" "0002" "00", full, sizeof full);
    for (size_t cut = 0; cut < n; cut++) {
        kw_rbuf_init(&rb, full, cut, "body");
        CU_ASSERT_EQUAL(kw_init_pid_req_decode(&rb, 3, NULL, &m), KW_ERR__TRUNCATED);
        CU_ASSERT_PTR_NOT_NULL(strstr(rb.errmsg, "InitProducerId"));
    }
}

void suite_protocol_init_pid(void);
void suite_protocol_init_pid(void) {
    tu_suite("protocol_init_pid");
    tu_test("test_librdkafka_v4_request_decodes_and_reencodes",
            test_librdkafka_v4_request_decodes_and_reencodes);
    tu_test("test_librdkafka_mock_v4_response_decodes", test_librdkafka_mock_v4_response_decodes);
    tu_test("test_hand_built_bodies_match_the_json_layouts",
            test_hand_built_bodies_match_the_json_layouts);
    tu_test("test_expected_id_and_epoch_only_from_v3", test_expected_id_and_epoch_only_from_v3);
    tu_test("test_version_6_and_truncations_are_refused",
            test_version_6_and_truncations_are_refused);
}
