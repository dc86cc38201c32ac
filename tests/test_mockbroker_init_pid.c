/* InitProducerId on the mock cluster over a real socket, at every version 0–5, as Kafka's
 * TransactionCoordinator.handleInitProducerId: no transactional id → a new producer id at
 * epoch 0 every time (the v3+ id/epoch are ignored, which is why Java's idempotent producer
 * bumps its epoch itself); a transactional id → the same id with the epoch bumped, stale
 * callers fenced (PRODUCER_FENCED from v4, INVALID_PRODUCER_EPOCH below). */
#include "tests/test_mockbroker_client.h"
#include "tests/tu.h"

typedef struct pid_answer {
    int16_t error;
    int64_t id;
    int16_t epoch;
} pid_answer;

static pid_answer init_pid(mb_cluster *c, int16_t v, const char *txn, int64_t pid, int16_t epoch) {
    pid_answer out = {-999, -1, -1};
    int fd = tc_connect(mb_broker_port(c, 1));
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_init_pid_req req = {txn ? kw_slice_str(txn) : KW_SLICE_NULL, 60000, pid, epoch};
    kw_init_pid_req_encode(&body, v, &req);
    tc_send_request(fd, KW_API_INIT_PRODUCER_ID, v, 11, &body);
    kw_wbuf_free(&body);
    uint8_t *buf;
    kw_rbuf rb;
    kw_response_header h;
    if (tc_recv_response(fd, KW_API_INIT_PRODUCER_ID, v, 5000, &buf, &rb, &h) > 0) {
        kw_init_pid_resp resp;
        CU_ASSERT_EQUAL(h.correlation_id, 11);
        if (kw_init_pid_resp_decode(&rb, v, NULL, &resp) == KW_ERR_NONE)
            out = (pid_answer){resp.error_code, resp.producer_id, resp.producer_epoch};
        free(buf);
    }
    close(fd);
    return out;
}

