/* Real clients against the mock cluster: kcat (librdkafka 2.0) produce + consume, kafka-python
 * (Debian's python3-kafka), librdkafka's C producer while leaders move, and the `courier
 * broker` command. Over real loopback sockets; clients run as subprocesses or in-process. */
#include "tests/test_mockbroker_client.h"

#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <sys/wait.h>

/* Writes n lines "<key_prefix><i>:<value_prefix><i>" (kcat -K: input) to a new file made from
 * tmpl by mkstemp. Returns false when the file cannot be written. */
static bool write_keyed_lines(char *tmpl, int n, const char *key_prefix, const char *value_prefix) {
    int fd = mkstemp(tmpl);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return false;
    }
    for (int i = 0; i < n; i++)
        fprintf(f, "%s%d:%s%d\n", key_prefix, i, value_prefix, i);
    return fclose(f) == 0;
}

static mb_cluster *interop_cluster(const char *topic, int32_t parts) {
    mb_config conf;
    mb_config_init(&conf);
    mb_topic_config t = {topic, parts, 3, 2};
    conf.topics = &t;
    conf.n_topics = 1;
    conf.auto_create_topics_enable = false;
    mb_cluster *c = NULL;
    char err[256];
    if (mb_cluster_new(&conf, &c, err, sizeof err) != MB_OK ||
        mb_cluster_start(c, err, sizeof err) != MB_OK) {
        fprintf(stderr, "cluster: %s\n", err);
        mb_cluster_destroy(c);
        return NULL;
    }
    return c;
}

/* Reads every stored record of a topic into a count of values (by number). Returns the
 * number of records and fails the test on a gap in offsets. */
static int read_back(mb_cluster *c, const char *topic, int32_t parts, int n_expected,
                     unsigned char *seen, const char *vprefix) {
    int total = 0;
    size_t plen = strlen(vprefix);
    for (int32_t p = 0; p < parts; p++) {
        mb_record_iter *it;
        CU_ASSERT_EQUAL_FATAL(mb_record_iter_new(c, topic, p, 0, &it), MB_OK);
        mb_record r;
        int64_t expect = 0;
        while (mb_record_iter_next(it, &r) == MB_OK) {
            CU_ASSERT_EQUAL(r.offset, expect);
            expect = r.offset + 1;
            char v[64] = "";
            if (r.value_len > 0 && r.value_len < (int)sizeof v)
                memcpy(v, r.value, (size_t)r.value_len);
            if (!strncmp(v, vprefix, plen)) {
                int i = atoi(v + plen);
                if (i >= 0 && i < n_expected && seen[i] < 255)
                    seen[i]++;
            }
            total++;
        }
        mb_record_iter_destroy(it);
    }
    return total;
}

/* kcat produces 10,000 keyed messages (acks=all, idempotence) and reads exactly those back. */
static void test_kcat_idempotent_produce_then_consume_reads_exactly_10000(void) {
    enum { N = 10000, P = 6 };
    mb_cluster *c = interop_cluster("kc", P);
    CU_ASSERT_FATAL(c != NULL);
    char in[] = "/tmp/mb-kcat-in-XXXXXX";
    CU_ASSERT_FATAL(write_keyed_lines(in, N, "key-", "value-"));
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "timeout 60 kcat -q -b %s -P -t kc -K: -X acks=all -X enable.idempotence=true -l %s",
             mb_cluster_bootstrap(c), in);
    CU_ASSERT_EQUAL(system(cmd), 0);
    unlink(in);
    int64_t hw_sum = 0;
    for (int p = 0; p < P; p++)
        hw_sum += tc_info(c, "kc", p).high_watermark;
    CU_ASSERT_EQUAL(hw_sum, N);

    snprintf(cmd, sizeof cmd,
             "timeout 60 kcat -q -b %s -C -t kc -e -o beginning -f '%%p %%o %%k %%s\\n'",
             mb_cluster_bootstrap(c));
    FILE *pipe = popen(cmd, "r");
    CU_ASSERT_FATAL(pipe != NULL);
    static unsigned char seen[N];
    memset(seen, 0, sizeof seen);
    int64_t next_off[P] = {0};
    int lines = 0, bad = 0, gaps = 0;
    char line[256];
    while (fgets(line, sizeof line, pipe)) {
        int p, ki, vi;
        long long off;
        if (sscanf(line, "%d %lld key-%d value-%d", &p, &off, &ki, &vi) != 4 || p < 0 || p >= P ||
            ki != vi || ki < 0 || ki >= N) {
            bad++;
            continue;
        }
        if (off != next_off[p])
            gaps++;
        next_off[p] = off + 1;
        seen[ki]++;
        lines++;
    }
    CU_ASSERT_EQUAL(pclose(pipe), 0);
    CU_ASSERT_EQUAL(lines, N);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(gaps, 0); /* contiguous offsets per partition */
    int once = 0;
    for (int i = 0; i < N; i++)
        once += seen[i] == 1;
    CU_ASSERT_EQUAL(once, N); /* every key exactly once, with its value */
    int64_t total = 0;
    for (int p = 0; p < P; p++)
        total += next_off[p];
    CU_ASSERT_EQUAL(total, N);
    mb_cluster_destroy(c);
}

