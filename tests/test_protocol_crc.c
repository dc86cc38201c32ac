/* CRC-32C: known answers (Kafka's check value, RFC 3720 iSCSI vectors), hardware vs table,
 * incremental use, and a throughput measurement. */
#include "protocol/kw.h"
#include "tests/test_protocol_util.h"
#include "tests/tu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void test_crc32c_check_value(void) {
    CU_ASSERT_EQUAL(kw_crc32c(0, "123456789", 9), 0xE3069283u);
    CU_ASSERT_EQUAL(kw_crc32c_sw(0, "123456789", 9), 0xE3069283u);
    CU_ASSERT_EQUAL(kw_crc32c(0, "", 0), 0u);
    CU_ASSERT_EQUAL(kw_crc32c(0, "a", 1), 0xC1D04330u);
}

/* RFC 3720 appendix B.4 test vectors. */
static void test_crc32c_rfc3720_vectors(void) {
    uint8_t buf[32];
    memset(buf, 0, sizeof buf);
    CU_ASSERT_EQUAL(kw_crc32c(0, buf, 32), 0x8A9136AAu);
    CU_ASSERT_EQUAL(kw_crc32c_sw(0, buf, 32), 0x8A9136AAu);
    memset(buf, 0xff, sizeof buf);
    CU_ASSERT_EQUAL(kw_crc32c(0, buf, 32), 0x62A8AB43u);
    CU_ASSERT_EQUAL(kw_crc32c_sw(0, buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    CU_ASSERT_EQUAL(kw_crc32c(0, buf, 32), 0x46DD794Eu);
    CU_ASSERT_EQUAL(kw_crc32c_sw(0, buf, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)(31 - i);
    CU_ASSERT_EQUAL(kw_crc32c(0, buf, 32), 0x113FDB5Cu);
    CU_ASSERT_EQUAL(kw_crc32c_sw(0, buf, 32), 0x113FDB5Cu);
}

static uint32_t xorshift(uint32_t *s) {
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static void test_crc32c_hardware_and_table_agree_at_every_alignment(void) {
    enum { N = 1000 };
    uint8_t *buf = malloc(N + 8);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    uint32_t seed = 12345;
    for (size_t i = 0; i < N + 8; i++)
        buf[i] = (uint8_t)xorshift(&seed);
    int bad = 0;
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len <= N; len += (len < 70 ? 1 : 37))
            bad += kw_crc32c(0, buf + off, len) != kw_crc32c_sw(0, buf + off, len);
    CU_ASSERT_EQUAL(bad, 0);
    free(buf);
}

/* Lengths around the three-stream blocks (3 x 256 and 3 x 4096 bytes) and several of them,
 * at every alignment, against the table-driven CRC. */
static void test_crc32c_three_streams_agree_with_table_across_block_sizes(void) {
    enum { N = 3 * 4096 * 3 + 3 * 256 * 2 + 100 };
    uint8_t *buf = malloc(N + 8);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    uint32_t seed = 777;
    for (size_t i = 0; i < N + 8; i++)
        buf[i] = (uint8_t)xorshift(&seed);
    static const size_t edges[] = {767,   768,   769,         1535,  1536,        1544,  12287,
                                   12288, 12289, 12288 + 768, 24576, 24576 + 775, 36863, 36864};
    int bad = 0, tried = 0;
    for (size_t off = 0; off < 8; off++) {
        for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++) {
            if (edges[e] > N)
                continue;
            bad += kw_crc32c(0, buf + off, edges[e]) != kw_crc32c_sw(0, buf + off, edges[e]);
            bad += kw_crc32c(0x12345678u, buf + off, edges[e]) !=
                   kw_crc32c_sw(0x12345678u, buf + off, edges[e]);
            tried += 2;
        }
        for (size_t len = 700; len <= N; len += 997) {
            bad += kw_crc32c(0, buf + off, len) != kw_crc32c_sw(0, buf + off, len);
            tried++;
        }
    }
    CU_ASSERT_TRUE(tried > 300);
    CU_ASSERT_EQUAL(bad, 0);
    /* The copying CRC: same value, same bytes, at every alignment of source and target. */
    uint8_t *dst = malloc(N + 16);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dst);
    int badcopy = 0;
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len <= N; len += (len < 40 ? 1 : 1231)) {
            memset(dst, 0xAB, N + 16);
            uint32_t c = kw_crc32c_copy(7, dst + (7 - off), buf + off, len);
            badcopy += c != kw_crc32c_sw(7, buf + off, len);
            badcopy += memcmp(dst + (7 - off), buf + off, len) != 0;
            badcopy += dst[7 - off + len] != 0xAB; /* nothing written past the end */
        }
    CU_ASSERT_EQUAL(badcopy, 0);
    free(dst);
    /* A flipped bit in the second and third streams is seen. */
    uint32_t whole = kw_crc32c(0, buf, 3 * 4096);
    buf[4096 + 5] ^= 1;
    CU_ASSERT_NOT_EQUAL(kw_crc32c(0, buf, 3 * 4096), whole);
    buf[4096 + 5] ^= 1;
    buf[2 * 4096 + 7] ^= 0x80;
    CU_ASSERT_NOT_EQUAL(kw_crc32c(0, buf, 3 * 4096), whole);
    free(buf);
}

