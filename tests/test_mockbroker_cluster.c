/* The mock cluster's semantics over real sockets: replication, high watermark, ISR shrink and
 * expand, acks, elections with truncation, idempotence. Time is a manual clock, so lags and
 * timeouts are exact and nothing sleeps. */
#include "tests/test_mockbroker_client.h"

typedef struct hw_wait {
    mb_cluster *c;
    int32_t part;
    int64_t hw;
} hw_wait;

static bool hw_reached(void *arg) {
    hw_wait *w = arg;
    mb_partition_info in;
    mb_partition_info_get(w->c, "t", w->part, &in);
    return in.high_watermark >= w->hw;
}

typedef struct isr_wait {
    mb_cluster *c;
    int32_t part;
    int32_t n;
} isr_wait;

static bool isr_is(void *arg) {
    isr_wait *w = arg;
    mb_partition_info in;
    mb_partition_info_get(w->c, "t", w->part, &in);
    return in.n_isr == w->n;
}

static void test_acks1_answers_after_leader_append_followers_copy_after_lag(void) {
    mb_cluster *c = tc_cluster(&tc_fake_clock, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    mb_broker_set_follower_lag(c, 2, 1000);
    mb_broker_set_follower_lag(c, 3, 1000);
    tc_produce_result r = tc_produce(c, 1, "t", 0, 1, 10, "a", -1, -1, -1);
    CU_ASSERT_TRUE(r.answered);
    CU_ASSERT_EQUAL(r.error, 0);
    CU_ASSERT_EQUAL(r.base_offset, 0);
    mb_partition_info in = tc_info(c, "t", 0);
    CU_ASSERT_EQUAL(in.log_end_offset, 10);
    CU_ASSERT_EQUAL(in.high_watermark, 0); /* followers have not copied yet */
    CU_ASSERT_EQUAL(in.replica_log_end[1], 0);
    CU_ASSERT_EQUAL(in.replica_log_end[2], 0);
    tc_advance_ms(1000);
    hw_wait w = {c, 0, 10};
    CU_ASSERT_TRUE(tu_wait_until(hw_reached, &w, 5000));
    in = tc_info(c, "t", 0);
    CU_ASSERT_EQUAL(in.replica_log_end[1], 10);
    CU_ASSERT_EQUAL(in.replica_log_end[2], 10);
    CU_ASSERT_EQUAL(in.n_isr, 3);
    mb_cluster_destroy(c);
}

static void test_acks_all_answers_only_when_isr_has_it(void) {
    mb_cluster *c = tc_cluster(&tc_fake_clock, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    mb_broker_set_follower_lag(c, 2, 1000);
    mb_broker_set_follower_lag(c, 3, 2000);
    int fd = tc_connect(mb_broker_port(c, 1));
    size_t blen;
    uint8_t *b = tc_make_batch(4, "b", -1, -1, -1, &blen);
    CU_ASSERT_TRUE(tc_produce_send(fd, 5, "t", 0, -1, 60000, b, blen));
    CU_ASSERT_TRUE(tc_wait_requests(c, 1, KW_API_PRODUCE, 1));
    tc_produce_result r = tc_produce_recv(fd, 5, 150);
    CU_ASSERT_FALSE(r.answered); /* waiting for the ISR */
    tc_advance_ms(1000);         /* broker 2 copies; broker 3 not yet */
    r = tc_produce_recv(fd, 5, 150);
    CU_ASSERT_FALSE(r.answered);
    tc_advance_ms(1000);
    r = tc_produce_recv(fd, 5, 5000);
    CU_ASSERT_TRUE(r.answered);
    CU_ASSERT_EQUAL(r.error, 0);
    CU_ASSERT_EQUAL(r.base_offset, 0);
    free(b);
    close(fd);
    mb_cluster_destroy(c);
}

static void test_acks_all_times_out_at_request_timeout(void) {
    mb_cluster *c = tc_cluster(&tc_fake_clock, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    mb_broker_set_follower_lag(c, 2, 100000);
    int fd = tc_connect(mb_broker_port(c, 1));
    size_t blen;
    uint8_t *b = tc_make_batch(1, "c", -1, -1, -1, &blen);
    CU_ASSERT_TRUE(tc_produce_send(fd, 9, "t", 0, -1, 3000, b, blen));
    CU_ASSERT_TRUE(tc_wait_requests(c, 1, KW_API_PRODUCE, 1));
    tc_advance_ms(2999);
    CU_ASSERT_FALSE(tc_produce_recv(fd, 9, 100).answered);
    tc_advance_ms(2);
    tc_produce_result r = tc_produce_recv(fd, 9, 5000);
    CU_ASSERT_TRUE(r.answered);
    CU_ASSERT_EQUAL(r.error, KW_ERR_REQUEST_TIMED_OUT);
    free(b);
    close(fd);
    mb_cluster_destroy(c);
}

static void test_pending_acks_all_fails_over_when_leader_moves(void) {
    mb_cluster *c = tc_cluster(&tc_fake_clock, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    mb_broker_set_follower_lag(c, 2, 100000);
    mb_broker_set_follower_lag(c, 3, 100000);
    int fd = tc_connect(mb_broker_port(c, 1));
    size_t blen;
    uint8_t *b = tc_make_batch(3, "mv", -1, -1, -1, &blen);
    CU_ASSERT_TRUE(tc_produce_send(fd, 11, "t", 0, -1, 60000, b, blen));
    CU_ASSERT_TRUE(tc_wait_requests(c, 1, KW_API_PRODUCE, 1));
    CU_ASSERT_FALSE(tc_produce_recv(fd, 11, 100).answered);
    CU_ASSERT_EQUAL(mb_partition_move_leader(c, "t", 0, 2), MB_OK);
    tc_produce_result r = tc_produce_recv(fd, 11, 5000);
    CU_ASSERT_TRUE(r.answered);
    CU_ASSERT_EQUAL(r.error, KW_ERR_NOT_LEADER_OR_FOLLOWER); /* the client retries elsewhere */
    mb_partition_info in = tc_info(c, "t", 0);
    CU_ASSERT_EQUAL(in.leader, 2);
    CU_ASSERT_EQUAL(in.log_end_offset, 0);     /* the new leader never had it */
    CU_ASSERT_EQUAL(in.replica_log_end[0], 0); /* and the old leader's copy was cut */
    free(b);
    close(fd);
    mb_cluster_destroy(c);
}

static void test_isr_falling_below_min_after_append_answers_after_append_error(void) {
    mb_cluster *c = tc_cluster(&tc_fake_clock, 2, 500, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    mb_broker_set_follower_lag(c, 2, 100000);
    mb_broker_set_follower_lag(c, 3, 100000);
    int fd = tc_connect(mb_broker_port(c, 1));
    size_t blen;
    uint8_t *b = tc_make_batch(2, "mi", -1, -1, -1, &blen);
    CU_ASSERT_TRUE(tc_produce_send(fd, 12, "t", 0, -1, 60000, b, blen));
    CU_ASSERT_TRUE(tc_wait_requests(c, 1, KW_API_PRODUCE, 1));
    CU_ASSERT_FALSE(tc_produce_recv(fd, 12, 100).answered);
    tc_advance_ms(600); /* both followers leave the ISR: {1} < min.insync.replicas 2 */
    tc_produce_result r = tc_produce_recv(fd, 12, 5000);
    CU_ASSERT_TRUE(r.answered);
    CU_ASSERT_EQUAL(r.error, KW_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND);
    CU_ASSERT_EQUAL(tc_info(c, "t", 0).n_isr, 1);
    free(b);
    close(fd);
    mb_cluster_destroy(c);
}

static void test_isr_shrinks_when_follower_lags_and_expands_when_caught_up(void) {
    mb_cluster *c = tc_cluster(&tc_fake_clock, 0, 500, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    mb_broker_set_follower_lag(c, 3, 10000);
    tc_produce_result r = tc_produce(c, 1, "t", 0, 1, 5, "d", -1, -1, -1);
    CU_ASSERT_EQUAL(r.error, 0);
    tc_advance_ms(400);
    mb_partition_info in = tc_info(c, "t", 0);
    CU_ASSERT_EQUAL(in.n_isr, 3);
    CU_ASSERT_EQUAL(in.high_watermark, 0); /* broker 3 holds it back */
    tc_advance_ms(200);                    /* 600 ms > replica.lag.time.max.ms */
    isr_wait iw = {c, 0, 2};
    CU_ASSERT_TRUE(tu_wait_until(isr_is, &iw, 5000));
    hw_wait w = {c, 0, 5};
    CU_ASSERT_TRUE(tu_wait_until(hw_reached, &w, 5000)); /* HW = min over the smaller ISR */
    in = tc_info(c, "t", 0);
    CU_ASSERT_EQUAL(in.isr[0], 1);
    CU_ASSERT_EQUAL(in.isr[1], 2);
    mb_broker_set_follower_lag(c, 3, 0);
    iw.n = 3;
    CU_ASSERT_TRUE(tu_wait_until(isr_is, &iw, 5000));
    in = tc_info(c, "t", 0);
    CU_ASSERT_EQUAL(in.replica_log_end[2], 5);
    mb_cluster_destroy(c);
}

static void test_not_enough_replicas_when_isr_below_min_insync(void) {
    mb_cluster *c = tc_cluster(&tc_fake_clock, 2, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    CU_ASSERT_EQUAL(mb_broker_down(c, 2), MB_OK);
    CU_ASSERT_EQUAL(mb_broker_down(c, 3), MB_OK);
    mb_partition_info in = tc_info(c, "t", 0);
    CU_ASSERT_EQUAL(in.n_isr, 1);
    tc_produce_result r = tc_produce(c, 1, "t", 0, -1, 3, "e", -1, -1, -1);
    CU_ASSERT_TRUE(r.answered);
    CU_ASSERT_EQUAL(r.error, KW_ERR_NOT_ENOUGH_REPLICAS);
    CU_ASSERT_EQUAL(tc_info(c, "t", 0).log_end_offset, 0); /* nothing appended */
    r = tc_produce(c, 1, "t", 0, 1, 3, "e", -1, -1, -1);
    CU_ASSERT_EQUAL(r.error, 0); /* acks=1 does not care */
    mb_cluster_destroy(c);
}

static void test_election_truncates_what_only_the_old_leader_had(void) {
    mb_cluster *c = tc_cluster(&tc_fake_clock, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    /* 3 records replicated everywhere, then 5 acks=1 records only the leader has. */
    tc_produce_result r = tc_produce(c, 1, "t", 0, -1, 3, "old", -1, -1, -1);
    CU_ASSERT_EQUAL(r.error, 0);
    mb_broker_set_follower_lag(c, 2, 100000);
    mb_broker_set_follower_lag(c, 3, 100000);
    r = tc_produce(c, 1, "t", 0, 1, 5, "lost", -1, -1, -1);
    CU_ASSERT_EQUAL(r.error, 0);
    CU_ASSERT_EQUAL(r.base_offset, 3); /* acknowledged... */
    CU_ASSERT_EQUAL(tc_info(c, "t", 0).log_end_offset, 8);
    CU_ASSERT_EQUAL(mb_broker_down(c, 1), MB_OK);
    mb_partition_info in = tc_info(c, "t", 0);
    CU_ASSERT_EQUAL(in.leader, 2);
    CU_ASSERT_EQUAL(in.leader_epoch, 1);
    CU_ASSERT_EQUAL(in.log_end_offset, 3);
    r = tc_produce(c, 2, "t", 0, 1, 2, "new", -1, -1, -1);
    CU_ASSERT_EQUAL(r.error, 0);
    CU_ASSERT_EQUAL(r.base_offset, 3); /* the new leader reuses the offsets */
    /* The old leader comes back: its 5 extra records are cut away, then it catches up. */
    mb_broker_set_follower_lag(c, 1, 0);
    CU_ASSERT_EQUAL(mb_broker_up(c, 1), MB_OK);
    in = tc_info(c, "t", 0);
    CU_ASSERT_EQUAL(in.replicas[0], 1);
    CU_ASSERT_TRUE(in.replica_log_end[0] <= 5);
    mb_record_iter *it;
    CU_ASSERT_EQUAL_FATAL(mb_record_iter_new(c, "t", 0, 0, &it), MB_OK);
    mb_record rec;
    int n = 0, lost = 0;
    while (mb_record_iter_next(it, &rec) == MB_OK) {
        CU_ASSERT_EQUAL(rec.offset, n);
        if (rec.value_len >= 4 && !memcmp(rec.value, "lost", 4))
            lost++;
        n++;
    }
    mb_record_iter_destroy(it);
    CU_ASSERT_EQUAL(n, 5);
    CU_ASSERT_EQUAL(lost, 0); /* acks=1 lost what the old leader alone had */
    mb_cluster_destroy(c);
}

static void test_idempotent_duplicate_gets_original_offset_gap_is_out_of_order(void) {
    mb_cluster *c = tc_cluster(NULL, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    int64_t pid = tc_init_pid(c, 2);
    CU_ASSERT_TRUE(pid >= 0);
    CU_ASSERT_NOT_EQUAL(tc_init_pid(c, 3), pid); /* each call a new producer id */
    tc_produce_result r = tc_produce(c, 1, "t", 0, -1, 3, "i", pid, 0, 0);
    CU_ASSERT_EQUAL(r.error, 0);
    CU_ASSERT_EQUAL(r.base_offset, 0);
    r = tc_produce(c, 1, "t", 0, -1, 3, "i", pid, 0, 0); /* a retry of the same batch */
    CU_ASSERT_EQUAL(r.error, 0);
    CU_ASSERT_EQUAL(r.base_offset, 0);
    CU_ASSERT_EQUAL(tc_info(c, "t", 0).log_end_offset, 3); /* appended once */
    r = tc_produce(c, 1, "t", 0, -1, 2, "i", pid, 0, 5);   /* 3, 4 missing */
    CU_ASSERT_EQUAL(r.error, KW_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    r = tc_produce(c, 1, "t", 0, -1, 2, "i", pid, 0, 3);
    CU_ASSERT_EQUAL(r.error, 0);
    CU_ASSERT_EQUAL(r.base_offset, 3);
    r = tc_produce(c, 1, "t", 0, -1, 1, "i", pid, 1, 0); /* new epoch starts at 0 */
    CU_ASSERT_EQUAL(r.error, 0);
    r = tc_produce(c, 1, "t", 0, -1, 1, "i", pid, 0, 5); /* the old epoch is fenced */
    CU_ASSERT_EQUAL(r.error, KW_ERR_INVALID_PRODUCER_EPOCH);
    r = tc_produce(c, 1, "t", 0, -1, 1, "i", pid, 2, 4); /* a newer epoch must start at 0 */
    CU_ASSERT_EQUAL(r.error, KW_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    /* A producer the partition has no state for (a broker restart, retention) is taken at any
     * sequence, as Kafka's ProducerAppendInfo with no current epoch; then it must follow. */
    r = tc_produce(c, 1, "t", 0, -1, 1, "i", pid + 100, 0, 7);
    CU_ASSERT_EQUAL(r.error, 0);
    r = tc_produce(c, 1, "t", 0, -1, 1, "i", pid + 100, 0, 9);
    CU_ASSERT_EQUAL(r.error, KW_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    r = tc_produce(c, 1, "t", 0, -1, 1, "i", pid + 100, 0, 8);
    CU_ASSERT_EQUAL(r.error, 0);
    /* The stored records carry producer id and sequences. */
    mb_record_iter *it;
    CU_ASSERT_EQUAL_FATAL(mb_record_iter_new(c, "t", 0, 3, &it), MB_OK);
    mb_record rec;
    CU_ASSERT_EQUAL(mb_record_iter_next(it, &rec), MB_OK);
    CU_ASSERT_EQUAL(rec.offset, 3);
    CU_ASSERT_EQUAL(rec.producer_id, pid);
    CU_ASSERT_EQUAL(rec.sequence, 3);
    CU_ASSERT_EQUAL(rec.key_len, 4);
    CU_ASSERT_EQUAL(memcmp(rec.key, "i-k0", 4), 0);
    CU_ASSERT_EQUAL(memcmp(rec.value, "i-v0", 4), 0);
    mb_record_iter_destroy(it);
    mb_cluster_destroy(c);
}

static void test_produce_to_follower_or_unknown_partition_is_refused(void) {
    mb_cluster *c = tc_cluster(NULL, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    tc_produce_result r = tc_produce(c, 2, "t", 0, 1, 1, "f", -1, -1, -1);
    CU_ASSERT_EQUAL(r.error, KW_ERR_NOT_LEADER_OR_FOLLOWER);
    r = tc_produce(c, 1, "t", 7, 1, 1, "f", -1, -1, -1);
    CU_ASSERT_EQUAL(r.error, KW_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    r = tc_produce(c, 1, "nope", 0, 1, 1, "f", -1, -1, -1);
    CU_ASSERT_EQUAL(r.error, KW_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    /* A corrupted batch (CRC) is CORRUPT_MESSAGE and nothing is appended. */
    int fd = tc_connect(mb_broker_port(c, 1));
    size_t blen;
    uint8_t *b = tc_make_batch(2, "g", -1, -1, -1, &blen);
    b[blen - 1] ^= 0x5a;
    CU_ASSERT_TRUE(tc_produce_send(fd, 3, "t", 0, 1, 5000, b, blen));
    r = tc_produce_recv(fd, 3, 5000);
    CU_ASSERT_EQUAL(r.error, KW_ERR_CORRUPT_MESSAGE);
    CU_ASSERT_EQUAL(tc_info(c, "t", 0).log_end_offset, 0);
    free(b);
    close(fd);
    mb_cluster_destroy(c);
}

static void test_list_offsets_and_fetch_read_back_to_high_watermark(void) {
    mb_cluster *c = tc_cluster(&tc_fake_clock, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    CU_ASSERT_EQUAL(tc_produce(c, 2, "t", 1, -1, 4, "h", -1, -1, -1).error, 0);
    mb_broker_set_follower_lag(c, 3, 100000);
    CU_ASSERT_EQUAL(tc_produce(c, 2, "t", 1, 1, 3, "x", -1, -1, -1).error, 0); /* above HW */
    int fd = tc_connect(mb_broker_port(c, 2));
    /* ListOffsets v5: earliest and latest (= high watermark 4) */
    kw_list_offsets_req_partition lp[2] = {{1, -1, -2}, {1, -1, -1}};
    kw_list_offsets_req_topic lt = {kw_slice_str("t"), 1, &lp[0]};
    kw_list_offsets_req lreq = {-1, 0, 1, &lt};
    int64_t got[2];
    for (int k = 0; k < 2; k++) {
        lt.partitions = &lp[k];
        kw_wbuf body;
        kw_wbuf_init(&body);
        kw_list_offsets_req_encode(&body, 5, &lreq);
        tc_send_request(fd, KW_API_LIST_OFFSETS, 5, 20 + k, &body);
        kw_wbuf_free(&body);
        uint8_t *buf;
        kw_rbuf rb;
        kw_response_header h;
        CU_ASSERT_FATAL(tc_recv_response(fd, KW_API_LIST_OFFSETS, 5, 5000, &buf, &rb, &h) > 0);
        kw_arena *a = kw_arena_new();
        kw_list_offsets_resp resp;
        CU_ASSERT_EQUAL(kw_list_offsets_resp_decode(&rb, 5, a, &resp), KW_ERR_NONE);
        got[k] = resp.topics[0].partitions[0].offset;
        CU_ASSERT_EQUAL(resp.topics[0].partitions[0].error_code, 0);
        kw_arena_destroy(a);
        free(buf);
    }
    CU_ASSERT_EQUAL(got[0], 0);
    CU_ASSERT_EQUAL(got[1], 4);
    /* Fetch v11 from 0: the 4 committed records, none of the 3 above the HW. */
    tc_fetch f;
    tc_fetch_init(&f, 1, 0, 0);
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_fetch_req_encode(&body, 11, &f.req);
    tc_send_request(fd, KW_API_FETCH, 11, 30, &body);
    kw_wbuf_free(&body);
    uint8_t *buf;
    kw_rbuf rb;
    kw_response_header h;
    CU_ASSERT_FATAL(tc_recv_response(fd, KW_API_FETCH, 11, 5000, &buf, &rb, &h) > 0);
    kw_arena *a = kw_arena_new();
    kw_fetch_resp resp;
    CU_ASSERT_EQUAL_FATAL(kw_fetch_resp_decode(&rb, 11, a, &resp), KW_ERR_NONE);
    kw_fetch_resp_partition *p = &resp.topics[0].partitions[0];
    CU_ASSERT_EQUAL(p->error_code, 0);
    CU_ASSERT_EQUAL(p->high_watermark, 4);
    kw_batch kb;
    size_t used;
    char eb[128];
    CU_ASSERT_EQUAL(
        kw_batch_parse(p->records.p, (size_t)p->records.len, true, &kb, &used, eb, sizeof eb),
        KW_ERR_NONE);
    CU_ASSERT_EQUAL(kb.base_offset, 0);
    CU_ASSERT_EQUAL(kb.record_count, 4);
    CU_ASSERT_EQUAL(used, (size_t)p->records.len); /* only the committed batch */
    kw_arena_destroy(a);
    free(buf);
    close(fd);
    mb_cluster_destroy(c);
}

static void test_metadata_auto_creates_topics_and_lists_live_brokers(void) {
    mb_cluster *c = tc_cluster(NULL, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    mb_broker_down(c, 3);
    int fd = tc_connect(mb_broker_port(c, 1));
    kw_slice names[2] = {kw_slice_str("fresh"), kw_slice_str("bad name!")};
    kw_metadata_req req = {2, names, true, false, false, NULL};
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_metadata_req_encode(&body, 8, &req);
    tc_send_request(fd, KW_API_METADATA, 8, 1, &body);
    kw_wbuf_free(&body);
    uint8_t *buf;
    kw_rbuf rb;
    kw_response_header h;
    CU_ASSERT_FATAL(tc_recv_response(fd, KW_API_METADATA, 8, 5000, &buf, &rb, &h) > 0);
    kw_arena *a = kw_arena_new();
    kw_metadata_resp resp;
    CU_ASSERT_EQUAL_FATAL(kw_metadata_resp_decode(&rb, 8, a, &resp), KW_ERR_NONE);
    CU_ASSERT_EQUAL(resp.n_brokers, 2);
    CU_ASSERT_EQUAL(resp.n_topics, 2);
    CU_ASSERT_EQUAL(resp.topics[0].error_code, 0);
    CU_ASSERT_EQUAL(resp.topics[0].n_partitions, 1); /* num.partitions */
    CU_ASSERT_EQUAL(resp.topics[1].error_code, KW_ERR_INVALID_TOPIC_EXCEPTION);
    CU_ASSERT_EQUAL(mb_topic_partition_count(c, "fresh"), 1);
    kw_arena_destroy(a);
    free(buf);
    close(fd);
    mb_cluster_destroy(c);
}

static void test_config_errors_name_the_key(void) {
    mb_config conf;
    mb_config_init(&conf);
    mb_cluster *c;
    char err[256];
    conf.brokers = 0;
    CU_ASSERT_EQUAL(mb_cluster_new(&conf, &c, err, sizeof err), MB_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "brokers"));
    mb_config_init(&conf);
    mb_topic_config t = {"x", 2, 4, 0};
    conf.topics = &t;
    conf.n_topics = 1;
    CU_ASSERT_EQUAL(mb_cluster_new(&conf, &c, err, sizeof err), MB_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "replication factor"));
    mb_config_init(&conf);
    conf.replica_lag_time_max_ms = 0;
    CU_ASSERT_EQUAL(mb_cluster_new(&conf, &c, err, sizeof err), MB_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "replica.lag.time.max.ms"));
    CU_ASSERT_STRING_EQUAL(mb_err_name(MB_ERR_NOT_IN_ISR), "NOT_IN_ISR");
    CU_ASSERT_STRING_EQUAL(mb_event_kind_name(MB_EV_HW_ADVANCED), "hw.advanced");
}

void suite_mockbroker_cluster(void);
void suite_mockbroker_cluster(void) {
    tu_suite("mockbroker_cluster");
    tu_test("test_acks1_answers_after_leader_append_followers_copy_after_lag",
            test_acks1_answers_after_leader_append_followers_copy_after_lag);
    tu_test("test_acks_all_answers_only_when_isr_has_it",
            test_acks_all_answers_only_when_isr_has_it);
    tu_test("test_acks_all_times_out_at_request_timeout",
            test_acks_all_times_out_at_request_timeout);
    tu_test("test_pending_acks_all_fails_over_when_leader_moves",
            test_pending_acks_all_fails_over_when_leader_moves);
    tu_test("test_isr_falling_below_min_after_append_answers_after_append_error",
            test_isr_falling_below_min_after_append_answers_after_append_error);
    tu_test("test_isr_shrinks_when_follower_lags_and_expands_when_caught_up",
            test_isr_shrinks_when_follower_lags_and_expands_when_caught_up);
    tu_test("test_not_enough_replicas_when_isr_below_min_insync",
            test_not_enough_replicas_when_isr_below_min_insync);
    tu_test("test_election_truncates_what_only_the_old_leader_had",
            test_election_truncates_what_only_the_old_leader_had);
    tu_test("test_idempotent_duplicate_gets_original_offset_gap_is_out_of_order",
            test_idempotent_duplicate_gets_original_offset_gap_is_out_of_order);
    tu_test("test_produce_to_follower_or_unknown_partition_is_refused",
            test_produce_to_follower_or_unknown_partition_is_refused);
    tu_test("test_list_offsets_and_fetch_read_back_to_high_watermark",
            test_list_offsets_and_fetch_read_back_to_high_watermark);
    tu_test("test_metadata_auto_creates_topics_and_lists_live_brokers",
            test_metadata_auto_creates_topics_and_lists_live_brokers);
    tu_test("test_config_errors_name_the_key", test_config_errors_name_the_key);
}
