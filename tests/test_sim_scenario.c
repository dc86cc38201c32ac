/* The scenario loader: every kind of bad file gives its documented message (JSON path and
 * reason) — through the parser and through the real `courier run`, which exits 2 —, every
 * built-in scenario loads, and the embedded default is scenarios/demo.json. */
#include "sim/scenario.h"
#include "tests/test_sim_util.h"
#include "tests/tu.h"

#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A valid scenario with a placeholder "@" where a test splices in its fragment. */
static const char base[] =
    "{\n"
    "  \"name\": \"t\",\n"
    "  \"cluster\": {\"brokers\": 3, \"topics\": [{\"name\": \"orders\", \"partitions\": 3,"
    " \"replication\": 3}]},\n"
    "  \"producer\": {\"linger.ms\": 5},\n"
    "  \"workload\": {\"messages\": 100, \"rate\": 100}\n"
    "  @\n"
    "}\n";

/* Builds base with `frag` at "@" into buf. */
static const char *with(const char *frag, char *buf, size_t size) {
    const char *at = strchr(base, '@');
    snprintf(buf, size, "%.*s%s%s", (int)(at - base), base, frag, at + 1);
    return buf;
}

/* Parses text; returns true when it failed with a message containing `want`. */
static bool fails_with(const char *text, const char *want) {
    char err[1024] = "";
    sim_scenario *s = NULL;
    int rc = sim_scenario_parse(text, strlen(text), "t.json", &s, err, sizeof err);
    sim_scenario_free(s);
    if (rc == 0) {
        fprintf(stderr, "\n  expected failure '%s' but it parsed\n", want);
        return false;
    }
    if (!strstr(err, want)) {
        fprintf(stderr, "\n  expected '%s' in: %s\n", want, err);
        return false;
    }
    return true;
}

static bool frag_fails_with(const char *frag, const char *want) {
    char buf[4096];
    return fails_with(with(frag, buf, sizeof buf), want);
}

