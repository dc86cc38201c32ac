/* bench_replay — how fast `courier replay` redraws: the 45 s demo recorded headless (speed
 * 10), then the frame text rebuilt at every event from the first to the last (what holding →
 * asks for), stepping back (←), and going to random events (g).
 *
 * A "redraw" here is sim_recording_model_at() (the last snapshot plus the events after it
 * folded through the live feed) followed by every text row of a 160x48 frame written by
 * sim/view_text.c (layout, title, desk, deques, pool, lanes, map, trace, footer, keys): all
 * the view does per frame except the curses calls that put those rows on the terminal.
 * Targets (issue 12): >= 200 events per second with → held, a jump to any event < 100 ms.
 *
 *   bench_replay [RECORDING]   (default: record scenarios/demo.json to a temporary file)
 */
#include "sim/record.h"
#include "sim/recording.h"
#include "sim/runner.h"
#include "sim/scenario.h"
#include "sim/view_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Every row of a 160x48 frame, as text (the checksum keeps the compiler honest). */
static unsigned render(const sim_view_model *m) {
    sim_vt_layout lay;
    sim_vt_layout_compute(&lay, 48, 160, m);
    sim_vt_line l;
    unsigned sum = 0;
#define ROW(call)                                                                                  \
    do {                                                                                           \
        sim_vt_line_init(&l, 160);                                                                 \
        call;                                                                                      \
        sum += (unsigned)l.len;                                                                    \
    } while (0)
    ROW(sim_vt_row_title(&l, m));
    for (int i = 0; i < m->n_desk; i++)
        ROW(sim_vt_row_desk(&l, m->lang, &m->desk[i]));
    for (int i = 0; i < m->n_parts; i++)
        ROW(sim_vt_row_partition(&l, m->lang, &m->parts[i], m->batch_size, 12));
    ROW(sim_vt_row_pool(&l, m->lang, &m->pool));
    for (int i = 0; i < m->n_nodes; i++)
        ROW(sim_vt_row_node(&l, m->lang, &m->nodes[i]));
    for (int i = 0; i < m->n_map; i++)
        ROW(sim_vt_row_map(&l, m->lang, &m->map[i], 12));
    for (int i = 0; i < m->n_trace; i++)
        ROW(sim_vt_line_add(&l, SIM_ST_NORMAL, "%s", m->trace[i]));
    ROW(sim_vt_row_footer(&l, m));
    ROW(sim_vt_row_keys(&l, m));
#undef ROW
    return sum;
}

