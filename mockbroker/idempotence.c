/* Idempotence: the depot's register of senders. Per (producer id, partition) the broker keeps
 * the producer's epoch and the sequence ranges and offsets of its last 5 batches, as Kafka's
 * ProducerStateManager / ProducerAppendInfo (storage/.../ProducerAppendInfo.java):
 * - a repeat of one of those 5 batches (same epoch) is answered with its original offset and
 *   nothing is appended (ProducerStateEntry.findDuplicateBatch);
 * - an older epoch is fenced: INVALID_PRODUCER_EPOCH (checkProducerEpoch; Kafka answers it
 *   instead of PRODUCER_FENCED since 2.7, at every Produce version);
 * - a newer epoch starts the producer over: its first sequence must be 0, else
 *   OUT_OF_ORDER_SEQUENCE_NUMBER (checkSequence, "Invalid sequence number for new epoch");
 * - in the same epoch a batch must follow the last one (lastSeq + 1, wrapping at INT32_MAX),
 *   else OUT_OF_ORDER_SEQUENCE_NUMBER;
 * - a producer the partition has no state for is accepted at any sequence when its id was not
 *   handed out by this cluster (state lost to a restart of `courier broker`), as Kafka does
 *   when there is no current epoch ("possibly because all producer records have been deleted
 *   due to retention"). A producer id this cluster handed out and this partition has not seen
 *   must start at 0: it cannot have lost state here, and Kafka's leniency would let a later
 *   batch in ahead of a first batch refused for a transient error (NOT_ENOUGH_REPLICAS),
 *   stranding the first one until delivery.timeout.ms.
 *
 * InitProducerId (mb_init_pid) follows Kafka's TransactionCoordinator.handleInitProducerId:
 * without a transactional id every call gets a new producer id at epoch 0 — Kafka ignores the
 * v3+ producer id/epoch then, which is why Java's idempotent producer bumps its epoch itself
 * (TransactionManager.bumpIdempotentProducerEpoch) instead of asking; with a transactional
 * id the broker keeps (id, epoch) per transactional id and bumps the epoch on every call,
 * fencing a caller whose expected id/epoch is stale (TransactionMetadata.
 * prepareIncrementProducerEpoch).
 *
 * @locks c->lock MUST be held (producer state lives in the partition, transactional ids in the
 * cluster). */
#include "mockbroker/mb_int.h"

#include <stdlib.h>
#include <string.h>

static mb_pid_entry *pid_find(const mb_pid_state *s, int64_t pid) {
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].producer_id == pid)
            return &s->v[i];
    return NULL;
}

kw_err mb_pid_check(const mb_pid_state *s, const mb_batch *b, bool issued_here,
                    int64_t *dup_offset) {
    int16_t epoch = b->producer_epoch;
    int32_t first_seq = b->base_sequence, last_seq = mb_seq_add(first_seq, b->count - 1);
    *dup_offset = -1;
    const mb_pid_entry *e = pid_find(s, b->producer_id);
    if (!e) /* no state: any sequence, unless the id is ours and new here */
        return !issued_here || first_seq == 0 ? KW_ERR_NONE : KW_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    if (epoch < e->epoch)
        return KW_ERR_INVALID_PRODUCER_EPOCH;
    if (epoch > e->epoch)
        return first_seq == 0 ? KW_ERR_NONE : KW_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    for (int i = 0; i < e->n; i++) {
        if (e->b[i].first_seq == first_seq && e->b[i].last_seq == last_seq) {
            *dup_offset = e->b[i].base_offset;
            return KW_ERR_NONE;
        }
    }
    if (e->n > 0 && first_seq != mb_seq_add(e->b[e->n - 1].last_seq, 1))
        return KW_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    return KW_ERR_NONE;
}

bool mb_pid_record(mb_pid_state *s, const mb_batch *b) {
    if (b->producer_id < 0)
        return true;
    mb_pid_entry *e = pid_find(s, b->producer_id);
    if (!e) {
        if (s->n == s->cap) {
            size_t ncap = s->cap ? s->cap * 2 : 8;
            mb_pid_entry *nv = realloc(s->v, ncap * sizeof *nv);
            if (!nv)
                return false;
            s->v = nv;
            s->cap = ncap;
        }
        e = &s->v[s->n++];
        memset(e, 0, sizeof *e);
        e->producer_id = b->producer_id;
        e->epoch = b->producer_epoch;
    }
    if (b->producer_epoch != e->epoch) {
        e->epoch = b->producer_epoch;
        e->n = 0;
    }
    if (e->n == MB_PID_BATCHES) {
        memmove(&e->b[0], &e->b[1], (MB_PID_BATCHES - 1) * sizeof e->b[0]);
        e->n--;
    }
    e->b[e->n++] = (mb_pid_batch){b->base_sequence, mb_seq_add(b->base_sequence, b->count - 1),
                                  b->base_offset, b->last_offset};
    return true;
}

