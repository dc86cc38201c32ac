/* Retention in the mock cluster over real sockets: retention.bytes and retention.ms delete
 * whole segments from the old end, the log start offset moves (ListOffsets earliest, Fetch
 * OFFSET_OUT_OF_RANGE below it, Produce answers carry it), and idempotent producer state
 * survives the deletion of its batches (KIP-360). */
#include "tests/test_mockbroker_client.h"

/* A Produce v7 of n records on partition 0 of "t" via the leader (node 1), acks=all;
 * returns the error, *log_start the answer's log_start_offset. */
static int16_t produce_ls(mb_cluster *c, int n, const char *prefix, int64_t pid, int32_t seq,
                          int64_t *base, int64_t *log_start) {
    int fd = tc_connect(mb_broker_port(c, 1));
    size_t blen;
    uint8_t *b = tc_make_batch(n, prefix, pid, pid >= 0 ? 0 : -1, seq, &blen);
    int16_t err = -1;
    *base = *log_start = -2;
    if (fd >= 0 && tc_produce_send(fd, 9, "t", 0, -1, 5000, b, blen)) {
        uint8_t *buf;
        kw_rbuf rb;
        kw_response_header h;
        if (tc_recv_response(fd, KW_API_PRODUCE, 7, 5000, &buf, &rb, &h) > 0) {
            kw_arena *a = kw_arena_new();
            kw_produce_resp resp;
            if (kw_produce_resp_decode(&rb, 7, a, &resp) == KW_ERR_NONE) {
                err = resp.topics[0].partitions[0].error_code;
                *base = resp.topics[0].partitions[0].base_offset;
                *log_start = resp.topics[0].partitions[0].log_start_offset;
            }
            kw_arena_destroy(a);
            free(buf);
        }
    }
    free(b);
    if (fd >= 0)
        close(fd);
    return err;
}

/* ListOffsets v5 earliest (-2) of t/0 on node 1. */
static int64_t earliest(mb_cluster *c) {
    int fd = tc_connect(mb_broker_port(c, 1));
    kw_list_offsets_req_partition lp = {0, -1, -2};
    kw_list_offsets_req_topic lt = {kw_slice_str("t"), 1, &lp};
    kw_list_offsets_req lreq = {-1, 0, 1, &lt};
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_list_offsets_req_encode(&body, 5, &lreq);
    tc_send_request(fd, KW_API_LIST_OFFSETS, 5, 21, &body);
    kw_wbuf_free(&body);
    uint8_t *buf;
    kw_rbuf rb;
    kw_response_header h;
    int64_t off = -9;
    if (tc_recv_response(fd, KW_API_LIST_OFFSETS, 5, 5000, &buf, &rb, &h) > 0) {
        kw_arena *a = kw_arena_new();
        kw_list_offsets_resp resp;
        if (kw_list_offsets_resp_decode(&rb, 5, a, &resp) == KW_ERR_NONE &&
            resp.topics[0].partitions[0].error_code == 0)
            off = resp.topics[0].partitions[0].offset;
        kw_arena_destroy(a);
        free(buf);
    }
    close(fd);
    return off;
}

/* Fetch v11 of t/0 from `offset` on node 1: the error, the first batch's base offset (-1 none)
 * and the answer's log start offset. */
static int16_t fetch_at(mb_cluster *c, int64_t offset, int64_t *first, int64_t *log_start) {
    int fd = tc_connect(mb_broker_port(c, 1));
    tc_fetch f;
    tc_fetch_init(&f, 0, offset, 0);
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_fetch_req_encode(&body, 11, &f.req);
    tc_send_request(fd, KW_API_FETCH, 11, 30, &body);
    kw_wbuf_free(&body);
    uint8_t *buf;
    kw_rbuf rb;
    kw_response_header h;
    int16_t err = -1;
    *first = -1;
    if (tc_recv_response(fd, KW_API_FETCH, 11, 5000, &buf, &rb, &h) > 0) {
        kw_arena *a = kw_arena_new();
        kw_fetch_resp resp;
        if (kw_fetch_resp_decode(&rb, 11, a, &resp) == KW_ERR_NONE) {
            kw_fetch_resp_partition *p = &resp.topics[0].partitions[0];
            err = p->error_code;
            *log_start = p->log_start_offset;
            kw_batch kb;
            size_t used;
            char eb[128];
            if (p->records.len > 0 &&
                kw_batch_parse(p->records.p, (size_t)p->records.len, true, &kb, &used, eb,
                               sizeof eb) == KW_ERR_NONE)
                *first = kb.base_offset;
        }
        kw_arena_destroy(a);
        free(buf);
    }
    close(fd);
    return err;
}

