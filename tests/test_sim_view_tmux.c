/* The live view, driven for real: `courier demo` runs in a detached tmux session of a fixed
 * size on a private tmux server; keys go in with send-keys, the screen comes back with
 * capture-pane. Every wait is on screen content with a deadline, never a fixed sleep. */
#include "sim/view_text.h"
#include "tests/test_sim_view_words.h"
#include "tests/tu.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SCREEN_BYTES 65536
#define START_MS 20000 /* the cluster and producer start, first frames drawn */
#define WAIT_MS 15000
#define QUIT_MS (WAIT_MS + 30000) /* q stops a live run: in-flight work may finish first */

typedef struct tmx {
    char sock[64];
    char name[64];
    char rc_path[128];
    char screen[SCREEN_BYTES];
} tmx;

static int g_session;

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...) {
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

static void pause_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Starts `courier demo ARGS` (or `courier run ...` when ARGS starts with "run ") in a new
 * w x h session; the exit code lands in rc_path. */
static bool tmx_start(tmx *t, int w, int h, const char *args, const char *env) {
    g_session++;
    snprintf(t->sock, sizeof t->sock, "courier-view-test-%d-%d", (int)getpid(), g_session);
    snprintf(t->name, sizeof t->name, "v%d", g_session);
    snprintf(t->rc_path, sizeof t->rc_path, "/tmp/%s.rc", t->sock);
    unlink(t->rc_path);
    int rc = run("tmux -L %s -f /dev/null new-session -d -s %s -x %d -y %d "
                 "\"env %s %s %s %s; echo \\$? > %s\" \\; set-option -t %s remain-on-exit on "
                 ">/dev/null 2>&1",
                 t->sock, t->name, w, h, env ? env : "", tu_courier_path(),
                 args && !strncmp(args, "run ", 4) ? "" : "demo", args ? args : "", t->rc_path,
                 t->name);
    return rc == 0;
}

static void tmx_stop(tmx *t) {
    run("tmux -L %s kill-server >/dev/null 2>&1", t->sock);
    unlink(t->rc_path);
}

static bool g_with_history; /* capture the pane's scrollback too */

static bool tmx_capture(tmx *t) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "tmux -L %s capture-pane -p %s-t %s 2>/dev/null", t->sock,
             g_with_history ? "-S - " : "", t->name);
    FILE *p = popen(cmd, "r");
    if (!p)
        return false;
    size_t n = fread(t->screen, 1, sizeof t->screen - 1, p);
    t->screen[n] = '\0';
    return pclose(p) == 0;
}

static void tmx_keys(tmx *t, const char *keys) {
    run("tmux -L %s send-keys -t %s %s", t->sock, t->name, keys);
}

/* Waits until pred(screen) holds or timeout_ms passes; the last capture stays in t->screen. */
static bool tmx_wait(tmx *t, bool (*pred)(const char *screen, void *arg), void *arg,
                     int timeout_ms) {
    int64_t end = tu_now_ms() + timeout_ms;
    for (;;) {
        if (tmx_capture(t) && pred(t->screen, arg))
            return true;
        if (tu_now_ms() >= end)
            return false;
        pause_ms(20);
    }
}

/* tmx_wait_settled's predicate: pred holds on this capture and the previous one was the same
 * screen (pred runs once per capture, so its outputs describe the frame accepted). */
typedef struct settled_arg {
    bool (*pred)(const char *screen, void *arg);
    void *arg;
    bool had; /* prev holds a capture on which pred held */
    char prev[SCREEN_BYTES];
} settled_arg;

static bool settled(const char *screen, void *arg) {
    settled_arg *s = arg;
    bool same = s->had && !strcmp(s->prev, screen);
    s->had = s->pred(screen, s->arg);
    if (s->had && !same)
        memcpy(s->prev, screen, strlen(screen) + 1);
    return s->had && same;
}

/* As tmx_wait, on a settled frame: pred holds and the next capture (20 ms later) is the same
 * screen. tmux may be read while it is still taking a frame in: ncurses writes a frame top to
 * bottom, so a capture can show the header's new event count above the previous step's
 * explanation line (seen under ASan and TSan on busy machines). A step's checks compare the
 * two, so they must read a whole frame. */
static bool tmx_wait_settled(tmx *t, bool (*pred)(const char *screen, void *arg), void *arg,
                             int timeout_ms) {
    static settled_arg s;
    s.pred = pred;
    s.arg = arg;
    s.had = false;
    return tmx_wait(t, settled, &s, timeout_ms);
}

static bool has_text(const char *screen, void *arg) {
    return strstr(screen, (const char *)arg) != NULL;
}

/* Waits for the exit-code file the wrapper writes; returns the code or -1. */
static int tmx_exit_code(tmx *t, int timeout_ms) {
    int64_t end = tu_now_ms() + timeout_ms;
    do {
        FILE *f = fopen(t->rc_path, "r");
        if (f) {
            int code = -1;
            int got = fscanf(f, "%d", &code);
            fclose(f);
            if (got == 1)
                return code;
        }
        pause_ms(20);
    } while (tu_now_ms() < end);
    return -1;
}

/* q: the view exits with code 0 within timeout_ms; then the session goes. */
static void tmx_quit(tmx *t, int timeout_ms) {
    tmx_keys(t, "q");
    CU_ASSERT_EQUAL(tmx_exit_code(t, timeout_ms), 0);
    tmx_stop(t);
}

