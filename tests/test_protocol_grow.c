/* kw_grow: the one growable-array helper the rooms share. */
#include "protocol/kw.h"
#include "tests/tu.h"

#include <stdint.h>
#include <stdlib.h>

static void test_grow_starts_at_first_then_doubles_keeping_content(void) {
    int32_t *v = NULL;
    int32_t n = 0, cap = 0;
    for (int32_t i = 0; i < 100; i++) {
        CU_ASSERT_TRUE_FATAL(kw_grow(&v, n, &cap, sizeof *v, 4));
        CU_ASSERT_TRUE(cap > n);
        v[n++] = i;
        if (i == 0)
            CU_ASSERT_EQUAL(cap, 4);
    }
    CU_ASSERT_EQUAL(cap, 128); /* 4, 8, 16, 32, 64, 128 */
    for (int32_t i = 0; i < 100; i++)
        CU_ASSERT_EQUAL(v[i], i);
    free(v);
}

static void test_grow_with_room_left_changes_nothing(void) {
    int32_t *v = malloc(8 * sizeof *v);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    int32_t *before = v;
    int32_t cap = 8;
    CU_ASSERT_TRUE(kw_grow(&v, 3, &cap, sizeof *v, 4));
    CU_ASSERT_PTR_EQUAL(v, before);
    CU_ASSERT_EQUAL(cap, 8);
    free(v);
}

static void test_grow_refuses_a_capacity_past_int32_and_keeps_the_array(void) {
    int32_t *v = malloc(sizeof *v);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    int32_t *before = v;
    int32_t cap = INT32_MAX / 2 + 1;
    CU_ASSERT_FALSE(kw_grow(&v, cap, &cap, sizeof *v, 4));
    CU_ASSERT_PTR_EQUAL(v, before);
    CU_ASSERT_EQUAL(cap, INT32_MAX / 2 + 1);
    free(v);
}

void suite_protocol_grow(void);
void suite_protocol_grow(void) {
    tu_suite("protocol_grow");
    tu_test("test_grow_starts_at_first_then_doubles_keeping_content",
            test_grow_starts_at_first_then_doubles_keeping_content);
    tu_test("test_grow_with_room_left_changes_nothing", test_grow_with_room_left_changes_nothing);
    tu_test("test_grow_refuses_a_capacity_past_int32_and_keeps_the_array",
            test_grow_refuses_a_capacity_past_int32_and_keeps_the_array);
}
