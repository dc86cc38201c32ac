/* The numbering desk: Java's TransactionManager, idempotent part (Kafka 4.x, KIP-360). The
 * producer asks for a producer id (InitProducerId); each partition's batches get consecutive
 * sequence numbers when drained, so the broker drops duplicates from retries and rejects gaps
 * (OUT_OF_ORDER_SEQUENCE_NUMBER).
 *
 * When a sequence is lost — the broker saw a gap right after the last acknowledged batch, it
 * forgot the producer (UNKNOWN_PRODUCER_ID), a batch failed for good, or a batch expired
 * after it was sent and nothing later settled its fate — the partition asks for an epoch
 * bump. As Java's bumpIdempotentProducerEpoch, the idempotent producer bumps the epoch itself
 * (the broker accepts a newer epoch that starts at sequence 0: ProducerAppendInfo.
 * checkSequence), with the same producer id, and renumbers from 0 the batches of that
 * partition that still hold a sequence (startSequencesAtBeginning): they are retried under the
 * new epoch, so batches whose answers were lost are recognised, nothing is failed that Java
 * retries, and no record is written twice under two producer ids. Other partitions move to the
 * new epoch once their in-flight batches are done (maybeUpdateProducerIdAndEpoch). Kafka's
 * broker would answer an InitProducerId with no transactional id with a brand-new producer id
 * whatever id and epoch it carries (TransactionCoordinator.handleInitProducerId), which is why
 * Java does not ask. Against a broker older than KIP-360 (InitProducerId below v3), and when
 * the epoch is exhausted, the producer takes a new producer id instead, once nothing is in
 * flight.
 * @locality sender thread */
#include "producer/kp_int.h"

#include <string.h>

bool kp_idem_has_pid(const struct kp_producer *p) {
    return atomic_load(&p->producer_id) >= 0 && !p->pid_reset_needed;
}

static bool has_seq(const kp_batch *b) {
    return b->base_seq >= 0 && b->producer_id >= 0;
}

static int32_t last_seq(const kp_batch *b) {
    return b->base_seq + b->n_thunks - 1;
}

/* ---- the partition's sequenced batches, lowest sequence first ------------------------------ */

static void sq_link_before(kp_tp *tp, kp_batch *at, kp_batch *b) {
    b->sq_next = at;
    b->sq_prev = at ? at->sq_prev : tp->sq_tail;
    if (b->sq_prev)
        b->sq_prev->sq_next = b;
    else
        tp->sq_head = b;
    if (at)
        at->sq_prev = b;
    else
        tp->sq_tail = b;
    b->sq_linked = true;
}

static void sq_insert(kp_tp *tp, kp_batch *b) {
    kp_batch *at = tp->sq_tail;
    while (at && at->base_seq > b->base_seq)
        at = at->sq_prev;
    sq_link_before(tp, at ? at->sq_next : tp->sq_head, b);
}

void kp_idem_forget(kp_batch *b) {
    if (!b->sq_linked)
        return;
    kp_tp *tp = b->tp;
    if (b->sq_prev)
        b->sq_prev->sq_next = b->sq_next;
    else
        tp->sq_head = b->sq_next;
    if (b->sq_next)
        b->sq_next->sq_prev = b->sq_prev;
    else
        tp->sq_tail = b->sq_prev;
    b->sq_next = b->sq_prev = NULL;
    b->sq_linked = false;
}

void kp_idem_replace(kp_batch *parent, kp_batch **pieces, int32_t n) {
    if (!parent->sq_linked)
        return;
    for (int32_t i = 0; i < n; i++)
        if (has_seq(pieces[i]))
            sq_link_before(parent->tp, parent, pieces[i]);
    kp_idem_forget(parent);
}

/* ---- drain ----------------------------------------------------------------------------------- */

bool kp_idem_may_drain(const kp_tp *tp, const kp_batch *b, int64_t pid, int16_t epoch) {
    if (!has_seq(b)) {
        /* A new batch waits while batches of an older epoch are out (a batch at the new epoch
         * and sequence 0 could overtake them) or while a sequence is unresolved. */
        if (tp->sq_head && (tp->seq_pid != pid || tp->seq_epoch != epoch))
            return false;
        return tp->unresolved_next < 0;
    }
    /* A retry goes again only when nothing of its partition is in flight, so retries keep
     * their order (Java lets only the lowest in-flight sequence go). */
    return atomic_load(&tp->in_flight) == 0;
}

void kp_idem_stamp(kp_tp *tp, kp_batch *b, int64_t pid, int16_t epoch) {
    if (has_seq(b)) {
        kp_batch_close(b, b->producer_id, b->producer_epoch, b->base_seq);
        return;
    }
    if ((tp->seq_pid != pid || tp->seq_epoch != epoch) && !tp->sq_head) {
        /* maybeUpdateProducerIdAndEpoch: nothing of the old epoch is out, start over at 0 */
        tp->seq_pid = pid;
        tp->seq_epoch = epoch;
        atomic_store(&tp->next_seq, 0);
        tp->last_acked_seq = -1;
    }
    int32_t seq = atomic_load(&tp->next_seq);
    atomic_store(&tp->next_seq, seq + b->n_thunks);
    kp_batch_close(b, pid, epoch, seq);
    b->seq_reset = false;
    sq_insert(tp, b);
}

