/* Partition logs: the shelves of a depot. A log is an array of RecordBatches as the leader
 * received them (offsets assigned, bytes otherwise untouched: a compressed batch stays
 * compressed, as Kafka stores it with compression.type=producer), so a broker never does
 * per-record work: appends copy one batch, fetches hand back whole batches. Replica logs share
 * batch objects by reference, so a follower's "copy" costs a pointer and a counter.
 *
 * @locks c->lock MUST be held for every log function except the batch ones. */
#include "mockbroker/mb_int.h"

#include <stdlib.h>
#include <string.h>

mb_batch *mb_batch_new(const uint8_t *p, size_t len) {
    mb_batch *b = malloc(sizeof *b + len);
    if (!b)
        return NULL;
    memset(b, 0, sizeof *b);
    atomic_init(&b->refcnt, 1);
    b->len = len;
    memcpy(b->data, p, len);
    return b;
}

void mb_batch_ref(mb_batch *b) {
    atomic_fetch_add_explicit(&b->refcnt, 1, memory_order_relaxed);
}

void mb_batch_unref(mb_batch *b) {
    if (b && atomic_fetch_sub_explicit(&b->refcnt, 1, memory_order_acq_rel) == 1)
        free(b);
}

void mb_log_free(mb_log *l) {
    for (size_t i = 0; i < l->n; i++)
        mb_batch_unref(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* Recomputes the segment counters from the batches (after a truncation or a deletion). */
static void log_recount(mb_log *l) {
    l->nseg = 0;
    l->first_seg_n = 0;
    l->first_seg_bytes = l->seg_bytes = 0;
    l->seg_first_us = 0;
    for (size_t i = 0; i < l->n; i++) {
        const mb_batch *b = l->v[i];
        if (i == 0 || b->seg_first) {
            l->nseg++;
            l->seg_bytes = 0;
            l->seg_first_us = b->append_time_us;
        }
        l->seg_bytes += (int64_t)b->len;
        if (l->nseg == 1) {
            l->first_seg_n++;
            l->first_seg_bytes += (int64_t)b->len;
        }
    }
}

void mb_log_roll(const mb_log *l, mb_batch *b, int64_t segment_bytes, int64_t segment_ms) {
    /* Kafka's LocalLog.shouldRoll: the segment would grow past segment.bytes, or its first
     * batch is older than segment.ms. */
    b->seg_first = l->n == 0 || (segment_bytes > 0 && l->seg_bytes + (int64_t)b->len > segment_bytes) ||
                   (segment_ms > 0 && b->append_time_us - l->seg_first_us >= segment_ms * 1000);
}

int64_t mb_log_drop_before(mb_log *l, int64_t start) {
    size_t k = 0;
    int64_t records = 0;
    while (k < l->n && l->v[k]->base_offset < start) {
        mb_batch *b = l->v[k++];
        records += b->last_offset - b->base_offset + 1;
        l->bytes -= (int64_t)b->len;
        l->raw_bytes -= mb_batch_raw_len(b);
        l->deleted_bytes += (int64_t)b->len;
        mb_batch_unref(b);
    }
    if (k > 0) {
        memmove(l->v, l->v + k, (l->n - k) * sizeof *l->v);
        l->n -= k;
    }
    l->deleted_records += records;
    if (start > l->start)
        l->start = start;
    if (l->end < l->start)
        l->end = l->start;
    log_recount(l);
    return records;
}

bool mb_log_append(mb_log *l, mb_batch *b) {
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 64;
        mb_batch **nv = realloc(l->v, ncap * sizeof *nv);
        if (!nv)
            return false;
        l->v = nv;
        l->cap = ncap;
    }
    mb_batch_ref(b);
    l->v[l->n++] = b;
    l->end = b->last_offset + 1;
    l->bytes += (int64_t)b->len;
    l->raw_bytes += mb_batch_raw_len(b);
    if (l->n == 1 || b->seg_first) {
        l->nseg++;
        l->seg_bytes = 0;
        l->seg_first_us = b->append_time_us;
    }
    l->seg_bytes += (int64_t)b->len;
    if (l->nseg == 1) {
        l->first_seg_n++;
        l->first_seg_bytes += (int64_t)b->len;
    }
    return true;
}

size_t mb_log_find(const mb_log *l, int64_t offset) {
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->v[mid]->last_offset < offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void mb_log_truncate_index(mb_log *l, size_t i) {
    if (i >= l->n)
        return;
    l->end = l->v[i]->base_offset;
    for (size_t k = i; k < l->n; k++) {
        l->bytes -= (int64_t)l->v[k]->len;
        l->raw_bytes -= mb_batch_raw_len(l->v[k]);
        mb_batch_unref(l->v[k]);
    }
    l->n = i;
    log_recount(l);
}

/* Logs of one partition only ever share a prefix (a follower copies from the leader of the
 * epoch; a new leader's log is the truth), so the first differing batch can be found by
 * binary search. */
size_t mb_log_common_prefix(const mb_log *a, const mb_log *b) {
    size_t lo = 0, hi = a->n < b->n ? a->n : b->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->v[mid] == b->v[mid])
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}
