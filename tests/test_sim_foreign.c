/* courier run --bootstrap: a scenario played against a cluster Courier does not own —
 * librdkafka's mock cluster (started here, in-process) and `courier broker` (a separate
 * process, so no inspection API can be used). The audit comes from reading the topic back;
 * the map from the cluster's Metadata; network faults through the built-in proxy. */
#include "tests/test_sim_util.h"
#include "tests/tu.h"

/* ThreadSanitizer cannot host librdkafka's mock in this process (its threads start outside
 * tsan's interceptors and crash in its allocator), as tests/test_producer_util.h says: under
 * tsan the librdkafka-mock tests say NOT RUN; the courier broker ones still run. */
#if defined(__SANITIZE_THREAD__)
#define FT_HAVE_RDKAFKA 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FT_HAVE_RDKAFKA 0
#endif
#endif
#ifndef FT_HAVE_RDKAFKA
#define FT_HAVE_RDKAFKA 1
#endif

#if FT_HAVE_RDKAFKA
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if FT_HAVE_RDKAFKA
typedef struct rdmock {
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
    char boot[512];
} rdmock;

/* librdkafka's mock with `brokers` brokers and the topic (partitions, rf); leader of
 * partition p is set to leaders[p] when leaders is given. */
static bool rdmock_start(rdmock *m, int brokers, const char *topic, int parts, int rf,
                         const int *leaders) {
    memset(m, 0, sizeof *m);
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
    m->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!m->rk)
        return false;
    m->mc = rd_kafka_mock_cluster_new(m->rk, brokers);
    if (!m->mc)
        return false;
    snprintf(m->boot, sizeof m->boot, "%s", rd_kafka_mock_cluster_bootstraps(m->mc));
    if (rd_kafka_mock_topic_create(m->mc, topic, parts, rf) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return false;
    for (int p = 0; leaders && p < parts; p++)
        if (rd_kafka_mock_partition_set_leader(m->mc, topic, p, leaders[p]))
            return false;
    return true;
}

static void rdmock_stop(rdmock *m) {
    if (m->mc)
        rd_kafka_mock_cluster_destroy(m->mc);
    if (m->rk)
        rd_kafka_destroy(m->rk);
}
#else
typedef struct rdmock {
    char boot[512];
} rdmock;
static bool rdmock_start(rdmock *m, int brokers, const char *topic, int parts, int rf,
                         const int *leaders) {
    (void)m, (void)brokers, (void)topic, (void)parts, (void)rf, (void)leaders;
    return false;
}
static void rdmock_stop(rdmock *m) {
    (void)m;
}
#endif

/* False (and a NOT RUN line) when librdkafka's mock cannot run in this build. */
static bool rdmock_available(void) {
    if (FT_HAVE_RDKAFKA)
        return true;
    fprintf(stderr, "\n    NOT RUN under ThreadSanitizer: librdkafka's mock in-process\n");
    return false;
}

static bool courier_built(void) {
    if (access(tu_courier_path(), X_OK) == 0)
        return true;
    fprintf(stderr, "\n    NOT RUN: %s is not built (run `make test`)\n", tu_courier_path());
    return false;
}

/* A number after `label` in the text report ("  acknowledged   3000"), or -1. */
static long long report_num(const char *out, const char *label) {
    const char *p = strstr(out, label);
    long long v = -1;
    if (p)
        sscanf(p + strlen(label), " %lld", &v);
    return v;
}

static char out[1 << 16], err[1 << 14];

/* Runs `courier run SCENARIO --headless --bootstrap BOOT`; returns the exit code. */
static int run_bootstrap(const char *scenario, const char *boot) {
    char *argv[] = {"courier",    "run", (char *)scenario, "--headless", "--bootstrap",
                    (char *)boot, NULL};
    return ts_run_courier(argv, out, sizeof out, err, sizeof err, -1);
}

/* The audit of a run against a foreign cluster: read back, equal to what the producer said. */
static void check_read_back_audit(long long n) {
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "expect: all met"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "read back from"));
    CU_ASSERT_EQUAL(report_num(out, "sent"), n);
    CU_ASSERT_EQUAL(report_num(out, "acknowledged"), n);
    CU_ASSERT_EQUAL(report_num(out, "records in log"), n);
    CU_ASSERT_EQUAL(report_num(out, "lost"), 0);
    CU_ASSERT_EQUAL(report_num(out, "duplicated"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "cluster section is ignored"));
}

/* Writes a scenario into a temporary file (path: a "/tmp/...XXXXXX" template). */
static bool write_scenario(char *path, const char *json) {
    int fd = mkstemp(path);
    if (fd < 0)
        return false;
    bool ok = write(fd, json, strlen(json)) == (ssize_t)strlen(json);
    close(fd);
    return ok;
}

