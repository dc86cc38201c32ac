/* The "consumer" protocol's bytes inside JoinGroup and SyncGroup (protocol/kw_consumer.c):
 * subscriptions and assignments as other clients write them decode to the right topics and
 * partitions; ours are byte-for-byte what those clients write, but for the null user data
 * Java and librdkafka write (kafka-python writes it empty); newer versions are read by their
 * version-0 fields; truncations fail with the field named. The golden bytes come from
 * kafka-python 2.0 (kafka.coordinator.protocol, ConsumerProtocolMemberMetadata and
 * ConsumerProtocolMemberAssignment .SCHEMA.encode). */
#include "protocol/kw.h"
#include "tests/test_protocol_util.h"
#include "tests/tu.h"

#include <stdio.h>
#include <string.h>

/* kafka-python: ConsumerProtocolMemberMetadata(0, ['t', 'orders'], b'') */
static const char *py_subscription = "00000000000200017400066f726465727300000000";
/* kafka-python: ConsumerProtocolMemberAssignment(0, [('t', [0, 1, 2]), ('orders', [5])], b'') */
static const char *py_assignment = "000000000002000174000000030000000000000001000000020006"
                                   "6f7264657273000000010000000500000000";

static void test_subscription_from_kafka_python_decodes(void) {
    uint8_t b[64];
    size_t n = unhex(py_subscription, b, sizeof b);
    kw_arena *a = kw_arena_new();
    kw_rbuf rb;
    kw_rbuf_init(&rb, b, n, "subscription");
    kw_consumer_subscription s;
    CU_ASSERT_EQUAL(kw_consumer_subscription_decode(&rb, a, &s), KW_ERR_NONE);
    CU_ASSERT_EQUAL(s.version, 0);
    CU_ASSERT_EQUAL_FATAL(s.n_topics, 2);
    CU_ASSERT_TRUE(kw_slice_eq(s.topics[0], "t"));
    CU_ASSERT_TRUE(kw_slice_eq(s.topics[1], "orders"));
    CU_ASSERT_EQUAL(s.user_data.len, 0);
    /* ours: the same bytes, with null user data (ffffffff) as Java and librdkafka write it */
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    kw_slice topics[2] = {kw_slice_str("t"), kw_slice_str("orders")};
    kw_consumer_subscription mine = {0, 2, topics, KW_SLICE_NULL};
    kw_consumer_subscription_encode(&wb, &mine);
    CU_ASSERT_EQUAL_FATAL(wb.len, n);
    CU_ASSERT_EQUAL(memcmp(wb.p, b, n - 4), 0);
    CU_ASSERT_EQUAL(memcmp(wb.p + n - 4, "\xff\xff\xff\xff", 4), 0);
    kw_wbuf_free(&wb);
    kw_arena_destroy(a);
}

/* Java 3.x writes version 3: topics, user data, owned partitions, generation, rack; a reader
 * takes the version-0 fields and leaves the rest (ConsumerProtocolSubscription.json). */
static void test_subscription_v3_is_read_by_its_v0_fields(void) {
    uint8_t b[64];
    size_t n = unhex("0003"                       /* version 3 */
                     "00000001" "000174"          /* topics ["t"] */
                     "ffffffff"                   /* user data null */
                     "00000001" "000174"          /* owned partitions: "t" */
                     "00000001" "00000002"        /*   [2] */
                     "ffffffff"                   /* generation -1 */
                     "ffff",                      /* rack null */
                     b, sizeof b);
    kw_arena *a = kw_arena_new();
    kw_rbuf rb;
    kw_rbuf_init(&rb, b, n, "subscription");
    kw_consumer_subscription s;
    CU_ASSERT_EQUAL(kw_consumer_subscription_decode(&rb, a, &s), KW_ERR_NONE);
    CU_ASSERT_EQUAL(s.version, 3);
    CU_ASSERT_EQUAL_FATAL(s.n_topics, 1);
    CU_ASSERT_TRUE(kw_slice_eq(s.topics[0], "t"));
    CU_ASSERT_EQUAL(s.user_data.len, -1);
    kw_arena_destroy(a);
}