/* Copies to out the screen line that contains `contains`; false when there is none. */
static bool find_line(const char *screen, const char *contains, char *out, size_t size) {
    const char *p = strstr(screen, contains);
    if (!p)
        return false;
    while (p > screen && p[-1] != '\n')
        p--;
    size_t n = strcspn(p, "\n");
    if (n >= size)
        n = size - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

/* The event counter in the title bar ("ev 1234"), or -1. */
static long long event_counter(const char *screen) {
    const char *p = strstr(screen, " ev ");
    if (!p || p - screen > 400)
        return -1;
    return strtoll(p + 4, NULL, 10);
}

/* ---- the map: leaders per partition, read off the screen ---------------------------------- */

typedef struct map_view {
    int n;
    int partition[64];
    int leader[64]; /* -1 = none */
} map_view;

/* Parses the dispatcher's map rows ("orders-3   L1  e1 ...") below its header. */
static void parse_map(const char *screen, map_view *mv) {
    mv->n = 0;
    const char *p = strstr(screen, "Dispatcher's map");
    if (!p)
        return;
    p = strchr(p, '\n');
    while (p && *++p && mv->n < 64) {
        char line[512];
        size_t n = strcspn(p, "\n");
        if (n >= sizeof line)
            n = sizeof line - 1;
        memcpy(line, p, n);
        line[n] = '\0';
        p = strchr(p, '\n');
        if (strstr(line, "==") || strstr(line, "rec/s"))
            break; /* the next panel or the footer */
        char *dash = strchr(line, ' ');
        if (!dash)
            continue;
        *dash = '\0';
        char *minus = strrchr(line, '-');
        char *l = strstr(dash + 1, "L");
        if (!minus || !l || !strstr(dash + 1, " HW "))
            continue;
        mv->partition[mv->n] = atoi(minus + 1);
        mv->leader[mv->n] = l[1] == '-' ? -1 : atoi(l + 1);
        mv->n++;
    }
}

static bool map_ready(const char *screen, void *arg) {
    map_view *mv = arg;
    parse_map(screen, mv);
    return mv->n > 0;
}

typedef struct down_check {
    int broker;
    int moved_partitions[64];
    int n_moved;
    map_view mv;
} down_check;

/* True when the lane shows the broker down and none of its partitions is led by it. */
static bool broker_down_and_moved(const char *screen, void *arg) {
    down_check *dc = arg;
    char want[32], line[512];
    snprintf(want, sizeof want, "node %d DOWN", dc->broker);
    if (!find_line(screen, want, line, sizeof line))
        return false;
    parse_map(screen, &dc->mv);
    if (dc->mv.n == 0)
        return false;
    for (int i = 0; i < dc->n_moved; i++)
        for (int j = 0; j < dc->mv.n; j++)
            if (dc->mv.partition[j] == dc->moved_partitions[i] && dc->mv.leader[j] == dc->broker)
                return false;
    return true;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void check_clean(const char *screen, int cols, int rows);

static bool four_rooms(const char *screen, void *arg) {
    (void)arg;
    return strstr(screen, "Front desk") && strstr(screen, "Sorting room") &&
           strstr(screen, "Trucks") && strstr(screen, "Dispatcher's map") &&
           strstr(screen, "node 1 UP") && strstr(screen, " HW ");
}

static void test_demo_shows_the_four_rooms(void) {
    tmx *t = calloc(1, sizeof *t);
    CU_ASSERT_TRUE_FATAL(tmx_start(t, 80, 24, "", NULL));
    bool ok = tmx_wait(t, four_rooms, NULL, START_MS);
    if (!ok)
        fprintf(stderr, "\n--- screen ---\n%s\n", t->screen);
    CU_ASSERT_TRUE(ok);
    /* The pipeline is really running: records get acknowledged. */
    CU_ASSERT_TRUE(tmx_wait(t, has_text, (void *)"acked", WAIT_MS));
    tmx_quit(t, QUIT_MS);
    free(t);
}

static void test_broker_down_moves_its_leaders(void) {
    tmx *t = calloc(1, sizeof *t);
    down_check *dc = calloc(1, sizeof *dc);
    /* Tall enough that every partition of the default scenario has its map row; plain
     * characters (no colours) so that mode is driven too. */
    CU_ASSERT_TRUE_FATAL(tmx_start(t, 120, 48, "--no-color", NULL));
    CU_ASSERT_TRUE_FATAL(tmx_wait(t, map_ready, &dc->mv, START_MS));
    /* Take down the leader of the first partition shown. */
    dc->broker = dc->mv.leader[0];
    CU_ASSERT_TRUE_FATAL(dc->broker > 0);
    for (int i = 0; i < dc->mv.n; i++)
        if (dc->mv.leader[i] == dc->broker)
            dc->moved_partitions[dc->n_moved++] = dc->mv.partition[i];
    char keys[16];
    tmx_keys(t, "k");
    CU_ASSERT_TRUE(tmx_wait(t, has_text, (void *)"which id", WAIT_MS));
    snprintf(keys, sizeof keys, "%d", dc->broker);
    tmx_keys(t, keys);
    bool ok = tmx_wait(t, broker_down_and_moved, dc, WAIT_MS);
    if (!ok)
        fprintf(stderr, "\n--- screen (broker %d down?) ---\n%s\n", dc->broker, t->screen);
    CU_ASSERT_TRUE(ok);
    /* The fault went through the runner: it is in the trace pane as a "fault" event. */
    tmx_keys(t, "t");
    CU_ASSERT_TRUE(tmx_wait(t, has_text, (void *)"broker_down", WAIT_MS));
    /* And back up: the lane says so. */
    tmx_keys(t, "u");
    tmx_keys(t, keys);
    snprintf(keys, sizeof keys, "node %d UP", dc->broker);
    CU_ASSERT_TRUE(tmx_wait(t, has_text, keys, WAIT_MS));
    tmx_quit(t, QUIT_MS);
    free(dc);
    free(t);
}

typedef struct leader_arg {
    int partition, leader;
    map_view mv;
} leader_arg;

static bool partition_led_by(const char *screen, void *arg) {
    leader_arg *a = arg;
    parse_map(screen, &a->mv);
    for (int i = 0; i < a->mv.n; i++)
        if (a->mv.partition[i] == a->partition)
            return a->mv.leader[i] == a->leader;
    return false;
}

static void test_fault_keys_reach_the_cluster_through_the_runner(void) {
    tmx *t = calloc(1, sizeof *t);
    leader_arg *la = calloc(1, sizeof *la);
    CU_ASSERT_TRUE_FATAL(tmx_start(t, 120, 48, "", NULL));
    CU_ASSERT_TRUE_FATAL(tmx_wait(t, map_ready, &la->mv, START_MS));
    /* r: more round-trip time on broker 2, shown on its lane. */
    tmx_keys(t, "r");
    tmx_keys(t, "2");
    CU_ASSERT_TRUE(tmx_wait(t, has_text, (void *)"rtt+100ms", WAIT_MS));
    /* l: partition 0 moves to another broker; the map follows. */
    la->partition = la->mv.partition[0];
    la->leader = la->mv.leader[0] % 3 + 1;
    char keys[16];
    tmx_keys(t, "l");
    snprintf(keys, sizeof keys, "%d", la->partition);
    tmx_keys(t, keys);
    CU_ASSERT_TRUE(tmx_wait(t, has_text, (void *)"to broker", WAIT_MS));
    snprintf(keys, sizeof keys, "%d", la->leader);
    tmx_keys(t, keys);
    bool moved = tmx_wait(t, partition_led_by, la, WAIT_MS);
    if (!moved)
        fprintf(stderr, "\n--- screen (p%d -> %d?) ---\n%s\n", la->partition, la->leader,
                t->screen);
    CU_ASSERT_TRUE(moved);
    /* e and d: the faults are trace events, as the timeline's are. */
    tmx_keys(t, "e");
    tmx_keys(t, "2");
    CU_ASSERT_TRUE(tmx_wait(t, has_text, (void *)"code=NOT_ENOUGH_REPLICAS count=3", WAIT_MS));
    tmx_keys(t, "d");
    tmx_keys(t, "1");
    CU_ASSERT_TRUE(tmx_wait(t, has_text, (void *)"drop_responses broker=1 count=3", WAIT_MS));
    /* A bad answer is refused with a message, not a crash. */
    tmx_keys(t, "k");
    tmx_keys(t, "9");
    CU_ASSERT_TRUE(tmx_wait(t, has_text, (void *)"fault refused", WAIT_MS));
    tmx_quit(t, QUIT_MS);
    free(la);
    free(t);
}

typedef struct stable_arg {
    long long last;
    int same; /* consecutive captures with the same counter */
    int need;
} stable_arg;

/* The event counter has not moved for `need` captures in a row (the gate holds everyone). */
static bool counter_stable(const char *screen, void *arg) {
    stable_arg *s = arg;
    long long ev = event_counter(screen);
    if (ev < 0 || !strstr(screen, "STEP"))
        return false;
    if (ev == s->last)
        s->same++;
    else
        s->same = 0;
    s->last = ev;
    return s->same >= s->need;
}

static bool counter_moved(const char *screen, void *arg) {
    long long ev = event_counter(screen);
    return ev >= 0 && ev != *(long long *)arg;
}

static void test_step_mode_advances_one_event_per_key(void) {
    tmx *t = calloc(1, sizeof *t);
    CU_ASSERT_TRUE_FATAL(tmx_start(t, 80, 24, "", NULL));
    CU_ASSERT_TRUE_FATAL(tmx_wait(t, four_rooms, NULL, START_MS));
    tmx_keys(t, "s");
    stable_arg st = {-1, 0, 10}; /* ~10 frames unchanged: everyone waits at the gate */
    CU_ASSERT_TRUE_FATAL(tmx_wait(t, counter_stable, &st, WAIT_MS));
    for (int i = 0; i < 8; i++) {
        long long before = st.last;
        tmx_keys(t, "s");
        CU_ASSERT_TRUE_FATAL(tmx_wait(t, counter_moved, &before, WAIT_MS));
        st = (stable_arg){-1, 0, 10};
        CU_ASSERT_TRUE_FATAL(tmx_wait(t, counter_stable, &st, WAIT_MS));
        if (st.last != before + 1)
            fprintf(stderr, "\nstep %d: events %lld -> %lld\n", i, before, st.last);
        CU_ASSERT_EQUAL(st.last, before + 1);
    }
    /* space leaves step mode: the pipeline runs again. */
    long long held = st.last;
    tmx_keys(t, "Space");
    CU_ASSERT_TRUE(tmx_wait(t, counter_moved, &held, WAIT_MS));
    tmx_quit(t, QUIT_MS);
    free(t);
}

/* Simulated time in the title bar ("t=4.2s"), in ms, or -1. */
static long long sim_time_ms(const char *screen) {
    const char *p = strstr(screen, " t=");
    if (!p || p - screen > 400)
        return -1;
    char *end;
    double v = strtod(p + 3, &end);
    if (end == p + 3)
        return -1;
    if (!strncmp(end, "ms", 2))
        return (long long)v;
    if (*end == 's') /* "2.054s": rounded, as 2.054 * 1000 may be 2053.99... */
        return (long long)(v * 1000 + 0.5);
    if (*end == 'm')
        return (long long)(v * 60000);
    return -1;
}

typedef struct frozen_arg {
    long long t;
    int same, need;
} frozen_arg;

/* PAUSED on screen and the simulated time not moving for `need` captures in a row. */
static bool clock_frozen(const char *screen, void *arg) {
    frozen_arg *f = arg;
    long long t = sim_time_ms(screen);
    if (t < 0 || !strstr(screen, "PAUSED"))
        return false;
    f->same = t == f->t ? f->same + 1 : 0;
    f->t = t;
    return f->same >= f->need;
}

static bool clock_past(const char *screen, void *arg) {
    long long t = sim_time_ms(screen);
    return strstr(screen, "RUNNING") && t > *(long long *)arg;
}

static void test_space_pauses_and_resumes_the_simulation_clock(void) {
    tmx *t = calloc(1, sizeof *t);
    CU_ASSERT_TRUE_FATAL(tmx_start(t, 80, 24, "", NULL));
    CU_ASSERT_TRUE_FATAL(tmx_wait(t, four_rooms, NULL, START_MS));
    tmx_keys(t, "Space");
    frozen_arg f = {-1, 0, 25}; /* about a second of captures with time standing still */
    CU_ASSERT_TRUE_FATAL(tmx_wait(t, clock_frozen, &f, WAIT_MS));
    tmx_keys(t, "Space");
    CU_ASSERT_TRUE(tmx_wait(t, clock_past, &f.t, WAIT_MS));
    tmx_quit(t, QUIT_MS);
    free(t);
}

typedef struct tick_arg {
    long long after; /* wait for the simulated time to pass this (ms) */
    long long t;     /* the time shown when it did */
    int64_t wall_ms; /* and when that screen was captured */
} tick_arg;

/* The simulated time shown has moved past `after`: notes the value and the wall time. Waiting
 * for the first screen past a value catches the display at the edge where it changes, so two
 * such edges measure the clock's rate without the display's rounding. */
static bool clock_ticked_past(const char *screen, void *arg) {
    tick_arg *a = arg;
    long long t = sim_time_ms(screen);
    if (t <= a->after)
        return false;
    a->t = t;
    a->wall_ms = tu_now_ms();
    return true;
}

/* Simulated ms per wall ms over about `span_ms` of simulated time, from edge to edge. */
static double clock_rate(tmx *t, long long span_ms) {
    tick_arg a = {.after = sim_time_ms(t->screen)};
    if (!tmx_wait(t, clock_ticked_past, &a, WAIT_MS))
        return -1;
    tick_arg b = {.after = a.t + span_ms - 1};
    if (!tmx_wait(t, clock_ticked_past, &b, WAIT_MS))
        return -1;
    return (double)(b.t - a.t) / (double)(b.wall_ms - a.wall_ms);
}

static void test_plus_and_minus_change_the_clock_speed(void) {
    tmx *t = calloc(1, sizeof *t);
    CU_ASSERT_TRUE_FATAL(tmx_start(t, 80, 24, "", NULL));
    CU_ASSERT_TRUE_FATAL(tmx_wait(t, four_rooms, NULL, START_MS));
    CU_ASSERT_TRUE_FATAL(tmx_wait(t, has_text, (void *)" x1 t=", WAIT_MS));
    double at_x1 = clock_rate(t, 4000);
    tmx_keys(t, "+");
    CU_ASSERT_TRUE_FATAL(tmx_wait(t, has_text, (void *)" x2 t=", WAIT_MS));
    double at_x2 = clock_rate(t, 4000);
    /* Twice as fast against the wall clock (bounds wide for a loaded machine). */
    if (at_x1 <= 0 || at_x2 < 1.4 * at_x1 || at_x2 > 2.8 * at_x1)
        fprintf(stderr, "\nsimulated ms per wall ms: x1 %.3f, x2 %.3f\n", at_x1, at_x2);
    CU_ASSERT(at_x1 > 0.5 && at_x1 < 1.5);
    CU_ASSERT(at_x2 >= 1.4 * at_x1 && at_x2 <= 2.8 * at_x1);
    /* - halves it again, below the starting speed too. */
    tmx_keys(t, "-");
    CU_ASSERT_TRUE(tmx_wait(t, has_text, (void *)" x1 t=", WAIT_MS));
    tmx_keys(t, "-");
    CU_ASSERT_TRUE(tmx_wait(t, has_text, (void *)" x0.5 t=", WAIT_MS));
    tmx_quit(t, QUIT_MS);
    free(t);
}

static void test_esc_cancels_a_fault_prompt(void) {
    tmx *t = calloc(1, sizeof *t);
    CU_ASSERT_TRUE_FATAL(tmx_start(t, 80, 24, "", NULL));
    CU_ASSERT_TRUE_FATAL(tmx_wait(t, four_rooms, NULL, START_MS));
    tmx_keys(t, "k");
    CU_ASSERT_TRUE_FATAL(tmx_wait(t, has_text, (void *)"which id", WAIT_MS));
    tmx_keys(t, "Escape");
    CU_ASSERT_TRUE(tmx_wait(t, has_text, (void *)"cancelled", WAIT_MS));
    CU_ASSERT_PTR_NULL(strstr(t->screen, "which id"));
    /* The digit after Esc is no answer: no broker goes down. The trace pane, opened by the
     * next key, shows that the digit has been read by then. */
    tmx_keys(t, "1");
    tmx_keys(t, "t");
    CU_ASSERT_TRUE(tmx_wait(t, has_text, (void *)"== Trace", WAIT_MS));
    CU_ASSERT_PTR_NULL(strstr(t->screen, "node 1 DOWN"));
    CU_ASSERT_PTR_NULL(strstr(t->screen, "broker_down broker=1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(t->screen, "node 1 UP"));
    tmx_quit(t, QUIT_MS);
    free(t);
}

static bool run_over(const char *screen, void *arg) {
    (void)arg;
    return strstr(screen, "DONE") && strstr(screen, " lost ") && strstr(screen, " dup ");
}

static void test_run_end_shows_the_outcome_and_stays_until_q(void) {
    tmx *t = calloc(1, sizeof *t);
    /* The default scenario is 45 simulated seconds: at x20 it is over in a few. */
    CU_ASSERT_TRUE_FATAL(tmx_start(t, 80, 24, "--speed 20", NULL));
    bool ok = tmx_wait(t, run_over, NULL, START_MS + 30000);
    if (!ok)
        fprintf(stderr, "\n--- screen ---\n%s\n", t->screen);
    CU_ASSERT_TRUE(ok);
    /* The demo scenario expects nothing lost and nothing duplicated. */
    CU_ASSERT_PTR_NOT_NULL(strstr(t->screen, "lost 0 dup 0"));
    check_clean(t->screen, 80, 24);
    CU_ASSERT_EQUAL(tmx_exit_code(t, 300), -1); /* still there: the class reads the outcome */
    tmx_quit(t, WAIT_MS);
    free(t);
}

static void test_quit_restores_the_terminal_and_prints_the_audit(void) {
    tmx *t = calloc(1, sizeof *t);
    CU_ASSERT_TRUE_FATAL(tmx_start(t, 80, 24, "", NULL));
    CU_ASSERT_TRUE_FATAL(tmx_wait(t, four_rooms, NULL, START_MS));
    tmx_keys(t, "q");
    CU_ASSERT_EQUAL(tmx_exit_code(t, QUIT_MS), 0);
    /* The pane (kept after exit) shows the normal screen again with the audit, not the view. */
    CU_ASSERT_TRUE(tmx_wait(t, has_text, (void *)"acknowledged", WAIT_MS));
    CU_ASSERT_PTR_NULL(strstr(t->screen, "Sorting room"));
    CU_ASSERT_PTR_NULL(strstr(t->screen, "Dispatcher's map"));
    tmx_stop(t);
    free(t);
}

/* Every line fits the width, and nothing but printable text made it to the screen. */
static void check_clean(const char *screen, int cols, int rows) {
    int lines = 0;
    const char *p = screen;
    while (*p) {
        char line[2048];
        size_t n = strcspn(p, "\n");
        if (n >= sizeof line)
            n = sizeof line - 1;
        memcpy(line, p, n);
        line[n] = '\0';
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)line[i];
            CU_ASSERT(c >= 0x20 && c != 0x7f);
        }
        CU_ASSERT_PTR_NULL(strstr(line, "^["));
        int w = sim_vt_width(line);
        if (w > cols)
            fprintf(stderr, "\nline %d is %d columns: '%s'\n", lines, w, line);
        CU_ASSERT(w <= cols);
        lines++;
        p += n;
        if (*p == '\n')
            p++;
    }
    CU_ASSERT(lines <= rows);
}

/* The four rooms, laid out for a screen `*arg` columns wide: one column up to 139, two from
 * 140 (the trucks then share the front desk's header row); headers ('=' to the edge) span the
 * whole width. */
static bool laid_out_for(const char *screen, void *arg) {
    int cols = *(int *)arg;
    char first[1024];
    if (!four_rooms(screen, NULL) || !find_line(screen, "Front desk", first, sizeof first))
        return false;
    return sim_vt_width(first) == cols && (strstr(first, "Trucks") != NULL) == (cols >= 140);
}

static void test_80x24_shows_no_garbage(void) {
    tmx *t = calloc(1, sizeof *t);
    CU_ASSERT_TRUE_FATAL(tmx_start(t, 80, 24, "", NULL));
    CU_ASSERT_TRUE_FATAL(tmx_wait(t, four_rooms, NULL, START_MS));
    CU_ASSERT_TRUE(tmx_wait(t, has_text, (void *)"acked", WAIT_MS));
    check_clean(t->screen, 80, 24);
    /* The title bar is the first line, the key help the last. */
    CU_ASSERT_EQUAL(strncmp(t->screen, " Courier", 8), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(t->screen, "q quit"));
    /* With the trace pane and the help on top, still clean. */
    tmx_keys(t, "t");
    CU_ASSERT_TRUE(tmx_wait(t, has_text, (void *)"== Trace", WAIT_MS));
    check_clean(t->screen, 80, 24);
    tmx_keys(t, "?");
    CU_ASSERT_TRUE(tmx_wait(t, has_text, (void *)"every symbol", WAIT_MS));
    check_clean(t->screen, 80, 24);
    tmx_keys(t, "x"); /* any key closes the help */
    /* Resized smaller than 80x24: says so instead of drawing over itself; back: redrawn. */
    run("tmux -L %s resize-window -t %s -x 60 -y 20 >/dev/null 2>&1", t->sock, t->name);
    CU_ASSERT_TRUE(tmx_wait(t, has_text, (void *)"terminal too small", WAIT_MS));
    check_clean(t->screen, 60, 20);
    /* Bigger screens: one column up to 139, two from 140; every size clean. */
    static const int sizes[][2] = {{100, 30}, {139, 40}, {140, 40}, {200, 60}, {80, 24}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        run("tmux -L %s resize-window -t %s -x %d -y %d >/dev/null 2>&1", t->sock, t->name,
            sizes[i][0], sizes[i][1]);
        int want = sizes[i][0];
        bool ok = tmx_wait(t, laid_out_for, &want, WAIT_MS);
        if (!ok)
            fprintf(stderr, "\n--- screen at %dx%d ---\n%s\n", sizes[i][0], sizes[i][1], t->screen);
        CU_ASSERT_TRUE(ok);
        check_clean(t->screen, sizes[i][0], sizes[i][1]);
    }
    tmx_quit(t, QUIT_MS);
    free(t);
}

static bool four_rooms_zh(const char *screen, void *arg) {
    (void)arg;
    return strstr(screen, "收件员") && strstr(screen, "分拣员") && strstr(screen, "运输车") &&
           strstr(screen, "调度员") && strstr(screen, "高水位");
}

static void test_lang_zh_shows_chinese_labels_within_80_columns(void) {
    tmx *t = calloc(1, sizeof *t);
    CU_ASSERT_TRUE_FATAL(tmx_start(t, 80, 24, "--lang zh", "LANG=C.UTF-8 LC_ALL=C.UTF-8"));
    bool ok = tmx_wait(t, four_rooms_zh, NULL, START_MS);
    if (!ok)
        fprintf(stderr, "\n--- screen ---\n%s\n", t->screen);
    CU_ASSERT_TRUE(ok);
    check_clean(t->screen, 80, 24);
    tmx_quit(t, QUIT_MS);
    free(t);
}

static void test_bad_option_is_refused_with_exit_2(void) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s demo --lang fr 2>&1", tu_courier_path());
    FILE *p = popen(cmd, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    char out[512] = {0};
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "--lang: 'fr' is not en or zh"));
    /* Not a terminal: a clear refusal, not a garbled screen. */
    snprintf(cmd, sizeof cmd, "%s demo </dev/null 2>&1 | cat", tu_courier_path());
    p = popen(cmd, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    pclose(p);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "needs a terminal"));
}