/* `courier broker --brokers 3 --topic TOPIC` as a separate process; boot gets its list. */
static pid_t start_courier_broker(const char *topic_spec, char *boot, size_t size) {
    int fds[2];
    if (pipe(fds))
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl(tu_courier_path(), "courier", "broker", "--brokers", "3", "--topic", topic_spec,
              (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *bo = fdopen(fds[0], "r");
    char line[512] = "";
    if (pid < 0 || !bo || !fgets(line, sizeof line, bo) || strncmp(line, "bootstrap: ", 11)) {
        if (bo)
            fclose(bo);
        return -1;
    }
    fclose(bo);
    line[strcspn(line, "\n")] = '\0';
    snprintf(boot, size, "%s", line + 11);
    return pid;
}

static void stop_courier_broker(pid_t pid) {
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
}

/* rtt and drop_responses through the proxy, acks=all + idempotence. */
static const char *const net_faults_json =
    "{\"name\": \"proxy-faults\", \"cluster\": {\"brokers\": 3, \"topics\": [{\"name\": "
    "\"events\", \"partitions\": 3, \"replication\": 3}]},\n"
    " \"producer\": {\"acks\": \"all\", \"enable.idempotence\": true, \"linger.ms\": 5,"
    " \"request.timeout.ms\": 1000, \"retry.backoff.ms\": 100, \"delivery.timeout.ms\": "
    "30000},\n"
    " \"workload\": {\"messages\": 3000, \"rate\": 1000, \"keys\": 30, \"value_size\": 100,"
    " \"seed\": 3},\n"
    " \"timeline\": [{\"at_ms\": 300, \"fault\": \"rtt\", \"broker\": 1, \"ms\": 80},\n"
    "  {\"at_ms\": 800, \"fault\": \"drop_responses\", \"broker\": 2, \"count\": 2},\n"
    "  {\"at_ms\": 1200, \"fault\": \"drop_responses\", \"broker\": 3, \"count\": 1},\n"
    "  {\"at_ms\": 2500, \"fault\": \"heal\"}],\n"
    " \"expect\": {\"lost\": 0, \"reordered\": 0, \"failed\": 0, \"retries\": \">0\"}}\n";

static void test_run_bootstrap_librdkafka_mock_reads_back_and_maps_its_leaders(void) {
    if (!courier_built() || !rdmock_available())
        return;
    /* leaders chosen here, unlike the mock's default, so the map must have asked */
    const int leaders[6] = {3, 3, 2, 1, 1, 2};
    rdmock m;
    CU_ASSERT_FATAL(rdmock_start(&m, 3, "orders", 6, 3, leaders));
    int rc = run_bootstrap("scenarios/batching-linger50.json", m.boot);
    if (rc != 0)
        fprintf(stderr, "\n%s\n%s\n", out, err);
    CU_ASSERT_EQUAL(rc, 0);
    check_read_back_audit(3000);
    for (int p = 0; p < 6; p++) {
        char line[64];
        snprintf(line, sizeof line, "orders-%d  leader %d ", p, leaders[p]);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, line));
    }
    rdmock_stop(&m);
}

static void test_run_bootstrap_courier_broker_process(void) {
    if (!courier_built())
        return;
    char boot[512];
    pid_t pid = start_courier_broker("orders:6:3", boot, sizeof boot);
    CU_ASSERT_FATAL(pid > 0);
    int rc = run_bootstrap("scenarios/batching-linger50.json", boot);
    if (rc != 0)
        fprintf(stderr, "\n%s\n%s\n", out, err);
    CU_ASSERT_EQUAL(rc, 0);
    check_read_back_audit(3000);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "orders-5  leader "));
    /* a second run on the same topic audits only its own records (read from the offsets
     * recorded before it) */
    rc = run_bootstrap("scenarios/batching-linger50.json", boot);
    CU_ASSERT_EQUAL(rc, 0);
    check_read_back_audit(3000);
    /* a topic that is not there is created (CreateTopics) from the scenario's partitions */
    char path[] = "/tmp/courier-newtopic-XXXXXX";
    CU_ASSERT_FATAL(write_scenario(
        path, "{\"name\": \"newtopic\", \"cluster\": {\"brokers\": 3, \"topics\": [{\"name\": "
              "\"fresh\", \"partitions\": 4, \"replication\": 2}]}, \"workload\": "
              "{\"messages\": 200, \"keys\": 10}, \"expect\": {\"lost\": 0}}"));
    rc = run_bootstrap(path, boot);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "created topic fresh on"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "(4 partitions)"));
    CU_ASSERT_EQUAL(report_num(out, "records in log"), 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "fresh-3  leader "));
    unlink(path);
    stop_courier_broker(pid);
}

/* Network faults through the proxy against `courier broker` (a separate process): the answers
 * lost on the way make the producer time out and retry; with idempotence nothing is lost,
 * duplicated or reordered. */
static void test_run_bootstrap_network_faults_courier_broker_exactly_once(void) {
    if (!courier_built())
        return;
    char boot[512];
    pid_t pid = start_courier_broker("events:3:3", boot, sizeof boot);
    CU_ASSERT_FATAL(pid > 0);
    char path[] = "/tmp/courier-foreign-XXXXXX";
    CU_ASSERT_FATAL(write_scenario(path, net_faults_json));
    int rc = run_bootstrap(path, boot);
    if (rc != 0)
        fprintf(stderr, "\n%s\n%s\n", out, err);
    CU_ASSERT_EQUAL(rc, 0);
    check_read_back_audit(3000);
    CU_ASSERT_EQUAL(report_num(out, "reordered"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "faults: 4 applied, 0 refused"));
    unlink(path);
    stop_courier_broker(pid);
}

