/* bench_view — what the live view costs the pipeline.
 *
 * The same scenario (3 brokers, 6 partitions, replication 3, acks=1, linger.ms 5, 100-byte
 * keyed records, unthrottled) is played headless (no event ring) and under the real view
 * (ring on, 20 frames a second, drawn by ncurses onto a pseudo-terminal whose output a thread
 * reads and throws away), interleaved, several rounds each. Throughput is acknowledged
 * records per wall second of the run; the best round of each mode is compared, since on a
 * shared machine noise only ever slows a round down. Target: the view costs < 5%.
 *
 * CPU per message (all threads of the process) is printed too, and the view thread's own CPU:
 * they are steadier than wall throughput when other work shares the machine.
 *
 *   bench_view [MESSAGES] [ROUNDS] [both|headless|view]   (defaults 500000, 3, both; one
 *                                                          mode alone is for profiling)
 */
#include "sim/runner.h"
#include "sim/scenario.h"
#include "sim/view.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#define SCENARIO_FMT                                                                               \
    "{\"name\": \"bench-view\","                                                                   \
    " \"description\": \"headless vs view throughput\","                                           \
    " \"cluster\": {\"brokers\": 3,"                                                               \
    "   \"topics\": [{\"name\": \"bench\", \"partitions\": 6, \"replication\": 3}]},"              \
    " \"producer\": {\"acks\": 1, \"enable.idempotence\": false, \"linger.ms\": 5},"               \
    " \"workload\": {\"messages\": %lld, \"rate\": \"unthrottled\", \"keys\": 100,"                \
    "   \"value_size\": 100, \"seed\": 1}}"

typedef struct pty_sink {
    int master;
    atomic_bool stop;
    long long bytes;
} pty_sink;

/* Reads and discards what the view writes, as a terminal would consume it. */
static void *drain_pty(void *arg) {
    pty_sink *p = arg;
    char buf[65536];
    while (!atomic_load(&p->stop)) {
        ssize_t n = read(p->master, buf, sizeof buf);
        if (n > 0)
            p->bytes += n;
        else if (n == 0)
            break;
        else
            usleep(1000);
    }
    return NULL;
}