static void test_valid_base_parses(void) {
    char buf[4096], err[512];
    sim_scenario *s = NULL;
    const char *text = with(", \"timeline\": [{\"at_ms\": 5, \"fault\": \"broker_down\", "
                            "\"broker\": 3}, {\"at_ms\": 1, \"fault\": \"heal\"}],"
                            " \"expect\": {\"lost\": 0, \"failed.NOT_ENOUGH_REPLICAS\": \">=2\","
                            " \"any_of\": [{\"reordered\": \">0\"}, {\"duplicated\": \">0\"}]}",
                            buf, sizeof buf);
    CU_ASSERT_EQUAL_FATAL(sim_scenario_parse(text, strlen(text), "t.json", &s, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(s->workload.topic, "orders");
    CU_ASSERT_EQUAL(s->cluster.brokers, 3);
    CU_ASSERT_EQUAL(s->n_producer, 1);
    CU_ASSERT_STRING_EQUAL(s->producer[0].value, "5");
    CU_ASSERT_EQUAL(s->n_timeline, 2);
    CU_ASSERT_EQUAL(s->timeline[0].kind, SIM_FAULT_HEAL); /* sorted by time */
    CU_ASSERT_EQUAL(s->timeline[0].broker, -1);
    CU_ASSERT_EQUAL(s->timeline[1].broker, 3);
    CU_ASSERT_EQUAL(s->n_expect, 4);
    CU_ASSERT_EQUAL(s->expect[1].op, SIM_CMP_GE);
    CU_ASSERT_EQUAL(s->expect[1].value, 2);
    CU_ASSERT_EQUAL(s->expect[2].group, 1);
    CU_ASSERT_EQUAL(s->expect[3].group, 1);
    sim_scenario_free(s);
}

static void test_syntax_error_gives_line_and_column(void) {
    CU_ASSERT_TRUE(fails_with("{\n  \"name\": \"x\",\n  \"cluster\": {,}\n}", "t.json:3:"));
    CU_ASSERT_TRUE(fails_with("{\"name\": ", "JSON syntax error"));
    CU_ASSERT_TRUE(fails_with("{} {}", "text after the end"));
    CU_ASSERT_TRUE(fails_with("[1]", "(top level): expected an object, got an array"));
}

static void test_unknown_and_duplicate_keys_are_named(void) {
    CU_ASSERT_TRUE(frag_fails_with(", \"lingr\": 5", "t.json: lingr: unknown key"));
    CU_ASSERT_TRUE(fails_with("{\"name\": \"a\", \"name\": \"b\"}", "name: duplicate key"));
    CU_ASSERT_TRUE(
        frag_fails_with(", \"expect\": {\"lost\": 0, \"lost\": 1}", "expect.lost: duplicate key"));
    CU_ASSERT_TRUE(fails_with("{\"name\":\"t\",\"cluster\":{\"brokers\":3,\"brokers\":2}}",
                              "cluster.brokers: duplicate key"));
    CU_ASSERT_TRUE(frag_fails_with(", \"timeline\": [{\"at_ms\": 1, \"fault\": \"broker_down\","
                                   " \"broker\": 1, \"ms\": 5}]",
                                   "timeline[0].ms: not a field of broker_down"));
}

static void test_bad_broker_id_names_the_path(void) {
    CU_ASSERT_TRUE(frag_fails_with(
        ", \"timeline\": [{\"at_ms\": 1, \"fault\": \"broker_down\", \"broker\": 1},"
        " {\"at_ms\": 2, \"fault\": \"broker_up\", \"broker\": 1},"
        " {\"at_ms\": 3, \"fault\": \"rtt\", \"broker\": 7, \"ms\": 10}]",
        "t.json: timeline[2].broker: 7 is not a broker id (1..3)"));
    CU_ASSERT_TRUE(frag_fails_with(", \"timeline\": [{\"at_ms\": 1, \"fault\": \"broker_down\"}]",
                                   "timeline[0].broker: missing (required)"));
}

static void test_types_and_ranges_are_checked(void) {
    CU_ASSERT_TRUE(fails_with("{\"name\":\"t\",\"cluster\":{\"brokers\":\"3\"}}",
                              "cluster.brokers: expected an integer, got a string"));
    CU_ASSERT_TRUE(fails_with("{\"name\":\"t\",\"cluster\":{\"brokers\":2.5}}",
                              "cluster.brokers: 2.5 is not a whole number"));
    CU_ASSERT_TRUE(fails_with("{\"name\":\"t\",\"cluster\":{\"brokers\":1e12}}",
                              "cluster.brokers: 1e12 is out of range (1..16)"));
    CU_ASSERT_TRUE(fails_with("{\"name\":\"t\",\"cluster\":{\"brokers\":2,\"topics\":"
                              "[{\"name\":\"a\",\"replication\":3}]}}",
                              "cluster.topics[0].replication: 3 is more than the 2 brokers"));
    CU_ASSERT_TRUE(fails_with("{\"name\":\"t\",\"cluster\":{\"brokers\":2,\"topics\":"
                              "[{\"name\":\"a b\"}]}}",
                              "cluster.topics[0].name: 'a b': a topic name"));
    CU_ASSERT_TRUE(fails_with("{\"name\":\"t\",\"cluster\":{\"brokers\":2,\"topics\":"
                              "[{\"name\":\"a\"}]}}",
                              "t.json: workload: missing (required)"));
    CU_ASSERT_TRUE(fails_with("{\"cluster\":{}}", "name: missing (required)"));
}

static void test_faults_are_validated(void) {
    CU_ASSERT_TRUE(frag_fails_with(", \"timeline\": [{\"at_ms\": 1, \"fault\": \"explode\"}]",
                                   "timeline[0].fault: unknown fault 'explode'"));
    CU_ASSERT_TRUE(frag_fails_with(", \"timeline\": {}", "timeline: expected an array"));
    CU_ASSERT_TRUE(frag_fails_with(", \"timeline\": [{\"at_ms\": -1, \"fault\": \"heal\"}]",
                                   "timeline[0].at_ms: -1 is out of range"));
    CU_ASSERT_TRUE(frag_fails_with(", \"timeline\": [{\"at_ms\": 1, \"fault\": \"inject_error\","
                                   " \"code\": \"NOT_AN_ERROR\"}]",
                                   "timeline[0].code: 'NOT_AN_ERROR' is not a Kafka error name"));
    CU_ASSERT_TRUE(frag_fails_with(", \"timeline\": [{\"at_ms\": 1, \"fault\": \"inject_error\","
                                   " \"api\": \"Sing\", \"code\": 6}]",
                                   "timeline[0].api: unknown API 'Sing'"));
    CU_ASSERT_TRUE(frag_fails_with(", \"timeline\": [{\"at_ms\": 1, \"fault\": \"move_leader\","
                                   " \"partition\": 3, \"broker\": 2}]",
                                   "timeline[0].partition: 3 is not a partition of orders (0..2)"));
    CU_ASSERT_TRUE(frag_fails_with(", \"timeline\": [{\"at_ms\": 1, \"fault\": \"move_leader\","
                                   " \"topic\": \"nope\", \"partition\": 0, \"broker\": 2}]",
                                   "timeline[0].topic: 'nope' is not a topic"));
}

static void test_producer_keys_are_checked_by_the_producer(void) {
    CU_ASSERT_TRUE(fails_with("{\"name\":\"t\",\"cluster\":{\"brokers\":1,\"topics\":[{\"name\":"
                              "\"a\"}]},\"producer\":{\"lingr.ms\":5}}",
                              "producer.lingr.ms: "));
    CU_ASSERT_TRUE(fails_with("{\"name\":\"t\",\"cluster\":{\"brokers\":1,\"topics\":[{\"name\":"
                              "\"a\"}]},\"producer\":{\"linger.ms\":\"soon\"}}",
                              "producer.linger.ms: "));
    CU_ASSERT_TRUE(fails_with("{\"name\":\"t\",\"cluster\":{\"brokers\":1,\"topics\":[{\"name\":"
                              "\"a\"}]},\"producer\":{\"bootstrap.servers\":\"x:1\"}}",
                              "producer.bootstrap.servers: set by the simulator"));
    CU_ASSERT_TRUE(fails_with("{\"name\":\"t\",\"cluster\":{\"brokers\":1,\"topics\":[{\"name\":"
                              "\"a\"}]},\"producer\":{\"acks\":[1]}}",
                              "producer.acks: expected a string, number or boolean, got an array"));
}

static void test_expectations_are_validated(void) {
    CU_ASSERT_TRUE(
        frag_fails_with(", \"expect\": {\"lossed\": 0}", "expect.lossed: unknown metric"));
    CU_ASSERT_TRUE(frag_fails_with(", \"expect\": {\"lost\": \">>0\"}",
                                   "expect.lost: '>>0' is not a condition"));
    CU_ASSERT_TRUE(frag_fails_with(", \"expect\": {\"failed.NOPE\": 1}",
                                   "expect.failed.NOPE: 'NOPE' is not an error name"));
    CU_ASSERT_TRUE(frag_fails_with(", \"expect\": {\"any_of\": []}",
                                   "expect.any_of: expected a non-empty array"));
    CU_ASSERT_TRUE(frag_fails_with(", \"expect\": {\"lost\": true}",
                                   "expect.lost: expected a number or a condition string"));
}

static void test_workload_is_validated(void) {
    CU_ASSERT_TRUE(fails_with("{\"name\":\"t\",\"cluster\":{\"brokers\":1,\"topics\":[{\"name\":"
                              "\"a\"}]},\"workload\":{\"rate\":5}}",
                              "workload: needs \"messages\" or \"duration_ms\""));
    CU_ASSERT_TRUE(fails_with("{\"name\":\"t\",\"cluster\":{\"brokers\":1,\"topics\":[{\"name\":"
                              "\"a\"}]},\"workload\":{\"messages\":5,\"topic\":\"b\"}}",
                              "workload.topic: 'b' is not a topic of cluster.topics"));
    CU_ASSERT_TRUE(fails_with("{\"name\":\"t\",\"cluster\":{\"brokers\":1,\"topics\":[{\"name\":"
                              "\"a\"}]},\"workload\":{\"messages\":5,\"value_size\":{\"min\":9,"
                              "\"max\":3}}}",
                              "workload.value_size.max: 3 is below min 9"));
    CU_ASSERT_TRUE(fails_with("{\"name\":\"t\",\"cluster\":{\"brokers\":1,\"topics\":[{\"name\":"
                              "\"a\"}]},\"workload\":{\"messages\":5,\"rate\":\"fast\"}}",
                              "workload.rate: expected records per second or \"unthrottled\""));
}

/* --- through the real binary ----------------------------------------------------------- */

/* Runs `courier run FILE --headless`, capturing stderr; returns the exit code (-1 on
 * a signal). */
static int run_courier(const char *file, char *err, size_t errsize) {
    char *argv[] = {"courier", "run", (char *)file, "--headless", NULL};
    return ts_run_courier(argv, NULL, 0, err, errsize, -1);
}

static const char *write_temp(const char *text, char *path, size_t size) {
    snprintf(path, size, "/tmp/courier-test-scenario-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    ssize_t w = write(fd, text, strlen(text));
    (void)w;
    close(fd);
    return path;
}

static void expect_exit2(const char *text, const char *want) {
    char path[64], err[2048];
    CU_ASSERT_PTR_NOT_NULL_FATAL(write_temp(text, path, sizeof path));
    int rc = run_courier(path, err, sizeof err);
    CU_ASSERT_EQUAL(rc, 2);
    if (!strstr(err, want)) {
        fprintf(stderr, "\n  expected '%s' in: %s\n", want, err);
        CU_FAIL("message not found");
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(err, path)); /* names the file */
    unlink(path);
}

static void test_courier_run_bad_files_exit_2(void) {
    char buf[4096];
    expect_exit2("{\n \"name\": \"x\",,\n}", "JSON syntax error");
    expect_exit2(with(", \"lingr\": 5", buf, sizeof buf), "lingr: unknown key");
    expect_exit2(
        with(", \"timeline\": [{\"at_ms\": 1, \"fault\": \"rtt\", \"broker\": 1, \"ms\": 1},"
             " {\"at_ms\": 1, \"fault\": \"rtt\", \"broker\": 1, \"ms\": 1},"
             " {\"at_ms\": 3, \"fault\": \"broker_down\", \"broker\": 7}]",
             buf, sizeof buf),
        "timeline[2].broker: 7 is not a broker id (1..3)");
    expect_exit2("{\"name\":\"t\",\"name\":\"u\"}", "name: duplicate key");
    expect_exit2(with(", \"expect\": {\"lost\": \"lots\"}", buf, sizeof buf),
                 "expect.lost: 'lots' is not a condition");
    expect_exit2("", "JSON syntax error");
}

/* Runs `courier run ARGS...` (no --headless added); returns the exit code, stdout in out. */
static int run_args(char *const argv[], char *out, size_t outsize) {
    int fds[2];
    if (pipe(fds))
        return -100;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        close(fds[0]);
        execv(tu_courier_path(), argv);
        _exit(127);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t k;
    while ((k = read(fds[0], out + n, outsize - 1 - n)) > 0)
        n += (size_t)k;
    out[n] = '\0';
    close(fds[0]);
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_courier_run_help_and_bad_options(void) {
    char out[8192];
    char *help[] = {"courier", "run", "--help", NULL};
    CU_ASSERT_EQUAL(run_args(help, out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "usage: courier run [options] SCENARIO"));
    char *none[] = {"courier", "run", NULL};
    CU_ASSERT_EQUAL(run_args(none, out, sizeof out), 2);
    char *unknown[] = {"courier", "run", "scenarios/min-isr.json", "--fast", NULL};
    CU_ASSERT_EQUAL(run_args(unknown, out, sizeof out), 2);
    char *report[] = {"courier", "run", "scenarios/min-isr.json", "--headless", "--report",
                      "xml",     NULL};
    CU_ASSERT_EQUAL(run_args(report, out, sizeof out), 2);
    char *both[] = {"courier", "run", "scenarios/min-isr.json", "--headless", "--view", NULL};
    CU_ASSERT_EQUAL(run_args(both, out, sizeof out), 2);
    char *seed[] = {"courier", "run", "scenarios/min-isr.json", "--headless", "--seed", "-4", NULL};
    CU_ASSERT_EQUAL(run_args(seed, out, sizeof out), 2);
    char *speed[] = {"courier", "run", "scenarios/min-isr.json", "--headless", "--speed",
                     "5000",    NULL};
    CU_ASSERT_EQUAL(run_args(speed, out, sizeof out), 2);
    /* the view needs a terminal: with stdout on a pipe it refuses, exit 2 */
    char *view[] = {"courier", "run", "scenarios/min-isr.json", NULL};
    CU_ASSERT_EQUAL(run_args(view, out, sizeof out), 2);
}

static void test_courier_run_usage_errors_exit_2(void) {
    char err[2048];
    CU_ASSERT_EQUAL(run_courier("/nonexistent/scenario.json", err, sizeof err), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot read /nonexistent/scenario.json"));
    CU_ASSERT_EQUAL(run_courier("--speed", err, sizeof err), 2); /* run --speed --headless */
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "--speed"));
}

/* --- built-in scenarios ---------------------------------------------------------------- */

static void test_builtin_scenarios_load(void) {
    glob_t g;
    CU_ASSERT_EQUAL_FATAL(glob("scenarios/*.json", 0, NULL, &g), 0);
    /* scenarios/more/: further labs, run and checked the same way */
    CU_ASSERT_EQUAL_FATAL(glob("scenarios/more/*.json", GLOB_APPEND, NULL, &g), 0);
    CU_ASSERT_TRUE(g.gl_pathc >= 13);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char err[1024];
        sim_scenario *s = NULL;
        int rc = sim_scenario_load(g.gl_pathv[i], &s, err, sizeof err);
        if (rc)
            fprintf(stderr, "\n  %s\n", err);
        CU_ASSERT_EQUAL(rc, 0);
        if (s)
            CU_ASSERT_TRUE(s->n_expect > 0); /* each states its outcome */
        sim_scenario_free(s);
    }
    globfree(&g);
}

static void test_default_scenario_is_demo_json(void) {
    FILE *f = fopen("scenarios/demo.json", "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    CU_ASSERT_STRING_EQUAL(sim_default_scenario_name, "demo");
    if (strcmp(buf, sim_default_scenario_json))
        CU_FAIL("sim/default_scenario.c differs from scenarios/demo.json: regenerate it (see "
                "its header)");
    char err[512];
    sim_scenario *s = NULL;
    CU_ASSERT_EQUAL(sim_scenario_parse(sim_default_scenario_json, strlen(sim_default_scenario_json),
                                       "(built-in)", &s, err, sizeof err),
                    0);
    sim_scenario_free(s);
}

void suite_sim_scenario(void);
void suite_sim_scenario(void) {
    tu_suite("sim_scenario");
    tu_test("test_valid_base_parses", test_valid_base_parses);
    tu_test("test_syntax_error_gives_line_and_column", test_syntax_error_gives_line_and_column);
    tu_test("test_unknown_and_duplicate_keys_are_named", test_unknown_and_duplicate_keys_are_named);
    tu_test("test_bad_broker_id_names_the_path", test_bad_broker_id_names_the_path);
    tu_test("test_types_and_ranges_are_checked", test_types_and_ranges_are_checked);
    tu_test("test_faults_are_validated", test_faults_are_validated);
    tu_test("test_producer_keys_are_checked_by_the_producer",
            test_producer_keys_are_checked_by_the_producer);
    tu_test("test_expectations_are_validated", test_expectations_are_validated);
    tu_test("test_workload_is_validated", test_workload_is_validated);
    tu_test("test_courier_run_bad_files_exit_2", test_courier_run_bad_files_exit_2);
    tu_test("test_courier_run_usage_errors_exit_2", test_courier_run_usage_errors_exit_2);
    tu_test("test_courier_run_help_and_bad_options", test_courier_run_help_and_bad_options);
    tu_test("test_builtin_scenarios_load", test_builtin_scenarios_load);
    tu_test("test_default_scenario_is_demo_json", test_default_scenario_is_demo_json);
}
