/* The replay view and the HTML report, for real: `courier replay` in a detached tmux session
 * (arrow keys, g, screens compared), and the report of acks1-leader-crash checked for its
 * crash marker and its loss, validated by tidy and rendered by headless Chromium. Every wait
 * polls with a deadline. */
#include "sim/recording.h"
#include "tests/test_sim_util.h"
#include "tests/tu.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SCREEN_BYTES 65536
#define WAIT_MS 20000

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

/* A recording of `scenario` (headless, speed 10) at `path`. */
static void record(const char *scenario, const char *path) {
    static char out[65536], err[65536];
    /* speed 1, the lab's own: at 10 a wait for a CPU can skip the crash's 400 ms window
     * (tests/test_sim_run.c) and the run then loses nothing */
    char *argv[] = {"courier",   "run", (char *)scenario, "--headless", "--speed", "1",
                    "--record", (char *)path, NULL};
    int rc = ts_run_courier(argv, out, sizeof out, err, sizeof err, -1);
    if (rc != 0)
        fprintf(stderr, "\n%s%s", err, out);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
}

/* ---- the replay view in tmux ----------------------------------------------------------- */

typedef struct tmx {
    char sock[64];
    char screen[SCREEN_BYTES];
} tmx;

static bool tmx_capture(tmx *t) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "tmux -L %s capture-pane -p -t r 2>/dev/null", t->sock);
    FILE *p = popen(cmd, "r");
    if (!p)
        return false;
    size_t n = fread(t->screen, 1, sizeof t->screen - 1, p);
    t->screen[n] = '\0';
    return pclose(p) == 0;
}

/* Waits until the screen shows `text`; the last capture stays in t->screen. */
static bool tmx_wait_text(tmx *t, const char *text, int timeout_ms) {
    int64_t end = tu_now_ms() + timeout_ms;
    for (;;) {
        if (tmx_capture(t) && strstr(t->screen, text))
            return true;
        if (tu_now_ms() >= end)
            return false;
        pause_ms(20);
    }
}

static void tmx_keys(tmx *t, const char *keys) {
    run("tmux -L %s send-keys -t r %s", t->sock, keys);
}

/* The first log.truncated event of the recording (0 when none). */
static uint64_t first_truncation(const char *path) {
    char err[512];
    sim_recording *rec = NULL;
    if (sim_recording_open(path, &rec, err, sizeof err)) {
        fprintf(stderr, "\n%s", err);
        return 0;
    }
    uint64_t found = 0;
    sim_event e;
    for (uint64_t s = sim_recording_first_seq(rec); s && s <= sim_recording_last_seq(rec); s++)
        if (sim_recording_event(rec, s, &e) == 0 && !strcmp(e.kind, "log.truncated")) {
            found = s;
            break;
        }
    sim_recording_close(rec);
    return found;
}

