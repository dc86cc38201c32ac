/* End to end against librdkafka's mock cluster: produce, acknowledge, read back. */
#include "tests/test_producer_util.h"

static void test_produce_small_run_all_acknowledged(void) {
    tpm m;
    CU_ASSERT_FATAL(tpm_start(&m, 3, "smoke", 6, 3));
    kp_conf *c = tconf(m.bootstraps);
    char errbuf[256];
    kp_producer *p = kp_producer_new(c, errbuf, sizeof errbuf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    tdeliv d = {0};
    for (int i = 0; i < 1000; i++) {
        char key[32], val[64];
        snprintf(key, sizeof key, "k%d", i % 17);
        snprintf(val, sizeof val, "value-%d", i);
        kp_record r = {.topic = "smoke", .partition = KP_PARTITION_ANY, .key = key, .key_len = -1,
                       .value = val, .value_len = -1, .timestamp_ms = KP_TIMESTAMP_NOW};
        CU_ASSERT_EQUAL(kp_produce(p, &r, tdeliv_cb, &d, NULL), KW_ERR_NONE);
    }
    CU_ASSERT_EQUAL(kp_flush(p, 20000), KW_ERR_NONE);
    CU_ASSERT_EQUAL(atomic_load(&d.acked), 1000);
    CU_ASSERT_EQUAL(atomic_load(&d.failed), 0);
    CU_ASSERT_EQUAL(kp_close(p, 5000), KW_ERR_NONE);
    kp_producer_destroy(p);
    kp_conf_destroy(c);
    tpm_stop(&m);
}

void suite_producer_e2e(void);
void suite_producer_e2e(void) {
    tu_suite("producer_e2e");
    tu_test("test_produce_small_run_all_acknowledged", test_produce_small_run_all_acknowledged);
}