/* Runs `script` (written to a temporary file) as `run SCRIPT BOOTSTRAP`: a client that sends
 * records valued "v<i>" to `topic` and prints "i partition offset" for each acknowledged send.
 * Checks that it exits 0 after `want` sends, each stored by the cluster at the offset the client
 * was told. */
static void expect_sends_stored(mb_cluster *c, const char *topic, const char *run,
                                const char *script, int want) {
    char path[] = "/tmp/mb-client-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    FILE *f = fdopen(fd, "w");
    CU_ASSERT_FATAL(f != NULL);
    fputs(script, f);
    fclose(f);
    char cmd[768];
    snprintf(cmd, sizeof cmd, "%s %s %s 2>/dev/null", run, path, mb_cluster_bootstrap(c));
    FILE *pipe = popen(cmd, "r");
    CU_ASSERT_FATAL(pipe != NULL);
    int n = 0, matched = 0;
    char line[128];
    while (fgets(line, sizeof line, pipe)) {
        int i, part;
        long long off;
        if (sscanf(line, "%d %d %lld", &i, &part, &off) != 3)
            continue;
        n++;
        /* The record at that offset is the one sent. */
        mb_record_iter *it;
        if (mb_record_iter_new(c, topic, part, off, &it) == MB_OK) {
            mb_record r;
            char value[16];
            snprintf(value, sizeof value, "v%d", i);
            if (mb_record_iter_next(it, &r) == MB_OK && r.offset == off &&
                r.value_len == (int32_t)strlen(value) && !memcmp(r.value, value, strlen(value)))
                matched++;
            mb_record_iter_destroy(it);
        }
    }
    CU_ASSERT_EQUAL(pclose(pipe), 0);
    unlink(path);
    CU_ASSERT_EQUAL(n, want);
    CU_ASSERT_EQUAL(matched, want);
}

/* kafka-python produces; its futures resolve with the offsets the cluster stored. */
static void test_kafka_python_produces_and_futures_resolve_with_offsets(void) {
    mb_cluster *c = interop_cluster("py", 3);
    CU_ASSERT_FATAL(c != NULL);
    expect_sends_stored(
        c, "py", "timeout 60 /usr/bin/python3",
        "import sys\n"
        "from kafka import KafkaProducer\n"
        "p = KafkaProducer(bootstrap_servers=sys.argv[1].split(','), acks='all',\n"
        "                  linger_ms=5, request_timeout_ms=10000)\n"
        "futs = [p.send('py', key=b'k%d' % i, value=b'v%d' % i) for i in range(200)]\n"
        "p.flush(timeout=30)\n"
        "for i, fu in enumerate(futs):\n"
        "    md = fu.get(timeout=30)\n"
        "    print(i, md.partition, md.offset)\n"
        "p.close(timeout=10)\n",
        200);
    mb_cluster_destroy(c);
}