static void test_terminal_without_cursor_addressing_is_refused(void) {
    tmx *t = calloc(1, sizeof *t);
    CU_ASSERT_TRUE_FATAL(tmx_start(t, 80, 24, "", "TERM=dumb"));
    CU_ASSERT_EQUAL(tmx_exit_code(t, START_MS), 2);
    /* The message may have scrolled into the pane's history when the dead pane was kept. */
    g_with_history = true;
    CU_ASSERT_TRUE(tmx_wait(t, has_text, (void *)"cannot place the cursor", WAIT_MS));
    g_with_history = false;
    tmx_stop(t);
    free(t);
}

/* ---- the lesson: steps that explain, loss you can see, a parcel you can follow ----------- */

/* The bottom line's step explanation (">> 2.000s broker 1 ..."): its time in ms, or -1. */
static long long step_line_ms(const char *screen, char *text, size_t size) {
    const char *p = strstr(screen, "\n>> ");
    if (!p)
        return -1;
    p += 4;
    if (text) {
        size_t n = strcspn(p, "\n");
        if (n >= size)
            n = size - 1;
        memcpy(text, p, n);
        text[n] = '\0';
    }
    char *end;
    double v = strtod(p, &end);
    if (end == p || *end != 's')
        return -1;
    return (long long)(v * 1000.0 + 0.5);
}

