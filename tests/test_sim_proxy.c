/* courier proxy between kcat and courier broker (both started as separate processes): the
 * proxied bootstrap, an added RTT that kcat feels, dropped answers that kcat's idempotent
 * producer survives with every record exactly once, and a cut connection. */
#include "mockbroker/mb.h"
#include "protocol/kw_wire.h" /* hand-made frames */
#include "sim/kconn.h"
#include "sim/proxy.h"
#include "tests/test_sim_util.h"
#include "tests/tu.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct child {
    pid_t pid;
    FILE *in;  /* its stdin (NULL when not piped) */
    FILE *out; /* its stdout */
} child;

/* Starts argv with stdin and stdout piped (stderr to /dev/null unless keep_err). */
static bool spawn(child *ch, char *const argv[], bool pipe_in) {
    int in[2] = {-1, -1}, out[2];
    if ((pipe_in && pipe(in)) || pipe(out))
        return false;
    ch->pid = fork();
    if (ch->pid < 0)
        return false;
    if (ch->pid == 0) {
        if (pipe_in) {
            dup2(in[0], 0);
            close(in[0]);
            close(in[1]);
        }
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    if (pipe_in) {
        close(in[0]);
        ch->in = fdopen(in[1], "w");
    } else {
        ch->in = NULL;
    }
    close(out[1]);
    ch->out = fdopen(out[0], "r");
    return ch->out != NULL;
}

static int finish(child *ch, int sig) {
    if (ch->in)
        fclose(ch->in);
    ch->in = NULL;
    if (sig)
        kill(ch->pid, sig);
    int st = 0;
    waitpid(ch->pid, &st, 0);
    if (ch->out)
        fclose(ch->out);
    ch->out = NULL;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Reads "bootstrap: LIST" from a child's first line into boot. */
static bool read_bootstrap(child *ch, char *boot, size_t size) {
    char line[512];
    if (!fgets(line, sizeof line, ch->out) || strncmp(line, "bootstrap: ", 11))
        return false;
    line[strcspn(line, "\n")] = '\0';
    snprintf(boot, size, "%s", line + 11);
    return true;
}

/* Sends one command line to the proxy and reads its one-line answer. */
static bool proxy_cmd(child *px, const char *cmd, char *reply, size_t size) {
    fprintf(px->in, "%s\n", cmd);
    fflush(px->in);
    if (!fgets(reply, (int)size, px->out))
        return false;
    reply[strcspn(reply, "\n")] = '\0';
    return !strncmp(reply, "ok:", 3);
}

typedef struct rig {
    child broker, proxy;
    char broker_boot[512], proxy_boot[512];
} rig;

static bool rig_start(rig *r, const char *topic_spec) {
    memset(r, 0, sizeof *r);
    const char *courier = tu_courier_path();
    if (access(courier, X_OK) != 0) {
        fprintf(stderr, "\n    NOT RUN: %s is not built (run `make test`)\n", courier);
        return false;
    }
    char *bargv[] = {(char *)courier, "broker",           "--brokers", "3",
                     "--topic",       (char *)topic_spec, NULL};
    if (!spawn(&r->broker, bargv, false) ||
        !read_bootstrap(&r->broker, r->broker_boot, sizeof r->broker_boot))
        return false;
    char *pargv[] = {(char *)courier, "proxy", "--upstream", r->broker_boot, NULL};
    if (!spawn(&r->proxy, pargv, true) ||
        !read_bootstrap(&r->proxy, r->proxy_boot, sizeof r->proxy_boot))
        return false;
    return true;
}

static void rig_stop(rig *r) {
    if (r->proxy.pid > 0) {
        /* SIGTERM is a clean stop: exit code 0 */
        CU_ASSERT_EQUAL(finish(&r->proxy, SIGTERM), 0);
    }
    if (r->broker.pid > 0)
        finish(&r->broker, SIGTERM);
}

/* Wall ms kcat takes to produce one record through bootstrap (linger 0, acks=all). */
static int64_t kcat_produce_ms(const char *boot, const char *topic) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "echo k:v | timeout 60 kcat -q -P -b %s -t %s -K: -X linger.ms=0 -X acks=all", boot,
             topic);
    int64_t t0 = tu_now_ms();
    int rc = system(cmd);
    int64_t ms = tu_now_ms() - t0;
    return rc == 0 ? ms : -1;
}