/* CPU time of this thread: the work itself, whatever else the machine runs. */
static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int record_demo(const char *path) {
    char err[1024];
    sim_scenario *s = NULL;
    if (sim_scenario_load("scenarios/demo.json", &s, err, sizeof err)) {
        fprintf(stderr, "bench_replay: %s (run from the repository root)\n", err);
        return -1;
    }
    FILE *f = fopen("scenarios/demo.json", "rb");
    static char text[1 << 16];
    size_t n = f ? fread(text, 1, sizeof text, f) : 0;
    if (f)
        fclose(f);
    sim_record *rec = NULL;
    if (sim_record_open(&rec, path, text, n, true, err, sizeof err)) {
        fprintf(stderr, "bench_replay: %s\n", err);
        sim_scenario_free(s);
        return -1;
    }
    sim_run_opts o = {.speed = 10, .recorder = rec};
    sim_runner *r = NULL;
    if (sim_runner_new(s, &o, &r, err, sizeof err) || sim_runner_start(r, err, sizeof err)) {
        fprintf(stderr, "bench_replay: %s\n", err);
        sim_runner_destroy(r);
        sim_record_destroy(rec);
        sim_scenario_free(s);
        return -1;
    }
    sim_runner_wait(r, -1);
    sim_audit a;
    sim_runner_audit(r, &a);
    int rc = sim_record_finish(rec, &a, err, sizeof err);
    if (rc)
        fprintf(stderr, "bench_replay: %s\n", err);
    sim_runner_destroy(r);
    sim_record_destroy(rec);
    sim_scenario_free(s);
    return rc;
}

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    char tmp[128] = "";
    const char *path = argc > 1 ? argv[1] : NULL;
    if (!path) {
        snprintf(tmp, sizeof tmp, "/tmp/bench-replay-%d.rec", (int)getpid());
        double t0 = now_s();
        if (record_demo(tmp))
            return 1;
        printf("recorded scenarios/demo.json headless at speed 10 in %.1f s wall\n",
               now_s() - t0);
        path = tmp;
    }
    struct stat st;
    stat(path, &st);
    char err[1024];
    sim_recording *rec = NULL;
    double t0 = now_s();
    if (sim_recording_open(path, &rec, err, sizeof err)) {
        fprintf(stderr, "bench_replay: %s\n", err);
        return 1;
    }
    double open_s = now_s() - t0;
    uint64_t first = sim_recording_first_seq(rec), last = sim_recording_last_seq(rec);
    printf("recording: %.2f MB, %llu events, %zu chunks, %zu snapshots; opened (checked, "
           "indexed, keyframes) in %.0f ms\n",
           (double)st.st_size / 1e6, (unsigned long long)(last - first + 1),
           sim_recording_n_chunks(rec), sim_recording_n_samples(rec), open_s * 1000);

    sim_view_model *m = malloc(sizeof *m);
    unsigned sum = 0;
    /* → held: every event from the first to the last */
    double worst = 0, c0 = cpu_s();
    t0 = now_s();
    for (uint64_t s = first; s <= last; s++) {
        double a = now_s();
        if (sim_recording_model_at(rec, s, m)) {
            fprintf(stderr, "bench_replay: event %llu\n", (unsigned long long)s);
            return 1;
        }
        sum += render(m);
        double d = now_s() - a;
        if (d > worst)
            worst = d;
    }
    double fwd = now_s() - t0, fwd_cpu = cpu_s() - c0;
    printf("-> held, first to last: %.0f events/s (%.1f us per event, slowest %.2f ms)  "
           "target >= 200/s: %s\n",
           (double)(last - first + 1) / fwd, fwd * 1e6 / (double)(last - first + 1), worst * 1000,
           (double)(last - first + 1) / fwd >= 200 ? "met" : "NOT MET");
    printf("-> held, CPU time: %.0f events per CPU second\n",
           (double)(last - first + 1) / fwd_cpu);
    /* ← held: 20000 events back from the end */
    uint64_t back = last - first > 20000 ? 20000 : last - first;
    t0 = now_s();
    for (uint64_t s = last; s > last - back; s--) {
        sim_recording_model_at(rec, s, m);
        sum += render(m);
    }
    double bwd = now_s() - t0;
    printf("<- held, %llu events back: %.0f events/s\n", (unsigned long long)back,
           (double)back / bwd);
    /* g: 1000 random events */
    enum { JUMPS = 1000 };
    static double jt[JUMPS], jc[JUMPS];
    srand(12);
    for (int i = 0; i < JUMPS; i++) {
        uint64_t s = first + (uint64_t)((double)rand() / RAND_MAX * (double)(last - first));
        double a = now_s(), c = cpu_s();
        sim_recording_model_at(rec, s, m);
        sum += render(m);
        jt[i] = (now_s() - a) * 1000;
        jc[i] = (cpu_s() - c) * 1000;
    }
    qsort(jt, JUMPS, sizeof jt[0], cmp_dbl);
    qsort(jc, JUMPS, sizeof jc[0], cmp_dbl);
    printf("g to a random event (%d jumps), wall: median %.2f ms, p99 %.2f ms, max %.2f ms\n",
           JUMPS, jt[JUMPS / 2], jt[JUMPS * 99 / 100], jt[JUMPS - 1]);
    printf("g to a random event (%d jumps), CPU:  median %.2f ms, p99 %.2f ms, max %.2f ms  "
           "target < 100 ms: %s\n",
           JUMPS, jc[JUMPS / 2], jc[JUMPS * 99 / 100], jc[JUMPS - 1],
           jc[JUMPS - 1] < 100 ? "met" : "NOT MET");
    printf("(wall time includes waiting for a core: load average now matters; CPU time is the "
           "work)\n");
    printf("(checksum %u)\n", sum);
    free(m);
    sim_recording_close(rec);
    if (tmp[0])
        unlink(tmp);
    return 0;
}