static void test_back_50_and_forward_50_from_the_first_truncation_redraws_the_same_screen(void) {
    char path[128];
    snprintf(path, sizeof path, "/tmp/courier-replay-view-%d.rec", (int)getpid());
    record("scenarios/acks1-leader-crash.json", path);
    uint64_t n = first_truncation(path);
    CU_ASSERT_FATAL(n > 100);

    tmx t;
    snprintf(t.sock, sizeof t.sock, "courier-replay-test-%d", (int)getpid());
    CU_ASSERT_EQUAL_FATAL(run("tmux -L %s -f /dev/null new-session -d -s r -x 160 -y 48 "
                              "\"%s replay %s\" >/dev/null 2>&1",
                              t.sock, tu_courier_path(), path),
                          0);
    char want[64];
    CU_ASSERT_TRUE(tmx_wait_text(&t, "REPLAY event ", WAIT_MS));
    /* g, the event number, Enter; then one step right and back, so the bottom line holds no
     * note from the g */
    tmx_keys(&t, "g");
    CU_ASSERT_TRUE(tmx_wait_text(&t, "go to", WAIT_MS));
    char num[32];
    snprintf(num, sizeof num, "%llu", (unsigned long long)n);
    tmx_keys(&t, num);
    tmx_keys(&t, "Enter");
    snprintf(want, sizeof want, "REPLAY event %llu/", (unsigned long long)n);
    CU_ASSERT_TRUE(tmx_wait_text(&t, want, WAIT_MS));
    tmx_keys(&t, "Right");
    snprintf(want, sizeof want, "REPLAY event %llu/", (unsigned long long)n + 1);
    CU_ASSERT_TRUE(tmx_wait_text(&t, want, WAIT_MS));
    tmx_keys(&t, "Left");
    snprintf(want, sizeof want, "REPLAY event %llu/", (unsigned long long)n);
    CU_ASSERT_TRUE(tmx_wait_text(&t, want, WAIT_MS));
    static char before[SCREEN_BYTES];
    memcpy(before, t.screen, sizeof before);
    CU_ASSERT_PTR_NOT_NULL(strstr(before, "log.truncated")); /* the trace pane shows it */

    for (int i = 0; i < 50; i++)
        tmx_keys(&t, "Left");
    snprintf(want, sizeof want, "REPLAY event %llu/", (unsigned long long)n - 50);
    CU_ASSERT_TRUE(tmx_wait_text(&t, want, WAIT_MS));
    CU_ASSERT_STRING_NOT_EQUAL(t.screen, before);
    for (int i = 0; i < 50; i++)
        tmx_keys(&t, "Right");
    snprintf(want, sizeof want, "REPLAY event %llu/", (unsigned long long)n);
    CU_ASSERT_TRUE(tmx_wait_text(&t, want, WAIT_MS));
    /* the frame after the one that first showed the position: nothing is still drawing */
    pause_ms(200);
    CU_ASSERT_TRUE(tmx_capture(&t));
    CU_ASSERT_STRING_EQUAL(t.screen, before);
    if (strcmp(t.screen, before))
        fprintf(stderr, "\n--- before ---\n%s\n--- after ---\n%s", before, t.screen);

    /* ] lands on a mark and says what it is; q leaves */
    tmx_keys(&t, "Home");
    CU_ASSERT_TRUE(tmx_wait_text(&t, "REPLAY event 1/", WAIT_MS));
    tmx_keys(&t, "]");
    int64_t end = tu_now_ms() + WAIT_MS;
    while (tmx_capture(&t) && strstr(t.screen, "REPLAY event 1/") && tu_now_ms() < end)
        pause_ms(20);
    CU_ASSERT_PTR_NULL(strstr(t.screen, "REPLAY event 1/")); /* it moved, to a mark */

    /* space plays (the play head moves on by itself), + doubles the speed, space stops */
    tmx_keys(&t, "Home");
    CU_ASSERT_TRUE(tmx_wait_text(&t, "REPLAY event 1/", WAIT_MS));
    tmx_keys(&t, "Space");
    CU_ASSERT_TRUE(tmx_wait_text(&t, "playing", WAIT_MS));
    tmx_keys(&t, "+");
    CU_ASSERT_TRUE(tmx_wait_text(&t, "play speed x2", WAIT_MS));
    end = tu_now_ms() + WAIT_MS;
    while (tmx_capture(&t) && strstr(t.screen, "REPLAY event 1/") && tu_now_ms() < end)
        pause_ms(20);
    CU_ASSERT_PTR_NULL(strstr(t.screen, "REPLAY event 1/"));
    tmx_keys(&t, "Space");
    end = tu_now_ms() + WAIT_MS;
    while (tmx_capture(&t) && strstr(t.screen, "playing") && tu_now_ms() < end)
        pause_ms(20);
    CU_ASSERT_PTR_NULL(strstr(t.screen, "playing"));
    tmx_keys(&t, "q");
    pause_ms(100);
    run("tmux -L %s kill-server >/dev/null 2>&1", t.sock);
    unlink(path);
}

/* R in the live view records the rest of the run; the recording replays with the audit the
 * view printed when it quit. */
