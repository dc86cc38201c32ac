/* sim/reader.c against real clusters over real sockets: Courier's mock broker and librdkafka's
 * mock cluster. Records are produced with the producer library (keys, values, a header), then
 * read back and checked one by one; a leader that is down gives a clear error within the
 * deadline, never a hang. */
#include "sim/reader.h"
#include "tests/test_producer_util.h"
#include "tests/test_sim_util.h"

#include <stdio.h>
#include <string.h>

#define RD_N 3000
#define RD_PARTS 3

typedef struct seen {
    int count[RD_N];
    int64_t last_offset[RD_PARTS];
    int bad;       /* records whose key, value or header did not match */
    int reordered; /* offsets not increasing within a partition */
    int64_t total;
} seen;

static int on_record(void *opaque, int32_t partition, const kw_record *rec) {
    seen *s = opaque;
    char v[32];
    kw_slice_cstr(rec->value, v, sizeof v);
    int i = -1;
    if (sscanf(v, "v%d", &i) != 1 || i < 0 || i >= RD_N) {
        s->bad++;
        return 0;
    }
    char k[32];
    snprintf(k, sizeof k, "k%d", i);
    if (!kw_slice_eq(rec->key, k) || rec->n_headers != 1 || !kw_slice_eq(rec->headers[0].key, "h") ||
        !kw_slice_eq(rec->headers[0].value, k) || rec->timestamp < 1600000000000LL)
        s->bad++;
    if (partition >= 0 && partition < RD_PARTS) {
        if (rec->offset <= s->last_offset[partition])
            s->reordered++;
        s->last_offset[partition] = rec->offset;
    }
    s->count[i]++;
    s->total++;
    return 0;
}

static void produce_n(const char *bootstraps, int n) {
    kp_conf *conf = tconf(bootstraps);
    tset(conf, "linger.ms", "2");
    kp_producer *p = tproducer(conf);
    tdeliv d = {0};
    for (int i = 0; i < n; i++) {
        char k[32], v[32];
        snprintf(k, sizeof k, "k%d", i);
        snprintf(v, sizeof v, "v%d", i);
        kp_header h = {"h", k, (int32_t)strlen(k)};
        kp_record rec = {"t", KP_PARTITION_ANY, k, (int32_t)strlen(k), v, (int32_t)strlen(v),
                         &h, 1, KP_TIMESTAMP_NOW};
        CU_ASSERT_EQUAL_FATAL(kp_produce(p, &rec, tdeliv_cb, &d, NULL), KW_ERR_NONE);
    }
    CU_ASSERT_EQUAL(kp_flush(p, 30000), KW_ERR_NONE);
    CU_ASSERT_EQUAL(atomic_load(&d.acked), n);
    kp_producer_destroy(p);
    kp_conf_destroy(conf);
}

/* Reads the whole topic and checks every record arrived exactly once, in offset order. */
static void read_all_and_check(const char *bootstraps) {
    sim_reader *r = NULL;
    char err[512];
    int rc = sim_reader_open(bootstraps, "t", 10000, &r, err, sizeof err);
    if (rc)
        fprintf(stderr, "open: %s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(sim_reader_partition_count(r), RD_PARTS);
    static seen s;
    memset(&s, 0, sizeof s);
    for (int p = 0; p < RD_PARTS; p++)
        s.last_offset[p] = -1;
    int64_t sum = 0;
    for (int32_t p = 0; p < sim_reader_partition_count(r); p++) {
        int64_t lo = -1, hi = -1;
        rc = sim_reader_offsets(r, p, &lo, &hi);
        if (rc)
            fprintf(stderr, "offsets: %s\n", sim_reader_error(r));
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_EQUAL(lo, 0);
        sum += hi - lo;
        rc = sim_reader_read(r, p, lo, hi, on_record, &s);
        if (rc)
            fprintf(stderr, "read: %s\n", sim_reader_error(r));
        CU_ASSERT_EQUAL(rc, 0);
    }
    CU_ASSERT_EQUAL(sum, RD_N);
    CU_ASSERT_EQUAL(s.total, RD_N);
    CU_ASSERT_EQUAL(s.bad, 0);
    CU_ASSERT_EQUAL(s.reordered, 0);
    int once = 0;
    for (int i = 0; i < RD_N; i++)
        once += s.count[i] == 1;
    CU_ASSERT_EQUAL(once, RD_N);
    /* A read from the middle delivers exactly [from, until). */
    memset(&s, 0, sizeof s);
    for (int p = 0; p < RD_PARTS; p++)
        s.last_offset[p] = -1;
    int64_t lo, hi;
    CU_ASSERT_EQUAL(sim_reader_offsets(r, 0, &lo, &hi), 0);
    if (hi >= 10) {
        CU_ASSERT_EQUAL(sim_reader_read(r, 0, 3, 8, on_record, &s), 0);
        CU_ASSERT_EQUAL(s.total, 5);
        CU_ASSERT_EQUAL(s.last_offset[0], 7);
    }
    sim_reader_close(r);
}

static void test_reads_back_every_record_from_courier_broker(void) {
    tcl m;
    CU_ASSERT_FATAL(tcl_start(&m, true, 3, "t", RD_PARTS, 2));
    produce_n(m.bootstraps, RD_N);
    read_all_and_check(m.bootstraps);
    tcl_stop(&m);
}

static void test_reads_back_every_record_from_librdkafka_mock(void) {
    if (!TP_HAVE_RDKAFKA)
        return;
    tcl m;
    CU_ASSERT_FATAL(tcl_start(&m, false, 3, "t", RD_PARTS, 1));
    produce_n(m.bootstraps, RD_N);
    read_all_and_check(m.bootstraps);
    tcl_stop(&m);
}

/* A leader that is down: the read fails within the deadline with a sentence naming the
 * partition; the other partitions still read. */
static void down_leader(bool ours) {
    tcl m;
    CU_ASSERT_FATAL(tcl_start(&m, ours, 3, "t", RD_PARTS, 1));
    produce_n(m.bootstraps, 300);
    sim_reader *r = NULL;
    char err[512];
    CU_ASSERT_EQUAL_FATAL(sim_reader_open(m.bootstraps, "t", 1500, &r, err, sizeof err), 0);
    /* Courier's cluster moves the leader of an rf=1 partition nowhere: it stays offline. */
    int32_t victim = -1;
    if (ours) {
        mb_partition_info info;
        CU_ASSERT_EQUAL_FATAL(mb_partition_info_get(m.mb, "t", 1, &info), MB_OK);
        victim = info.leader;
    } else {
        victim = 2;
        tcl_set_leader(&m, "t", 1, victim);
        CU_ASSERT_EQUAL(sim_reader_refresh(r), 0);
    }
    tcl_broker_down(&m, victim);
    int64_t t0 = tu_now_ms();
    int64_t lo, hi;
    int rc = sim_reader_offsets(r, 1, &lo, &hi);
    if (rc == 0)
        rc = sim_reader_read(r, 1, lo, hi + 1, NULL, NULL);
    int64_t took = tu_now_ms() - t0;
    CU_ASSERT_NOT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sim_reader_error(r), "partition 1"));
    CU_ASSERT(took < 15000);
    fprintf(stderr, "  (down leader, %s: %s after %lld ms)\n", ours ? "courier" : "librdkafka",
            sim_reader_error(r), (long long)took);
    sim_reader_close(r);
    tcl_stop(&m);
}