/* ---- outcomes -------------------------------------------------------------------------------- */

static bool is_next_sequence(const kp_tp *tp, int32_t seq) {
    return seq - tp->last_acked_seq == 1;
}

/* Java's requestEpochBumpForPartition. */
static void request_bump(struct kp_producer *p, kp_tp *tp, kw_err why) {
    if (!p->epoch_bump_required)
        p->bump_reason = why;
    p->epoch_bump_required = true;
    tp->rewrite_seq = true;
}

bool kp_idem_retriable(struct kp_producer *p, kp_batch *b, kw_err err, int64_t log_start_offset) {
    kp_tp *tp = b->tp;
    if (err == KW_ERR_UNKNOWN_PRODUCER_ID) {
        /* The broker lost this producer's state. Without its log start offset, or for a batch
         * already renumbered by a bump, just retry; otherwise bump the epoch and retry. */
        if (log_start_offset == -1 || b->seq_reset)
            return true;
        request_bump(p, tp, err);
        return true;
    }
    if (err == KW_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER) {
        bool unresolved = tp->unresolved_next >= 0;
        /* Not the batch right after the last acknowledged one: an earlier batch is still on
         * its way or being retried; retry in order without bumping. */
        if (!unresolved && (b->seq_reset || !is_next_sequence(tp, b->base_seq)))
            return true;
        /* A real gap right after the last acknowledged batch: the epoch is bumped and the
         * batch retried under it. While a sequence is unresolved, only the batch right after
         * it bumps; others wait to see how it resolves. */
        if (!unresolved || b->base_seq == tp->unresolved_next)
            request_bump(p, tp, err);
        return true;
    }
    return kw_err_is_retriable(err);
}

void kp_idem_on_success(struct kp_producer *p, kp_batch *b) {
    if (!p->conf.enable_idempotence || b->base_seq < 0)
        return;
    kp_tp *tp = b->tp;
    if (b->producer_id == tp->seq_pid && b->producer_epoch == tp->seq_epoch &&
        last_seq(b) > tp->last_acked_seq)
        tp->last_acked_seq = last_seq(b);
    kp_idem_forget(b);
}

void kp_idem_on_failed(struct kp_producer *p, kp_batch *b, kw_err err, bool adjust) {
    bool tracked = b->sq_linked;
    kp_idem_forget(b);
    if (!p->conf.enable_idempotence || !tracked)
        return;
    /* Its sequence range is lost: renumber the partition under a bumped epoch. (Java resets
     * the partition's sequences after UNKNOWN_PRODUCER_ID; a bump is as good, the broker has
     * no state for us.) */
    if (err == KW_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER || err == KW_ERR_UNKNOWN_PRODUCER_ID || adjust)
        request_bump(p, b->tp, err);
}

void kp_idem_on_expired(struct kp_producer *p, kp_batch *b) {
    bool tracked = b->sq_linked;
    kp_idem_forget(b);
    if (!p->conf.enable_idempotence || !tracked || !b->retry)
        return;
    kp_tp *tp = b->tp;
    int32_t next = last_seq(b) + 1;
    if (next > tp->unresolved_next)
        tp->unresolved_next = next;
}

/* Java's maybeResolveSequences: a partition with an unresolved sequence and nothing left out
 * is resolved when the batches after the expired one were acknowledged, else bumped. */
static void resolve_sequences(struct kp_producer *p) {
    pthread_rwlock_rdlock(&p->accum.map_lock);
    for (int32_t i = 0; i < p->accum.n_all; i++) {
        kp_tp *tp = p->accum.all[i];
        if (tp->unresolved_next < 0 || tp->sq_head)
            continue;
        if (!is_next_sequence(tp, atomic_load(&tp->next_seq))) {
            kp_log(p, 6, "idempotence: %s-%d: sequences after %d unresolved; bumping the epoch",
                   tp->topic, (int)tp->partition, (int)tp->last_acked_seq);
            request_bump(p, tp, KW_ERR__DELIVERY_TIMEOUT);
        }
        tp->unresolved_next = -1;
    }
    pthread_rwlock_unlock(&p->accum.map_lock);
}

/* startSequencesAtBeginning: the partition's sequenced batches get sequences from 0 under
 * (pid, epoch), in their order; their headers are rewritten (tp->lock: some sit in the
 * deque). */
