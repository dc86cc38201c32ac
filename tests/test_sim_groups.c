/* Consumer groups against the mock cluster, with the clients a class uses: kcat -G,
 * kafka-python's KafkaConsumer(group_id=...), kafkajs and Courier's own `courier consume -G`, as
 * separate processes over real sockets, alone and mixed (courier + kcat in one group, each of
 * them leader once).
 *
 * Each scenario: a 6-partition topic, two members (3 partitions each), every record read
 * exactly once between them; one member stopped (it commits and leaves), the other takes all
 * 6 within the session timeout; the last member stopped, records added, a new member resumes
 * from the committed offsets. Also: the coordinator's broker taken down mid-run (the group
 * moves, nothing committed is read again), and KafkaAdminClient creating and deleting a topic
 * that kcat -L then shows and stops showing.
 */
#include "mockbroker/mb.h"
#include "tests/tu.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define TG_PARTS 6
#define TG_SESSION_MS 6000
#define TG_MAX 20000

/* ---- child processes with output in files ---- */

typedef struct member {
    pid_t pid;
    char out[64], err[64]; /* file paths */
} member;

static bool have(const char *prog) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
    return system(cmd) == 0;
}

/* Runs argv with stdout and stderr into fresh temporary files. */
static bool member_start(member *m, char *const argv[]) {
    memset(m, 0, sizeof *m);
    snprintf(m->out, sizeof m->out, "/tmp/courier-grp-out-XXXXXX");
    snprintf(m->err, sizeof m->err, "/tmp/courier-grp-err-XXXXXX");
    int ofd = mkstemp(m->out), efd = mkstemp(m->err);
    if (ofd < 0 || efd < 0)
        return false;
    m->pid = fork();
    if (m->pid == 0) {
        dup2(ofd, 1);
        dup2(efd, 2);
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(ofd);
    close(efd);
    return m->pid > 0;
}

/* Stops the member with sig and waits for it (up to 20 s, then SIGKILL). */
static void member_stop(member *m, int sig) {
    if (m->pid <= 0)
        return;
    kill(m->pid, sig);
    int64_t end = tu_now_ms() + 20000;
    int st;
    while (waitpid(m->pid, &st, WNOHANG) == 0) {
        if (tu_now_ms() > end) {
            kill(m->pid, SIGKILL);
            waitpid(m->pid, &st, 0);
            break;
        }
        usleep(10000);
    }
    m->pid = 0;
}

static void member_cleanup(member *m) {
    member_stop(m, SIGKILL);
    unlink(m->out);
    unlink(m->err);
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f)
        return calloc(1, 1);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = buf ? fread(buf, 1, (size_t)n, f) : 0;
    if (buf)
        buf[got] = '\0';
    fclose(f);
    return buf;
}

/* Partitions in the member's latest "assigned:" line (kcat's stderr format, which the
 * kafka-python helper prints too); -1 when none yet or the latest change was a revoke. */
static int assigned_count(const member *m) {
    char *s = slurp(m->err);
    int n = -1;
    for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
        char *a = strstr(line, "assigned:");
        if (strstr(line, "revoked:")) {
            n = -1;
            continue;
        }
        if (!a)
            continue;
        n = 0;
        for (char *p = a; (p = strstr(p, "[")); p++)
            n++;
    }
    free(s);
    return n;
}

/* Counts each value "v<i>" the members printed (one a line) into seen[]; returns lines. */
static int count_values(member *ms, int n_members, int *seen, int max) {
    memset(seen, 0, sizeof(int) * (size_t)max);
    int lines = 0;
    for (int k = 0; k < n_members; k++) {
        char *s = slurp(ms[k].out);
        for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
            int i;
            if (sscanf(line, "v%d", &i) == 1 && i >= 0 && i < max) {
                seen[i]++;
                lines++;
            }
        }
        free(s);
    }
    return lines;
}

/* ---- the cluster: `courier broker` as a child, or in-process ---- */

typedef struct broker_proc {
    pid_t pid;
    FILE *out;
    char boot[600];
} broker_proc;