static int n_deleted_events;
static void count_events(const mb_event *ev, void *opaque) {
    (void)opaque;
    if (ev->kind == MB_EV_SEGMENTS_DELETED)
        __atomic_fetch_add(&n_deleted_events, 1, __ATOMIC_RELAXED);
}

static void test_retention_bytes_deletes_old_segments_and_moves_log_start(void) {
    n_deleted_events = 0;
    mb_cluster *c = tc_cluster(NULL, 0, 0, count_events, NULL);
    CU_ASSERT_FATAL(c != NULL);
    char err[256];
    /* a batch of 3 records is about 110 bytes: segments of 2-3 batches, keep about 5 */
    CU_ASSERT_EQUAL(mb_topic_set_config(c, "t", "segment.bytes", 300, err, sizeof err), MB_OK);
    CU_ASSERT_EQUAL(mb_topic_set_config(c, "t", "retention.bytes", 600, err, sizeof err), MB_OK);
    int64_t base, ls = 0, prev_ls = 0;
    for (int i = 0; i < 40; i++) {
        CU_ASSERT_EQUAL(produce_ls(c, 3, "r", -1, -1, &base, &ls), 0);
        CU_ASSERT_EQUAL(base, 3 * i);
        CU_ASSERT_TRUE(ls >= prev_ls); /* the answer carries the log start; it only grows */
        prev_ls = ls;
    }
    mb_partition_info in = tc_info(c, "t", 0);
    CU_ASSERT_EQUAL(in.log_end_offset, 120);
    CU_ASSERT_TRUE(in.log_start_offset > 0);
    CU_ASSERT_EQUAL(in.log_start_offset % 3, 0); /* whole batches */
    CU_ASSERT_TRUE(in.bytes <= 600 + 300);       /* retention.bytes + one segment */
    CU_ASSERT_TRUE(in.bytes >= 600 - 300);
    CU_ASSERT_EQUAL(in.deleted_records, in.log_start_offset);
    CU_ASSERT_TRUE(in.segments >= 2);
    /* a later produce answer carries the current start (acks=all: after the HW moved) */
    CU_ASSERT_EQUAL(produce_ls(c, 3, "r", -1, -1, &base, &ls), 0);
    in = tc_info(c, "t", 0);
    CU_ASSERT_TRUE(ls > 0 && ls <= in.log_start_offset);
    /* every replica dropped the same batches */
    for (int r = 0; r < in.n_replicas; r++)
        CU_ASSERT_TRUE(in.replica_log_end[r] >= in.log_start_offset);
    CU_ASSERT_EQUAL(earliest(c), in.log_start_offset);
    int64_t first, fls;
    CU_ASSERT_EQUAL(fetch_at(c, 0, &first, &fls), KW_ERR_OFFSET_OUT_OF_RANGE);
    CU_ASSERT_EQUAL(fetch_at(c, in.log_start_offset - 1, &first, &fls),
                    KW_ERR_OFFSET_OUT_OF_RANGE);
    CU_ASSERT_EQUAL(fetch_at(c, in.log_start_offset, &first, &fls), 0);
    CU_ASSERT_EQUAL(first, in.log_start_offset);
    CU_ASSERT_EQUAL(fls, in.log_start_offset);
    /* the inspection iterator starts at the log start too */
    mb_record_iter *it;
    CU_ASSERT_EQUAL_FATAL(mb_record_iter_new(c, "t", 0, 0, &it), MB_OK);
    mb_record rec;
    CU_ASSERT_EQUAL(mb_record_iter_next(it, &rec), MB_OK);
    CU_ASSERT_EQUAL(rec.offset, in.log_start_offset);
    mb_record_iter_destroy(it);
    /* partitions without traffic keep everything; the event said what was deleted */
    CU_ASSERT_EQUAL(tc_info(c, "t", 1).log_start_offset, 0);
    CU_ASSERT_TRUE(__atomic_load_n(&n_deleted_events, __ATOMIC_RELAXED) > 0);
    mb_cluster_destroy(c);
}

