/* A crate: Java's ProducerBatch. Records are written straight into RecordBatch v2 form in a
 * buffer from the pool (kw_batch_writer); each record's delivery callback rides along as a
 * thunk. The header (producer id, sequence, CRC) is written when the batch is drained.
 *
 * With compression.type set, the crate is vacuum-packed when it leaves: the records are
 * written raw, the batch counts as full when its *estimated* compressed size reaches
 * batch.size (Java's MemoryRecordsBuilder: header + raw bytes x the topic's estimated ratio x
 * 1.05), so a batch of compressible records holds more than batch.size raw bytes; the raw
 * records then spill from the pool buffer into heap memory that grows, outside buffer.memory,
 * as Java's ByteBufferOutputStream does. At drain the records are compressed into the wire
 * batch (header attributes = codec, CRC over the compressed bytes); the raw batch is kept
 * for the delivery reports and for a split, so neither has to decompress. */
#include "producer/kp_int.h"

#include <stdlib.h>
#include <string.h>

/* Java's MemoryRecordsBuilder.COMPRESSION_RATE_ESTIMATION_FACTOR. */
#define COMPRESSION_RATE_ESTIMATION_FACTOR 1.05f

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
    b->codec = KW_CODEC_NONE;
    b->est_ratio = 1.0f;
    return b;
}

void kp_batch_set_compression(kp_batch *b, kw_codec codec, int32_t level, float ratio) {
    b->codec = codec;
    b->level = level;
    b->est_ratio = ratio > 0 ? ratio : 1.0f;
}

/* Java's estimatedBytesWritten(): header + raw records, scaled by the estimate when
 * compressed. */
static size_t estimated_written(const kp_batch *b) {
    size_t raw = kw_batch_writer_records_size(&b->w);
    if (b->codec == KW_CODEC_NONE)
        return KW_BATCH_HEADER_SIZE + raw;
    return KW_BATCH_HEADER_SIZE +
           (size_t)((float)raw * b->est_ratio * COMPRESSION_RATE_ESTIMATION_FACTOR);
}

size_t kp_batch_estimated_size(const kp_batch *b) {
    return b->closed || b->precompressed ? b->size : estimated_written(b);
}

float kp_batch_observed_ratio(const kp_batch *b) {
    size_t raw = b->closed ? b->raw_size : b->w.len;
    if (!b->wire || raw <= KW_BATCH_HEADER_SIZE || b->size < KW_BATCH_HEADER_SIZE)
        return 1.0f;
    return (float)(b->size - KW_BATCH_HEADER_SIZE) / (float)(raw - KW_BATCH_HEADER_SIZE);
}

kw_err kp_batch_compress_records(const kp_batch *b, uint8_t **wire, size_t *size) {
    *wire = NULL;
    *size = 0;
    size_t cap =
        KW_BATCH_HEADER_SIZE + kw_compress_bound(b->codec, kw_batch_writer_records_size(&b->w));
    uint8_t *w = malloc(cap);
    if (!w)
        return KW_ERR__NO_MEMORY;
    size_t clen = 0;
    char err[128];
    kw_err e =
        kw_batch_writer_compress_records(&b->w, b->codec, b->level, w, cap, &clen, err, sizeof err);
    if (e != KW_ERR_NONE) {
        free(w);
        return e;
    }
    *wire = w;
    *size = KW_BATCH_HEADER_SIZE + clen;
    return KW_ERR_NONE;
}

/* A compressed batch whose estimate still has room but whose raw records fill their buffer:
 * moves them to a larger heap buffer (the pool buffer stays, for buffer.memory's count). */
static kw_err grow_raw(kp_batch *b, size_t need) {
    size_t nc = b->w.cap * 2;
    if (nc < b->w.len + need)
        nc = b->w.len + need;
    if (nc > INT32_MAX)
        return KW_ERR__NO_SPACE;
    uint8_t *np = malloc(nc);
    if (!np)
        return KW_ERR__NO_MEMORY;
    memcpy(np, b->w.buf, b->w.len);
    free(b->raw_heap);
    b->raw_heap = np;
    b->w.buf = np;
    b->w.cap = nc;
    return KW_ERR_NONE;
}

/* Java's MemoryRecordsBuilder.hasRoomFor() for a compressed batch: the first record always
 * fits; later ones when the estimated size plus the record's raw size stays within the
 * capacity. Grows the raw buffer when the estimate says yes but the bytes do not fit. */
static kw_err compressed_room(kp_batch *b, int64_t timestamp_ms, kw_slice key, kw_slice value,
                              const kw_header *headers, int32_t n_headers) {
    int64_t delta =
        b->w.count ? (int64_t)((uint64_t)timestamp_ms - (uint64_t)b->w.base_timestamp) : 0;
    size_t rec = kw_record_size(b->w.count, delta, key, value, headers, n_headers);
    if (b->w.count > 0 && (size_t)b->cap < estimated_written(b) + rec)
        return KW_ERR__NO_SPACE;
    if (b->w.len + rec > b->w.cap)
        return grow_raw(b, rec);
    return KW_ERR_NONE;
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
    kw_err err = KW_ERR_NONE;
    if (b->codec != KW_CODEC_NONE)
        err = compressed_room(b, timestamp_ms, key, value, headers, n_headers);
    if (err != KW_ERR_NONE)
        return err;
    err = reserve_slot(b, key, value, headers, n_headers);
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

/* Compresses the closed raw batch into b->wire; on failure (out of memory) the batch goes
 * uncompressed, which every broker accepts. */
static void compress_batch(kp_batch *b, int64_t pid, int16_t epoch, int32_t base_seq) {
    size_t cap =
        KW_BATCH_HEADER_SIZE + kw_compress_bound(b->codec, b->raw_size - KW_BATCH_HEADER_SIZE);
    uint8_t *wire = malloc(cap);
    size_t n = 0;
    char err[128];
    if (wire && kw_batch_writer_close_compressed(&b->w, b->codec, b->level, pid, epoch, base_seq,
                                                 wire, cap, &n, err, sizeof err) == KW_ERR_NONE) {
        b->wire = wire;
        b->size = n;
        return;
    }
    free(wire);
}

void kp_batch_close(kp_batch *b, int64_t pid, int16_t epoch, int32_t base_seq) {
    if (!b->closed) {
        b->sealed = true;
        b->raw_size = kw_batch_writer_close(&b->w, pid, epoch, base_seq);
        if (b->precompressed && b->raw_size > 0) {
            kw_batch_writer_write_header(&b->w, b->wire, b->size, b->codec, pid, epoch, base_seq);
        } else {
            b->size = b->raw_size;
            if (b->codec != KW_CODEC_NONE && b->size > 0)
                compress_batch(b, pid, epoch, base_seq);
        }
        b->closed = true;
    } else if (b->producer_id != pid || b->producer_epoch != epoch || b->base_seq != base_seq) {
        kw_batch_set_producer(b->wire ? b->wire : b->w.buf, b->size, pid, epoch, base_seq);
    }
    b->producer_id = pid;
    b->producer_epoch = epoch;
    b->base_seq = base_seq;
}

bool kp_batch_is_full(const kp_batch *b) {
    /* Java's MemoryRecordsBuilder.isFull(): closed for appends, or no room left for even a
     * tiny record. */
    if (b->codec != KW_CODEC_NONE)
        return b->sealed || (b->w.count > 0 && (size_t)b->cap <= estimated_written(b));
    return b->sealed || b->w.len + 16 > b->w.cap;
}

void kp_batch_free(kp_batch *b) {
    if (!b)
        return;
    free(b->thunks);
    free(b->raw_heap);
    free(b->wire);
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