static void test_crc32c_incremental_equals_one_shot(void) {
    enum { N = 4096 };
    uint8_t *buf = malloc(N);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    uint32_t seed = 99;
    for (size_t i = 0; i < N; i++)
        buf[i] = (uint8_t)xorshift(&seed);
    uint32_t whole = kw_crc32c(0, buf, N);
    int bad = 0;
    for (size_t cut = 0; cut <= N; cut += 61) {
        uint32_t c = kw_crc32c(0, buf, cut);
        c = kw_crc32c(c, buf + cut, N - cut);
        bad += c != whole;
        uint32_t s = kw_crc32c_sw(0, buf, cut);
        s = kw_crc32c_sw(s, buf + cut, N - cut);
        bad += s != whole;
    }
    CU_ASSERT_EQUAL(bad, 0);
    /* Any single-bit change is detected. */
    buf[1000] ^= 0x10;
    CU_ASSERT_NOT_EQUAL(kw_crc32c(0, buf, N), whole);
    free(buf);
}

/* Measures (and prints) throughput over 16 KiB buffers, the default batch.size. The bound
 * asserted is loose so sanitizer builds pass; the printed numbers are the measurement. */
static void test_crc32c_throughput(void) {
    enum { N = 16384, ROUNDS = 4096 }; /* 64 MiB */
    uint8_t *buf = malloc(N);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    for (size_t i = 0; i < N; i++)
        buf[i] = (uint8_t)(i * 31);
    uint32_t acc = 0;
    double t0 = now_s();
    for (int r = 0; r < ROUNDS; r++)
        acc += kw_crc32c(0, buf, N);
    double t1 = now_s();
    for (int r = 0; r < ROUNDS / 8; r++)
        acc += kw_crc32c_sw(0, buf, N);
    double t2 = now_s();
    double mib = (double)N * ROUNDS / (1024.0 * 1024.0);
    double hw = mib / (t1 - t0 + 1e-9), sw = mib / 8 / (t2 - t1 + 1e-9);
    fprintf(stderr, "\n    crc32c: kw_crc32c %.0f MiB/s, slice-by-8 %.0f MiB/s (acc %08x) ", hw, sw,
            acc);
    CU_ASSERT_TRUE(hw > 20.0);
    CU_ASSERT_TRUE(sw > 20.0);
    free(buf);
}

void suite_protocol_crc(void);
void suite_protocol_crc(void) {
    tu_suite("protocol_crc");
    tu_test("test_crc32c_check_value", test_crc32c_check_value);
    tu_test("test_crc32c_rfc3720_vectors", test_crc32c_rfc3720_vectors);
    tu_test("test_crc32c_hardware_and_table_agree_at_every_alignment",
            test_crc32c_hardware_and_table_agree_at_every_alignment);
    tu_test("test_crc32c_three_streams_agree_with_table_across_block_sizes",
            test_crc32c_three_streams_agree_with_table_across_block_sizes);
    tu_test("test_crc32c_incremental_equals_one_shot", test_crc32c_incremental_equals_one_shot);
    tu_test("test_crc32c_throughput", test_crc32c_throughput);
}