static void start_sequences_at_beginning(kp_tp *tp, int64_t pid, int16_t epoch) {
    int32_t seq = 0;
    pthread_mutex_lock(&tp->lock);
    for (kp_batch *b = tp->sq_head; b; b = b->sq_next) {
        kp_batch_close(b, pid, epoch, seq);
        b->seq_reset = true;
        seq += b->n_thunks;
    }
    pthread_mutex_unlock(&tp->lock);
    tp->seq_pid = pid;
    tp->seq_epoch = epoch;
    atomic_store(&tp->next_seq, seq);
    tp->last_acked_seq = -1;
    tp->unresolved_next = -1;
}

/* Java's bumpIdempotentProducerEpoch, run by the sender before it drains. */
static void bump_epoch(struct kp_producer *p) {
    if (!p->epoch_bump_required)
        return;
    p->epoch_bump_required = false;
    int64_t pid = atomic_load(&p->producer_id);
    int16_t epoch = atomic_load(&p->producer_epoch);
    if (pid < 0)
        return; /* a new id is on its way: every partition starts over anyway */
    if (epoch == INT16_MAX || p->pid_api_version < 3) {
        /* Epoch exhausted, or a broker from before KIP-360: a new producer id. */
        kp_log(p, 6, "idempotence: sequence lost; getting a new producer id (%s)",
               epoch == INT16_MAX ? "epoch exhausted" : "broker has no InitProducerId v3");
        p->pid_reset_needed = true;
        return;
    }
    int16_t bumped = (int16_t)(epoch + 1);
    atomic_store(&p->producer_epoch, bumped);
    const kp_tp *first = NULL;
    pthread_rwlock_rdlock(&p->accum.map_lock);
    for (int32_t i = 0; i < p->accum.n_all; i++) {
        kp_tp *tp = p->accum.all[i];
        if (!tp->rewrite_seq)
            continue;
        tp->rewrite_seq = false;
        start_sequences_at_beginning(tp, pid, bumped);
        if (!first)
            first = tp;
    }
    pthread_rwlock_unlock(&p->accum.map_lock);
    kp_log(p, 6, "idempotence: %s; producer id %lld bumped to epoch %d",
           kw_err_name(p->bump_reason), (long long)pid, (int)bumped);
    if (kp_has_sink(p)) {
        kp_event ev = kp_ev(p, KP_EV_PRODUCER_EPOCH_BUMPED);
        ev.producer_id = pid;
        ev.producer_epoch = bumped;
        ev.err = p->bump_reason;
        if (first) {
            ev.topic = first->topic;
            ev.partition = first->partition;
        }
        kp_emit(p, &ev);
    }
}

/* ---- the producer id ------------------------------------------------------------------------- */

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
        p->pid_api_version = req->api_version;
        atomic_store(&p->producer_epoch, resp.producer_epoch);
        atomic_store(&p->producer_id, resp.producer_id);
        kp_log(p, 7, "producer id %lld epoch %d (InitProducerId v%d)", (long long)resp.producer_id,
               (int)resp.producer_epoch, (int)req->api_version);
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

/* Starts numbering again under a new producer id: every partition from 0, its sequenced
 * batches (all back in the deques: nothing is in flight) numbered again when drained. */
static void reset_sequences(struct kp_producer *p) {
    pthread_rwlock_rdlock(&p->accum.map_lock);
    for (int32_t i = 0; i < p->accum.n_all; i++) {
        kp_tp *tp = p->accum.all[i];
        pthread_mutex_lock(&tp->lock);
        while (tp->sq_head) {
            kp_batch *b = tp->sq_head;
            kp_idem_forget(b);
            b->producer_id = KW_NO_PRODUCER_ID;
        }
        /* Queued batches keep their old sequence only to stay in order; forget their
         * producer id so drain numbers them again (even if the broker hands out the same id). */
        for (kp_batch *b = tp->head; b; b = b->next)
            b->producer_id = KW_NO_PRODUCER_ID;
        pthread_mutex_unlock(&tp->lock);
        atomic_store(&tp->next_seq, 0);
        tp->last_acked_seq = -1;
        tp->seq_pid = KW_NO_PRODUCER_ID;
        tp->seq_epoch = -1;
        tp->unresolved_next = -1;
        tp->rewrite_seq = false;
    }
    pthread_rwlock_unlock(&p->accum.map_lock);
}

void kp_idem_maybe_init_pid(struct kp_producer *p, int64_t now_ms) {
    resolve_sequences(p);
    bump_epoch(p);
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
    /* As Java's idempotent producer: no transactional id, timeout Integer.MAX_VALUE, and at
     * v3+ the id/epoch left at their defaults (-1): the broker would hand out a new id
     * whatever they say (TransactionCoordinator.handleInitProducerId). */
    kw_init_pid_req req = {KW_SLICE_NULL, INT32_MAX, KW_NO_PRODUCER_ID, -1};
    kw_wbuf_reset(&p->sbuf);
    kw_init_pid_req_encode(&p->sbuf, v, &req);
    if (kp_net_send(&p->net, c, KW_API_INIT_PRODUCER_ID, v, &p->sbuf, true, on_init_pid, NULL,
                    now_ms))
        p->pid_request_in_flight = true;
}