/* Counts records of topic (values "v-<i>", i < n) read back by kcat -C; seen[i] gets each
 * value's copies. Returns the number of lines read. */
static int kcat_read_back(const char *boot, const char *topic, int n, unsigned char *seen) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "timeout 60 kcat -q -C -b %s -t %s -e -o beginning -f '%%s\\n'", boot,
             topic);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    memset(seen, 0, (size_t)n);
    int lines = 0;
    char line[128];
    while (fgets(line, sizeof line, p)) {
        int i;
        if (sscanf(line, "v-%d", &i) == 1 && i >= 0 && i < n && seen[i] < 255)
            seen[i]++;
        lines++;
    }
    pclose(p);
    return lines;
}

static void test_proxy_rewrites_broker_addresses_for_kcat(void) {
    rig r;
    if (!rig_start(&r, "px:3:3")) {
        rig_stop(&r);
        return;
    }
    /* every broker the client learns is one of the proxy's ports */
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "timeout 30 kcat -L -b %s -t px", r.proxy_boot);
    FILE *k = popen(cmd, "r");
    CU_ASSERT_FATAL(k != NULL);
    int brokers = 0, proxied = 0;
    char line[512];
    while (fgets(line, sizeof line, k)) {
        char addr[128];
        int id;
        if (sscanf(line, " broker %d at %127s", &id, &addr[0]) == 2) {
            brokers++;
            if (strstr(r.proxy_boot, addr) && !strstr(r.broker_boot, addr))
                proxied++;
        }
    }
    pclose(k);
    CU_ASSERT_EQUAL(brokers, 3);
    CU_ASSERT_EQUAL(proxied, 3);
    char reply[2048];
    CU_ASSERT_FALSE(proxy_cmd(&r.proxy, "rtt 9 10", reply, sizeof reply)); /* no broker 9 */
    CU_ASSERT_PTR_NOT_NULL(strstr(reply, "no broker 9"));
    CU_ASSERT_FALSE(proxy_cmd(&r.proxy, "bogus\x01 1", reply, sizeof reply));
    CU_ASSERT_PTR_NOT_NULL(strstr(reply, "unknown command 'bogus?'"));
    CU_ASSERT_FALSE(proxy_cmd(&r.proxy, "rtt 1 -5", reply, sizeof reply));
    CU_ASSERT_TRUE(proxy_cmd(&r.proxy, "status", reply, sizeof reply));
    CU_ASSERT_PTR_NOT_NULL(strstr(reply, "broker 3"));
    rig_stop(&r);
}

/* A consumer group through the proxy: FindCoordinator's answer names the proxy's port, so
 * kcat -G joins, is assigned every partition and reads every record. */
static void test_proxy_rewrites_find_coordinator_kcat_group_reads_all(void) {
    rig r;
    if (!rig_start(&r, "grp:3:3")) {
        rig_stop(&r);
        return;
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "seq -f 'v-%%g' 0 99 | timeout 30 kcat -q -P -b %s -t grp",
             r.proxy_boot);
    CU_ASSERT_EQUAL(system(cmd), 0);
    snprintf(cmd, sizeof cmd,
             "timeout 60 kcat -q -b %s -G g1 -X auto.offset.reset=earliest -e -f '%%s\\n' grp",
             r.proxy_boot);
    FILE *k = popen(cmd, "r");
    CU_ASSERT_FATAL(k != NULL);
    static unsigned char seen[100];
    memset(seen, 0, sizeof seen);
    char line[128];
    int lines = 0;
    while (fgets(line, sizeof line, k)) {
        int i;
        if (sscanf(line, "v-%d", &i) == 1 && i >= 0 && i < 100)
            seen[i]++;
        lines++;
    }
    CU_ASSERT_EQUAL(pclose(k), 0);
    CU_ASSERT_EQUAL(lines, 100);
    int once = 0;
    for (int i = 0; i < 100; i++)
        once += seen[i] == 1;
    CU_ASSERT_EQUAL(once, 100);
    rig_stop(&r);
}

