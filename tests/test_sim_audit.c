/* The audit's expectation checks and reports, on hand-made audits: every metric name the
 * loader accepts has a value, all-of and any-of groups, the unmet lines, the JSON report. */
#include "sim/audit.h"
#include "tests/tu.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sim_scenario *parse(const char *expect) {
    char text[2048], err[512];
    snprintf(text, sizeof text,
             "{\"name\":\"a\",\"cluster\":{\"brokers\":2,\"topics\":[{\"name\":\"t\"}]},"
             "\"workload\":{\"messages\":10},\"expect\":%s}",
             expect);
    sim_scenario *s = NULL;
    if (sim_scenario_parse(text, strlen(text), "a.json", &s, err, sizeof err))
        fprintf(stderr, "\n  %s\n", err);
    return s;
}

static sim_audit sample(void) {
    sim_audit a;
    memset(&a, 0, sizeof a);
    a.sent = 100;
    a.acknowledged = 90;
    a.failed = 10;
    a.n_failed_by = 2;
    a.failed_by[0] = (sim_audit_err){19, "NOT_ENOUGH_REPLICAS", 7};
    a.failed_by[1] = (sim_audit_err){-191, "BUFFER_EXHAUSTED", 3};
    a.in_log = 88;
    a.lost = 2;
    a.records_per_request_avg = 4.5;
    a.n_brokers = 2;
    a.requests_per_broker[0] = 11;
    a.requests_per_broker[1] = 13;
    return a;
}

/* Runs sim_audit_check with its unmet lines captured. */
static int check(const sim_audit *a, const sim_scenario *s, char *out, size_t size) {
    FILE *f = fmemopen(out, size, "w");
    int n = sim_audit_check(a, s, f);
    fclose(f);
    return n;
}

static void test_every_expect_metric_has_a_value(void) {
    sim_audit a = sample();
    double v;
    for (int i = 0; sim_expect_metrics[i]; i++)
        CU_ASSERT_TRUE(sim_audit_metric(&a, sim_expect_metrics[i], &v));
    CU_ASSERT_TRUE(sim_audit_metric(&a, "failed.NOT_ENOUGH_REPLICAS", &v));
    CU_ASSERT_EQUAL(v, 7);
    CU_ASSERT_TRUE(sim_audit_metric(&a, "failed.REQUEST_TIMED_OUT", &v));
    CU_ASSERT_EQUAL(v, 0); /* a known error that did not happen counts 0 */
    CU_ASSERT_TRUE(sim_audit_metric(&a, "lost", &v));
    CU_ASSERT_EQUAL(v, 2);
    CU_ASSERT_FALSE(sim_audit_metric(&a, "nonsense", &v));
}

static void test_all_conditions_must_hold(void) {
    sim_audit a = sample();
    char out[1024] = "";
    sim_scenario *s = parse("{\"lost\": \">0\", \"acknowledged\": 90, "
                            "\"failed.BUFFER_EXHAUSTED\": \">=3\", \"records_per_request_avg\": "
                            "\"<5\"}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(check(&a, s, out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, "");
    sim_scenario_free(s);

    s = parse("{\"lost\": 0, \"duplicated\": \"==0\", \"sent\": \"!=100\"}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(check(&a, s, out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "expect lost == 0: unmet, got lost = 2\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "expect sent != 100: unmet, got sent = 100\n"));
    CU_ASSERT_PTR_NULL(strstr(out, "duplicated"));
    sim_scenario_free(s);
}

static void test_any_of_needs_one(void) {
    sim_audit a = sample();
    char out[1024] = "";
    sim_scenario *s = parse("{\"any_of\": [{\"reordered\": \">0\"}, {\"lost\": \">0\"}]}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(check(&a, s, out, sizeof out), 0);
    sim_scenario_free(s);
    s = parse("{\"any_of\": [{\"reordered\": \">0\"}, {\"duplicated\": \">0\"}], \"lost\": 2}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(check(&a, s, out, sizeof out), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "expect any of (reordered > 0 or duplicated > 0): unmet, "
                                       "got reordered = 0, duplicated = 0"));
    sim_scenario_free(s);
}

static void test_json_report_parses_and_says_it_all(void) {
    sim_audit a = sample();
    sim_scenario *s = parse("{\"lost\": 0}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    char buf[4096];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    sim_audit_print_json(&a, s, f);
    fclose(f);
    cJSON *j = cJSON_Parse(buf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(j, "sent")->valueint, 100);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(j, "lost")->valueint, 2);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(j, "expect_unmet")->valueint, 1);
    const cJSON *by = cJSON_GetObjectItem(j, "failed_by");
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(by, "BUFFER_EXHAUSTED")->valueint, 3);
    const cJSON *rpb = cJSON_GetObjectItem(j, "requests_per_broker");
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(rpb, "2")->valueint, 13);
    cJSON_Delete(j);

    f = fmemopen(buf, sizeof buf, "w");
    sim_audit_print_text(&a, s, f);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "NOT_ENOUGH_REPLICAS"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "requests per broker     1:11 2:13"));
    sim_scenario_free(s);
}

void suite_sim_audit(void);
void suite_sim_audit(void) {
    tu_suite("sim_audit");
    tu_test("test_every_expect_metric_has_a_value", test_every_expect_metric_has_a_value);
    tu_test("test_all_conditions_must_hold", test_all_conditions_must_hold);
    tu_test("test_any_of_needs_one", test_any_of_needs_one);
    tu_test("test_json_report_parses_and_says_it_all", test_json_report_parses_and_says_it_all);
}