/* The same against librdkafka's mock: lost 0 and reordered 0. librdkafka 2.0.2's mock does
 * not deduplicate an idempotent producer's retried batch (kcat, librdkafka's own producer,
 * gets duplicates from it through the same proxy too), so duplicated is only counted. */
static void test_run_bootstrap_network_faults_librdkafka_mock(void) {
    if (!courier_built() || !rdmock_available())
        return;
    rdmock m;
    CU_ASSERT_FATAL(rdmock_start(&m, 3, "events", 3, 3, NULL));
    char path[] = "/tmp/courier-foreign-XXXXXX";
    CU_ASSERT_FATAL(write_scenario(path, net_faults_json));
    int rc = run_bootstrap(path, m.boot);
    if (rc != 0)
        fprintf(stderr, "\n%s\n%s\n", out, err);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "read back from"));
    CU_ASSERT_EQUAL(report_num(out, "acknowledged"), 3000);
    CU_ASSERT_EQUAL(report_num(out, "lost"), 0);
    CU_ASSERT_EQUAL(report_num(out, "reordered"), 0);
    long long dup = report_num(out, "duplicated"), retries = report_num(out, "record retries");
    fprintf(stderr, "\n    librdkafka mock: duplicated %lld, record retries %lld\n", dup, retries);
    CU_ASSERT_TRUE(dup >= 0 && dup <= retries);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "faults: 4 applied, 0 refused"));
    unlink(path);
    rdmock_stop(&m);
}

static void test_run_bootstrap_refuses_cluster_side_faults(void) {
    if (!courier_built())
        return;
    /* broker_down and broker_up: one line each, exit 2 before anything connects */
    int rc = run_bootstrap("scenarios/acks1-leader-crash.json", "127.0.0.1:1");
    CU_ASSERT_EQUAL(rc, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "broker_down broker=1: a cluster-side fault, refused"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "broker_up broker=1: a cluster-side fault, refused"));
    /* nobody listening */
    rc = run_bootstrap("scenarios/batching-linger50.json", "127.0.0.1:1");
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot connect to 127.0.0.1:1"));
}

/* disconnect and blackhole on Courier's own mock cluster go through the proxy too. */
static void test_disconnect_and_blackhole_on_the_mock_cluster(void) {
    if (!courier_built())
        return;
    char path[] = "/tmp/courier-netfaults-XXXXXX";
    const char *json =
        "{\"name\": \"net-faults\", \"cluster\": {\"brokers\": 3, \"topics\": [{\"name\": "
        "\"events\", \"partitions\": 3, \"replication\": 3}]},\n"
        " \"producer\": {\"acks\": \"all\", \"enable.idempotence\": true,"
        " \"request.timeout.ms\": 1000, \"retry.backoff.ms\": 100},\n"
        " \"workload\": {\"messages\": 2000, \"rate\": 1000, \"keys\": 20, \"value_size\": 50},\n"
        " \"timeline\": [{\"at_ms\": 400, \"fault\": \"disconnect\", \"broker\": 1},\n"
        "  {\"at_ms\": 700, \"fault\": \"blackhole\", \"broker\": 2},\n"
        "  {\"at_ms\": 1500, \"fault\": \"heal\"}],\n"
        " \"expect\": {\"lost\": 0, \"duplicated\": 0, \"reordered\": 0, \"failed\": 0}}\n";
    CU_ASSERT_FATAL(write_scenario(path, json));
    char *argv[] = {"courier", "run", path, "--headless", "--trace", "/dev/null", NULL};
    int rc = ts_run_courier(argv, out, sizeof out, err, sizeof err, -1);
    if (rc != 0)
        fprintf(stderr, "\n%s\n%s\n", out, err);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "faults: 3 applied, 0 refused"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "inspection API"));
    unlink(path);
}

void suite_sim_foreign(void);
void suite_sim_foreign(void) {
    tu_suite("sim_foreign");
    tu_test("test_run_bootstrap_librdkafka_mock_reads_back_and_maps_its_leaders",
            test_run_bootstrap_librdkafka_mock_reads_back_and_maps_its_leaders);
    tu_test("test_run_bootstrap_courier_broker_process", test_run_bootstrap_courier_broker_process);
    tu_test("test_run_bootstrap_network_faults_courier_broker_exactly_once",
            test_run_bootstrap_network_faults_courier_broker_exactly_once);
    tu_test("test_run_bootstrap_network_faults_librdkafka_mock",
            test_run_bootstrap_network_faults_librdkafka_mock);
    tu_test("test_run_bootstrap_refuses_cluster_side_faults",
            test_run_bootstrap_refuses_cluster_side_faults);
    tu_test("test_disconnect_and_blackhole_on_the_mock_cluster",
            test_disconnect_and_blackhole_on_the_mock_cluster);
}