/* 200 ms of added RTT: kcat's produce (several round trips, each at least 200 ms longer)
 * takes at least 400 ms: a fresh kcat needs at least Metadata and Produce (after
 * ApiVersions), each answer held 200 ms by the proxy. Only a lower bound, and on the slow run
 * alone: delays only add, whereas the difference from the direct run would shrink when
 * load makes that run slow (it once did). */
static void test_proxy_rtt_slows_kcat_produce(void) {
    rig r;
    if (!rig_start(&r, "rt:3:3")) {
        rig_stop(&r);
        return;
    }
    int64_t base = kcat_produce_ms(r.proxy_boot, "rt");
    CU_ASSERT_TRUE(base >= 0);
    char reply[512];
    CU_ASSERT_TRUE(proxy_cmd(&r.proxy, "rtt all 200", reply, sizeof reply));
    int64_t slow = kcat_produce_ms(r.proxy_boot, "rt");
    CU_ASSERT_TRUE(slow >= 0);
    fprintf(stderr, "\n    kcat produce: %lld ms direct-through-proxy, %lld ms with rtt 200\n",
            (long long)base, (long long)slow);
    CU_ASSERT_TRUE(slow >= 2 * 200);
    CU_ASSERT_TRUE(proxy_cmd(&r.proxy, "heal", reply, sizeof reply));
    rig_stop(&r);
}

/* Requests the proxy has forwarded so far (from its status line). */
static long long proxy_requests(child *px) {
    char reply[2048];
    long long n = -1;
    if (proxy_cmd(px, "status", reply, sizeof reply))
        sscanf(reply, "ok: connections %*d requests %lld", &n);
    return n;
}

typedef struct mid_ctx {
    child *px;
    long long target;
    pid_t kcat;
} mid_ctx;

static bool mid_stream(void *arg) {
    mid_ctx *m = arg;
    return proxy_requests(m->px) >= m->target || waitpid(m->kcat, NULL, WNOHANG) != 0;
}

/* kcat -P (idempotent, acks=all, small batches, short timeouts) sends N records from a file
 * through the proxy, which adds 10 ms of RTT so the run lasts a while; once 40 requests have
 * gone through, `fault` hits. kcat must still deliver everything (exit 0) and kcat -C must
 * read every record exactly once. (kcat reads a piped stdin in large blocks, so a file and
 * the proxy's request count mark "mid-stream". The fault hits one broker: kcat gives up by
 * design when all its brokers are down at once.) */
