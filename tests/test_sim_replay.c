/* Recordings and `courier replay`: the audit of a recorded run comes back byte for byte, bad
 * files are refused with the byte at fault, and the model rebuilt from a recording at an event
 * equals what the live view's feed drew at that event. */
#include "sim/record.h"
#include "sim/recording.h"
#include "sim/runner.h"
#include "sim/scenario.h"
#include "sim/view.h"
#include "sim/view_model.h"
#include "sim/view_feed.h"
#include "tests/test_sim_util.h"
#include "tests/tu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static void temp_path(char *buf, size_t size, const char *what) {
    static int n;
    snprintf(buf, size, "/tmp/courier-replay-test-%d-%d-%s", (int)getpid(), n++, what);
}

/* Records scenario `path` headless, then replays it headless: both print the same audit. */
static void record_and_compare(const char *path, const char *speed, const char *report) {
    char rec[256];
    temp_path(rec, sizeof rec, "run.rec");
    static char live[65536], replayed[65536], err[65536];
    char *run[] = {"courier", "run",    (char *)path, "--headless", "--speed", (char *)speed,
                   "--record", rec,     "--report",  (char *)report, NULL};
    int rc = ts_run_courier(run, live, sizeof live, err, sizeof err, -1);
    if (rc != 0)
        fprintf(stderr, "\n%s%s", err, live);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    struct stat st;
    CU_ASSERT_EQUAL_FATAL(stat(rec, &st), 0);
    fprintf(stderr, "\n    %s: recording %lld bytes", path, (long long)st.st_size);
    CU_ASSERT_TRUE(st.st_size < 20 * 1024 * 1024);
    char *rp[] = {"courier", "replay", rec, "--headless", "--report", (char *)report, NULL};
    rc = ts_run_courier(rp, replayed, sizeof replayed, err, sizeof err, -1);
    if (rc != 0)
        fprintf(stderr, "\n%s", err);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_TRUE(live[0] != '\0');
    CU_ASSERT_STRING_EQUAL(replayed, live);
    unlink(rec);
}

static void test_demo_replayed_headless_prints_the_live_audit(void) {
    record_and_compare("scenarios/demo.json", "10", "text");
}

static void test_replay_report_json_equals_the_run(void) {
    record_and_compare("scenarios/acks1-leader-crash.json", "1", "json"); /* its lab speed */
}

/* A headless recording draws the map as the view does: at the last event of acks1-leader-crash
 * broker 1 is back, and the truncations on the partition rows count exactly the acknowledged
 * records the audit calls lost (the headless sampler folds the events, as the view's feed). */
static void test_headless_recording_shows_truncations_and_the_end(void) {
    char rec[256];
    temp_path(rec, sizeof rec, "acks1.rec");
    static char out[65536], err[65536];
    char *run[] = {"courier",  "run", "scenarios/acks1-leader-crash.json", "--headless",
                   "--speed",  "1",   "--record", rec, NULL};
    CU_ASSERT_EQUAL_FATAL(ts_run_courier(run, out, sizeof out, err, sizeof err, -1), 0);
    char eb[512];
    sim_recording *r = NULL;
    CU_ASSERT_EQUAL_FATAL(sim_recording_open(rec, &r, eb, sizeof eb), 0);
    sim_audit a;
    CU_ASSERT_TRUE_FATAL(sim_recording_audit(r, &a));
    sim_view_model *m = calloc(1, sizeof *m);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL_FATAL(sim_recording_model_at(r, sim_recording_last_seq(r), m), 0);
    int64_t cut_acked = 0;
    int cuts = 0;
    for (int i = 0; i < m->n_map; i++)
        if (m->map[i].trunc_from >= 0 && !m->map[i].trunc_pending && m->map[i].trunc_acked > 0) {
            cut_acked += m->map[i].trunc_acked;
            cuts++;
        }
    bool node1_up = false;
    for (int i = 0; i < m->n_nodes; i++)
        if (m->nodes[i].id == 1)
            node1_up = m->nodes[i].up;
    CU_ASSERT_TRUE(a.lost > 0);
    CU_ASSERT_TRUE(cuts > 0);
    CU_ASSERT_EQUAL(cut_acked, a.lost);
    CU_ASSERT_TRUE(node1_up);
    if (cut_acked != a.lost || !node1_up)
        fprintf(stderr, "\n    cuts %d acked %lld, audit lost %lld, broker 1 %s", cuts,
                (long long)cut_acked, (long long)a.lost, node1_up ? "up" : "down");
    free(m);
    sim_recording_close(r);
    unlink(rec);
}