static double rusage_seconds(int who) {
    struct rusage ru;
    getrusage(who, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double cpu_seconds(void) {
    return rusage_seconds(RUSAGE_SELF);
}

static double thread_cpu_seconds(void) {
    return rusage_seconds(RUSAGE_THREAD);
}

/* One run; returns acknowledged records per wall second, or -1 on error. *cpu gets the
 * process CPU seconds the run took (every thread: workload, sender, brokers, view). */
static double one_run(const sim_scenario *s, bool view, long long *acked, long long *tty_bytes,
                      double *cpu, double *view_cpu) {
    double cpu0 = cpu_seconds();
    char err[512];
    sim_run_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.speed = 1.0;
    ro.ring_capacity = view ? SIM_VIEW_RING_CAPACITY : 0;
    sim_runner *r = NULL;
    if (sim_runner_new(s, &ro, &r, err, sizeof err)) {
        fprintf(stderr, "bench_view: %s\n", err);
        return -1;
    }
    pty_sink sink = {.master = -1};
    pthread_t th;
    FILE *tin = NULL, *tout = NULL;
    if (view) {
        sink.master = posix_openpt(O_RDWR | O_NOCTTY);
        if (sink.master < 0 || grantpt(sink.master) || unlockpt(sink.master)) {
            perror("bench_view: posix_openpt");
            sim_runner_destroy(r);
            return -1;
        }
        struct winsize ws = {.ws_row = 24, .ws_col = 80};
        ioctl(sink.master, TIOCSWINSZ, &ws);
        const char *slave = ptsname(sink.master);
        tin = slave ? fopen(slave, "r") : NULL;
        tout = slave ? fopen(slave, "w") : NULL;
        if (!tin || !tout) {
            perror("bench_view: opening the pty");
            sim_runner_destroy(r);
            return -1;
        }
        pthread_create(&th, NULL, drain_pty, &sink);
    }
    if (sim_runner_start(r, err, sizeof err)) {
        fprintf(stderr, "bench_view: cannot start: %s\n", err);
        sim_runner_destroy(r);
        return -1;
    }
    if (view) {
        sim_view_opts vo = {.fps = 20, .exit_when_done = true, .term_in = tin, .term_out = tout};
        /* The view runs on this thread: its own CPU is this thread's during the call. */
        double t0 = thread_cpu_seconds();
        if (sim_view_main(r, &vo) != 0)
            fprintf(stderr, "bench_view: the view did not run\n");
        *view_cpu = thread_cpu_seconds() - t0;
    }
    while (!sim_runner_wait(r, 200)) {
    }
    *cpu = cpu_seconds() - cpu0; /* the run, not the audit below */
    sim_audit a;
    sim_runner_audit(r, &a);
    if (view) {
        atomic_store(&sink.stop, true);
        fclose(tin);
        fclose(tout);
        close(sink.master); /* read() returns and the drain thread ends */
        pthread_join(th, NULL);
        *tty_bytes = sink.bytes;
    }
    sim_runner_destroy(r);
    *acked = a.acknowledged;
    return a.wall_s > 0 ? (double)a.acknowledged / a.wall_s : -1;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    long long messages = argc > 1 ? atoll(argv[1]) : 500000;
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    const char *mode = argc > 3 ? argv[3] : "both";
    if (messages <= 0 || rounds <= 0 ||
        (strcmp(mode, "both") && strcmp(mode, "headless") && strcmp(mode, "view"))) {
        fprintf(stderr, "usage: bench_view [MESSAGES] [ROUNDS] [both|headless|view]\n");
        return 2;
    }
    setenv("TERM", "xterm-256color", 0);
    char json[1024], err[512];
    snprintf(json, sizeof json, SCENARIO_FMT, messages);
    sim_scenario *s = NULL;
    if (sim_scenario_parse(json, strlen(json), "bench_view", &s, err, sizeof err)) {
        fprintf(stderr, "bench_view: %s\n", err);
        return 1;
    }
    double best[2] = {0, 0}, best_cpu[2] = {1e9, 1e9};
    /* Per-round cost of the view against the headless run just before it (paired rounds). */
    double *paired = calloc((size_t)rounds, sizeof *paired);
    double round_rate[2] = {0, 0};
    if (!paired) {
        sim_scenario_free(s);
        return 1;
    }
    for (int i = 0; i < rounds; i++) {
        for (int v = 0; v < 2; v++) {
            if ((v == 0 && !strcmp(mode, "view")) || (v == 1 && !strcmp(mode, "headless")))
                continue;
            long long acked = 0, tty = 0;
            double cpu = 0, view_cpu = 0;
            double rate = one_run(s, v == 1, &acked, &tty, &cpu, &view_cpu);
            if (rate < 0 || acked != messages) {
                fprintf(stderr, "bench_view: %s round %d: %lld of %lld acknowledged\n",
                        v ? "view" : "headless", i + 1, acked, messages);
                sim_scenario_free(s);
                free(paired);
                return 1;
            }
            round_rate[v] = rate;
            double us_per_msg = cpu * 1e6 / (double)acked;
            printf("bench_view: round %d %-8s %9.0f msgs/s  %.2f CPU us/msg", i + 1,
                   v ? "view" : "headless", rate, us_per_msg);
            if (v)
                printf("  (view thread %.3f s CPU = %.1f%% of the run's; %lld bytes drawn)",
                       view_cpu, cpu > 0 ? view_cpu * 100.0 / cpu : 0.0, tty);
            printf("\n");
            fflush(stdout);
            if (rate > best[v])
                best[v] = rate;
            if (us_per_msg < best_cpu[v])
                best_cpu[v] = us_per_msg;
        }
        paired[i] = (round_rate[0] - round_rate[1]) / round_rate[0] * 100.0;
    }
    if (strcmp(mode, "both")) {
        sim_scenario_free(s);
        free(paired);
        return 0;
    }
    qsort(paired, (size_t)rounds, sizeof *paired, cmp_double);
    printf("bench_view: paired rounds (view vs the headless run before it): median cost %.1f%%, "
           "range %.1f%% .. %.1f%% — the spread is this machine's noise\n",
           rounds % 2 ? paired[rounds / 2] : (paired[rounds / 2 - 1] + paired[rounds / 2]) / 2,
           paired[0], paired[rounds - 1]);
    free(paired);
    double cost = (best[0] - best[1]) / best[0] * 100.0;
    double cpu_cost = (best_cpu[1] - best_cpu[0]) / best_cpu[0] * 100.0;
    printf("bench_view: %lld msgs x %d rounds, best: headless %.0f msgs/s, view %.0f msgs/s; "
           "the view costs %.1f%% throughput (target < 5%%: %s), %+.1f%% CPU per message\n",
           messages, rounds, best[0], best[1], cost, cost < 5.0 ? "met" : "NOT met", cpu_cost);
    sim_scenario_free(s);
    return 0;
}