typedef struct step_arg {
    long long want_ev; /* the event counter this step must show */
    long long ev_ms;   /* the released event's time */
    char text[512];    /* its explanation */
} step_arg;

static bool step_shown(const char *screen, void *arg) {
    step_arg *sa = arg;
    if (event_counter(screen) != sa->want_ev || !strstr(screen, " STEP"))
        return false;
    sa->ev_ms = step_line_ms(screen, sa->text, sizeof sa->text);
    return sa->ev_ms >= 0 && strlen(sa->text) > 8;
}

typedef struct held_arg {
    long long last;
    int same, need;
} held_arg;

/* Held (PAUSED or STEP) and the event counter unchanged for `need` captures in a row. */
static bool held_steady(const char *screen, void *arg) {
    held_arg *h = arg;
    long long ev = event_counter(screen);
    if (ev < 0 || !(strstr(screen, "PAUSED") || strstr(screen, " STEP")))
        return false;
    h->same = ev == h->last ? h->same + 1 : 0;
    h->last = ev;
    return h->same >= h->need;
}

static int count_in_file(const char *path, const char *needle) {
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, needle))
            n++;
    fclose(f);
    return n;
}

/* Space, then 100 presses of s: exactly 100 events are published (the counter moves by one per
 * press and by nothing else), each explained on the bottom line; simulated time stands at the
 * last released event's time, not past it; no request timed out. */