static void test_r_in_the_live_view_records_the_rest_of_the_run(void) {
    char dir[128];
    snprintf(dir, sizeof dir, "/tmp/courier-replay-rkey-%d", (int)getpid());
    run("rm -rf %s; mkdir -p %s", dir, dir);
    char cwd[1024];
    CU_ASSERT_PTR_NOT_NULL_FATAL(getcwd(cwd, sizeof cwd));
    tmx t;
    snprintf(t.sock, sizeof t.sock, "courier-replay-rkey-%d", (int)getpid());
    CU_ASSERT_EQUAL_FATAL(run("tmux -L %s -f /dev/null new-session -d -s r -x 160 -y 48 "
                              "\"cd %s && %s run %s/scenarios/min-isr.json --speed 2; "
                              "echo courier-exited-\\$?; sleep 60\" >/dev/null 2>&1",
                              t.sock, dir, tu_courier_path(), cwd),
                          0);
    CU_ASSERT_TRUE(tmx_wait_text(&t, "sent ", WAIT_MS));
    run("tmux -L %s send-keys -t r R", t.sock);
    CU_ASSERT_TRUE(tmx_wait_text(&t, "recording from here to courier-min-isr-", WAIT_MS));
    /* the run ends (1500 records at 500/s, speed 2: under a second of wall time); q prints
     * the audit under the restored screen */
    CU_ASSERT_TRUE(tmx_wait_text(&t, "reord", WAIT_MS));
    int64_t end = tu_now_ms() + 60000;
    while (!tmx_wait_text(&t, "== audit: min-isr", 500) && tu_now_ms() < end)
        run("tmux -L %s send-keys -t r q", t.sock);
    CU_ASSERT_PTR_NOT_NULL(strstr(t.screen, "== audit: min-isr"));
    /* the whole audit: the screen may be read while courier is still printing it (its first
     * line only, under TSan beside another build), and it writes the recording after it */
    CU_ASSERT_TRUE(tmx_wait_text(&t, "courier-exited-", WAIT_MS));
    static char live[SCREEN_BYTES];
    memcpy(live, t.screen, sizeof live);
    run("tmux -L %s kill-server >/dev/null 2>&1", t.sock);

    char cmd[512], rec[512] = "";
    snprintf(cmd, sizeof cmd, "ls %s/courier-min-isr-*.rec 2>/dev/null", dir);
    FILE *p = popen(cmd, "r");
    if (p) {
        if (fgets(rec, sizeof rec, p))
            rec[strcspn(rec, "\n")] = '\0';
        pclose(p);
    }
    CU_ASSERT_FATAL(rec[0] != '\0');
    static char out[65536], err[65536];
    char *argv[] = {"courier", "replay", rec, "--headless", NULL};
    int rc = ts_run_courier(argv, out, sizeof out, err, sizeof err, -1);
    if (rc != 0)
        fprintf(stderr, "\n%s", err);
    CU_ASSERT_EQUAL(rc, 0);
    /* every line of the replayed audit is on the screen the view left */
    int lines = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strncmp(line, "time:", 5))
            continue; /* the screen is 160 columns: the line is there, check the others */
        CU_ASSERT_PTR_NOT_NULL(strstr(live, line));
        if (!strstr(live, line))
            fprintf(stderr, "\n    not on the screen: %s", line);
        lines++;
    }
    CU_ASSERT_TRUE(lines > 10);
    run("rm -rf %s", dir);
}

/* ---- the HTML report ------------------------------------------------------------------- */

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b) {
        size_t got = fread(b, 1, (size_t)n, f);
        b[got] = '\0';
    }
    fclose(f);
    return b;
}

