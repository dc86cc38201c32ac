/* `courier produce` (idempotence on, the default) keeps going across a `courier broker`
 * kill -9 and restart on the same port: every line is acknowledged (exit 0, "acked N") and
 * read back exactly once (kcat -C: the first part from the first broker before the kill, the
 * rest from the restarted one). The restarted broker has no state for the producer's id and
 * takes it at the sequence it has reached, as Kafka takes a producer with no current epoch;
 * before, it demanded sequence 0 and every later line failed with
 * OUT_OF_ORDER_SEQUENCE_NUMBER. */
#include "tests/test_sim_util.h"
#include "tests/tu.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PART1 300
#define TOTAL 600

/* Starts `courier broker --brokers 1 --topic restart:1:1 --port PORT` with stdout on a pipe;
 * fills bootstrap from its first line. Returns the pid, -1 on failure. */
static pid_t start_broker(int port, char *bootstrap, size_t size) {
    int pfd[2];
    if (pipe(pfd) != 0)
        return -1;
    char port_s[16];
    snprintf(port_s, sizeof port_s, "%d", port);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 2);
        char *argv[] = {"courier", "broker",  "--brokers",     "1", "--topic",
                        "restart:1:1", "--port", port_s, NULL};
        execv(tu_courier_path(), argv);
        _exit(127);
    }
    close(pfd[1]);
    FILE *f = fdopen(pfd[0], "r");
    char line[512] = "";
    bool ok = f && fgets(line, sizeof line, f) && strncmp(line, "bootstrap: ", 11) == 0;
    if (f)
        fclose(f); /* the broker's later output goes nowhere; it prints nothing more */
    if (!ok) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    line[strcspn(line, "\r\n")] = '\0';
    line[sizeof line - 300] = '\0'; /* a bootstrap line is short */
    snprintf(bootstrap, size, "%.200s", line + 11);
    return pid;
}

/* Reads partition 0 of topic "restart" with kcat; counts[i] += times line i was read. */
static int read_back(const char *bootstrap, int *counts) {
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "timeout 20 kcat -C -b %s -t restart -p 0 -o beginning -e -q -f '%%s\\n' 2>/dev/null",
             bootstrap);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char line[128];
    int n = 0;
    while (fgets(line, sizeof line, p)) {
        int i;
        if (sscanf(line, "line-%d", &i) == 1 && i >= 0 && i < TOTAL) {
            counts[i]++;
            n++;
        }
    }
    pclose(p);
    return n;
}

static void write_lines(FILE *to, int from, int to_excl) {
    for (int i = from; i < to_excl; i++)
        fprintf(to, "line-%d\n", i);
    fflush(to);
}

static void test_produce_survives_broker_kill_and_restart(void) {
    char bs[256];
    pid_t broker = start_broker(0, bs, sizeof bs);
    CU_ASSERT_FATAL(broker > 0);
    int port = atoi(strrchr(bs, ':') + 1);
    CU_ASSERT_FATAL(port > 0);

    int in[2];
    CU_ASSERT_FATAL(pipe2(in, O_CLOEXEC) == 0); /* the restarted broker must not hold stdin open */
    char opath[] = "/tmp/courier-restart-out-XXXXXX";
    int ofd = mkstemp(opath);
    CU_ASSERT_FATAL(ofd >= 0);
    unlink(opath);
    pid_t prod = fork();
    if (prod == 0) {
        dup2(in[0], 0);
        close(in[1]);
        dup2(ofd, 1);
        dup2(ofd, 2);
        char *argv[] = {"courier", "produce", "-b", bs, "-t", "restart", "-p", "0", NULL};
        execv(tu_courier_path(), argv);
        _exit(127);
    }
    close(in[0]);
    FILE *to = fdopen(in[1], "w");
    CU_ASSERT_FATAL(to != NULL);

    /* part 1: written and read back from the first broker */
    static int first[TOTAL], second[TOTAL];
    write_lines(to, 0, PART1);
    int64_t deadline = tu_now_ms() + 30000;
    int got = 0;
    while (tu_now_ms() < deadline) {
        memset(first, 0, sizeof first);
        got = read_back(bs, first);
        if (got >= PART1)
            break;
        usleep(50000);
    }
    CU_ASSERT_EQUAL(got, PART1);

    /* kill -9; some lines go out while it is down; restart on the same port */
    kill(broker, SIGKILL);
    waitpid(broker, NULL, 0);
    write_lines(to, PART1, PART1 + 100);
    char bs2[256];
    pid_t broker2 = -1;
    for (int attempt = 0; attempt < 50 && broker2 < 0; attempt++) {
        broker2 = start_broker(port, bs2, sizeof bs2);
        if (broker2 < 0)
            usleep(100000); /* the port may still be held for a moment */
    }
    CU_ASSERT_FATAL(broker2 > 0);
    CU_ASSERT_STRING_EQUAL(bs2, bs);
    write_lines(to, PART1 + 100, TOTAL);
    fclose(to); /* EOF: courier produce flushes, prints its summary and exits */

    int st = -1;
    int64_t t0 = tu_now_ms();
    while (tu_now_ms() - t0 < 90000 && waitpid(prod, &st, WNOHANG) != prod)
        usleep(20000);
    if (tu_now_ms() - t0 >= 90000) {
        kill(prod, SIGKILL);
        waitpid(prod, &st, 0);
    }
    static char out[65536];
    ts_read_back(ofd, out, sizeof out);
    close(ofd);
    bool exited_0 = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (!exited_0 || !strstr(out, "acked 600"))
        fprintf(stderr, "\n    courier produce (status %d) said:\n%s", st, out);
    CU_ASSERT_TRUE(exited_0);
    CU_ASSERT_PTR_NULL(strstr(out, "OUT_OF_ORDER_SEQUENCE_NUMBER"));

    CU_ASSERT_EQUAL(read_back(bs, second), TOTAL - PART1);
    int once = 0, twice = 0, missing = 0;
    for (int i = 0; i < TOTAL; i++) {
        int n = first[i] + second[i];
        once += n == 1;
        twice += n > 1;
        missing += n == 0;
    }
    fprintf(stderr, "\n    %d lines: read back once %d, more than once %d, missing %d", TOTAL,
            once, twice, missing);
    CU_ASSERT_EQUAL(once, TOTAL);
    kill(broker2, SIGTERM);
    waitpid(broker2, NULL, 0);
}

void suite_sim_broker_restart(void);
void suite_sim_broker_restart(void) {
    tu_suite("sim_broker_restart");
    tu_test("test_produce_survives_broker_kill_and_restart",
            test_produce_survives_broker_kill_and_restart);
}
