/* Partition logs store batches in chunks (mockbroker/log.c, mb_log_store): every stored batch
 * keeps its bytes across chunk sizes from 64 KiB to 4 MiB and batches of their own, replicas
 * share them, and retention, truncation and freeing release them (run under ASan to see a
 * use after free or a leak). */
#include "mockbroker/mb_int.h"
#include "tests/tu.h"

#include <stdlib.h>
#include <string.h>

/* Byte i of batch k. */
static uint8_t pat(int k, size_t i) {
    return (uint8_t)((size_t)k * 131 + i * 7 + (i >> 9));
}

/* Appends n batches of sizes cycling through sz[] to l (stored, as the leader does) and to the
 * follower f (by reference). Returns the number that failed to store. */
static int fill(mb_log *l, mb_log *f, int n, const size_t *sz, size_t nsz, int64_t segment_bytes) {
    int bad = 0;
    for (int k = 0; k < n; k++) {
        size_t len = sz[(size_t)k % nsz];
        uint8_t *src = malloc(len);
        if (!src)
            return n;
        for (size_t i = 0; i < len; i++)
            src[i] = pat(k, i);
        mb_batch *b = mb_batch_borrow(src, len);
        b->count = 1;
        b->base_offset = l->end;
        b->last_offset = l->end;
        uint32_t crc;
        bad += mb_log_store(l, b, segment_bytes, &crc) != 0;
        memset(src, 0xEE, len); /* the request's frame is reused: the log must hold a copy */
        free(src);
        bad += !mb_log_append(l, b);
        bad += !mb_log_append(f, b);
        mb_batch_unref(b);
    }
    return bad;
}

/* Batches whose bytes differ from what was stored. */
static int check(const mb_log *l) {
    int bad = 0;
    for (size_t j = 0; j < l->n; j++) {
        const mb_batch *b = l->v[j];
        int k = (int)b->base_offset;
        for (size_t i = 0; i < b->len; i++)
            if (b->data[i] != pat(k, i)) {
                bad++;
                break;
            }
        bad += ((uintptr_t)b->data & 7) != 0;
    }
    return bad;
}

static void test_log_store_keeps_bytes_across_chunk_sizes(void) {
    static const size_t sizes[] = {100, 1000, 16384, 70000, 300000, 1000000, 3u << 20, 7};
    static const int64_t segs[] = {1 << 20, 1073741824, 100000};
    for (size_t s = 0; s < sizeof segs / sizeof segs[0]; s++) {
        mb_log l = {0}, f = {0};
        CU_ASSERT_EQUAL(fill(&l, &f, 40, sizes, sizeof sizes / sizeof sizes[0], segs[s]), 0);
        CU_ASSERT_EQUAL(l.n, 40);
        CU_ASSERT_EQUAL(check(&l), 0);
        CU_ASSERT_EQUAL(check(&f), 0);
        /* Retention from the old end on the leader, truncation on the follower. */
        mb_log_drop_before(&l, 25);
        CU_ASSERT_EQUAL(l.n, 15);
        mb_log_truncate_index(&f, 10);
        CU_ASSERT_EQUAL(f.n, 10);
        CU_ASSERT_EQUAL(check(&l), 0);
        CU_ASSERT_EQUAL(check(&f), 0);
        /* More appends after the deletions reuse freed chunks. */
        mb_log l2 = {0}, f2 = {0};
        CU_ASSERT_EQUAL(fill(&l2, &f2, 30, sizes, 4, segs[s]), 0);
        CU_ASSERT_EQUAL(check(&l2), 0);
        mb_log_free(&l);
        CU_ASSERT_EQUAL(check(&f), 0); /* the follower's batches outlive the leader's log */
        mb_log_free(&f);
        mb_log_free(&f2);
        CU_ASSERT_EQUAL(check(&l2), 0);
        mb_log_free(&l2);
    }
}

/* Many small batches fill chunks that grow by doubling: fewer chunks than batches, and each
 * batch is stored once. */
static void test_log_store_small_batches_share_chunks(void) {
    static const size_t sizes[] = {61, 200, 1024};
    mb_log l = {0}, f = {0};
    CU_ASSERT_EQUAL(fill(&l, &f, 5000, sizes, 3, 1 << 20), 0);
    CU_ASSERT_EQUAL(check(&l), 0);
    size_t chunks = 0;
    for (size_t j = 0; j < l.n; j++)
        chunks += j == 0 || l.v[j]->chunk != l.v[j - 1]->chunk;
    CU_ASSERT_TRUE(chunks >= 2);
    CU_ASSERT_TRUE(chunks < 20);
    mb_log_free(&l);
    CU_ASSERT_EQUAL(check(&f), 0);
    mb_log_free(&f);
}

void suite_mockbroker_log(void);
void suite_mockbroker_log(void) {
    tu_suite("mockbroker_log");
    tu_test("test_log_store_keeps_bytes_across_chunk_sizes",
            test_log_store_keeps_bytes_across_chunk_sizes);
    tu_test("test_log_store_small_batches_share_chunks", test_log_store_small_batches_share_chunks);
}