static void test_space_then_100_steps_release_100_explained_events(void) {
    tmx *t = calloc(1, sizeof *t);
    char cwd[512], args[1200], trace[128];
    CU_ASSERT_PTR_NOT_NULL_FATAL(getcwd(cwd, sizeof cwd));
    snprintf(trace, sizeof trace, "/tmp/courier-step-trace-%d.jsonl", (int)getpid());
    snprintf(args, sizeof args, "run %s/scenarios/demo.json --view --trace %s", cwd, trace);
    CU_ASSERT_TRUE_FATAL(tmx_start(t, 100, 30, args, NULL));
    CU_ASSERT_TRUE_FATAL(tmx_wait(t, four_rooms, NULL, START_MS));
    /* the day well under way: requests on the road, replication running */
    long long busy = 2000;
    CU_ASSERT_TRUE(tmx_wait(t, clock_past, &busy, WAIT_MS));
    tmx_keys(t, "Space");
    held_arg h = {-1, 0, 10};
    CU_ASSERT_TRUE_FATAL(tmx_wait(t, held_steady, &h, WAIT_MS));
    long long base = h.last, t0 = sim_time_ms(t->screen);
    int64_t wall0 = tu_now_ms();
    long long max_gap = 0, prev_ms = -1;
    int explained = 0, backwards = 0;
    step_arg sa;
    for (int i = 1; i <= 100; i++) {
        tmx_keys(t, "s");
        memset(&sa, 0, sizeof sa);
        sa.want_ev = base + i;
        if (!tmx_wait_settled(t, step_shown, &sa, WAIT_MS)) {
            fprintf(stderr, "\nstep %d: no explained event %lld\n%s\n", i, base + i, t->screen);
            CU_FAIL("a step did not show exactly one explained event");
            break;
        }
        explained++;
        long long now = sim_time_ms(t->screen);
        if (now - sa.ev_ms > max_gap) {
            max_gap = now - sa.ev_ms;
            if (max_gap > 1) /* the frame that shows it, to see which event it was */
                fprintf(stderr, "\nstep %d: header %lld ms, event %lld ms:\n%s\n", i, now,
                        sa.ev_ms, t->screen);
        }
        CU_ASSERT(now >= sa.ev_ms); /* the clock never lags the event it released */
        backwards += prev_ms >= 0 && sa.ev_ms < prev_ms;
        prev_ms = sa.ev_ms;
        CU_ASSERT_PTR_NULL(strstr(sa.text, "timed out"));
    }
    CU_ASSERT_EQUAL(explained, 100);
    /* Nothing more leaks out while the class looks. */
    h = (held_arg){-1, 0, 15};
    CU_ASSERT_TRUE(tmx_wait(t, held_steady, &h, WAIT_MS));
    CU_ASSERT_EQUAL(h.last, base + 100);
    long long t100 = sim_time_ms(t->screen);
    /* The header stands at the 100th event's time (to the displayed millisecond). */
    CU_ASSERT(t100 - sa.ev_ms <= 1);
    fprintf(stderr,
            "\n[100 steps: events %lld -> %lld, sim t %lld -> %lld ms (last event %lld ms, "
            "header - event max %lld ms), %d times earlier than the step before, wall %lld ms]\n",
            base, h.last, t0, t100, sa.ev_ms, max_gap, backwards,
            (long long)(tu_now_ms() - wall0));
    CU_ASSERT(max_gap <= 1);
    tmx_quit(t, QUIT_MS);
    CU_ASSERT_EQUAL(count_in_file(trace, "\"request.timed_out\""), 0);
    unlink(trace);
    free(t);
}

typedef struct fault_step_arg {
    long long want_ev;
    bool fault;   /* the released event is the fault */
    bool down;    /* the map shows broker 1 down */
    bool down_ev; /* the released event is broker 1's broker.down */
    bool up;      /* the released event is the second fault (broker_up broker=1) */
    char text[512];
} fault_step_arg;

static bool fault_step_shown(const char *screen, void *arg) {
    fault_step_arg *fa = arg;
    if (event_counter(screen) != fa->want_ev || step_line_ms(screen, fa->text, sizeof fa->text) < 0)
        return false;
    fa->fault = strstr(fa->text, "FAULT: broker_down") != NULL;
    fa->down = strstr(screen, "1:DOWN") != NULL;
    fa->down_ev = strstr(fa->text, "broker 1 is down") != NULL;
    fa->up = strstr(fa->text, "FAULT: broker_up broker=1") != NULL;
    return true;
}