typedef struct start_wait {
    mb_cluster *c;
    int64_t start;
} start_wait;
static bool start_reached(void *arg) {
    start_wait *w = arg;
    mb_partition_info in;
    mb_partition_info_get(w->c, "t", 0, &in);
    return in.log_start_offset >= w->start;
}

static void test_retention_ms_deletes_on_the_cluster_clock_idempotence_survives(void) {
    mb_cluster *c = tc_cluster(&tc_fake_clock, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    char err[256];
    CU_ASSERT_EQUAL(mb_topic_set_config(c, "t", "retention.ms", 1000, err, sizeof err), MB_OK);
    CU_ASSERT_EQUAL(mb_topic_set_config(c, "t", "segment.ms", 100, err, sizeof err), MB_OK);
    int64_t pid = tc_init_pid(c, 1);
    CU_ASSERT_FATAL(pid >= 0);
    int64_t base, ls;
    for (int i = 0; i < 5; i++) {
        CU_ASSERT_EQUAL(produce_ls(c, 2, "m", pid, 2 * i, &base, &ls), 0);
        CU_ASSERT_EQUAL(base, 2 * i);
        tc_advance_ms(200); /* each batch its own segment (segment.ms 100) */
    }
    /* 1000 ms after the last append: every segment is due (the HW is the log end) */
    CU_ASSERT_EQUAL(tc_info(c, "t", 0).log_start_offset, 0);
    tc_advance_ms(1001);
    start_wait w = {c, 10};
    CU_ASSERT_TRUE(tu_wait_until(start_reached, &w, 5000));
    mb_partition_info in = tc_info(c, "t", 0);
    CU_ASSERT_EQUAL(in.log_start_offset, 10);
    CU_ASSERT_EQUAL(in.log_end_offset, 10);
    CU_ASSERT_EQUAL(in.batches, 0);
    CU_ASSERT_EQUAL(in.bytes, 0);
    CU_ASSERT_EQUAL(earliest(c), 10);
    int64_t first, fls;
    CU_ASSERT_EQUAL(fetch_at(c, 4, &first, &fls), KW_ERR_OFFSET_OUT_OF_RANGE);
    /* Kafka keeps producer state when retention deletes its batches (KIP-360: only
     * producer.id.expiration.ms removes it): the next sequence is taken, a gap is not. */
    CU_ASSERT_EQUAL(produce_ls(c, 2, "m", pid, 12, &base, &ls), KW_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    CU_ASSERT_EQUAL(produce_ls(c, 2, "m", pid, 10, &base, &ls), 0);
    CU_ASSERT_EQUAL(base, 10);
    CU_ASSERT_EQUAL(ls, 10);
    /* a retry of the batch just appended is still a duplicate */
    CU_ASSERT_EQUAL(produce_ls(c, 2, "m", pid, 10, &base, &ls), 0);
    CU_ASSERT_EQUAL(base, 10);
    CU_ASSERT_EQUAL(tc_info(c, "t", 0).log_end_offset, 12);
    mb_cluster_destroy(c);
}

static void test_unlimited_by_default_and_config_errors_say_why(void) {
    mb_cluster *c = tc_cluster(NULL, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    int64_t base, ls;
    for (int i = 0; i < 20; i++)
        CU_ASSERT_EQUAL(produce_ls(c, 3, "u", -1, -1, &base, &ls), 0);
    mb_partition_info in = tc_info(c, "t", 0);
    CU_ASSERT_EQUAL(in.log_start_offset, 0);
    CU_ASSERT_EQUAL(in.segments, 1);
    char err[256];
    CU_ASSERT_EQUAL(mb_topic_set_config(c, "t", "retention.bytes", -2, err, sizeof err),
                    MB_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "retention.bytes"));
    CU_ASSERT_EQUAL(mb_topic_set_config(c, "t", "segment.bytes", 13, err, sizeof err),
                    MB_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mb_topic_set_config(c, "t", "cleanup.policy", 1, err, sizeof err),
                    MB_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "cleanup.policy"));
    CU_ASSERT_EQUAL(mb_topic_set_config(c, "nope", "retention.ms", 5, err, sizeof err),
                    MB_ERR_UNKNOWN_TOPIC);
    mb_cluster_destroy(c);
    /* the log.* defaults are checked at creation */
    mb_config conf;
    mb_config_init(&conf);
    CU_ASSERT_EQUAL(conf.log_retention_bytes, -1);
    CU_ASSERT_EQUAL(conf.log_retention_ms, 604800000);
    CU_ASSERT_EQUAL(conf.log_segment_bytes, 1073741824);
    conf.log_retention_ms = -5;
    conf.log_cb = tc_quiet_log;
    CU_ASSERT_EQUAL(mb_cluster_new(&conf, &c, err, sizeof err), MB_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "log.retention.ms"));
}