static void test_assignment_from_kafka_python_decodes_and_ours_matches(void) {
    uint8_t b[96];
    size_t n = unhex(py_assignment, b, sizeof b);
    kw_arena *a = kw_arena_new();
    kw_rbuf rb;
    kw_rbuf_init(&rb, b, n, "assignment");
    kw_consumer_assignment as;
    CU_ASSERT_EQUAL(kw_consumer_assignment_decode(&rb, a, &as), KW_ERR_NONE);
    CU_ASSERT_EQUAL_FATAL(as.n_topics, 2);
    CU_ASSERT_TRUE(kw_slice_eq(as.topics[0].topic, "t"));
    CU_ASSERT_EQUAL_FATAL(as.topics[0].n_partitions, 3);
    CU_ASSERT_EQUAL(as.topics[0].partitions[2], 2);
    CU_ASSERT_TRUE(kw_slice_eq(as.topics[1].topic, "orders"));
    CU_ASSERT_EQUAL_FATAL(as.topics[1].n_partitions, 1);
    CU_ASSERT_EQUAL(as.topics[1].partitions[0], 5);
    int32_t p0[] = {0, 1, 2}, p1[] = {5};
    kw_consumer_topic_partitions tp[2] = {{kw_slice_str("t"), 3, p0},
                                          {kw_slice_str("orders"), 1, p1}};
    kw_consumer_assignment mine = {0, 2, tp, KW_SLICE_NULL};
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    kw_consumer_assignment_encode(&wb, &mine);
    CU_ASSERT_EQUAL_FATAL(wb.len, n);
    CU_ASSERT_EQUAL(memcmp(wb.p, b, n - 4), 0);
    kw_wbuf_free(&wb);
    /* an empty assignment (a member the leader left out) is no topics, not an error */
    kw_rbuf_init(&rb, b, 0, "assignment");
    CU_ASSERT_EQUAL(kw_consumer_assignment_decode(&rb, a, &as), KW_ERR_NONE);
    CU_ASSERT_EQUAL(as.n_topics, 0);
    kw_arena_destroy(a);
}

static void test_truncated_bytes_fail_naming_the_field(void) {
    uint8_t b[96];
    size_t n = unhex(py_assignment, b, sizeof b);
    kw_arena *a = kw_arena_new();
    for (size_t cut = 1; cut < n - 4; cut++) {
        kw_rbuf rb;
        kw_rbuf_init(&rb, b, cut, "assignment");
        kw_consumer_assignment as;
        kw_err e = kw_consumer_assignment_decode(&rb, a, &as);
        CU_ASSERT_TRUE(e != KW_ERR_NONE);
        CU_ASSERT_TRUE(rb.errmsg[0] != '\0');
    }
    n = unhex(py_subscription, b, sizeof b);
    for (size_t cut = 1; cut < n - 4; cut++) {
        kw_rbuf rb;
        kw_rbuf_init(&rb, b, cut, "subscription");
        kw_consumer_subscription s;
        CU_ASSERT_TRUE(kw_consumer_subscription_decode(&rb, a, &s) != KW_ERR_NONE);
    }
    uint8_t neg[] = {0xff, 0xff, 0, 0, 0, 0};
    kw_rbuf rb;
    kw_rbuf_init(&rb, neg, sizeof neg, "subscription");
    kw_consumer_subscription s;
    CU_ASSERT_EQUAL(kw_consumer_subscription_decode(&rb, a, &s), KW_ERR__MALFORMED);
    CU_ASSERT_PTR_NOT_NULL(strstr(rb.errmsg, "version"));
    kw_arena_destroy(a);
}

void suite_protocol_consumer(void);
void suite_protocol_consumer(void) {
    tu_suite("protocol_consumer");
    tu_test("test_subscription_from_kafka_python_decodes",
            test_subscription_from_kafka_python_decodes);
    tu_test("test_subscription_v3_is_read_by_its_v0_fields",
            test_subscription_v3_is_read_by_its_v0_fields);
    tu_test("test_assignment_from_kafka_python_decodes_and_ours_matches",
            test_assignment_from_kafka_python_decodes_and_ours_matches);
    tu_test("test_truncated_bytes_fail_naming_the_field",
            test_truncated_bytes_fail_naming_the_field);
}