/* Writes the first `n` bytes of src to dst, then `extra` (may be NULL). */
static void write_prefix(const char *dst, const uint8_t *src, size_t n) {
    FILE *f = fopen(dst, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fwrite(src, 1, n, f);
    fclose(f);
}

/* Expects `courier replay FILE --headless` to exit 2 saying "byte N" (and `want`). */
static void expect_refused(const char *file, const char *want) {
    static char out[4096], err[4096];
    char *rp[] = {"courier", "replay", (char *)file, "--headless", NULL};
    int rc = ts_run_courier(rp, out, sizeof out, err, sizeof err, -1);
    CU_ASSERT_EQUAL(rc, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "byte "));
    if (want)
        CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
    if (rc != 2 || !strstr(err, "byte ") || (want && !strstr(err, want)))
        fprintf(stderr, "\n    %s: rc=%d: %s", file, rc, err);
}

static void test_truncated_or_damaged_recordings_are_refused_with_the_byte(void) {
    char rec[256], bad[256];
    temp_path(rec, sizeof rec, "ok.rec");
    temp_path(bad, sizeof bad, "bad.rec");
    static char out[65536], err[65536];
    char *run[] = {"courier",  "run", "scenarios/min-isr.json", "--headless", "--speed", "10",
                   "--record", rec,   NULL};
    CU_ASSERT_EQUAL_FATAL(ts_run_courier(run, out, sizeof out, err, sizeof err, -1), 0);
    FILE *f = fopen(rec, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    static uint8_t data[32 << 20];
    size_t n = fread(data, 1, sizeof data, f);
    fclose(f);
    CU_ASSERT_FATAL(n > 1000 && n < sizeof data);

    /* cut anywhere: at the magic, inside the header, inside a chunk, just before the end */
    size_t cuts[] = {0, 4, 8, 20, n / 3, n / 2, n - 17, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_prefix(bad, data, cuts[i]);
        expect_refused(bad, cuts[i] > 8 ? "cut short" : NULL);
    }
    /* garbage */
    srand(7);
    static uint8_t junk[8192];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)rand();
    write_prefix(bad, junk, sizeof junk);
    expect_refused(bad, "not a courier recording");
    /* one byte flipped inside a chunk: the CRC says so */
    data[n / 2] ^= 0x40;
    write_prefix(bad, data, n);
    expect_refused(bad, "CRC-32");
    data[n / 2] ^= 0x40;
    /* trailing junk after the end marker */
    memcpy(data + n, "JUNK", 4);
    write_prefix(bad, data, n + 4);
    expect_refused(bad, "after the end marker");
    /* the intact file still plays */
    write_prefix(bad, data, n);
    char *rp[] = {"courier", "replay", bad, "--headless", NULL};
    CU_ASSERT_EQUAL(ts_run_courier(rp, out, sizeof out, err, sizeof err, -1), 0);
    unlink(rec);
    unlink(bad);
}

/* ---- the live view's models against the models rebuilt from the recording ---------------- */

#define CAPTURES 48

typedef struct capture {
    uint64_t seq;
    sim_view_model m;
} capture;