static bool broker_start(broker_proc *b, const char *topic_spec) {
    memset(b, 0, sizeof *b);
    int fds[2];
    if (access(tu_courier_path(), X_OK) != 0 || pipe(fds) != 0)
        return false;
    b->pid = fork();
    if (b->pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execl(tu_courier_path(), tu_courier_path(), "broker", "--brokers", "3", "--topic",
              topic_spec, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    b->out = fdopen(fds[0], "r");
    char line[600];
    if (!b->out || !fgets(line, sizeof line, b->out) || strncmp(line, "bootstrap: ", 11))
        return false;
    line[strcspn(line, "\n")] = '\0';
    snprintf(b->boot, sizeof b->boot, "%s", line + 11);
    return true;
}

static void broker_stop(broker_proc *b) {
    if (b->pid > 0) {
        kill(b->pid, SIGTERM);
        waitpid(b->pid, NULL, 0);
    }
    if (b->out)
        fclose(b->out);
    b->pid = 0;
    b->out = NULL;
}

/* Produces values v<from>..v<to-1> with keys k<i> (spread over the partitions). */
static bool produce_range(const char *boot, int from, int to) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "seq %d %d | awk '{print \"k\"$1\":v\"$1}' | '%s' produce -b %s -t t -k : "
             ">/dev/null 2>&1",
             from, to - 1, tu_courier_path(), boot);
    return system(cmd) == 0;
}

/* ---- the members ---- */

static const char *py_member =
    "import signal, sys, time\n"
    "from kafka import KafkaConsumer\n"
    "from kafka.consumer.subscription_state import ConsumerRebalanceListener\n"
    "stop = []\n"
    "signal.signal(signal.SIGTERM, lambda *a: stop.append(1))\n"
    "class L(ConsumerRebalanceListener):\n"
    "    def on_partitions_revoked(self, revoked):\n"
    "        sys.stderr.write('revoked: %s\\n' % ', '.join('t [%d]' % p.partition for p in "
    "revoked)); sys.stderr.flush()\n"
    "    def on_partitions_assigned(self, assigned):\n"
    "        sys.stderr.write('assigned: %s\\n' % ', '.join('t [%d]' % p.partition for p in "
    "assigned)); sys.stderr.flush()\n"
    "c = KafkaConsumer(bootstrap_servers=sys.argv[1].split(','), group_id=sys.argv[2],\n"
    "    auto_offset_reset='earliest', session_timeout_ms=6000, heartbeat_interval_ms=500,\n"
    "    auto_commit_interval_ms=200)\n"
    "c.subscribe(['t'], listener=L())\n"
    "while not stop:\n"
    "    for tp, msgs in c.poll(timeout_ms=200).items():\n"
    "        for m in msgs:\n"
    "            sys.stdout.write(m.value.decode() + '\\n')\n"
    "        sys.stdout.flush()\n"
    "c.close()\n";

static char py_path[64];

/* A kafkajs member (kafkajs 2.2.4, which .ci/deps.sh installs into build/npm): the same
 * stderr lines and stdout values as the others; SIGTERM disconnects (commit, LeaveGroup). */
static const char *js_member =
    "const { Kafka, logLevel } = require('kafkajs');\n"
    "const [boot, group] = process.argv.slice(2);\n"
    "const kafka = new Kafka({ clientId: 'kafkajs-member', brokers: boot.split(','),\n"
    "                          logLevel: logLevel.NOTHING });\n"
    "const c = kafka.consumer({ groupId: group, sessionTimeout: 6000, heartbeatInterval: 500,\n"
    "                           rebalanceTimeout: 10000, maxWaitTimeInMs: 200 });\n"
    "c.on(c.events.GROUP_JOIN, e => {\n"
    "  const a = e.payload.memberAssignment['t'] || [];\n"
    "  process.stderr.write('assigned: ' + a.map(p => 't [' + p + ']').join(', ') + '\\n');\n"
    "});\n"
    "let stopping = false;\n"
    "process.on('SIGTERM', async () => {\n"
    "  if (stopping) return;\n"
    "  stopping = true;\n"
    "  await c.disconnect();\n"
    "  process.exit(0);\n"
    "});\n"
    "(async () => {\n"
    "  await c.connect();\n"
    "  await c.subscribe({ topic: 't', fromBeginning: true });\n"
    "  await c.run({ autoCommitInterval: 200, eachMessage: async ({ message }) => {\n"
    "    process.stdout.write(message.value.toString() + '\\n');\n"
    "  } });\n"
    "})().catch(e => { process.stderr.write('error: ' + e + '\\n'); process.exit(1); });\n";