/* kafkajs (a third client, pure JavaScript, from the npm registry: .ci/deps.sh installs it in
 * build/npm) produces with idempotence and acks=all; every send resolves with the offset at
 * which the cluster stored that record. */
static void test_kafkajs_produces_and_sends_resolve_with_offsets(void) {
    if (access("build/npm/node_modules/kafkajs/package.json", R_OK) != 0) {
        CU_FAIL("kafkajs is not installed in build/npm (make deps installs it)");
        return;
    }
    mb_cluster *c = interop_cluster("js", 3);
    CU_ASSERT_FATAL(c != NULL);
    expect_sends_stored(
        c, "js", "NODE_PATH=build/npm/node_modules timeout 60 node",
        "const { Kafka, logLevel } = require('kafkajs');\n"
        "const kafka = new Kafka({ clientId: 'courier-kafkajs', brokers: "
        "process.argv[2].split(','),\n"
        "                          logLevel: logLevel.NOTHING, retry: { retries: 5 } });\n"
        "(async () => {\n"
        "  const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });\n"
        "  await p.connect();\n"
        "  for (let i = 0; i < 100; i++) {\n"
        "    const md = await p.send({ topic: 'js', acks: -1,\n"
        "      messages: [{ key: 'k' + i, value: 'v' + i }] });\n"
        "    console.log(i, md[0].partition, md[0].baseOffset);\n"
        "  }\n"
        "  await p.disconnect();\n"
        "})().catch(e => { console.error(e); process.exit(1); });\n",
        100);
    mb_cluster_destroy(c);
}

typedef struct dr_state {
    _Atomic int ok, failed;
    char first_err[128];
} dr_state;

static TC_UNUSED void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    dr_state *s = opaque;
    if (m->err) {
        if (atomic_fetch_add(&s->failed, 1) == 0)
            snprintf(s->first_err, sizeof s->first_err, "%s", rd_kafka_err2str(m->err));
    } else {
        atomic_fetch_add(&s->ok, 1);
    }
}

/* librdkafka's producer (acks=all, idempotence) while every partition's leader moves twice:
 * all delivery reports succeed, every message is stored exactly once.
 *
 * Under ThreadSanitizer librdkafka cannot run in-process (its C11 threads are created inside
 * glibc, behind TSan's interceptors, and crash its allocator), so the TSan build drives the
 * same librdkafka producer through kcat in a subprocess; other builds link it in. */
#if defined(__SANITIZE_THREAD__)
#define LM_IN_PROCESS 0
#else
#define LM_IN_PROCESS 1
#endif

static void move_all_leaders(mb_cluster *c, int parts, int *moves) {
    for (int p = 0; p < parts; p++) {
        mb_partition_info in = tc_info(c, "lm", p);
        int32_t to = in.leader % 3 + 1;
        if (mb_partition_move_leader(c, "lm", p, to) == MB_OK)
            (*moves)++;
    }
}

#if !LM_IN_PROCESS
typedef struct leo_wait {
    mb_cluster *c;
    int parts;
    int64_t n;
} leo_wait;
static bool leo_reached(void *arg) {
    leo_wait *w = arg;
    int64_t sum = 0;
    for (int p = 0; p < w->parts; p++) {
        mb_partition_info in;
        mb_partition_info_get(w->c, "lm", p, &in);
        sum += in.log_end_offset;
    }
    return sum >= w->n;
}
#endif

