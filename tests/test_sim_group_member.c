/* The group member's pieces that need no cluster (sim/group_member.c): the range assignor as
 * Java's RangeAssignor shares partitions, and the settings with Kafka's names, defaults and
 * refusals. The member on real sockets is tests/test_sim_groups.c. */
#include "sim/group_member.h"
#include "tests/tu.h"

#include <stdio.h>
#include <string.h>

static void test_range_gives_the_first_members_one_more(void) {
    int first[4], count[4];
    sim_gm_range(6, 2, first, count);
    CU_ASSERT_TRUE(first[0] == 0 && count[0] == 3 && first[1] == 3 && count[1] == 3);
    /* RangeAssignor's javadoc example: 3 partitions, 2 consumers: C0 [0,1], C1 [2] */
    sim_gm_range(3, 2, first, count);
    CU_ASSERT_TRUE(first[0] == 0 && count[0] == 2 && first[1] == 2 && count[1] == 1);
    sim_gm_range(7, 3, first, count);
    CU_ASSERT_TRUE(count[0] == 3 && count[1] == 2 && count[2] == 2);
    CU_ASSERT_TRUE(first[0] == 0 && first[1] == 3 && first[2] == 5);
    /* more members than partitions: the last get nothing */
    sim_gm_range(2, 4, first, count);
    CU_ASSERT_TRUE(count[0] == 1 && count[1] == 1 && count[2] == 0 && count[3] == 0);
}

static void test_settings_keep_kafkas_names_and_refuse_bad_values(void) {
    sim_gm_conf *c = sim_gm_conf_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    char err[300];
    /* every key the completion offers is accepted with a sensible value */
    const char *values[] = {"g", "10000", "1000", "60000", "false", "100", "earliest", "5000",
                            "range"};
    int i = 0;
    for (; sim_gm_keys[i]; i++) {
        int rc = sim_gm_conf_set(c, sim_gm_keys[i], values[i], err, sizeof err);
        if (rc)
            fprintf(stderr, "\n    %s=%s: %s", sim_gm_keys[i], values[i], err);
        CU_ASSERT_EQUAL(rc, 0);
    }
    CU_ASSERT_EQUAL(i, (int)(sizeof values / sizeof values[0]));
    CU_ASSERT_EQUAL(sim_gm_conf_set(c, "auto.offset.reset", "sideways", err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "auto.offset.reset: 'sideways'"));
    CU_ASSERT_EQUAL(sim_gm_conf_set(c, "session.timeout.ms", "1e3", err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "session.timeout.ms"));
    CU_ASSERT_EQUAL(sim_gm_conf_set(c, "partition.assignment.strategy", "roundrobin", err,
                                    sizeof err),
                    -1);
    CU_ASSERT_EQUAL(sim_gm_conf_set(c, "linger.ms", "5", err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "'linger.ms' is not a consumer setting"));
    CU_ASSERT_EQUAL(sim_gm_conf_set(c, "group.id", "", err, sizeof err), -1);
    /* heartbeat.interval.ms must stay below session.timeout.ms (Java refuses it too) */
    sim_group_member *m = NULL;
    CU_ASSERT_EQUAL(sim_gm_conf_set(c, "heartbeat.interval.ms", "10000", err, sizeof err), 0);
    CU_ASSERT_EQUAL(sim_gm_new("127.0.0.1:1", "t", c, NULL, NULL, NULL, &m, err, sizeof err),
                    KW_ERR__INVALID_ARG);
    CU_ASSERT_PTR_NULL(m);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "heartbeat.interval.ms (10000) must be lower"));
    sim_gm_conf_destroy(c);
}

void suite_sim_group_member(void);
void suite_sim_group_member(void) {
    tu_suite("sim_group_member");
    tu_test("test_range_gives_the_first_members_one_more",
            test_range_gives_the_first_members_one_more);
    tu_test("test_settings_keep_kafkas_names_and_refuse_bad_values",
            test_settings_keep_kafkas_names_and_refuse_bad_values);
}