static char js_path[64];

typedef enum member_kind { M_KCAT, M_PYTHON, M_COURIER, M_KAFKAJS } member_kind;

static const char *const kind_names[] = {"kcat", "kafka-python", "courier consume",
                                         "kafkajs"};

/* kafkajs is installed by .ci/deps.sh into build/npm (tests run from the checkout). */
#define KAFKAJS_DIR "build/npm/node_modules"

/* Why a kind of member cannot run here, or NULL when it can. */
static const char *kind_missing(member_kind k) {
    switch (k) {
    case M_KCAT:
        return have("kcat") ? NULL : "kcat is not installed";
    case M_PYTHON:
        return access("/usr/bin/python3", X_OK) == 0 ? NULL : "/usr/bin/python3 is missing";
    case M_COURIER:
        return access(tu_courier_path(), X_OK) == 0 ? NULL : "the courier binary is missing";
    case M_KAFKAJS:
        if (!have("node"))
            return "node is not installed";
        return access(KAFKAJS_DIR "/kafkajs/package.json", R_OK) == 0
                   ? NULL
                   : "kafkajs is not installed in build/npm (make deps installs it)";
    }
    return "unknown member kind";
}

/* Writes a helper script into a fresh temporary file named by path. */
static bool write_script(char *path, size_t size, const char *text) {
    snprintf(path, size, "/tmp/courier-grp-script-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return false;
    bool ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
    close(fd);
    return ok;
}

static bool member_start_kind(member *m, member_kind kind, const char *boot, const char *group) {
    if (kind == M_PYTHON) {
        char *argv[] = {"/usr/bin/python3", py_path, (char *)boot, (char *)group, NULL};
        return member_start(m, argv);
    }
    if (kind == M_KAFKAJS) {
        setenv("NODE_PATH", KAFKAJS_DIR, 1);
        char *argv[] = {"node", js_path, (char *)boot, (char *)group, NULL};
        return member_start(m, argv);
    }
    if (kind == M_COURIER) {
        char *argv[] = {(char *)tu_courier_path(),
                        "consume",
                        "-b",
                        (char *)boot,
                        "-t",
                        "t",
                        "-G",
                        (char *)group,
                        "-o",
                        "beginning", /* auto.offset.reset=earliest: the commits still win */
                        "-X",
                        "session.timeout.ms=6000",
                        "-X",
                        "heartbeat.interval.ms=500",
                        "-X",
                        "auto.commit.interval.ms=200",
                        NULL};
        return member_start(m, argv);
    }
    char *argv[] = {"kcat",
                    "-u", /* unbuffered: the test reads the output while kcat runs */
                    "-b",
                    (char *)boot,
                    "-G",
                    (char *)group,
                    "-X",
                    "auto.offset.reset=earliest", /* -o would override the commits */
                    "-f",
                    "%s\\n",
                    "-X",
                    "session.timeout.ms=6000",
                    "-X",
                    "heartbeat.interval.ms=500",
                    "-X",
                    "auto.commit.interval.ms=200",
                    "t",
                    NULL};
    return member_start(m, argv);
}

typedef struct wait_ctx {
    member *ms;
    int n_members;
    int want;
    int *seen;
    int a, b; /* expected assignments of ms[0], ms[1] (-2: any) */
} wait_ctx;

static bool assigned_as_expected(void *arg) {
    wait_ctx *w = arg;
    return (w->a == -2 || assigned_count(&w->ms[0]) == w->a) &&
           (w->b == -2 || w->n_members < 2 || assigned_count(&w->ms[1]) == w->b);
}

static bool read_enough(void *arg) {
    wait_ctx *w = arg;
    return count_values(w->ms, w->n_members, w->seen, TG_MAX) >= w->want;
}

static int exactly_once(const int *seen, int from, int to) {
    int n = 0;
    for (int i = from; i < to; i++)
        n += seen[i] == 1;
    return n;
}

static int read_outside(const int *seen, int from, int to) {
    int n = 0;
    for (int i = 0; i < TG_MAX; i++)
        n += (i < from || i >= to) ? seen[i] : 0;
    return n;
}

/* The whole scenario: member 1 (and the one that restarts) of kind `a`, member 2 of kind `b`
 * (the same kind, or a mixed group). */
static void group_scenario(member_kind a, member_kind b) {
    alarm(280); /* a longer deadline than the runner's 120 s: three phases of real clients */
    char what[64];
    if (a == b)
        snprintf(what, sizeof what, "%s", kind_names[a]);
    else
        snprintf(what, sizeof what, "%s + %s", kind_names[a], kind_names[b]);
    const char *missing = kind_missing(a) ? kind_missing(a) : kind_missing(b);
    if (missing) {
        fprintf(stderr, "\n    NOT RUN: %s\n", missing);
        return;
    }
    CU_ASSERT_FATAL(write_script(py_path, sizeof py_path, py_member));
    CU_ASSERT_FATAL(write_script(js_path, sizeof js_path, js_member));
    broker_proc bp;
    CU_ASSERT_FATAL(broker_start(&bp, "t:6:3"));
    const int N1 = 3000, N2 = 600, N3 = 300;
    CU_ASSERT_FATAL(produce_range(bp.boot, 0, N1));
    static int seen[TG_MAX];
    member ms[3];
    memset(ms, 0, sizeof ms);
    CU_ASSERT_FATAL(member_start_kind(&ms[0], a, bp.boot, "grp"));
    CU_ASSERT_FATAL(member_start_kind(&ms[1], b, bp.boot, "grp"));

    /* two members: 3 partitions each, every record once between them */
    wait_ctx w = {ms, 2, N1, seen, 3, 3};
    bool split = tu_wait_until(assigned_as_expected, &w, 60000);
    CU_ASSERT_TRUE(split);
    CU_ASSERT_TRUE(tu_wait_until(read_enough, &w, 60000));
    int lines = count_values(ms, 2, seen, TG_MAX);
    CU_ASSERT_EQUAL(lines, N1);
    CU_ASSERT_EQUAL(exactly_once(seen, 0, N1), N1);
    fprintf(stderr, "\n    %s: 2 members got %d and %d partitions; %d lines, %d exactly once\n",
            what, assigned_count(&ms[0]), assigned_count(&ms[1]), lines,
            exactly_once(seen, 0, N1));

    /* one member stops (commit + LeaveGroup): the other takes all 6 */
    int64_t t0 = tu_now_ms();
    member_stop(&ms[1], SIGTERM);
    w.a = TG_PARTS;
    w.b = -2;
    CU_ASSERT_TRUE(tu_wait_until(assigned_as_expected, &w, 30000));
    int64_t took = tu_now_ms() - t0;
    CU_ASSERT_TRUE(took < TG_SESSION_MS);
    CU_ASSERT_FATAL(produce_range(bp.boot, N1, N1 + N2));
    w.want = N1 + N2;
    CU_ASSERT_TRUE(tu_wait_until(read_enough, &w, 60000));
    lines = count_values(ms, 2, seen, TG_MAX);
    CU_ASSERT_EQUAL(lines, N1 + N2);
    CU_ASSERT_EQUAL(exactly_once(seen, 0, N1 + N2), N1 + N2);
    fprintf(stderr, "    %s: member 2 stopped, member 1 had all %d partitions after %lld ms; "
                    "%d lines, %d exactly once\n",
            what, assigned_count(&ms[0]), (long long)took, lines,
            exactly_once(seen, 0, N1 + N2));

    /* the last member stops; a new one resumes from the committed offsets */
    member_stop(&ms[0], SIGTERM);
    CU_ASSERT_FATAL(produce_range(bp.boot, N1 + N2, N1 + N2 + N3));
    CU_ASSERT_FATAL(member_start_kind(&ms[2], a, bp.boot, "grp"));
    wait_ctx w3 = {&ms[2], 1, N3, seen, TG_PARTS, -2};
    CU_ASSERT_TRUE(tu_wait_until(assigned_as_expected, &w3, 60000));
    CU_ASSERT_TRUE(tu_wait_until(read_enough, &w3, 60000));
    /* give it time to (wrongly) read more: two auto-commit rounds and fetches */
    int64_t settle = tu_now_ms() + 1500;
    while (tu_now_ms() < settle)
        usleep(20000);
    lines = count_values(&ms[2], 1, seen, TG_MAX);
    CU_ASSERT_EQUAL(lines, N3);
    CU_ASSERT_EQUAL(exactly_once(seen, N1 + N2, N1 + N2 + N3), N3);
    CU_ASSERT_EQUAL(read_outside(seen, N1 + N2, N1 + N2 + N3), 0);
    fprintf(stderr, "    %s: after restart the new member read %d lines (%d new records, %d "
                    "older ones again)\n",
            what, lines, N3, read_outside(seen, N1 + N2, N1 + N2 + N3));
    for (int i = 0; i < 3; i++)
        member_cleanup(&ms[i]);
    broker_stop(&bp);
    unlink(py_path);
    unlink(js_path);
}

static void test_kcat_group_two_members_then_one_then_resume(void) {
    group_scenario(M_KCAT, M_KCAT);
}

static void test_kafka_python_group_two_members_then_one_then_resume(void) {
    group_scenario(M_PYTHON, M_PYTHON);
}

static void test_courier_consume_group_two_members_then_one_then_resume(void) {
    group_scenario(M_COURIER, M_COURIER);
}

/* courier consume -G and kcat -G in one group: each reads the other's assignment bytes (the
 * "consumer" protocol), whichever of them the coordinator makes leader. */
static void test_courier_and_kcat_share_a_group(void) {
    group_scenario(M_COURIER, M_KCAT);
}

/* The same with kcat joining first: kcat's leader assigns, courier reads kcat's bytes. */
static void test_kcat_and_courier_share_a_group(void) {
    group_scenario(M_KCAT, M_COURIER);
}

static void test_kafkajs_group_two_members_then_one_then_resume(void) {
    group_scenario(M_KAFKAJS, M_KAFKAJS);
}


/* ---- the coordinator's broker taken down mid-run (in-process cluster) ---- */

static void quiet_log(int level, const char *line, void *opaque) {
    (void)level;
    (void)line;
    (void)opaque;
}

typedef struct commit_ctx {
    mb_cluster *c;
    int64_t want;
} commit_ctx;

static bool committed_all(void *arg) {
    commit_ctx *cc = arg;
    int64_t sum = 0;
    for (int p = 0; p < TG_PARTS; p++) {
        int64_t off = -1;
        if (mb_group_committed(cc->c, "grp", "t", p, &off) != MB_OK || off < 0)
            return false;
        sum += off;
    }
    return sum == cc->want;
}

static void coordinator_down_scenario(member_kind kind) {
    alarm(200);
    if (kind_missing(kind)) {
        fprintf(stderr, "\n    NOT RUN: %s\n", kind_missing(kind));
        return;
    }
    mb_config conf;
    mb_config_init(&conf);
    mb_topic_config t = {"t", TG_PARTS, 3, 0};
    conf.topics = &t;
    conf.n_topics = 1;
    conf.log_cb = quiet_log;
    mb_cluster *c = NULL;
    char err[256];
    CU_ASSERT_FATAL(mb_cluster_new(&conf, &c, err, sizeof err) == MB_OK);
    CU_ASSERT_FATAL(mb_cluster_start(c, err, sizeof err) == MB_OK);
    const char *boot = mb_cluster_bootstrap(c);
    const int N = 2000, M = 500;
    CU_ASSERT_FATAL(produce_range(boot, 0, N));
    static int seen[TG_MAX];
    member m;
    CU_ASSERT_FATAL(member_start_kind(&m, kind, boot, "grp"));
    wait_ctx w = {&m, 1, N, seen, TG_PARTS, -2};
    CU_ASSERT_TRUE(tu_wait_until(read_enough, &w, 60000));
    commit_ctx cc = {c, N};
    CU_ASSERT_TRUE(tu_wait_until(committed_all, &cc, 30000));
    int32_t before = mb_group_coordinator_id(c, "grp");
    CU_ASSERT_EQUAL(mb_broker_down(c, before), MB_OK);
    int32_t after = mb_group_coordinator_id(c, "grp");
    CU_ASSERT_TRUE(after > 0 && after != before);
    CU_ASSERT_FATAL(produce_range(boot, N, N + M));
    w.want = N + M;
    CU_ASSERT_TRUE(tu_wait_until(read_enough, &w, 60000));
    int64_t settle = tu_now_ms() + 1500;
    while (tu_now_ms() < settle)
        usleep(20000);
    int lines = count_values(&m, 1, seen, TG_MAX);
    int old_once = exactly_once(seen, 0, N), new_read = 0, new_dups = 0;
    for (int i = N; i < N + M; i++) {
        new_read += seen[i] >= 1;
        new_dups += seen[i] > 1 ? seen[i] - 1 : 0;
    }
    CU_ASSERT_EQUAL(old_once, N); /* nothing committed before the failure is read again */
    CU_ASSERT_EQUAL(new_read, M);
    /* and it commits to the new coordinator */
    cc.want = N + M;
    CU_ASSERT_TRUE(tu_wait_until(committed_all, &cc, 30000));
    if (kind == M_COURIER) { /* it noticed, and says so */
        char *err_text = slurp(m.err);
        CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "finding the coordinator again"));
        free(err_text);
    }
    mb_group_info gi[4];
    int ng = mb_groups_list(c, gi, 4);
    CU_ASSERT_EQUAL(ng, 1);
    CU_ASSERT_EQUAL(gi[0].coordinator, after);
    CU_ASSERT_EQUAL(gi[0].members, 1);
    fprintf(stderr,
            "\n    %s: coordinator %d down, group moved to %d (%s, generation %d): %d lines; "
            "%d of %d committed records read once, %d of %d new ones read (%d read twice)\n",
            kind_names[kind], (int)before, (int)after, gi[0].state, (int)gi[0].generation, lines, old_once, N,
            new_read, M, new_dups);
    member_cleanup(&m);
    mb_cluster_destroy(c);
}