static void test_down_leader_fails_with_a_clear_error_courier(void) {
    down_leader(true);
}

static void test_down_leader_fails_with_a_clear_error_librdkafka(void) {
    if (TP_HAVE_RDKAFKA)
        down_leader(false);
}

static void test_open_errors_name_the_problem(void) {
    sim_reader *r = (sim_reader *)1;
    char err[512];
    CU_ASSERT_EQUAL(sim_reader_open("nocolon", "t", 1000, &r, err, sizeof err),
                    KW_ERR__INVALID_ARG);
    CU_ASSERT_PTR_NULL(r);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "nocolon"));
    /* nobody listens: a port from a socket we bound and closed */
    tcl m;
    CU_ASSERT_FATAL(tcl_start(&m, true, 1, "t", 1, 1));
    int rc = sim_reader_open(m.bootstraps, "nosuch", 2000, &r, err, sizeof err);
    CU_ASSERT_EQUAL(rc, KW_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "nosuch"));
    char bs[sizeof m.bootstraps];
    snprintf(bs, sizeof bs, "%s", m.bootstraps);
    tcl_stop(&m);
    int64_t t0 = tu_now_ms();
    rc = sim_reader_open(bs, "t", 1000, &r, err, sizeof err);
    CU_ASSERT(rc == KW_ERR__TRANSPORT || rc == KW_ERR__TIMED_OUT);
    CU_ASSERT(tu_now_ms() - t0 < 10000);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "Metadata"));
}

/* courier consume -e prints every record once and exits 0; a missing topic exits 1 naming it. */
static void test_courier_consume_reads_every_record_and_exits_at_end(void) {
    tcl m;
    CU_ASSERT_FATAL(tcl_start(&m, true, 3, "t", RD_PARTS, 2));
    produce_n(m.bootstraps, RD_N);
    static char out[RD_N * 24];
    char err[512];
    char *argv[] = {"courier", "consume", "-b", m.bootstraps, "-t", "t", "-e", "-f", "%k=%s\\n",
                    NULL};
    int rc = ts_run_courier(argv, out, sizeof out, err, sizeof err, -1);
    CU_ASSERT_EQUAL(rc, 0);
    static int count[RD_N];
    memset(count, 0, sizeof count);
    int lines = 0, bad = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        int k = -1, v = -2;
        if (sscanf(line, "k%d=v%d", &k, &v) != 2 || k != v || k < 0 || k >= RD_N)
            bad++;
        else
            count[k]++;
        lines++;
    }
    int once = 0;
    for (int i = 0; i < RD_N; i++)
        once += count[i] == 1;
    CU_ASSERT_EQUAL(lines, RD_N);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(once, RD_N);
    char *argv2[] = {"courier", "consume", "-b", m.bootstraps, "-t", "nosuch", "-e", NULL};
    rc = ts_run_courier(argv2, out, sizeof out, err, sizeof err, -1);
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "nosuch"));
    tcl_stop(&m);
}

void suite_sim_reader(void);
void suite_sim_reader(void) {
    tu_suite("sim_reader");
    tu_test("reads back every record from courier broker",
            test_reads_back_every_record_from_courier_broker);
    tu_test("reads back every record from librdkafka mock",
            test_reads_back_every_record_from_librdkafka_mock);
    tu_test("down leader fails with a clear error (courier)",
            test_down_leader_fails_with_a_clear_error_courier);
    tu_test("down leader fails with a clear error (librdkafka)",
            test_down_leader_fails_with_a_clear_error_librdkafka);
    tu_test("open errors name the problem", test_open_errors_name_the_problem);
    tu_test("courier consume reads every record and exits at end",
            test_courier_consume_reads_every_record_and_exits_at_end);
}