/* A fault key pressed while paused is not published at once: nothing moves (the counter, the
 * map) until a step releases its `fault` line; its effect's event (broker 1's broker.down)
 * comes at a later step. (The map reads the cluster's truth: it shows the broker down from
 * the step that released the fault, as with a timeline fault.) */
static void test_fault_key_while_paused_waits_for_a_step(void) {
    tmx *t = calloc(1, sizeof *t);
    char cwd[512], args[1200];
    CU_ASSERT_PTR_NOT_NULL_FATAL(getcwd(cwd, sizeof cwd));
    snprintf(args, sizeof args, "run %s/scenarios/demo.json --view", cwd);
    CU_ASSERT_TRUE_FATAL(tmx_start(t, 100, 30, args, NULL));
    CU_ASSERT_TRUE_FATAL(tmx_wait(t, four_rooms, NULL, START_MS));
    long long busy = 1000;
    CU_ASSERT_TRUE(tmx_wait(t, clock_past, &busy, WAIT_MS));
    tmx_keys(t, "Space");
    held_arg h = {-1, 0, 10};
    CU_ASSERT_TRUE_FATAL(tmx_wait(t, held_steady, &h, WAIT_MS));
    long long base = h.last;
    tmx_keys(t, "k");
    tmx_keys(t, "1");
    CU_ASSERT_TRUE(tmx_wait(t, has_text, "fault queued", WAIT_MS));
    /* a second fault key, pressed after it, is played after it */
    tmx_keys(t, "u");
    tmx_keys(t, "1");
    CU_ASSERT_TRUE(tmx_wait(t, has_text, "broker_up broker=1", WAIT_MS));
    h = (held_arg){-1, 0, 10};
    CU_ASSERT_TRUE(tmx_wait(t, held_steady, &h, WAIT_MS));
    CU_ASSERT_EQUAL(h.last, base); /* nothing published by the key itself */
    CU_ASSERT_PTR_NULL(strstr(t->screen, "1:DOWN"));
    int fault_at = -1, down_at = -1, down_ev_at = -1, up_at = -1;
    fault_step_arg fa;
    /* The second fault comes after the first one's effects and the few events held beside
     * them: 20-30 steps, under TSan too. Each step is read on a settled frame: a capture taken
     * while tmux was still taking a frame in showed the new count above the previous step's
     * line, so a fault's own step read as the one before (under TSan its line was then never
     * seen). */
    for (int i = 1; i <= 1000 && up_at < 0; i++) {
        tmx_keys(t, "s");
        memset(&fa, 0, sizeof fa);
        fa.want_ev = base + i;
        if (!tmx_wait_settled(t, fault_step_shown, &fa, WAIT_MS)) {
            fprintf(stderr, "\nstep %d: no event %lld\n%s\n", i, base + i, t->screen);
            CU_FAIL("a step did not release one event");
            break;
        }
        if (fa.fault && fault_at < 0)
            fault_at = i;
        if (fa.down && down_at < 0)
            down_at = i;
        if (fa.down_ev && down_ev_at < 0)
            down_ev_at = i;
        if (fa.up && up_at < 0)
            up_at = i;
    }
    fprintf(stderr, "\n[fault key while paused: fault line at step %d, broker 1 down on the "
                    "map at step %d, its broker.down event at step %d, the next fault (up) at "
                    "step %d]\n",
            fault_at, down_at, down_ev_at, up_at);
    CU_ASSERT(fault_at >= 1 && fault_at <= 30); /* after the few events already held */
    CU_ASSERT(down_at >= fault_at);             /* nothing changed before the fault's step */
    CU_ASSERT(down_ev_at > fault_at);           /* the cause before its effects */
    CU_ASSERT(up_at > down_ev_at);              /* the faults in the order pressed */
    tmx_quit(t, QUIT_MS);
    free(t);
}

typedef struct cut_arg {
    int want;       /* rows to wait for */
    int rows;       /* map rows showing a truncation */
    long long sum;  /* acknowledged records among the cut offsets, summed over the rows */
    long long lost; /* the footer's live lost */
} cut_arg;

/* Reads the map's truncation marks ("cut 1:115–141 27 acked lost") and the footer's lost. */
static void read_cuts(const char *screen, cut_arg *c) {
    c->rows = 0;
    c->sum = 0;
    c->lost = -1;
    for (const char *p = strstr(screen, " cut "); p; p = strstr(p + 1, " cut ")) {
        const char *ack = strstr(p, " acked");
        const char *nl = strchr(p, '\n');
        if (!ack || (nl && ack > nl))
            continue;
        const char *num = ack;
        while (num > p && num[-1] != ' ')
            num--;
        c->sum += strtoll(num, NULL, 10);
        c->rows++;
    }
    const char *footer = strstr(screen, "sent "); /* the footer's audit */
    const char *l = footer ? strstr(footer, " lost ") : NULL;
    if (l)
        c->lost = strtoll(l + 6, NULL, 10);
}

static bool cuts_shown(const char *screen, void *arg) {
    cut_arg *c = arg;
    read_cuts(screen, c);
    return c->rows >= c->want && strstr(screen, " STEP") && !strstr(screen, "RUN-TO");
}

/* acks1-leader-crash with the crash pausing the run: T runs to each truncation; the map rows
 * show the removed offsets and how many of them had been acknowledged, and their sum is the
 * audit's `lost` (live in the footer, and in the audit printed at the end). */