static void test_kcat_group_survives_its_coordinator_going_down(void) {
    coordinator_down_scenario(M_KCAT);
}

static void test_courier_consume_group_survives_its_coordinator_going_down(void) {
    coordinator_down_scenario(M_COURIER);
}

/* ---- KafkaAdminClient creates and deletes a topic; kcat -L shows it ---- */

static const char *py_admin =
    "import sys\n"
    "from kafka.admin import KafkaAdminClient, NewTopic, NewPartitions\n"
    "from kafka.errors import TopicAlreadyExistsError\n"
    "a = KafkaAdminClient(bootstrap_servers=sys.argv[1].split(','))\n"
    "if sys.argv[2] == 'create':\n"
    "    a.create_topics([NewTopic('payments', num_partitions=4, replication_factor=3)])\n"
    "    try:\n"
    "        a.create_topics([NewTopic('payments', num_partitions=4, replication_factor=3)])\n"
    "        print('second create: no error')\n"
    "    except TopicAlreadyExistsError:\n"
    "        print('second create: TopicAlreadyExistsError')\n"
    "elif sys.argv[2] == 'grow':\n"
    "    a.create_partitions({'payments': NewPartitions(6)})\n"
    "    print('grown')\n"
    "else:\n"
    "    a.delete_topics(['payments'])\n"
    "    print('deleted')\n"
    "a.close()\n";

