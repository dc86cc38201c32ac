/* InitProducerId 0–1: the sender asks for a producer id and epoch — the stamp an idempotent
 * producer puts on every parcel so a depot can spot duplicates.
 *
 * Fields by version (apache/kafka InitProducerId{Request,Response}.json; flexible from v2):
 *   request:  transactional_id (nullable), transaction_timeout_ms
 *   response: throttle_time_ms, error_code, producer_id, producer_epoch
 * v1 is the same as v0 (only the throttling behaviour changed).
 */
#include "protocol/kw.h"
#include "protocol/kw_msg_util.h"

#include <assert.h>

#define INIT_PID_MIN 0
#define INIT_PID_MAX 1

void kw_init_pid_req_encode(kw_wbuf *wb, int16_t version, const kw_init_pid_req *m) {
    assert(version >= INIT_PID_MIN && version <= INIT_PID_MAX);
    (void)version;
    kw_write_nullable_string(wb, m->transactional_id);
    kw_write_i32(wb, m->transaction_timeout_ms);
}

kw_err kw_init_pid_req_decode(kw_rbuf *rb, int16_t version, kw_arena *a, kw_init_pid_req *m) {
    (void)a;
    *m = (kw_init_pid_req){.transactional_id = KW_SLICE_NULL};
    if (rb->err)
        return rb->err;
    if (!kw_msg_version_ok(rb, "InitProducerId request", version, INIT_PID_MIN, INIT_PID_MAX))
        return rb->err;
    m->transactional_id = kw_read_nullable_string(rb, "InitProducerId.transactional_id");
    m->transaction_timeout_ms = kw_read_i32(rb, "InitProducerId.transaction_timeout_ms");
    kw_read_expect_end(rb, "InitProducerId request");
    return rb->err;
}

void kw_init_pid_resp_encode(kw_wbuf *wb, int16_t version, const kw_init_pid_resp *m) {
    assert(version >= INIT_PID_MIN && version <= INIT_PID_MAX);
    (void)version;
    kw_write_i32(wb, m->throttle_time_ms);
    kw_write_i16(wb, m->error_code);
    kw_write_i64(wb, m->producer_id);
    kw_write_i16(wb, m->producer_epoch);
}

kw_err kw_init_pid_resp_decode(kw_rbuf *rb, int16_t version, kw_arena *a, kw_init_pid_resp *m) {
    (void)a;
    *m = (kw_init_pid_resp){.producer_id = -1, .producer_epoch = -1};
    if (rb->err)
        return rb->err;
    if (!kw_msg_version_ok(rb, "InitProducerId response", version, INIT_PID_MIN, INIT_PID_MAX))
        return rb->err;
    m->throttle_time_ms = kw_read_i32(rb, "InitProducerId.throttle_time_ms");
    m->error_code = kw_read_i16(rb, "InitProducerId.error_code");
    m->producer_id = kw_read_i64(rb, "InitProducerId.producer_id");
    m->producer_epoch = kw_read_i16(rb, "InitProducerId.producer_epoch");
    kw_read_expect_end(rb, "InitProducerId response");
    return rb->err;
}