/* kcat against a cluster whose broker defaults cap memory (log.retention.bytes 64 KiB in 16 KiB
 * segments): 2 MB produced with kcat -P, the partition's bytes stay bounded (inspection API),
 * and kcat -C -o beginning reads from the new log start to the end, every offset once. */
static void test_kcat_reads_from_the_new_start_bytes_stay_bounded(void) {
    if (system("command -v kcat >/dev/null 2>&1") != 0) {
        fprintf(stderr, "(kcat not installed: .ci/deps.sh installs it)\n");
        CU_FAIL("kcat missing");
        return;
    }
    mb_config conf;
    mb_config_init(&conf);
    static mb_topic_config topics[1];
    topics[0] = (mb_topic_config){"t", 1, 3, 0};
    conf.topics = topics;
    conf.n_topics = 1;
    conf.log_cb = tc_quiet_log;
    conf.log_retention_bytes = 64 << 10;
    conf.log_segment_bytes = 16 << 10;
    mb_cluster *c = NULL;
    char err[256], cmd[512];
    CU_ASSERT_FATAL(mb_cluster_new(&conf, &c, err, sizeof err) == MB_OK);
    CU_ASSERT_FATAL(mb_cluster_start(c, err, sizeof err) == MB_OK);
    snprintf(cmd, sizeof cmd,
             "kcat -P -b %s -t t -p 0 -X linger.ms=5 -X batch.size=4096 -X acks=all "
             ">/dev/null 2>&1",
             mb_cluster_bootstrap(c));
    FILE *w = popen(cmd, "w");
    CU_ASSERT_FATAL(w != NULL);
    int64_t peak = 0;
    for (int i = 0; i < 20000; i++) {
        fprintf(w, "%08d-%s\n", i,
                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        if (i % 1000 == 999) {
            fflush(w);
            int64_t b = tc_info(c, "t", 0).bytes;
            if (b > peak)
                peak = b;
        }
    }
    CU_ASSERT_EQUAL(pclose(w), 0);
    mb_partition_info in = tc_info(c, "t", 0);
    CU_ASSERT_EQUAL(in.log_end_offset, 20000);
    CU_ASSERT_TRUE(in.log_start_offset > 0);
    CU_ASSERT_TRUE(in.bytes <= (64 << 10) + (16 << 10));
    CU_ASSERT_TRUE(peak <= (64 << 10) + (16 << 10) + 8192); /* + one batch in flight */
    CU_ASSERT_EQUAL(earliest(c), in.log_start_offset);
    snprintf(cmd, sizeof cmd, "kcat -C -b %s -t t -p 0 -o beginning -e -f '%%o %%s\\n' 2>/dev/null",
             mb_cluster_bootstrap(c));
    FILE *r = popen(cmd, "r");
    CU_ASSERT_FATAL(r != NULL);
    char line[256];
    int64_t expect = in.log_start_offset, n = 0;
    bool in_order = true;
    while (fgets(line, sizeof line, r)) {
        long long off;
        int id;
        if (sscanf(line, "%lld %d-", &off, &id) != 2 || off != expect || id != (int)off)
            in_order = false;
        expect++;
        n++;
    }
    CU_ASSERT_EQUAL(pclose(r), 0);
    CU_ASSERT_TRUE(in_order);
    CU_ASSERT_EQUAL(n, in.log_end_offset - in.log_start_offset);
    mb_cluster_destroy(c);
}

typedef struct caught_up {
    mb_cluster *c;
} caught_up;
static bool all_replicas_at_end(void *arg) {
    caught_up *w = arg;
    mb_partition_info in;
    mb_partition_info_get(w->c, "t", 0, &in);
    for (int r = 0; r < in.n_replicas; r++)
        if (in.replica_log_end[r] != in.log_end_offset)
            return false;
    return in.n_isr == in.n_replicas && in.high_watermark == in.log_end_offset;
}

/* Retention across a broker going down and coming back and a leader move: the down replica
 * is trimmed with the others, rejoins at the leader's log and the ISR; the new leader keeps
 * deleting; every replica ends at the same log end. */
static void test_retention_across_broker_down_up_and_leader_move(void) {
    mb_cluster *c = tc_cluster(NULL, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    char err[256];
    CU_ASSERT_EQUAL(mb_topic_set_config(c, "t", "segment.bytes", 300, err, sizeof err), MB_OK);
    CU_ASSERT_EQUAL(mb_topic_set_config(c, "t", "retention.bytes", 600, err, sizeof err), MB_OK);
    int64_t base, ls;
    for (int i = 0; i < 10; i++)
        CU_ASSERT_EQUAL(produce_ls(c, 3, "a", -1, -1, &base, &ls), 0);
    CU_ASSERT_EQUAL(mb_broker_down(c, 3), MB_OK); /* a follower of t/0 */
    for (int i = 0; i < 30; i++)
        CU_ASSERT_EQUAL(produce_ls(c, 3, "b", -1, -1, &base, &ls), 0);
    int64_t start = tc_info(c, "t", 0).log_start_offset;
    CU_ASSERT_TRUE(start > 30); /* deleted past everything broker 3 had */
    CU_ASSERT_EQUAL(mb_broker_up(c, 3), MB_OK);
    caught_up w = {c};
    CU_ASSERT_TRUE(tu_wait_until(all_replicas_at_end, &w, 5000));
    CU_ASSERT_EQUAL(mb_partition_move_leader(c, "t", 0, 2), MB_OK);
    /* produce to the new leader (node 2) */
    int fd = tc_connect(mb_broker_port(c, 2));
    for (int i = 0; i < 20; i++) {
        size_t blen;
        uint8_t *b = tc_make_batch(3, "c", -1, -1, -1, &blen);
        CU_ASSERT_TRUE(tc_produce_send(fd, 100 + i, "t", 0, -1, 5000, b, blen));
        tc_produce_result r = tc_produce_recv(fd, 100 + i, 5000);
        CU_ASSERT_EQUAL(r.error, 0);
        free(b);
    }
    close(fd);
    CU_ASSERT_TRUE(tu_wait_until(all_replicas_at_end, &w, 5000));
    mb_partition_info in = tc_info(c, "t", 0);
    CU_ASSERT_EQUAL(in.leader, 2);
    CU_ASSERT_EQUAL(in.log_end_offset, 180);
    CU_ASSERT_TRUE(in.log_start_offset > start);
    CU_ASSERT_TRUE(in.bytes <= 600 + 300);
    /* the records kept are the newest, in order, from the log start */
    mb_record_iter *it;
    CU_ASSERT_EQUAL_FATAL(mb_record_iter_new(c, "t", 0, 0, &it), MB_OK);
    mb_record rec;
    int64_t expect = in.log_start_offset;
    while (mb_record_iter_next(it, &rec) == MB_OK)
        CU_ASSERT_EQUAL(rec.offset, expect++);
    CU_ASSERT_EQUAL(expect, 180);
    mb_record_iter_destroy(it);
    mb_cluster_destroy(c);
}

void suite_mockbroker_retention(void);
void suite_mockbroker_retention(void) {
    tu_suite("mockbroker_retention");
    tu_test("test_retention_bytes_deletes_old_segments_and_moves_log_start",
            test_retention_bytes_deletes_old_segments_and_moves_log_start);
    tu_test("test_retention_ms_deletes_on_the_cluster_clock_idempotence_survives",
            test_retention_ms_deletes_on_the_cluster_clock_idempotence_survives);
    tu_test("test_retention_across_broker_down_up_and_leader_move",
            test_retention_across_broker_down_up_and_leader_move);
    tu_test("test_kcat_reads_from_the_new_start_bytes_stay_bounded",
            test_kcat_reads_from_the_new_start_bytes_stay_bounded);
    tu_test("test_unlimited_by_default_and_config_errors_say_why",
            test_unlimited_by_default_and_config_errors_say_why);
}