static int run_capture(const char *cmd, char *out, size_t size) {
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    return pclose(p);
}

static void test_kafka_python_admin_creates_and_deletes_a_topic_kcat_sees_it(void) {
    if (access("/usr/bin/python3", X_OK) != 0 || !have("kcat")) {
        fprintf(stderr, "\n    NOT RUN: kafka-python or kcat is not installed\n");
        return;
    }
    char path[] = "/tmp/courier-admin-py-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_FATAL(write(fd, py_admin, strlen(py_admin)) == (ssize_t)strlen(py_admin));
    close(fd);
    broker_proc bp;
    CU_ASSERT_FATAL(broker_start(&bp, "t:1:1"));
    static char out[16384];
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "timeout 60 /usr/bin/python3 %s %s create 2>&1", path, bp.boot);
    CU_ASSERT_EQUAL(run_capture(cmd, out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "second create: TopicAlreadyExistsError"));
    snprintf(cmd, sizeof cmd, "timeout 30 kcat -L -b %s 2>&1", bp.boot);
    CU_ASSERT_EQUAL(run_capture(cmd, out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "topic \"payments\" with 4 partitions"));
    snprintf(cmd, sizeof cmd, "timeout 60 /usr/bin/python3 %s %s grow 2>&1", path, bp.boot);
    CU_ASSERT_EQUAL(run_capture(cmd, out, sizeof out), 0);
    snprintf(cmd, sizeof cmd, "timeout 30 kcat -L -b %s 2>&1", bp.boot);
    CU_ASSERT_EQUAL(run_capture(cmd, out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "topic \"payments\" with 6 partitions"));
    snprintf(cmd, sizeof cmd, "timeout 60 /usr/bin/python3 %s %s delete 2>&1", path, bp.boot);
    CU_ASSERT_EQUAL(run_capture(cmd, out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "deleted"));
    snprintf(cmd, sizeof cmd, "timeout 30 kcat -L -b %s 2>&1", bp.boot);
    CU_ASSERT_EQUAL(run_capture(cmd, out, sizeof out), 0);
    CU_ASSERT_PTR_NULL(strstr(out, "payments"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "topic \"t\""));
    broker_stop(&bp);
    unlink(path);
}