static void test_librdkafka_leader_moves_mid_produce_nothing_lost(void) {
    enum { N = 30000, P = 3 };
    mb_cluster *c = interop_cluster("lm", P);
    CU_ASSERT_FATAL(c != NULL);
    int moves = 0;
#if LM_IN_PROCESS
    static dr_state st;
    memset(&st, 0, sizeof st);
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", mb_cluster_bootstrap(c), err, sizeof err);
    rd_kafka_conf_set(conf, "acks", "all", err, sizeof err);
    rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof err);
    rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof err);
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, &st);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    CU_ASSERT_FATAL(rk != NULL);
    for (int i = 0; i < N; i++) {
        char key[32], val[32];
        snprintf(key, sizeof key, "k%d", i);
        snprintf(val, sizeof val, "val-%d", i);
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("lm"), RD_KAFKA_V_KEY(key, strlen(key)),
                                      RD_KAFKA_V_VALUE(val, strlen(val)),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
        CU_ASSERT_EQUAL(e, RD_KAFKA_RESP_ERR_NO_ERROR);
        if (i % 1000 == 0)
            rd_kafka_poll(rk, 0);
        if (i == N / 3 || i == 2 * N / 3) {
            /* Move every leader one broker on, while requests are in flight. */
            rd_kafka_poll(rk, 20);
            move_all_leaders(c, P, &moves);
        }
    }
    CU_ASSERT_EQUAL(rd_kafka_flush(rk, 60000), RD_KAFKA_RESP_ERR_NO_ERROR);
    CU_ASSERT_EQUAL(atomic_load(&st.ok), N);
    CU_ASSERT_EQUAL(atomic_load(&st.failed), 0);
    if (atomic_load(&st.failed))
        fprintf(stderr, "first delivery error: %s\n", st.first_err);
    rd_kafka_destroy(rk);
#else
    char in[] = "/tmp/mb-lm-in-XXXXXX";
    CU_ASSERT_FATAL(write_keyed_lines(in, N, "k", "val-"));
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "timeout 60 kcat -q -b %s -P -t lm -K: -X acks=all -X enable.idempotence=true "
             "-X linger.ms=5 -l %s 2>&1",
             mb_cluster_bootstrap(c), in);
    FILE *pipe = popen(cmd, "r");
    CU_ASSERT_FATAL(pipe != NULL);
    leo_wait w = {c, P, N / 3};
    CU_ASSERT_TRUE(tu_wait_until(leo_reached, &w, 30000));
    move_all_leaders(c, P, &moves);
    w.n = 2 * N / 3;
    CU_ASSERT_TRUE(tu_wait_until(leo_reached, &w, 30000));
    move_all_leaders(c, P, &moves);
    char line[256];
    int failures = 0;
    while (fgets(line, sizeof line, pipe))
        failures += strstr(line, "failed") != NULL;
    CU_ASSERT_EQUAL(pclose(pipe), 0);
    CU_ASSERT_EQUAL(failures, 0);
    unlink(in);
#endif
    CU_ASSERT_EQUAL(moves, 2 * P);
    static unsigned char seen[N];
    memset(seen, 0, sizeof seen);
    int total = read_back(c, "lm", P, N, seen, "val-");
    int once = 0;
    for (int i = 0; i < N; i++)
        once += seen[i] == 1;
    CU_ASSERT_EQUAL(total, N); /* no duplicates */
    CU_ASSERT_EQUAL(once, N);  /* nothing lost */
    for (int p = 0; p < P; p++)
        CU_ASSERT_EQUAL(tc_info(c, "lm", p).leader_epoch, 2);
    mb_cluster_destroy(c);
}