/* Runs a shell command with a deadline (seconds); returns its exit status or -1. */
static int run_deadline(int seconds, const char *cmd) {
    char full[2048];
    snprintf(full, sizeof full, "timeout %d sh -c '%s'", seconds, cmd);
    int st = system(full);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_html_report_shows_the_crash_at_2s_and_the_loss(void) {
    char rec[128], html[128], png[128], prof[128];
    snprintf(rec, sizeof rec, "/tmp/courier-replay-html-%d.rec", (int)getpid());
    snprintf(html, sizeof html, "/tmp/courier-replay-html-%d.html", (int)getpid());
    snprintf(png, sizeof png, "/tmp/courier-replay-report-%d.png", (int)getpid());
    snprintf(prof, sizeof prof, "/tmp/courier-replay-chromium-%d", (int)getpid());
    record("scenarios/acks1-leader-crash.json", rec);
    static char out[65536], err[65536];
    char *argv[] = {"courier", "replay", rec, "--html", html, NULL};
    CU_ASSERT_EQUAL_FATAL(ts_run_courier(argv, out, sizeof out, err, sizeof err, -1), 0);
    char *page = slurp(html);
    CU_ASSERT_PTR_NOT_NULL_FATAL(page);

    /* self-contained: no script, no link to anywhere */
    CU_ASSERT_PTR_NULL(strstr(page, "<script"));
    CU_ASSERT_PTR_NULL(strstr(page, "http://w"));
    CU_ASSERT_PTR_NULL(strstr(page, "https://"));
    CU_ASSERT_PTR_NULL(strstr(page, "src="));
    /* the version: the same string as `courier --version` (and the trace header) */
    char *vargv[] = {"courier", "--version", NULL};
    CU_ASSERT_EQUAL(ts_run_courier(vargv, out, sizeof out, err, sizeof err, -1), 0);
    out[strcspn(out, "\n")] = '\0';
    char vline[160];
    snprintf(vline, sizeof vline, "Report by %.120s (", out);
    CU_ASSERT_TRUE(strncmp(out, "courier ", 8) == 0 && strlen(out) > 8);
    CU_ASSERT_PTR_NOT_NULL(strstr(page, vline));

    /* the crash: a fault marker at 2 s (the timeline's broker_down at_ms 2000) */
    bool crash = false;
    for (const char *p = page; (p = strstr(p, "class=\"fault\" data-t-ms=\"")) != NULL; p++) {
        long ms = strtol(p + strlen("class=\"fault\" data-t-ms=\""), NULL, 10);
        const char *title = strstr(p, "<title>");
        if (ms >= 1950 && ms <= 2300 && title && !strncmp(title + 7, "broker_down broker=1", 20))
            crash = true;
    }
    CU_ASSERT_TRUE(crash);
    /* the loss: the audit table's lost row, red, equal to the recorded audit's */
    char *jargv[] = {"courier", "replay", rec, "--headless", "--report", "json", NULL};
    CU_ASSERT_EQUAL(ts_run_courier(jargv, out, sizeof out, err, sizeof err, -1), 0);
    const char *lj = strstr(out, "\"lost\":");
    long lost = lj ? strtol(lj + 7, NULL, 10) : -1;
    CU_ASSERT_TRUE(lost > 0);
    char row[128];
    snprintf(row, sizeof row, "<tr class=\"bad\"><td>lost</td><td class=\"n\">%ld</td>", lost);
    CU_ASSERT_PTR_NOT_NULL(strstr(page, row));
    /* every chart is there */
    const char *ids[] = {"records", "batching", "latency", "inflight", "pool", "hw", "isr",
                         "audit"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        char id[32];
        snprintf(id, sizeof id, "id=\"%s\"", ids[i]);
        CU_ASSERT_PTR_NOT_NULL(strstr(page, id));
    }
    free(page);

    /* an HTML validator: tidy (Debian's tidy; .ci/deps.sh installs it) finds nothing */
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "tidy -q -e %s", html);
    int trc = run_deadline(60, cmd);
    if (trc != 0)
        fprintf(stderr, "\n    tidy -q -e %s: exit %d", html, trc);
    CU_ASSERT_EQUAL(trc, 0);

    /* a real browser draws it: headless Chromium's screenshot, attached to the output */
    snprintf(cmd, sizeof cmd,
             "rm -rf %s; chromium --headless --no-sandbox --disable-gpu --disable-quic "
             "--no-first-run --disable-background-networking --disable-component-update "
             "--disable-sync --user-data-dir=%s --window-size=1000,1400 --screenshot=%s "
             "file://%s >/dev/null 2>&1",
             prof, prof, png, html);
    int crc = run_deadline(90, cmd);
    run("rm -rf %s", prof);
    CU_ASSERT_EQUAL(crc, 0);
    FILE *f = fopen(png, "rb");
    unsigned char magic[8] = {0};
    if (f) {
        CU_ASSERT_EQUAL(fread(magic, 1, 8, f), 8);
        fclose(f);
    }
    CU_ASSERT_EQUAL(memcmp(magic, "\x89PNG\r\n\x1a\n", 8), 0);
    struct stat st;
    if (stat(png, &st) == 0)
        fprintf(stderr, "\n    screenshot of the report: %s (%lld bytes)", png,
                (long long)st.st_size);
    unlink(rec);
    unlink(html);
}

void suite_sim_replay_view(void);
void suite_sim_replay_view(void) {
    tu_suite("sim_replay_view");
    tu_test("test_back_50_and_forward_50_from_the_first_truncation_redraws_the_same_screen",
            test_back_50_and_forward_50_from_the_first_truncation_redraws_the_same_screen);
    tu_test("test_r_in_the_live_view_records_the_rest_of_the_run",
            test_r_in_the_live_view_records_the_rest_of_the_run);
    tu_test("test_html_report_shows_the_crash_at_2s_and_the_loss",
            test_html_report_shows_the_crash_at_2s_and_the_loss);
}