static void produce_across_fault(const char *fault) {
    enum { N = 20000 };
    rig r;
    if (!rig_start(&r, "fx:3:3")) {
        rig_stop(&r);
        return;
    }
    char in[] = "/tmp/courier-proxy-in-XXXXXX";
    int fd = mkstemp(in);
    CU_ASSERT_FATAL(fd >= 0);
    FILE *f = fdopen(fd, "w");
    for (int i = 0; i < N; i++)
        fprintf(f, "v-%d\n", i);
    fclose(f);
    char reply[2048];
    CU_ASSERT_TRUE(proxy_cmd(&r.proxy, "rtt all 10", reply, sizeof reply));
    long long before = proxy_requests(&r.proxy);
    char *kargv[] = {"kcat",
                     "-q",
                     "-P",
                     "-b",
                     r.proxy_boot,
                     "-t",
                     "fx",
                     "-l",
                     in,
                     "-X",
                     "linger.ms=0",
                     "-X",
                     "batch.num.messages=20",
                     "-X",
                     "acks=all",
                     "-X",
                     "enable.idempotence=true",
                     "-X",
                     "request.timeout.ms=1500",
                     "-X",
                     "socket.timeout.ms=3000",
                     NULL};
    child kc;
    CU_ASSERT_FATAL(spawn(&kc, kargv, false));
    mid_ctx m = {&r.proxy, before + 40, kc.pid};
    CU_ASSERT_TRUE(tu_wait_until(mid_stream, &m, 30000));
    CU_ASSERT_TRUE(proxy_cmd(&r.proxy, fault, reply, sizeof reply));
    long long at_fault = proxy_requests(&r.proxy);
    CU_ASSERT_EQUAL(finish(&kc, 0), 0); /* every record delivered */
    unlink(in);
    CU_ASSERT_TRUE(proxy_cmd(&r.proxy, "heal", reply, sizeof reply));
    static unsigned char seen[N];
    int lines = kcat_read_back(r.proxy_boot, "fx", N, seen);
    int once = 0;
    for (int i = 0; i < N; i++)
        once += seen[i] == 1;
    CU_ASSERT_EQUAL(lines, N);
    CU_ASSERT_EQUAL(once, N);
    CU_ASSERT_TRUE(proxy_cmd(&r.proxy, "status", reply, sizeof reply));
    fprintf(stderr, "\n    %s after %lld requests: %d lines, %d exactly once; proxy %.90s\n", fault,
            at_fault - before, lines, once, reply);
    if (!strncmp(fault, "drop", 4))
        CU_ASSERT_PTR_NULL(strstr(reply, "dropped 0;"));
    if (!strncmp(fault, "cut", 3))
        CU_ASSERT_PTR_NULL(strstr(reply, "cuts 0;"));
    rig_stop(&r);
}

static void test_proxy_dropped_answers_kcat_retries_each_record_once(void) {
    produce_across_fault("drop 1 2");
}

static void test_proxy_cut_connections_kcat_survives(void) {
    produce_across_fault("cut 1");
}

static void quiet_log(int level, const char *line, void *opaque) {
    (void)level, (void)line, (void)opaque;
}

/* In-process: the proxied ApiVersions answer advertises Metadata and FindCoordinator only up
 * to what protocol/ decodes (so the proxy can rewrite every answer), and an ApiVersions
 * request newer than protocol/ reads is answered by the proxy with UNSUPPORTED_VERSION in a
 * v0 body listing ApiVersions alone (KIP-511), as a Kafka broker does. */
