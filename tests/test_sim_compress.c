/* Compression as the simulator shows it: a compressed batch box reads "raw>wire/capacity". */
#include "sim/view_text.h"
#include "tests/tu.h"

#include <string.h>

static void test_compressed_batch_box_shows_raw_and_wire_bytes(void) {
    char b[96];
    sim_vm_batch z = {.records = 120, .bytes = 4000, .raw_bytes = 18432, .linger_left_ms = 2};
    sim_vt_batch_box(b, sizeof b, &z, 16384, 40);
    CU_ASSERT_STRING_EQUAL(b, "[120r 18K>3.9K/16K 2ms]");
    /* Uncompressed (raw == bytes, or not reported): as before. */
    z.raw_bytes = 4000;
    sim_vt_batch_box(b, sizeof b, &z, 16384, 40);
    CU_ASSERT_STRING_EQUAL(b, "[120r 3.9K/16K 2ms]");
    z.raw_bytes = 0;
    sim_vt_batch_box(b, sizeof b, &z, 16384, 40);
    CU_ASSERT_STRING_EQUAL(b, "[120r 3.9K/16K 2ms]");
    /* Narrow panels still get the short form. */
    z.raw_bytes = 18432;
    CU_ASSERT_EQUAL(sim_vt_batch_box(b, sizeof b, &z, 16384, 10), 8);
    CU_ASSERT_STRING_EQUAL(b, "[120r o]");
}

void suite_sim_compress(void);
void suite_sim_compress(void) {
    tu_suite("sim_compress");
    tu_test("compressed_batch_box_shows_raw_and_wire_bytes",
            test_compressed_batch_box_shows_raw_and_wire_bytes);
}