static void test_every_version_answers_and_idempotent_calls_get_new_ids(void) {
    mb_cluster *c = tc_cluster(NULL, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    int64_t last = -1;
    for (int16_t v = 0; v <= 5; v++) {
        pid_answer a = init_pid(c, v, NULL, -1, -1);
        CU_ASSERT_EQUAL(a.error, 0);
        CU_ASSERT(a.id > last);
        CU_ASSERT_EQUAL(a.epoch, 0);
        last = a.id;
    }
    /* v3+ with the current id and epoch, no transactional id: Kafka hands out a new id at
     * epoch 0 ("always blindly accept the request"), it does not bump. */
    pid_answer a = init_pid(c, 4, NULL, last, 0);
    CU_ASSERT_EQUAL(a.error, 0);
    CU_ASSERT_NOT_EQUAL(a.id, last);
    CU_ASSERT_EQUAL(a.epoch, 0);
    /* id without epoch (or the reverse): INVALID_REQUEST, as KafkaApis checks */
    CU_ASSERT_EQUAL(init_pid(c, 3, NULL, last, -1).error, KW_ERR_INVALID_REQUEST);
    CU_ASSERT_EQUAL(init_pid(c, 3, NULL, -1, 0).error, KW_ERR_INVALID_REQUEST);
    mb_cluster_destroy(c);
}

static void test_transactional_id_bumps_the_epoch_and_fences_stale_callers(void) {
    mb_cluster *c = tc_cluster(NULL, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    pid_answer a = init_pid(c, 4, "tx", -1, -1);
    CU_ASSERT_EQUAL(a.error, 0);
    CU_ASSERT_EQUAL(a.epoch, 0);
    int64_t id = a.id;
    pid_answer b = init_pid(c, 4, "tx", id, 0); /* KIP-360 bump of the current epoch */
    CU_ASSERT_EQUAL(b.error, 0);
    CU_ASSERT_EQUAL(b.id, id);
    CU_ASSERT_EQUAL(b.epoch, 1);
    b = init_pid(c, 4, "tx", id, 0); /* a retry of that bump: the current epoch again */
    CU_ASSERT_EQUAL(b.error, 0);
    CU_ASSERT_EQUAL(b.epoch, 1);
    b = init_pid(c, 1, "tx", -1, -1); /* a pre-KIP-360 caller: bumps, fences everyone */
    CU_ASSERT_EQUAL(b.error, 0);
    CU_ASSERT_EQUAL(b.epoch, 2);
    CU_ASSERT_EQUAL(init_pid(c, 4, "tx", id, 1).error, KW_ERR_PRODUCER_FENCED);
    CU_ASSERT_EQUAL(init_pid(c, 3, "tx", id, 1).error, KW_ERR_INVALID_PRODUCER_EPOCH);
    CU_ASSERT_EQUAL(init_pid(c, 5, "tx", id + 1, 2).error, KW_ERR_PRODUCER_FENCED);
    b = init_pid(c, 5, "tx", id, 2);
    CU_ASSERT_EQUAL(b.error, 0);
    CU_ASSERT_EQUAL(b.epoch, 3);
    CU_ASSERT_EQUAL(init_pid(c, 4, "", -1, -1).error, KW_ERR_INVALID_REQUEST);
    pid_answer other = init_pid(c, 2, "other", -1, -1);
    CU_ASSERT_EQUAL(other.error, 0);
    CU_ASSERT_NOT_EQUAL(other.id, id);
    mb_cluster_destroy(c);
}

/* The per-partition producer state across epochs, as ProducerAppendInfo. */
static void test_producer_state_follows_epochs(void) {
    mb_cluster *c = tc_cluster(NULL, 0, 0, NULL, NULL);
    CU_ASSERT_FATAL(c != NULL);
    int64_t pid = init_pid(c, 5, NULL, -1, -1).id;
    tc_produce_result r = tc_produce(c, 1, "t", 0, -1, 2, "e", pid, 0, 0);
    CU_ASSERT_EQUAL(r.error, 0);
    r = tc_produce(c, 1, "t", 0, -1, 2, "e", pid, 0, 2);
    CU_ASSERT_EQUAL(r.error, 0);
    /* epoch 1 (the producer bumped it itself): from 0, and the old epoch is fenced after */
    r = tc_produce(c, 1, "t", 0, -1, 2, "e", pid, 1, 2);
    CU_ASSERT_EQUAL(r.error, KW_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    r = tc_produce(c, 1, "t", 0, -1, 2, "e", pid, 1, 0);
    CU_ASSERT_EQUAL(r.error, 0);
    CU_ASSERT_EQUAL(r.base_offset, 4);
    r = tc_produce(c, 1, "t", 0, -1, 2, "e", pid, 1, 0); /* duplicate within the epoch */
    CU_ASSERT_EQUAL(r.error, 0);
    CU_ASSERT_EQUAL(r.base_offset, 4);
    r = tc_produce(c, 1, "t", 0, -1, 2, "e", pid, 0, 4); /* the old epoch */
    CU_ASSERT_EQUAL(r.error, KW_ERR_INVALID_PRODUCER_EPOCH);
    CU_ASSERT_EQUAL(tc_info(c, "t", 0).log_end_offset, 6);
    /* t-1 (led by broker 2) has not seen this producer: an id this cluster handed out starts
     * at 0 there; an id it never handed out (state lost to a restart) at any sequence */
    r = tc_produce(c, 2, "t", 1, -1, 1, "e", pid, 0, 41);
    CU_ASSERT_EQUAL(r.error, KW_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    r = tc_produce(c, 2, "t", 1, -1, 1, "e", 77, 3, 41);
    CU_ASSERT_EQUAL(r.error, 0);
    r = tc_produce(c, 2, "t", 1, -1, 1, "e", 77, 3, 42);
    CU_ASSERT_EQUAL(r.error, 0);
    mb_cluster_destroy(c);
}

void suite_mockbroker_init_pid(void);
void suite_mockbroker_init_pid(void) {
    tu_suite("mockbroker_init_pid");
    tu_test("test_every_version_answers_and_idempotent_calls_get_new_ids",
            test_every_version_answers_and_idempotent_calls_get_new_ids);
    tu_test("test_transactional_id_bumps_the_epoch_and_fences_stale_callers",
            test_transactional_id_bumps_the_epoch_and_fences_stale_callers);
    tu_test("test_producer_state_follows_epochs", test_producer_state_follows_epochs);
}
