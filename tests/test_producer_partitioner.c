/* Partitioner: Java-compatible murmur2, sticky and round-robin. */
#include "producer/kp_int.h"
#include "tests/tu.h"

#include <string.h>

static void test_murmur2_matches_java_vectors(void) {
    CU_ASSERT_EQUAL(kp_murmur2("21", 2), -973932308);
    CU_ASSERT_EQUAL(kp_murmur2("foobar", 6), -790332482);
    CU_ASSERT_EQUAL(kp_murmur2("abc", 3), 479470107);
    CU_ASSERT_EQUAL(kp_murmur2("a-little-bit-long-string", 24), -985981536);
    /* more of Java's UtilsTest vectors */
    CU_ASSERT_EQUAL(kp_murmur2("a-little-bit-longer-string", 26), -1486304829);
    CU_ASSERT_EQUAL(kp_murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", 48), -58897971);
}

static void test_keyed_partition_is_positive_murmur2_mod_n(void) {
    /* murmur2("foobar") = -790332482; & 0x7fffffff = 1357151166; % 6 = 0 */
    CU_ASSERT_EQUAL(kp_partition_for_key("foobar", 6, 6), (int32_t)(1357151166u % 6));
    CU_ASSERT_EQUAL(kp_partition_for_key("abc", 3, 7), 479470107 % 7);
    CU_ASSERT_EQUAL(kp_partition_for_key("abc", 3, 0), -1);
}

static void test_sticky_partition_stays_until_switched(void) {
    kp_sticky s;
    kp_sticky_init(&s);
    int32_t p0 = kp_sticky_partition(&s, "t", 6);
    CU_ASSERT(p0 >= 0 && p0 < 6);
    for (int i = 0; i < 100; i++)
        CU_ASSERT_EQUAL(kp_sticky_partition(&s, "t", 6), p0);
    int32_t p1 = kp_sticky_next(&s, "t", 6, p0);
    CU_ASSERT_NOT_EQUAL(p1, p0);
    CU_ASSERT(p1 >= 0 && p1 < 6);
    CU_ASSERT_EQUAL(kp_sticky_partition(&s, "t", 6), p1);
    /* a stale switch request (another thread already switched) changes nothing */
    CU_ASSERT_EQUAL(kp_sticky_next(&s, "t", 6, p0), p1);
    /* topics are independent; one partition means always 0 */
    CU_ASSERT_EQUAL(kp_sticky_next(&s, "single", 1, 0), 0);
    kp_sticky_destroy(&s);
}

static void test_sticky_switches_spread_over_partitions(void) {
    kp_sticky s;
    kp_sticky_init(&s);
    int seen[6] = {0};
    int32_t p = kp_sticky_partition(&s, "t", 6);
    for (int i = 0; i < 600; i++) {
        p = kp_sticky_next(&s, "t", 6, p);
        seen[p]++;
    }
    for (int i = 0; i < 6; i++)
        CU_ASSERT(seen[i] > 50);
    kp_sticky_destroy(&s);
}

static void test_round_robin_cycles(void) {
    kp_sticky s;
    kp_sticky_init(&s);
    for (int i = 0; i < 12; i++)
        CU_ASSERT_EQUAL(kp_round_robin_partition(&s, "rr", 4), i % 4);
    kp_sticky_destroy(&s);
}

static void test_builtin_serializers(void) {
    uint8_t scratch[8];
    kw_slice out;
    char err[128];
    int32_t v32 = 0x01020304;
    CU_ASSERT_EQUAL(kp_serialize_builtin(KP_SER_INT32, &v32, 4, scratch, &out, err, sizeof err),
                    KW_ERR_NONE);
    CU_ASSERT_EQUAL(out.len, 4);
    CU_ASSERT(out.p[0] == 1 && out.p[3] == 4);
    int64_t v64 = -2;
    CU_ASSERT_EQUAL(kp_serialize_builtin(KP_SER_INT64, &v64, 8, scratch, &out, err, sizeof err),
                    KW_ERR_NONE);
    CU_ASSERT(out.len == 8 && out.p[0] == 0xff && out.p[7] == 0xfe);
    CU_ASSERT_EQUAL(
        kp_serialize_builtin(KP_SER_STRING, "hello", -1, scratch, &out, err, sizeof err),
        KW_ERR_NONE);
    CU_ASSERT_EQUAL(out.len, 5);
    CU_ASSERT_EQUAL(kp_serialize_builtin(KP_SER_STRING, NULL, -1, scratch, &out, err, sizeof err),
                    KW_ERR_NONE);
    CU_ASSERT_EQUAL(out.len, -1);
    CU_ASSERT_EQUAL(kp_serialize_builtin(KP_SER_BYTES, "x", -5, scratch, &out, err, sizeof err),
                    KW_ERR__SERIALIZATION);
}

void suite_producer_partitioner(void);
void suite_producer_partitioner(void) {
    tu_suite("producer_partitioner");
    tu_test("test_murmur2_matches_java_vectors", test_murmur2_matches_java_vectors);
    tu_test("test_keyed_partition_is_positive_murmur2_mod_n",
            test_keyed_partition_is_positive_murmur2_mod_n);
    tu_test("test_sticky_partition_stays_until_switched",
            test_sticky_partition_stays_until_switched);
    tu_test("test_sticky_switches_spread_over_partitions",
            test_sticky_switches_spread_over_partitions);
    tu_test("test_round_robin_cycles", test_round_robin_cycles);
    tu_test("test_builtin_serializers", test_builtin_serializers);
}
