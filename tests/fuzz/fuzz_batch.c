/* libFuzzer target: RecordBatch v2 parse and record iteration, then re-encoding.
 *
 * Each batch in the input is parsed (CRC checked when the first input byte is odd, so both
 * the CRC gate and the code behind it get explored) and its records iterated. When every
 * record reads cleanly, the records are written again with kw_batch_writer and read back:
 * keys, values, headers and timestamps must survive. When the input was in the writer's own
 * canonical form (record attributes 0, offset deltas 0..n-1, base timestamp = the first
 * record's) and the rewrite has the same length, the record bytes must be identical. */
#include "protocol/kw.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct saved_record {
    int64_t timestamp;
    kw_slice key, value;
    int32_t n_headers;
    kw_header *headers;
    bool canonical;
} saved_record;

static bool slice_same(kw_slice a, kw_slice b) {
    if (a.len != b.len)
        return false;
    return a.len <= 0 || memcmp(a.p, b.p, (size_t)a.len) == 0;
}

static void check_batch(const uint8_t *p, size_t len, const kw_batch *b, kw_arena *a) {
    if (b->record_count > 100000)
        return;
    saved_record *recs = calloc((size_t)b->record_count + 1, sizeof *recs);
    if (!recs)
        return;
    kw_record_iter it;
    kw_record r;
    kw_record_iter_init_bounded(&it, b, (size_t)1 << 20);
    int32_t n = 0;
    int rc;
    bool canonical = b->attributes == 0;
    /* Records point into the batch, or into the iterator's decompressed copy. */
    const uint8_t *lo = it.raw ? it.raw : p, *hi = it.raw ? it.raw + it.raw_len : p + len;
    while ((rc = kw_record_next(&it, a, &r)) == 1) {
        if (n >= b->record_count)
            abort();
        if (r.key.len > 0 && (r.key.p < lo || r.key.p + r.key.len > hi))
            abort();
        if (r.value.len > 0 && (r.value.p < lo || r.value.p + r.value.len > hi))
            abort();
        recs[n] = (saved_record){r.timestamp, r.key, r.value, r.n_headers, r.headers, true};
        if (r.attributes != 0 || r.offset_delta != n ||
            (n == 0 && r.timestamp != b->base_timestamp))
            canonical = false;
        n++;
    }
    if (rc < 0) {
        if (it.rb.err == KW_ERR_NONE || it.rb.errmsg[0] == '\0')
            abort();
        kw_record_iter_release(&it);
        free(recs);
        return;
    }
    if (n != b->record_count)
        abort();
    /* Rewrite. */
    size_t cap = len + 64;
    if (it.raw_len > len) /* the rewrite is uncompressed */
        cap = it.raw_len + KW_BATCH_HEADER_SIZE + 64;
    uint8_t *out = malloc(cap);
    if (!out) {
        kw_record_iter_release(&it);
        free(recs);
        return;
    }
    kw_batch_writer w;
    kw_batch_writer_init(&w, out, cap);
    for (int32_t i = 0; i < n; i++) {
        size_t before = w.len;
        int64_t delta = (int64_t)((uint64_t)recs[i].timestamp -
                                  (uint64_t)(i == 0 ? recs[0].timestamp : w.base_timestamp));
        size_t predicted = kw_record_size(i, delta, recs[i].key, recs[i].value, recs[i].headers,
                                          recs[i].n_headers);
        kw_err e = kw_batch_writer_append(&w, recs[i].timestamp, recs[i].key, recs[i].value,
                                          recs[i].headers, recs[i].n_headers);
        if (e == KW_ERR__NO_SPACE)
            goto done; /* non-canonical input can be shorter than our rewrite */
        if (e != KW_ERR_NONE)
            abort();
        if (w.len - before != predicted)
            abort();
    }
    size_t out_len = kw_batch_writer_close(&w, b->producer_id, b->producer_epoch, b->base_sequence);
    if (n == 0) {
        if (out_len != 0)
            abort();
        goto done;
    }
    kw_batch b2;
    size_t used;
    char err[160];
    if (kw_batch_parse(out, out_len, true, &b2, &used, err, sizeof err) != KW_ERR_NONE ||
        used != out_len || b2.record_count != n)
        abort();
    kw_record_iter it2;
    kw_record_iter_init(&it2, &b2);
    for (int32_t i = 0; i < n; i++) {
        if (kw_record_next(&it2, a, &r) != 1)
            abort();
        if (r.timestamp != recs[i].timestamp || !slice_same(r.key, recs[i].key) ||
            !slice_same(r.value, recs[i].value) || r.n_headers != recs[i].n_headers)
            abort();
        for (int32_t h = 0; h < r.n_headers; h++)
            if (!slice_same(r.headers[h].key, recs[i].headers[h].key) ||
                !slice_same(r.headers[h].value, recs[i].headers[h].value))
                abort();
    }
    if (kw_record_next(&it2, a, &r) != 0)
        abort();
    kw_record_iter_release(&it2);
    if (canonical && out_len == len &&
        memcmp(out + KW_BATCH_HEADER_SIZE, p + KW_BATCH_HEADER_SIZE, len - KW_BATCH_HEADER_SIZE))
        abort();
    /* Stamping the producer keeps the batch valid. */
    kw_batch_set_producer(out, out_len, 42, 1, 7);
    kw_batch_set_base_offset(out, 1000);
    kw_batch_set_leader_epoch(out, 3);
    if (kw_batch_parse(out, out_len, true, &b2, &used, err, sizeof err) != KW_ERR_NONE ||
        b2.producer_id != 42 || b2.base_sequence != 7 || b2.base_offset != 1000)
        abort();
done:
    kw_record_iter_release(&it);
    free(out);
    free(recs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    bool check_crc = data[0] & 1;
    data++, size--;
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    kw_arena *a = kw_arena_new();
    size_t pos = 0;
    while (a && pos < size) {
        kw_batch b;
        size_t used = 0;
        char err[160] = "";
        kw_err e = kw_batch_parse(copy + pos, size - pos, check_crc, &b, &used, err, sizeof err);
        if (e != KW_ERR_NONE) {
            if (err[0] == '\0' || used != 0)
                abort();
            break;
        }
        if (used < KW_BATCH_HEADER_SIZE || used > size - pos)
            abort();
        check_batch(copy + pos, used, &b, a);
        kw_arena_reset(a);
        pos += used;
    }
    kw_arena_destroy(a);
    free(copy);
    return 0;
}