void mb_pid_rebuild(mb_pid_state *s, const mb_log *l) {
    s->n = 0;
    for (size_t i = 0; i < l->n; i++)
        mb_pid_record(s, l->v[i]);
}

void mb_pid_free(mb_pid_state *s) {
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* ---- InitProducerId ------------------------------------------------------------------------ */

/* Kafka's TransactionMetadata.isEpochExhausted: the epoch cannot be bumped again. */
static bool epoch_exhausted(int16_t epoch) {
    return epoch >= INT16_MAX - 1;
}

static mb_txn_entry *txn_find(mb_txn_state *s, kw_slice id) {
    for (size_t i = 0; i < s->n; i++)
        if ((int32_t)strlen(s->v[i].id) == id.len && memcmp(s->v[i].id, id.p, (size_t)id.len) == 0)
            return &s->v[i];
    return NULL;
}

static mb_txn_entry *txn_add(mb_txn_state *s, kw_slice id) {
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 8;
        mb_txn_entry *nv = realloc(s->v, ncap * sizeof *nv);
        if (!nv)
            return NULL;
        s->v = nv;
        s->cap = ncap;
    }
    char *copy = malloc((size_t)id.len + 1);
    if (!copy)
        return NULL;
    memcpy(copy, id.p, (size_t)id.len);
    copy[id.len] = '\0';
    mb_txn_entry *e = &s->v[s->n++];
    *e = (mb_txn_entry){.id = copy, .producer_id = -1, .epoch = -1, .last_epoch = -1};
    return e;
}

kw_err mb_init_pid(mb_cluster *c, const kw_init_pid_req *req, int16_t version, int64_t *pid,
                   int16_t *epoch) {
    *pid = -1;
    *epoch = -1;
    /* KafkaApis.handleInitProducerIdRequest: id and epoch come together or not at all. */
    if ((req->producer_id == -1) != (req->producer_epoch == -1))
        return KW_ERR_INVALID_REQUEST;
    bool expected = req->producer_id != -1;
    if (req->transactional_id.len < 0) {
        *pid = c->next_pid++; /* "always blindly accept the request" */
        *epoch = 0;
        return KW_ERR_NONE;
    }
    if (req->transactional_id.len == 0)
        return KW_ERR_INVALID_REQUEST;
    mb_txn_entry *e = txn_find(&c->txns, req->transactional_id);
    if (!e && !(e = txn_add(&c->txns, req->transactional_id)))
        return KW_ERR_UNKNOWN_SERVER_ERROR;
    kw_err err = KW_ERR_NONE;
    if (e->producer_id < 0) {
        e->producer_id = c->next_pid++; /* a new transactional id: epoch -1 + 1 = 0 */
        e->epoch = 0;
    } else if (expected && req->producer_id != e->producer_id) {
        err = KW_ERR_PRODUCER_FENCED; /* isValidProducerId */
    } else if (epoch_exhausted(e->epoch) && (!expected || req->producer_epoch == e->epoch)) {
        e->producer_id = c->next_pid++; /* prepareProducerIdRotation */
        e->last_epoch = -1;
        e->epoch = 0;
    } else if (!expected || req->producer_epoch == e->epoch) {
        e->last_epoch = expected ? e->epoch : -1; /* a caller without KIP-360 fences the old */
        e->epoch++;
    } else if (req->producer_epoch == e->last_epoch) {
        /* a retry of a bump whose answer was lost: the current epoch, not bumped again */
    } else {
        err = KW_ERR_PRODUCER_FENCED;
    }
    if (err == KW_ERR_PRODUCER_FENCED && version < 4)
        return KW_ERR_INVALID_PRODUCER_EPOCH; /* clients before v4 do not know PRODUCER_FENCED */
    if (err == KW_ERR_NONE) {
        *pid = e->producer_id;
        *epoch = e->epoch;
    }
    return err;
}

void mb_txn_free(mb_txn_state *s) {
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].id);
    free(s->v);
    memset(s, 0, sizeof *s);
}