static void test_proxy_caps_api_versions_and_answers_newer_api_versions_itself(void) {
    mb_config mc;
    mb_config_init(&mc);
    mc.brokers = 2;
    mc.log_cb = quiet_log;
    mb_cluster *cl;
    char err[512];
    CU_ASSERT_FATAL(mb_cluster_new(&mc, &cl, err, sizeof err) == MB_OK &&
                    mb_cluster_start(cl, err, sizeof err) == MB_OK);
    sim_proxy_opts po = {.upstream = mb_cluster_bootstrap(cl)};
    sim_proxy *px;
    CU_ASSERT_FATAL(sim_proxy_new(&po, &px, err, sizeof err) == 0);
    int32_t ids[8];
    CU_ASSERT_EQUAL(sim_proxy_nodes(px, ids, 8), 2);

    sim_kconn *kc;
    CU_ASSERT_FATAL(sim_kconn_open(sim_proxy_bootstrap(px), 5000, &kc, err, sizeof err) == 0);
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_api_versions_req req = {0};
    kw_api_versions_req_encode(&body, 0, &req);
    kw_rbuf rb;
    CU_ASSERT_FATAL(sim_kconn_call(kc, KW_API_API_VERSIONS, 0, &body, 5000, &rb, err, sizeof err) ==
                    0);
    kw_arena *a = kw_arena_new();
    kw_api_versions_resp m;
    CU_ASSERT_FATAL(kw_api_versions_resp_decode(&rb, 0, a, &m) == KW_ERR_NONE);
    CU_ASSERT_EQUAL(m.error_code, 0);
    int checked = 0;
    for (int32_t i = 0; i < m.n_api_keys; i++) {
        const kw_api_range *r = &m.api_keys[i];
        CU_ASSERT_NOT_EQUAL(r->api_key, 60); /* DescribeCluster: never advertised */
        if (r->api_key == KW_API_METADATA || r->api_key == KW_API_FIND_COORDINATOR) {
            const kw_api_range *ours = kw_api_supported(r->api_key);
            CU_ASSERT_TRUE(r->max_version <= ours->max_version);
            CU_ASSERT_TRUE(r->min_version >= ours->min_version);
            checked++;
        }
    }
    CU_ASSERT_EQUAL(checked, 2);
    kw_wbuf_free(&body);

    /* ApiVersions one past what protocol/ reads: the body is flexible (compact strings and
     * tagged fields), written by hand since the codec cannot */
    int16_t newer = (int16_t)(kw_api_supported(KW_API_API_VERSIONS)->max_version + 1);
    kw_wbuf_init(&body);
    kw_write_compact_string(&body, kw_slice_str("t"));
    kw_write_compact_string(&body, kw_slice_str("1"));
    kw_write_empty_tagged_fields(&body);
    CU_ASSERT_FATAL(
        sim_kconn_call(kc, KW_API_API_VERSIONS, newer, &body, 5000, &rb, err, sizeof err) == 0);
    kw_arena_reset(a);
    CU_ASSERT_EQUAL(kw_api_versions_resp_decode(&rb, 0, a, &m), KW_ERR_NONE);
    CU_ASSERT_EQUAL(m.error_code, KW_ERR_UNSUPPORTED_VERSION);
    CU_ASSERT_EQUAL(m.n_api_keys, 1);
    if (m.n_api_keys == 1)
        CU_ASSERT_EQUAL(m.api_keys[0].api_key, KW_API_API_VERSIONS);
    kw_wbuf_free(&body);
    kw_arena_destroy(a);
    sim_kconn_close(kc);

    /* the command language, in-process */
    char reply[512];
    CU_ASSERT_EQUAL(sim_proxy_command(px, "rtt all 5", reply, sizeof reply), 0);
    CU_ASSERT_EQUAL(sim_proxy_command(px, "drop 2", reply, sizeof reply), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(reply, "usage: drop BROKER N"));
    CU_ASSERT_EQUAL(sim_proxy_command(px, "partition 1", reply, sizeof reply), 0);
    CU_ASSERT_EQUAL(sim_proxy_command(px, "heal", reply, sizeof reply), 0);
    sim_proxy_destroy(px);
    mb_cluster_destroy(cl);
}

void suite_sim_proxy(void);
void suite_sim_proxy(void) {
    tu_suite("sim_proxy");
    tu_test("test_proxy_caps_api_versions_and_answers_newer_api_versions_itself",
            test_proxy_caps_api_versions_and_answers_newer_api_versions_itself);
    tu_test("test_proxy_rewrites_broker_addresses_for_kcat",
            test_proxy_rewrites_broker_addresses_for_kcat);
    tu_test("test_proxy_rewrites_find_coordinator_kcat_group_reads_all",
            test_proxy_rewrites_find_coordinator_kcat_group_reads_all);
    tu_test("test_proxy_rtt_slows_kcat_produce", test_proxy_rtt_slows_kcat_produce);
    tu_test("test_proxy_dropped_answers_kcat_retries_each_record_once",
            test_proxy_dropped_answers_kcat_retries_each_record_once);
    tu_test("test_proxy_cut_connections_kcat_survives", test_proxy_cut_connections_kcat_survives);
}
