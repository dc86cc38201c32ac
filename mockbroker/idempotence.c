/* Idempotence: the depot's register of senders. Per (producer id, partition) the broker keeps
 * the sequence ranges and offsets of the last 5 batches, as Kafka's ProducerStateManager:
 * a repeat of one of them is answered with its original offset (nothing appended), a gap in
 * the sequence is OUT_OF_ORDER_SEQUENCE_NUMBER, an older epoch INVALID_PRODUCER_EPOCH.
 *
 * @locks c->lock MUST be held (the state lives in the partition). */
#include "mockbroker/mb_int.h"

#include <stdlib.h>
#include <string.h>

static mb_pid_entry *pid_find(const mb_pid_state *s, int64_t pid) {
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].producer_id == pid)
            return &s->v[i];
    return NULL;
}

kw_err mb_pid_check(const mb_pid_state *s, const mb_batch *b, int64_t *dup_offset) {
    int16_t epoch = b->producer_epoch;
    int32_t first_seq = b->base_sequence, last_seq = mb_seq_add(first_seq, b->count - 1);
    *dup_offset = -1;
    const mb_pid_entry *e = pid_find(s, b->producer_id);
    if (!e || e->n == 0) {
        /* A producer (or epoch) this partition has never seen must start at 0. */
        if (e && epoch < e->epoch)
            return KW_ERR_INVALID_PRODUCER_EPOCH;
        return first_seq == 0 ? KW_ERR_NONE : KW_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    }
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
    if (first_seq != mb_seq_add(e->b[e->n - 1].last_seq, 1))
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
