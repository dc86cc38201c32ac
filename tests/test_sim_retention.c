/* Retention in a scenario: a topic with a small retention.bytes deletes the oldest segments
 * during the run; the audit counts the acknowledged records below the log start as deleted
 * by retention, never as lost. */
#include "sim/runner.h"
#include "tests/tu.h"

#include <string.h>

static void test_audit_counts_deleted_by_retention_not_lost(void) {
    const char *text =
        "{\"name\":\"r\",\"cluster\":{\"brokers\":1,\"topics\":[{\"name\":\"t\",\"partitions\":2,"
        "\"retention.bytes\":4000,\"segment.bytes\":1000}]},\"producer\":{\"linger.ms\":0,"
        "\"acks\":\"all\"},\"workload\":{\"messages\":3000,\"value_size\":100,\"rate\":0},"
        "\"expect\":{\"lost\":0,\"deleted_by_retention\":\">0\"}}";
    sim_scenario *s = NULL;
    char err[512];
    int prc = sim_scenario_parse(text, strlen(text), "r.json", &s, err, sizeof err);
    if (prc)
        fprintf(stderr, "scenario: %s\n", err);
    CU_ASSERT_EQUAL_FATAL(prc, 0);
    sim_run_opts o = {.speed = 0};
    sim_runner *r;
    CU_ASSERT_EQUAL_FATAL(sim_runner_new(s, &o, &r, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(sim_runner_start(r, err, sizeof err), 0);
    CU_ASSERT_TRUE(sim_runner_wait(r, 60000));
    sim_audit a;
    CU_ASSERT_EQUAL(sim_runner_audit(r, &a), 0);
    CU_ASSERT_EQUAL(a.acknowledged, 3000);
    CU_ASSERT_EQUAL(a.lost, 0);
    CU_ASSERT_TRUE(a.deleted_by_retention > 0);
    CU_ASSERT_EQUAL(a.in_log + a.deleted_by_retention, 3000);
    CU_ASSERT_TRUE(a.log_bytes <= 2 * (4000 + 1000) + 2 * 20000); /* bounded: 2 partitions */
    CU_ASSERT_EQUAL(sim_audit_check(&a, s, NULL), 0);
    sim_runner_destroy(r);
    sim_scenario_free(s);
}

void suite_sim_retention(void);
void suite_sim_retention(void) {
    tu_suite("sim_retention");
    tu_test("test_audit_counts_deleted_by_retention_not_lost",
            test_audit_counts_deleted_by_retention_not_lost);
}
