/* The group member's pieces that need no cluster (sim/group_member.c): the range assignor as
 * Java's RangeAssignor shares partitions, the settings with Kafka's names, defaults and
 * refusals, and courier consume -G's refusals. The member on real sockets is
 * tests/test_sim_groups.c. */
#include "sim/group_member.h"
#include "tests/tu.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

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

/* courier consume refuses what does not fit a group member, exit 2 with the reason, before it
 * connects anywhere; an unreachable cluster is exit 1 within --timeout-ms. */
static void test_consume_refuses_bad_group_options(void) {
    struct {
        const char *args, *want;
        int rc;
    } cases[] = {
        {"-G g -o 5", "-o N is not used with -G", 2},
        {"-G g -p 1", "-p is not used with -G", 2},
        {"-G g -X linger.ms=5", "'linger.ms' is not a consumer setting", 2},
        {"-G g -X auto.offset.reset", "expected key=value", 2},
        {"-X session.timeout.ms=6000", "use it with -G GROUP", 2},
        {"-G g -X heartbeat.interval.ms=50000", "must be lower than session.timeout.ms", 2},
        {"-G g --timeout-ms 300", "Connection refused", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char cmd[512], out[2048];
        snprintf(cmd, sizeof cmd, "timeout 60 '%s' consume -b 127.0.0.1:1 -t t %s 2>&1",
                 tu_courier_path(), cases[i].args);
        FILE *p = popen(cmd, "r");
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        size_t n = fread(out, 1, sizeof out - 1, p);
        out[n] = '\0';
        int st = pclose(p);
        int rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        if (rc != cases[i].rc || !strstr(out, cases[i].want))
            fprintf(stderr, "\n    courier consume %s: exit %d: %s", cases[i].args, rc, out);
        CU_ASSERT_EQUAL(rc, cases[i].rc);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, cases[i].want));
    }
}

void suite_sim_group_member(void);
void suite_sim_group_member(void) {
    tu_suite("sim_group_member");
    tu_test("test_range_gives_the_first_members_one_more",
            test_range_gives_the_first_members_one_more);
    tu_test("test_settings_keep_kafkas_names_and_refuse_bad_values",
            test_settings_keep_kafkas_names_and_refuse_bad_values);
    tu_test("test_consume_refuses_bad_group_options", test_consume_refuses_bad_group_options);
}
