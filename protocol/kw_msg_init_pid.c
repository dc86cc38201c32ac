/* InitProducerId 0–5: the sender asks for a producer id and epoch — the stamp an idempotent
 * producer puts on every parcel so a depot can spot duplicates.
 *
 * Fields by version (apache/kafka clients/src/main/resources/common/message/
 * InitProducerId{Request,Response}.json):
 *   request:  transactional_id (nullable), transaction_timeout_ms,
 *             producer_id (v3+, default -1), producer_epoch (v3+, default -1)
 *   response: throttle_time_ms, error_code, producer_id, producer_epoch
 * v1 is v0 (only the throttling behaviour changed). v2 is the first flexible version: the
 * transactional id becomes a compact nullable string and each body ends with a tagged-field
 * section (request header v2, response header v1). v3 adds the producer's current id and
 * epoch, so a transactional producer can ask the coordinator to bump its epoch (KIP-360).
 * v4 only says the client understands PRODUCER_FENCED (older clients get
 * INVALID_PRODUCER_EPOCH instead); v5 only says it understands TRANSACTION_ABORTABLE
 * (KIP-890). The layouts of v3, v4 and v5 are identical.
 */
#include "protocol/kw.h"
#include "protocol/kw_msg_util.h"

#include <assert.h>

#define INIT_PID_MIN 0
#define INIT_PID_MAX 5
#define INIT_PID_FLEXIBLE 2   /* "flexibleVersions": "2+" */
#define INIT_PID_EXPECTED 3   /* ProducerId/ProducerEpoch: "versions": "3+" */

void kw_init_pid_req_encode(kw_wbuf *wb, int16_t version, const kw_init_pid_req *m) {
    assert(version >= INIT_PID_MIN && version <= INIT_PID_MAX);
    bool flex = version >= INIT_PID_FLEXIBLE;
    if (flex)
        kw_write_compact_string(wb, m->transactional_id);
    else
        kw_write_nullable_string(wb, m->transactional_id);
    kw_write_i32(wb, m->transaction_timeout_ms);
    if (version >= INIT_PID_EXPECTED) {
        kw_write_i64(wb, m->producer_id);
        kw_write_i16(wb, m->producer_epoch);
    }
    if (flex)
        kw_write_empty_tagged_fields(wb);
}

kw_err kw_init_pid_req_decode(kw_rbuf *rb, int16_t version, kw_arena *a, kw_init_pid_req *m) {
    (void)a;
    *m = (kw_init_pid_req){.transactional_id = KW_SLICE_NULL, .producer_id = -1,
                           .producer_epoch = -1};
    if (rb->err)
        return rb->err;
    if (!kw_msg_version_ok(rb, "InitProducerId request", version, INIT_PID_MIN, INIT_PID_MAX))
        return rb->err;
    bool flex = version >= INIT_PID_FLEXIBLE;
    m->transactional_id =
        flex ? kw_read_compact_string(rb, "InitProducerId.transactional_id")
             : kw_read_nullable_string(rb, "InitProducerId.transactional_id");
    m->transaction_timeout_ms = kw_read_i32(rb, "InitProducerId.transaction_timeout_ms");
    if (version >= INIT_PID_EXPECTED) {
        m->producer_id = kw_read_i64(rb, "InitProducerId.producer_id");
        m->producer_epoch = kw_read_i16(rb, "InitProducerId.producer_epoch");
    }
    if (flex)
        kw_read_tagged_fields(rb, "InitProducerId._tagged_fields");
    kw_read_expect_end(rb, "InitProducerId request");
    return rb->err;
}

void kw_init_pid_resp_encode(kw_wbuf *wb, int16_t version, const kw_init_pid_resp *m) {
    assert(version >= INIT_PID_MIN && version <= INIT_PID_MAX);
    kw_write_i32(wb, m->throttle_time_ms);
    kw_write_i16(wb, m->error_code);
    kw_write_i64(wb, m->producer_id);
    kw_write_i16(wb, m->producer_epoch);
    if (version >= INIT_PID_FLEXIBLE)
        kw_write_empty_tagged_fields(wb);
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
    if (version >= INIT_PID_FLEXIBLE)
        kw_read_tagged_fields(rb, "InitProducerId._tagged_fields");
    kw_read_expect_end(rb, "InitProducerId response");
    return rb->err;
}
