/* A crate: Java's ProducerBatch. Records are written straight into RecordBatch v2 form in a
 * buffer from the pool (kw_batch_writer); each record's delivery callback rides along as a
 * thunk. The header (producer id, sequence, CRC) is written when the batch is drained. */
#include "producer/kp_int.h"

#include <stdlib.h>
#include <string.h>

kp_batch *kp_batch_new(struct kp_tp *tp, uint64_t id, uint8_t *buf, int32_t cap, int64_t now_ms) {
    kp_batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->id = id;
    b->tp = tp;
    b->buf = buf;
    b->cap = cap;
    kw_batch_writer_init(&b->w, buf, (size_t)cap);
    b->created_ms = now_ms;
    b->last_attempt_ms = now_ms;
    b->base_seq = -1;
    b->producer_id = KW_NO_PRODUCER_ID;
    b->producer_epoch = -1;
    return b;
}

/* Makes room for one more slot: the first allocation is sized from the first record, so a
 * batch of similar records needs no regrowth (the slots live outside buffer.memory). */
static kw_err reserve_slot(kp_batch *b, kw_slice key, kw_slice value, const kw_header *headers,
                           int32_t n_headers) {
    if (b->n_thunks < b->cap_thunks)
        return KW_ERR_NONE;
    int32_t nc;
    if (b->cap_thunks == 0) {
        size_t rec = kw_record_size(0, 0, key, value, headers, n_headers);
        size_t room = b->w.cap > KW_BATCH_HEADER_SIZE ? b->w.cap - KW_BATCH_HEADER_SIZE : 1;
        size_t est = room / (rec ? rec : 1) + 1;
        nc = est > 1 << 20 ? 1 << 20 : (int32_t)est;
    } else {
        nc = b->cap_thunks + b->cap_thunks / 2 + 8;
    }
    kp_thunk_slot *nt = realloc(b->thunks, (size_t)nc * sizeof *nt);
    if (!nt)
        return KW_ERR__NO_MEMORY;
    b->thunks = nt;
    b->cap_thunks = nc;
    return KW_ERR_NONE;
}

kw_err kp_batch_append_slot(kp_batch *b, int64_t timestamp_ms, kw_slice key, kw_slice value,
                            const kw_header *headers, int32_t n_headers,
                            const kp_thunk_slot *slot) {
    if (b->sealed)
        return KW_ERR__NO_SPACE;
    kw_err err = reserve_slot(b, key, value, headers, n_headers);
    if (err != KW_ERR_NONE)
        return err;
    err = kw_batch_writer_append(&b->w, timestamp_ms, key, value, headers, n_headers);
    if (err != KW_ERR_NONE)
        return err;
    b->thunks[b->n_thunks++] = *slot;
    return KW_ERR_NONE;
}

kw_err kp_batch_append(kp_batch *b, int64_t timestamp_ms, kw_slice key, kw_slice value,
                       const kw_header *headers, int32_t n_headers, const kp_thunk *thunk) {
    if (b->n_thunks == 0) {
        b->seq_base = thunk->seq;
        b->base_us = thunk->produced_us;
    }
    int64_t sd = (int64_t)(thunk->seq - b->seq_base);
    int64_t age = thunk->produced_us - b->base_us;
    kp_thunk_slot slot = {
        thunk->cb,
        thunk->opaque,
        sd > INT32_MAX || sd < INT32_MIN ? INT32_MIN : (int32_t)sd,
        age > INT32_MAX       ? INT32_MAX
        : age < INT32_MIN + 1 ? INT32_MIN + 1
                              : (int32_t)age,
    };
    return kp_batch_append_slot(b, timestamp_ms, key, value, headers, n_headers, &slot);
}

uint64_t kp_batch_record_seq(const kp_batch *b, int32_t i) {
    int32_t d = b->thunks[i].seq_delta;
    return d == INT32_MIN ? 0 : b->seq_base + (uint64_t)(int64_t)d;
}

int64_t kp_batch_record_produced_us(const kp_batch *b, int32_t i) {
    return b->base_us + b->thunks[i].age_us;
}

void kp_batch_close(kp_batch *b, int64_t pid, int16_t epoch, int32_t base_seq) {
    if (!b->closed) {
        b->sealed = true;
        b->size = kw_batch_writer_close(&b->w, pid, epoch, base_seq);
        b->closed = true;
    } else if (b->producer_id != pid || b->producer_epoch != epoch || b->base_seq != base_seq) {
        kw_batch_set_producer(b->buf, b->size, pid, epoch, base_seq);
    }
    b->producer_id = pid;
    b->producer_epoch = epoch;
    b->base_seq = base_seq;
}

bool kp_batch_is_full(const kp_batch *b) {
    /* Java's MemoryRecordsBuilder.isFull(): closed for appends, or no room left for even a
     * tiny record. */
    return b->sealed || b->w.len + 16 > b->w.cap;
}

void kp_batch_free(kp_batch *b) {
    if (!b)
        return;
    free(b->thunks);
    free(b);
}

int64_t kp_retry_backoff_ms(int32_t attempts, int64_t base_ms, int64_t max_ms, double rand01) {
    if (attempts < 1)
        attempts = 1;
    if (base_ms <= 0)
        return 0;
    double v = (double)base_ms;
    for (int32_t i = 1; i < attempts && v < (double)max_ms; i++)
        v *= 2;
    if (v > (double)max_ms)
        v = (double)max_ms;
    /* jitter: ±20%, as Java's ExponentialBackoff; capped at max only before jitter (as Java) */
    double j = 1.0 + 0.2 * (2.0 * rand01 - 1.0);
    v *= j;
    return (int64_t)(v + 0.5);
}