static void test_acks1_crash_shows_truncated_acked_records_matching_lost(void) {
    char src[8192], path[128], args[256];
    FILE *f = fopen("scenarios/acks1-leader-crash.json", "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    size_t n = fread(src, 1, sizeof src - 1, f);
    fclose(f);
    src[n] = '\0';
    char *at = strstr(src, "\"broker_down\", \"broker\": 1}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    snprintf(path, sizeof path, "/tmp/courier-acks1-pause-%d.json", (int)getpid());
    f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f, "%.*s\"broker_down\", \"broker\": 1, \"pause\": true}%s", (int)(at - src), src,
            at + strlen("\"broker_down\", \"broker\": 1}"));
    fclose(f);
    tmx *t = calloc(1, sizeof *t);
    snprintf(args, sizeof args, "run %s --view", path);
    CU_ASSERT_TRUE_FATAL(tmx_start(t, 80, 24, args, NULL)); /* the smallest screen */
    /* the timeline pauses the run at the crash and says why */
    CU_ASSERT_TRUE_FATAL(tmx_wait(t, has_text, (void *)"FAULT: broker_down broker=1", START_MS));
    CU_ASSERT_PTR_NOT_NULL(strstr(t->screen, "PAUSED"));
    cut_arg c = {1, 0, 0, -1};
    tmx_keys(t, "T");
    CU_ASSERT_TRUE_FATAL(tmx_wait(t, cuts_shown, &c, WAIT_MS));
    if (!strstr(t->screen, "removed"))
        fprintf(stderr, "\n%s\n", t->screen);
    CU_ASSERT_PTR_NOT_NULL(strstr(t->screen, "removed")); /* the step's explanation */
    c.want = 2; /* broker 1 led partitions 0 and 3 */
    tmx_keys(t, "T");
    CU_ASSERT_TRUE(tmx_wait(t, cuts_shown, &c, WAIT_MS));
    long long at_crash = c.sum, live_lost = c.lost, crash_ms = sim_time_ms(t->screen);
    CU_ASSERT(at_crash > 0);
    CU_ASSERT_EQUAL(c.rows, 2);
    /* answers already on the road when the leader died are counted as they arrive */
    CU_ASSERT(at_crash <= live_lost);
    tmx_keys(t, "Space");
    CU_ASSERT_TRUE(tmx_wait(t, has_text, (void *)"DONE", QUIT_MS));
    cut_arg done = {0, 0, 0, -1};
    read_cuts(t->screen, &done);
    tmx_keys(t, "q");
    CU_ASSERT_EQUAL(tmx_exit_code(t, QUIT_MS), 0);
    g_with_history = true;
    CU_ASSERT_TRUE(tmx_wait(t, has_text, (void *)"acknowledged, not in the log", WAIT_MS));
    g_with_history = false;
    const char *l = strstr(t->screen, "\n  lost ");
    long long audit_lost = l ? strtoll(l + 8, NULL, 10) : -1;
    fprintf(stderr,
            "\n[acks1 crash at %lld ms: %d rows cut, %lld acked among them (footer lost %lld); "
            "at the end %d rows, %lld acked among them (footer lost %lld); audit lost %lld]\n",
            crash_ms, c.rows, at_crash, live_lost, done.rows, done.sum, done.lost, audit_lost);
    CU_ASSERT_EQUAL(live_lost, audit_lost);
    CU_ASSERT_EQUAL(done.sum, audit_lost);
    CU_ASSERT_EQUAL(done.lost, audit_lost);
    tmx_stop(t);
    unlink(path);
    free(t);
}

typedef struct follow_arg {
    long long id;
    int history; /* lines in the parcel history panel */
    bool desk, sorting, trucks, map;
} follow_arg;

/* The followed parcel is marked in all four rooms and its history lists >= 6 stops. */
static bool parcel_everywhere(const char *screen, void *arg) {
    follow_arg *fa = arg;
    char mark[32], line[1024];
    snprintf(mark, sizeof mark, ">#%lld", fa->id);
    fa->desk = fa->sorting = fa->trucks = fa->map = false;
    for (const char *p = strstr(screen, mark); p; p = strstr(p + 1, mark)) {
        const char *s0 = p;
        while (s0 > screen && s0[-1] != '\n')
            s0--;
        size_t n = strcspn(s0, "\n");
        snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), s0);
        const char *after = p + strlen(mark);
        if (line[0] == '#')
            fa->desk = true;
        else if (!strncmp(line, "node ", 5) && after[0] == '@' && after[1] == '#')
            fa->trucks = true;
        else if (after[0] == ' ' && after[1] == 'b')
            fa->sorting = true;
        else if (after[0] == '@' && after[1] >= '0' && after[1] <= '9')
            fa->map = true;
    }
    fa->history = 0;
    const char *h = strstr(screen, "== Parcel history");
    for (const char *p = h ? strchr(h, '\n') : NULL; p && p[1]; p = strchr(p + 1, '\n')) {
        char *end;
        strtod(p + 1, &end);
        if (end == p + 1 || *end != ' ')
            break;
        fa->history++;
    }
    return fa->desk && fa->sorting && fa->trucks && fa->map && fa->history >= 6;
}

/* `/` then a parcel number: the parcel is marked at the desk, in its batch, on its truck and
 * at its offset on the map, and its history panel lists at least six stops with times. */
static void test_follow_a_parcel_through_the_four_rooms(void) {
    tmx *t = calloc(1, sizeof *t);
    CU_ASSERT_TRUE_FATAL(tmx_start(t, 120, 50, "", NULL));
    CU_ASSERT_TRUE_FATAL(tmx_wait(t, four_rooms, NULL, START_MS));
    CU_ASSERT_TRUE(tmx_wait(t, has_text, (void *)"acked", WAIT_MS));
    tmx_keys(t, "Space");
    held_arg h = {-1, 0, 5};
    CU_ASSERT_TRUE_FATAL(tmx_wait(t, held_steady, &h, WAIT_MS));
    const char *top = strstr(t->screen, "\n#");
    CU_ASSERT_PTR_NOT_NULL_FATAL(top);
    follow_arg fa = {strtoll(top + 2, NULL, 10) + 5, 0, false, false, false, false};
    char keys[64];
    snprintf(keys, sizeof keys, "/ %lld Enter", fa.id);
    tmx_keys(t, keys);
    CU_ASSERT_TRUE(tmx_wait(t, has_text, (void *)"following", WAIT_MS));
    tmx_keys(t, "Space");
    bool ok = tmx_wait(t, parcel_everywhere, &fa, WAIT_MS);
    fprintf(stderr, "\n[parcel #%lld: desk %d sorting %d trucks %d map %d, history %d lines]\n",
            fa.id, fa.desk, fa.sorting, fa.trucks, fa.map, fa.history);
    if (!ok)
        fprintf(stderr, "%s\n", t->screen);
    CU_ASSERT_TRUE(ok);
    tmx_quit(t, QUIT_MS);
    free(t);
}

/* The Chinese screen at 80x24, in every state a class sees: running, paused, stepping (the
 * explanation), the prompts, the help and the legend: no English word but Kafka's names. */
static void check_zh_screen(tmx *t, const char *when) {
    static const char *const names[] = {"parcels", "demo", NULL};
    char word[64];
    if (tw_english_word(t->screen, names, word, sizeof word)) {
        fprintf(stderr, "\n[zh %s] untranslated '%s' on:\n%s\n", when, word, t->screen);
        CU_FAIL("an English word on the Chinese screen");
    }
}

static bool zh_step_shown(const char *screen, void *arg) {
    (void)arg;
    return strstr(screen, "\n>> ") && strstr(screen, "单步");
}

static void test_zh_80x24_has_no_english_word(void) {
    tmx *t = calloc(1, sizeof *t);
    CU_ASSERT_TRUE_FATAL(tmx_start(t, 80, 24, "--lang zh", "LANG=C.UTF-8 LC_ALL=C.UTF-8"));
    CU_ASSERT_TRUE_FATAL(tmx_wait(t, four_rooms_zh, NULL, START_MS));
    CU_ASSERT_TRUE(tmx_wait(t, has_text, (void *)"已确认", WAIT_MS));
    check_zh_screen(t, "running");
    tmx_keys(t, "Space");
    CU_ASSERT_TRUE(tmx_wait(t, has_text, (void *)"已暂停", WAIT_MS));
    check_zh_screen(t, "paused");
    for (int i = 0; i < 40; i++) {
        tmx_keys(t, "s");
        if (i % 5 == 4) {
            CU_ASSERT_TRUE(tmx_wait_settled(t, zh_step_shown, NULL, WAIT_MS));
            check_zh_screen(t, "step");
        }
    }
    static const struct {
        const char *keys, *wait, *when;
    } prompts[] = {
        {"k", "宕机", "prompt k"},    {"Escape", "已取消", "cancel"}, {"e", "注入错误", "prompt e"},
        {"Escape", "已取消", "cancel"}, {"/", "跟踪包裹", "prompt /"}, {"Escape", "已取消", "cancel"},
        {"Tab", "房间", "Tab"},       {"t", "== 事件日志", "trace"}, {"?", "本帮助", "help"},
        {"?", "图例", "legend"},      {"?", "错误", "errors"},
    };
    for (size_t i = 0; i < sizeof prompts / sizeof prompts[0]; i++) {
        tmx_keys(t, prompts[i].keys);
        CU_ASSERT_TRUE(tmx_wait(t, has_text, (void *)prompts[i].wait, WAIT_MS));
        check_zh_screen(t, prompts[i].when);
    }
    tmx_keys(t, "Escape");
    tmx_quit(t, QUIT_MS);
    free(t);
}