/* Runs a command, returning its exit status and the first line of its stderr. */
static int run_capture_err(const char *cmd, char *line, size_t size) {
    char full[1024];
    snprintf(full, sizeof full, "%s 2>&1 >/dev/null", cmd);
    FILE *p = popen(full, "r");
    if (!p)
        return -1;
    line[0] = '\0';
    if (!fgets(line, (int)size, p))
        line[0] = '\0';
    char rest[256];
    while (fgets(rest, sizeof rest, p))
        ;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_courier_broker_serves_kcat_and_exits_on_sigterm(void) {
    const char *courier = tu_courier_path();
    if (access(courier, X_OK) != 0) {
        /* `make test` builds the binary first; `make test-mockbroker` alone may not have. */
        fprintf(stderr, "\n    NOT RUN: %s is not built (run `make test`, which builds it)\n",
                courier);
        return;
    }
    char line[512];
    char cmd[1024];
    /* Bad input: one line naming what is wrong, exit code 2. */
    snprintf(cmd, sizeof cmd, "%s broker --brokers zero", courier);
    CU_ASSERT_EQUAL(run_capture_err(cmd, line, sizeof line), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "--brokers"));
    snprintf(cmd, sizeof cmd, "%s broker --topic x:0:1", courier);
    CU_ASSERT_EQUAL(run_capture_err(cmd, line, sizeof line), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "partitions"));
    snprintf(cmd, sizeof cmd, "%s broker --config /nonexistent/c.json", courier);
    CU_ASSERT_EQUAL(run_capture_err(cmd, line, sizeof line), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "/nonexistent/c.json"));
    char cfg[] = "/tmp/mb-cfg-XXXXXX";
    int cfd = mkstemp(cfg);
    CU_ASSERT_FATAL(cfd >= 0);
    CU_ASSERT_TRUE(write(cfd, "{\"brokers\": 2, \"bogus\": 1}", 26) == 26);
    close(cfd);
    snprintf(cmd, sizeof cmd, "%s broker --config %s", courier, cfg);
    CU_ASSERT_EQUAL(run_capture_err(cmd, line, sizeof line), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "bogus"));
    /* A syntax error names the line and column. */
    cfd = open(cfg, O_WRONLY | O_TRUNC);
    CU_ASSERT_FATAL(cfd >= 0);
    CU_ASSERT_TRUE(write(cfd, "{\"brokers\": 2,\n \"port\": }", 25) == 25);
    close(cfd);
    CU_ASSERT_EQUAL(run_capture_err(cmd, line, sizeof line), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(line, ":2:10: JSON syntax error"));
    unlink(cfg);

    /* A real run: start, read the bootstrap line, list metadata with kcat, SIGTERM. */
    int out[2];
    CU_ASSERT_FATAL(pipe(out) == 0);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        execl(courier, courier, "broker", "--brokers", "2", "--topic", "cb:3:2", (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    FILE *o = fdopen(out[0], "r");
    char boot[256] = "";
    CU_ASSERT_PTR_NOT_NULL(fgets(boot, sizeof boot, o));
    CU_ASSERT_EQUAL(strncmp(boot, "bootstrap: 127.0.0.1:", 21), 0);
    boot[strcspn(boot, "\n")] = '\0';
    snprintf(cmd, sizeof cmd, "timeout 30 kcat -L -b %s -t cb", boot + 11);
    FILE *k = popen(cmd, "r");
    int brokers = -1, partitions = -1;
    while (k && fgets(line, sizeof line, k)) {
        int nb;
        if (strstr(line, " brokers:") && sscanf(line, " %d", &nb) == 1)
            brokers = nb;
        sscanf(line, " topic \"cb\" with %d partitions", &partitions);
    }
    if (k)
        pclose(k);
    CU_ASSERT_EQUAL(brokers, 2);
    CU_ASSERT_EQUAL(partitions, 3);
    kill(pid, SIGTERM);
    int st = 0;
    CU_ASSERT_EQUAL(waitpid(pid, &st, 0), pid);
    CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    fclose(o);
}

void suite_mockbroker_interop(void);
void suite_mockbroker_interop(void) {
    tu_suite("mockbroker_interop");
    tu_test("test_kcat_idempotent_produce_then_consume_reads_exactly_10000",
            test_kcat_idempotent_produce_then_consume_reads_exactly_10000);
    tu_test("test_kafka_python_produces_and_futures_resolve_with_offsets",
            test_kafka_python_produces_and_futures_resolve_with_offsets);
    tu_test("test_kafkajs_produces_and_sends_resolve_with_offsets",
            test_kafkajs_produces_and_sends_resolve_with_offsets);
    tu_test("test_librdkafka_leader_moves_mid_produce_nothing_lost",
            test_librdkafka_leader_moves_mid_produce_nothing_lost);
    tu_test("test_courier_broker_serves_kcat_and_exits_on_sigterm",
            test_courier_broker_serves_kcat_and_exits_on_sigterm);
}
