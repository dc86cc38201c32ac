/* The numbering desk: Java's TransactionManager, idempotent part. The producer asks for a
 * producer id (InitProducerId); each partition's batches get consecutive sequence numbers
 * when drained, so the broker drops duplicates from retries and rejects gaps
 * (OUT_OF_ORDER_SEQUENCE_NUMBER). Retries of a partition go again in sequence order, only
 * when nothing of that partition is in flight (see kp_accum_drain), which keeps order with up
 * to 5 requests in flight. When a batch with a sequence fails for good, the numbering is
 * broken: once nothing is in flight, the producer gets a new id and numbers from 0 again.
 * @locality sender thread */
#include "producer/kp_int.h"

#include <string.h>

bool kp_idem_has_pid(const struct kp_producer *p) {
    return atomic_load(&p->producer_id) >= 0 && !p->pid_reset_needed;
}

static void on_init_pid(struct kp_producer *p, kp_req *req, kw_err err, kw_rbuf *body,
                        int64_t now) {
    (void)now;
    p->pid_request_in_flight = false;
    kw_init_pid_resp resp;
    memset(&resp, 0, sizeof resp);
    if (err == KW_ERR_NONE) {
        kw_arena_reset(p->arena);
        err = kw_init_pid_resp_decode(body, req->api_version, p->arena, &resp);
        if (err != KW_ERR_NONE)
            kp_log(p, 4, "bad InitProducerId response: %s", body->errmsg);
        else
            err = (kw_err)resp.error_code;
    }
    if (err == KW_ERR_NONE) {
        atomic_store(&p->producer_epoch, resp.producer_epoch);
        atomic_store(&p->producer_id, resp.producer_id);
        kp_log(p, 7, "producer id %lld epoch %d", (long long)resp.producer_id,
               (int)resp.producer_epoch);
    } else {
        kp_log(p, 4, "InitProducerId failed: %s", kw_err_name(err));
    }
    if (kp_has_sink(p)) {
        kp_event ev = kp_ev(p, KP_EV_PRODUCER_ID);
        ev.node_id = req->node_id;
        ev.correlation_id = req->correlation_id;
        ev.producer_id = err == KW_ERR_NONE ? resp.producer_id : -1;
        ev.producer_epoch = err == KW_ERR_NONE ? resp.producer_epoch : -1;
        ev.err = err;
        kp_emit(p, &ev);
    }
}

/* Starts numbering again: every partition from 0, under a new producer id. */
static void reset_sequences(struct kp_producer *p) {
    pthread_rwlock_rdlock(&p->accum.map_lock);
    for (int32_t i = 0; i < p->accum.n_all; i++) {
        kp_tp *tp = p->accum.all[i];
        atomic_store(&tp->next_seq, 0);
        tp->last_acked_seq = -1;
        /* Queued batches keep their old sequence only to stay in order; forget their
         * producer id so drain numbers them again (even if the broker hands out the same id). */
        pthread_mutex_lock(&tp->lock);
        for (kp_batch *b = tp->head; b; b = b->next)
            b->producer_id = KW_NO_PRODUCER_ID;
        pthread_mutex_unlock(&tp->lock);
    }
    pthread_rwlock_unlock(&p->accum.map_lock);
}

void kp_idem_maybe_init_pid(struct kp_producer *p, int64_t now_ms) {
    if (p->pid_reset_needed) {
        if (kp_net_in_flight(&p->net) > 0)
            return; /* wait until every answer is in */
        kp_log(p, 6, "idempotence: sequence state lost; getting a new producer id");
        atomic_store(&p->producer_id, -1);
        reset_sequences(p);
        p->pid_reset_needed = false;
    }
    if (atomic_load(&p->producer_id) >= 0 || p->pid_request_in_flight)
        return;
    if (now_ms - p->pid_last_attempt_ms < p->conf.retry_backoff_ms)
        return;
    kp_conn *c = kp_net_least_loaded(&p->net, now_ms);
    if (!c)
        return;
    int16_t v = kp_net_version(c, KW_API_INIT_PRODUCER_ID);
    p->pid_last_attempt_ms = now_ms;
    if (v < 0) {
        kp_log(p, 3, "broker %d does not support InitProducerId: idempotence impossible",
               (int)c->node_id);
        return;
    }
    kw_init_pid_req req = {KW_SLICE_NULL, -1, -1, -1};
    kw_wbuf_reset(&p->sbuf);
    kw_init_pid_req_encode(&p->sbuf, v, &req);
    if (kp_net_send(&p->net, c, KW_API_INIT_PRODUCER_ID, v, &p->sbuf, true, on_init_pid, NULL,
                    now_ms))
        p->pid_request_in_flight = true;
}

bool kp_idem_retriable(struct kp_producer *p, kp_batch *b, kw_err err) {
    if (err == KW_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER) {
        /* A gap the broker saw because an earlier batch of ours failed: retry in order. If
         * this batch is the very next one after the last acknowledged, the broker lost state
         * we cannot repair: not retriable (Java: unresolved sequence). */
        return b->base_seq != b->tp->last_acked_seq + 1;
    }
    if (err == KW_ERR_UNKNOWN_PRODUCER_ID) {
        /* The broker forgot this producer (log truncated or state expired): as Java since
         * KIP-360, start over under a new producer id and send the batch again. */
        p->pid_reset_needed = true;
        return true;
    }
    if (err == KW_ERR_INVALID_PRODUCER_EPOCH || err == KW_ERR_INVALID_PRODUCER_ID_MAPPING ||
        err == KW_ERR_PRODUCER_FENCED)
        return false;
    return kw_err_is_retriable(err);
}

void kp_idem_on_success(struct kp_producer *p, kp_batch *b) {
    if (!p->conf.enable_idempotence || b->base_seq < 0)
        return;
    int32_t last = b->base_seq + b->n_thunks - 1;
    if (last > b->tp->last_acked_seq)
        b->tp->last_acked_seq = last;
}