/* ---- the map's "Consumers" line: a consumer group as the class sees it ---- */

/* A kcat -G member of `group` on the demo's topic, its output thrown away; 0 when kcat is
 * missing or cannot start. */
static pid_t kcat_member(const char *boot, const char *group) {
    if (system("command -v kcat >/dev/null 2>&1") != 0)
        return 0;
    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stdout);
        freopen("/dev/null", "w", stderr);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execlp("kcat", "kcat", "-q", "-b", boot, "-G", group, "-X", "session.timeout.ms=6000",
               "-X", "heartbeat.interval.ms=500", "-X", "auto.commit.interval.ms=200",
               "-X", "auto.offset.reset=earliest", "parcels", (char *)NULL);
        _exit(127);
    }
    return pid > 0 ? pid : 0;
}

static void member_end(pid_t pid) {
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    int64_t end = tu_now_ms() + 20000;
    while (waitpid(pid, NULL, WNOHANG) == 0) {
        if (tu_now_ms() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            return;
        }
        pause_ms(20);
    }
}

typedef struct consumers_want {
    const char *group;
    int members; /* members listed with partitions */
    int each;    /* partitions each */
    char line[512];
} consumers_want;

/* The group's line is Stable and lists `members` members with `each` partitions each, every
 * partition of the demo's 6 once. */
static bool consumers_shown(const char *screen, void *arg) {
    consumers_want *w = arg;
    char key[96];
    snprintf(key, sizeof key, "consumers %s Stable", w->group);
    if (!find_line(screen, key, w->line, sizeof w->line))
        return false;
    int seen[6] = {0}, members = 0;
    for (const char *p = w->line; (p = strstr(p, "parcels[")); members++) {
        p += 8;
        int n = 0;
        while (*p >= '0' && *p <= '9') {
            int v = atoi(p);
            if (v >= 0 && v < 6)
                seen[v]++;
            n++;
            p += strspn(p, "0123456789");
            p += *p == ',';
        }
        if (n != w->each)
            return false;
    }
    for (int i = 0; i < 6; i++)
        if (seen[i] != 1)
            return false;
    return members == w->members;
}

/* The group's line shows a committed lag ("lag N"). */
static bool consumers_lag_shown(const char *screen, void *arg) {
    consumers_want *w = arg;
    char key[96];
    snprintf(key, sizeof key, "consumers %s ", w->group);
    long long lag = -1;
    const char *at;
    return find_line(screen, key, w->line, sizeof w->line) && (at = strstr(w->line, " lag ")) &&
           sscanf(at, " lag %lld", &lag) == 1 && lag >= 0;
}

static void test_consumers_line_shows_a_group_and_its_partitions(void) {
    tmx *t = calloc(1, sizeof *t);
    /* speed 0.5: the 45 s demo outlasts two rebalances */
    CU_ASSERT_TRUE_FATAL(tmx_start(t, 120, 40, "--speed 0.5", NULL));
    char line[512], boot[64] = "";
    bool up = tmx_wait(t, has_text, (void *)"bootstrap 127.0.0.1:", START_MS) &&
              find_line(t->screen, "bootstrap 127.0.0.1:", line, sizeof line);
    CU_ASSERT_TRUE_FATAL(up);
    sscanf(strstr(line, "bootstrap ") + 10, "%63[0-9.:]", boot);
    pid_t a = kcat_member(boot, "class"), b = a ? kcat_member(boot, "class") : 0;
    if (!a || !b) {
        fprintf(stderr, "\n    NOT RUN: kcat is not installed\n");
        member_end(a);
        tmx_quit(t, QUIT_MS);
        free(t);
        return;
    }
    consumers_want w = {"class", 2, 3, ""};
    bool split = tmx_wait(t, consumers_shown, &w, 40000);
    if (!split)
        fprintf(stderr, "\n--- screen ---\n%s\n", t->screen);
    CU_ASSERT_TRUE(split);
    fprintf(stderr, "\n    two members: %s\n", w.line);
    member_end(b);
    w.members = 1;
    w.each = 6;
    bool took = tmx_wait(t, consumers_shown, &w, 40000);
    if (!took)
        fprintf(stderr, "\n--- screen ---\n%s\n", t->screen);
    CU_ASSERT_TRUE(took);
    fprintf(stderr, "    one member:  %s\n", w.line);
    /* kcat commits every 200 ms: the committed lag shows once there is a commit */
    CU_ASSERT_TRUE(tmx_wait(t, consumers_lag_shown, &w, WAIT_MS));
    member_end(a);
    tmx_quit(t, QUIT_MS);
    free(t);
}

void suite_sim_view_tmux(void);
void suite_sim_view_tmux(void) {
    tu_suite("sim_view_tmux");
    tu_test("test_bad_option_is_refused_with_exit_2", test_bad_option_is_refused_with_exit_2);
    tu_test("test_terminal_without_cursor_addressing_is_refused",
            test_terminal_without_cursor_addressing_is_refused);
    tu_test("test_demo_shows_the_four_rooms", test_demo_shows_the_four_rooms);
    tu_test("test_80x24_shows_no_garbage", test_80x24_shows_no_garbage);
    tu_test("test_broker_down_moves_its_leaders", test_broker_down_moves_its_leaders);
    tu_test("test_fault_keys_reach_the_cluster_through_the_runner",
            test_fault_keys_reach_the_cluster_through_the_runner);
    tu_test("test_step_mode_advances_one_event_per_key", test_step_mode_advances_one_event_per_key);
    tu_test("test_space_pauses_and_resumes_the_simulation_clock",
            test_space_pauses_and_resumes_the_simulation_clock);
    tu_test("test_plus_and_minus_change_the_clock_speed",
            test_plus_and_minus_change_the_clock_speed);
    tu_test("test_esc_cancels_a_fault_prompt", test_esc_cancels_a_fault_prompt);
    tu_test("test_run_end_shows_the_outcome_and_stays_until_q",
            test_run_end_shows_the_outcome_and_stays_until_q);
    tu_test("test_quit_restores_the_terminal_and_prints_the_audit",
            test_quit_restores_the_terminal_and_prints_the_audit);
    tu_test("test_lang_zh_shows_chinese_labels_within_80_columns",
            test_lang_zh_shows_chinese_labels_within_80_columns);
    tu_test("test_space_then_100_steps_release_100_explained_events",
            test_space_then_100_steps_release_100_explained_events);
    tu_test("test_acks1_crash_shows_truncated_acked_records_matching_lost",
            test_acks1_crash_shows_truncated_acked_records_matching_lost);
    tu_test("test_follow_a_parcel_through_the_four_rooms",
            test_follow_a_parcel_through_the_four_rooms);
    tu_test("test_zh_80x24_has_no_english_word", test_zh_80x24_has_no_english_word);
    tu_test("test_fault_key_while_paused_waits_for_a_step",
            test_fault_key_while_paused_waits_for_a_step);
    tu_test("test_consumers_line_shows_a_group_and_its_partitions",
            test_consumers_line_shows_a_group_and_its_partitions);
}