void suite_sim_groups(void);
void suite_sim_groups(void) {
    tu_suite("sim_groups");
    tu_test("kcat -G: 3+3 partitions, then 6, every record once, resume from commits",
            test_kcat_group_two_members_then_one_then_resume);
    tu_test("kafka-python group: 3+3 partitions, then 6, every record once, resume",
            test_kafka_python_group_two_members_then_one_then_resume);
    tu_test("kcat -G keeps consuming when its coordinator's broker goes down",
            test_kcat_group_survives_its_coordinator_going_down);
    tu_test("courier consume -G: 3+3 partitions, then 6, every record once, resume",
            test_courier_consume_group_two_members_then_one_then_resume);
    tu_test("courier consume -G + kcat -G in one group: 3+3, then 6, every record once",
            test_courier_and_kcat_share_a_group);
    tu_test("kcat -G + courier consume -G in one group: 3+3, then 6, every record once",
            test_kcat_and_courier_share_a_group);
    tu_test("courier consume -G keeps consuming when its coordinator's broker goes down",
            test_courier_consume_group_survives_its_coordinator_going_down);
    tu_test("kafkajs group: 3+3 partitions, then 6, every record once, resume",
            test_kafkajs_group_two_members_then_one_then_resume);
    tu_test("KafkaAdminClient creates, widens and deletes a topic; kcat -L sees it",
            test_kafka_python_admin_creates_and_deletes_a_topic_kcat_sees_it);
}