static int vm_diff(const sim_view_model *a, const sim_view_model *b, char *why, size_t size) {
#define DIFF(cond, ...)                                                                            \
    do {                                                                                           \
        if (cond) {                                                                                \
            snprintf(why, size, __VA_ARGS__);                                                      \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)
    DIFF(a->n_desk != b->n_desk, "n_desk %d vs %d", a->n_desk, b->n_desk);
    for (int i = 0; i < a->n_desk; i++) {
        const sim_vm_desk_row *x = &a->desk[i], *y = &b->desk[i];
        DIFF(x->record_id != y->record_id || x->partition != y->partition ||
                 x->size != y->size || x->stage != y->stage || x->failed != y->failed ||
                 strcmp(x->topic, y->topic) || strcmp(x->key, y->key) ||
                 strcmp(x->err_name, y->err_name),
             "desk row %d: record %llu/%llu stage %d/%d", i, (unsigned long long)x->record_id,
             (unsigned long long)y->record_id, (int)x->stage, (int)y->stage);
    }
    DIFF(a->n_trace != b->n_trace, "n_trace %d vs %d", a->n_trace, b->n_trace);
    for (int i = 0; i < a->n_trace; i++)
        DIFF(strcmp(a->trace[i], b->trace[i]) || a->trace_seq[i] != b->trace_seq[i],
             "trace line %d: '%.60s' vs '%.60s'", i, a->trace[i], b->trace[i]);
    DIFF(a->parcel.active != b->parcel.active || a->has_step_event != b->has_step_event,
         "parcel or step event");
    DIFF(a->n_nodes != b->n_nodes, "n_nodes %d vs %d", a->n_nodes, b->n_nodes);
    for (int i = 0; i < a->n_nodes; i++) {
        const sim_vm_node *x = &a->nodes[i], *y = &b->nodes[i];
        DIFF(x->id != y->id || x->up != y->up || x->rtt_ms != y->rtt_ms ||
                 x->drop_pending != y->drop_pending || x->requests_total != y->requests_total ||
                 x->errors_total != y->errors_total || x->n_inflight != y->n_inflight ||
                 x->n_inflight_total != y->n_inflight_total || x->has_last != y->has_last ||
                 (x->has_last && (x->last.correlation_id != y->last.correlation_id ||
                                  x->last.err != y->last.err)),
             "node %d: rtt %d/%d errors %lld/%lld last corr %d/%d", x->id, x->rtt_ms, y->rtt_ms,
             (long long)x->errors_total, (long long)y->errors_total, x->last.correlation_id,
             y->last.correlation_id);
        DIFF(memcmp(x->inflight, y->inflight, (size_t)x->n_inflight * sizeof x->inflight[0]),
             "node %d: requests on the road differ", x->id);
    }
    DIFF(a->n_parts != b->n_parts || a->n_parts_total != b->n_parts_total, "n_parts");
    for (int i = 0; i < a->n_parts; i++) {
        const sim_vm_partition *x = &a->parts[i], *y = &b->parts[i];
        DIFF(strcmp(x->topic, y->topic) || x->partition != y->partition ||
                 x->leader != y->leader || x->in_flight != y->in_flight ||
                 x->n_batches != y->n_batches || x->n_batches_total != y->n_batches_total ||
                 memcmp(x->batches, y->batches, (size_t)x->n_batches * sizeof x->batches[0]),
             "deque %s-%d", x->topic, x->partition);
    }
    DIFF(a->pool.used != b->pool.used || a->pool.total != b->pool.total ||
             a->pool.waiters != b->pool.waiters,
         "pool");
    DIFF(a->n_map != b->n_map, "n_map");
    for (int i = 0; i < a->n_map; i++) {
        const sim_vm_map_row *x = &a->map[i], *y = &b->map[i];
        DIFF(x->leader != y->leader || x->epoch != y->epoch ||
                 x->high_watermark != y->high_watermark || x->n_isr != y->n_isr ||
                 memcmp(x->isr, y->isr, (size_t)x->n_isr * sizeof x->isr[0]) ||
                 x->changed_ago_ms != y->changed_ago_ms,
             "map row %d", i);
    }
    DIFF(a->footer.sent != b->footer.sent || a->footer.acked != b->footer.acked ||
             a->footer.failed != b->footer.failed || a->footer.retries != b->footer.retries ||
             a->footer.lost != b->footer.lost || a->footer.duplicated != b->footer.duplicated,
         "footer");
    DIFF(a->status.sim_ms != b->status.sim_ms || a->status.events != b->status.events ||
             strcmp(a->status.scenario, b->status.scenario),
         "status");
#undef DIFF
    return 0;
}

/* Runs `path` with a recording fed by a view-like loop (the feed the live view uses, sampled
 * every few ms), captures the models it produced at some frames, then rebuilds the model at
 * each captured event from the recording: the two are the same. */
static void live_models_equal_rebuilt(const char *path, double speed) {
    char err[1024], rpath[256];
    temp_path(rpath, sizeof rpath, "live.rec");
    sim_scenario *s = NULL;
    CU_ASSERT_EQUAL_FATAL(sim_scenario_load(path, &s, err, sizeof err), 0);
    FILE *f = fopen(path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    static char text[1 << 16];
    size_t tn = fread(text, 1, sizeof text, f);
    fclose(f);
    sim_record *rec = NULL;
    CU_ASSERT_EQUAL_FATAL(sim_record_open(&rec, rpath, text, tn, false, err, sizeof err), 0);
    sim_run_opts o = {.speed = speed, .ring_capacity = 1 << 16, .recorder = rec};
    sim_runner *r = NULL;
    CU_ASSERT_EQUAL_FATAL(sim_runner_new(s, &o, &r, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(sim_runner_start(r, err, sizeof err), 0);
    sim_view_feed *feed = sim_view_feed_new(r);
    sim_view_model *m = calloc(1, sizeof *m);
    capture *caps = calloc(CAPTURES, sizeof *caps);
    CU_ASSERT_FATAL(feed && m && caps);
    int n_caps = 0, frame = 0, stride = 1;
    bool done = false;
    while (!done) {
        done = sim_runner_wait(r, 10);
        sim_view_feed_sample(feed, m, tu_now_ms());
        /* frames spread over the whole run: when the captures are full, every other one goes
         * and the stride doubles */
        uint64_t seq = sim_view_feed_last_seq(feed);
        if (n_caps > 0 && caps[n_caps - 1].seq == seq) {
            /* the screen at an event is the last one drawn there (a replay shows that one) */
            caps[n_caps - 1].m = *m;
        } else if (frame++ % stride == 0 && seq > 0) {
            if (n_caps == CAPTURES) {
                for (int i = 0; i < CAPTURES / 2; i++)
                    caps[i] = caps[2 * i + 1];
                n_caps = CAPTURES / 2;
                stride *= 2;
            }
            caps[n_caps].seq = seq;
            caps[n_caps++].m = *m;
        }
    }
    uint64_t dropped = sim_bus_ring_dropped(sim_runner_bus(r));
    sim_audit a;
    sim_runner_audit(r, &a);
    CU_ASSERT_EQUAL(sim_record_finish(rec, &a, err, sizeof err), 0);
    sim_view_feed_destroy(feed);
    sim_runner_destroy(r);
    sim_record_destroy(rec);
    /* The feed saw every event (a dropped one would differ, and rightly so). */
    CU_ASSERT_EQUAL(dropped, 0);

    sim_recording *rd = NULL;
    int orc = sim_recording_open(rpath, &rd, err, sizeof err);
    if (orc)
        fprintf(stderr, "\n%s", err);
    CU_ASSERT_EQUAL_FATAL(orc, 0);
    CU_ASSERT_TRUE(n_caps >= 5);
    char disagree[256];
    int chk = sim_recording_check_audit(rd, disagree, sizeof disagree);
    if (chk)
        fprintf(stderr, "\n    %s: %s", path, disagree);
    CU_ASSERT_EQUAL(chk, 0); /* the recorded events agree with the recorded audit */
    sim_view_model *b = calloc(1, sizeof *b);
    int same = 0;
    /* in a shuffled order, so each rebuild starts from wherever the last one left the reader */
    for (int k = 0; k < n_caps; k++) {
        int i = (k * 7) % n_caps;
        if (n_caps % 7 == 0)
            i = k;
        CU_ASSERT_EQUAL_FATAL(sim_recording_model_at(rd, caps[i].seq, b), 0);
        char why[256] = "";
        int d = vm_diff(&caps[i].m, b, why, sizeof why);
        if (d)
            fprintf(stderr, "\n    %s: event %llu: %s", path, (unsigned long long)caps[i].seq,
                    why);
        CU_ASSERT_EQUAL(d, 0);
        same += d == 0;
    }
    fprintf(stderr, "\n    %s: %d of %d live models rebuilt equal (%llu events, %zu samples)",
            path, same, n_caps, (unsigned long long)sim_recording_last_seq(rd),
            sim_recording_n_samples(rd));
    /* `/` in the replay: parcel #5 followed from the first event, its history in the model */
    CU_ASSERT_EQUAL(sim_recording_follow(rd, "#5"), 0);
    CU_ASSERT_EQUAL(sim_recording_model_at(rd, sim_recording_last_seq(rd), b), 0);
    CU_ASSERT_TRUE(b->parcel.active && b->parcel.record_id == 5);
    CU_ASSERT_TRUE(b->parcel.n_history > 0);
    CU_ASSERT_EQUAL(sim_recording_follow(rd, ""), 0);
    CU_ASSERT_EQUAL(sim_recording_model_at(rd, sim_recording_last_seq(rd), b), 0);
    CU_ASSERT_FALSE(b->parcel.active);
    free(b);
    sim_recording_close(rd);
    free(caps);
    free(m);
    sim_scenario_free(s);
    unlink(rpath);
}

static void test_live_models_equal_models_rebuilt_from_the_recording(void) {
    live_models_equal_rebuilt("scenarios/acks1-leader-crash.json", 1);
    live_models_equal_rebuilt("scenarios/min-isr.json", 2);
    live_models_equal_rebuilt("scenarios/metadata-failover.json", 2);
}

void suite_sim_replay(void);
void suite_sim_replay(void) {
    tu_suite("sim_replay");
    tu_test("test_demo_replayed_headless_prints_the_live_audit",
            test_demo_replayed_headless_prints_the_live_audit);
    tu_test("test_replay_report_json_equals_the_run", test_replay_report_json_equals_the_run);
    tu_test("test_headless_recording_shows_truncations_and_the_end",
            test_headless_recording_shows_truncations_and_the_end);
    tu_test("test_truncated_or_damaged_recordings_are_refused_with_the_byte",
            test_truncated_or_damaged_recordings_are_refused_with_the_byte);
    tu_test("test_live_models_equal_models_rebuilt_from_the_recording",
            test_live_models_equal_models_rebuilt_from_the_recording);
}
