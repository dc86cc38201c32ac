/* protocol/kw_batch.c — the parcel itself: RecordBatch v2 (magic 2), the unit the producer
 * seals and the broker appends.
 *
 * Layout (Kafka's DefaultRecordBatch):
 *
 *   0 baseOffset i64 | 8 batchLength i32 | 12 partitionLeaderEpoch i32 | 16 magic i8 |
 *   17 crc u32 | 21 attributes i16 | 23 lastOffsetDelta i32 | 27 baseTimestamp i64 |
 *   35 maxTimestamp i64 | 43 producerId i64 | 51 producerEpoch i16 | 53 baseSequence i32 |
 *   57 records count i32 | 61 records...
 *
 * and each record (DefaultRecord): length varint | attributes i8 | timestampDelta varlong |
 * offsetDelta varint | keyLength varint (-1 null) | key | valueLength varint | value |
 * headers count varint | per header: keyLength varint, key, valueLength varint (-1 null), value.
 *
 * The CRC-32C covers attributes through the end, so the broker may rewrite baseOffset and
 * partitionLeaderEpoch without touching it, while the producer must recompute it when it
 * stamps producer id / epoch / sequence at drain time.
 */
#include "protocol/kw_bytes.h"
#include "protocol/kw_wire.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OFF_BASE_OFFSET 0
#define OFF_BATCH_LENGTH 8
#define OFF_LEADER_EPOCH 12
#define OFF_MAGIC 16
#define OFF_CRC 17
#define OFF_ATTRIBUTES 21
#define OFF_LAST_OFFSET_DELTA 23
#define OFF_BASE_TIMESTAMP 27
#define OFF_MAX_TIMESTAMP 35
#define OFF_PRODUCER_ID 43
#define OFF_PRODUCER_EPOCH 51
#define OFF_BASE_SEQUENCE 53
#define OFF_RECORD_COUNT 57
#define LOG_OVERHEAD 12        /* baseOffset + batchLength: not counted in batchLength */
#define MIN_RECORD_SIZE 7      /* length, attributes, ts, offset, key, value, headers: 1 each */
#define MAX_RECORD_OVERHEAD 21 /* Java DefaultRecord.MAX_RECORD_OVERHEAD: 5 + 1 + 10 + 5 */
#define COMPRESSION_MASK 0x07

static_assert(OFF_RECORD_COUNT + 4 == KW_BATCH_HEADER_SIZE, "batch header layout");
static_assert(OFF_CRC == KW_BATCH_CRC_OFFSET, "crc offset");
static_assert(OFF_ATTRIBUTES == KW_BATCH_ATTR_OFFSET, "attributes offset");

/* ------------------------------------------------------------------------------------------ */
/* Parsing.                                                                                     */

static kw_err batch_fail(char *errbuf, size_t errsize, kw_err err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static kw_err batch_fail(char *errbuf, size_t errsize, kw_err err, const char *fmt, ...) {
    if (errbuf && errsize) {
        int n = snprintf(errbuf, errsize, "RecordBatch: ");
        size_t off = n > 0 && (size_t)n < errsize ? (size_t)n : 0;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf + off, errsize - off, fmt, ap);
        va_end(ap);
    }
    return err;
}

kw_err kw_batch_parse(const uint8_t *p, size_t len, bool check_crc, kw_batch *b, size_t *consumed,
                      char *errbuf, size_t errsize) {
    if (consumed)
        *consumed = 0;
    if (!p || len < LOG_OVERHEAD)
        return batch_fail(errbuf, errsize, KW_ERR__TRUNCATED,
                          "truncated baseOffset/batchLength (%zu bytes, need %d)", p ? len : 0,
                          LOG_OVERHEAD);
    int32_t batch_length = (int32_t)load_be32(p + OFF_BATCH_LENGTH);
    if (len > OFF_MAGIC && p[OFF_MAGIC] != 2)
        return batch_fail(errbuf, errsize, KW_ERR__MALFORMED,
                          "magic %d is not supported (only RecordBatch v2, magic 2)",
                          (int8_t)p[OFF_MAGIC]);
    if (batch_length < KW_BATCH_HEADER_SIZE - LOG_OVERHEAD)
        return batch_fail(errbuf, errsize, KW_ERR__MALFORMED,
                          "batchLength %d is smaller than the %d-byte batch header", batch_length,
                          KW_BATCH_HEADER_SIZE - LOG_OVERHEAD);
    if (batch_length > INT32_MAX - LOG_OVERHEAD)
        return batch_fail(errbuf, errsize, KW_ERR__TOO_LARGE, "batchLength %d is too large",
                          batch_length);
    size_t whole = LOG_OVERHEAD + (size_t)batch_length;
    if (whole > len)
        return batch_fail(errbuf, errsize, KW_ERR__TRUNCATED,
                          "batchLength %d needs %zu bytes, only %zu present", batch_length, whole,
                          len);
    b->base_offset = (int64_t)load_be64(p + OFF_BASE_OFFSET);
    b->batch_length = batch_length;
    b->partition_leader_epoch = (int32_t)load_be32(p + OFF_LEADER_EPOCH);
    b->magic = (int8_t)p[OFF_MAGIC];
    b->crc = load_be32(p + OFF_CRC);
    b->attributes = (int16_t)load_be16(p + OFF_ATTRIBUTES);
    b->last_offset_delta = (int32_t)load_be32(p + OFF_LAST_OFFSET_DELTA);
    b->base_timestamp = (int64_t)load_be64(p + OFF_BASE_TIMESTAMP);
    b->max_timestamp = (int64_t)load_be64(p + OFF_MAX_TIMESTAMP);
    b->producer_id = (int64_t)load_be64(p + OFF_PRODUCER_ID);
    b->producer_epoch = (int16_t)load_be16(p + OFF_PRODUCER_EPOCH);
    b->base_sequence = (int32_t)load_be32(p + OFF_BASE_SEQUENCE);
    b->record_count = (int32_t)load_be32(p + OFF_RECORD_COUNT);
    b->records = (kw_slice){p + KW_BATCH_HEADER_SIZE, (int32_t)(whole - KW_BATCH_HEADER_SIZE)};
    b->whole = (kw_slice){p, (int32_t)whole};
    if (check_crc) {
        uint32_t crc = kw_crc32c(0, p + OFF_ATTRIBUTES, whole - OFF_ATTRIBUTES);
        if (crc != b->crc)
            return batch_fail(errbuf, errsize, KW_ERR__BAD_CRC,
                              "crc mismatch: stored 0x%08x, computed 0x%08x over %zu bytes", b->crc,
                              crc, whole - OFF_ATTRIBUTES);
    }
    if (b->record_count < 0)
        return batch_fail(errbuf, errsize, KW_ERR__MALFORMED, "negative record count %d",
                          b->record_count);
    /* Uncompressed records take at least 7 bytes each; compressed ones can be smaller. */
    if ((b->attributes & COMPRESSION_MASK) == 0 &&
        (size_t)b->record_count > (size_t)b->records.len / MIN_RECORD_SIZE)
        return batch_fail(errbuf, errsize, KW_ERR__MALFORMED,
                          "record count %d cannot fit in %d bytes of records", b->record_count,
                          b->records.len);
    if (consumed)
        *consumed = whole;
    return KW_ERR_NONE;
}

/* ------------------------------------------------------------------------------------------ */
/* Record iterator.                                                                             */

void kw_record_iter_init(kw_record_iter *it, const kw_batch *b) {
    kw_record_iter_init_bounded(it, b, KW_DECOMPRESS_MAX_DEFAULT);
}

/* A compressed batch is decompressed here, once; an error (unknown codec, corrupt data, past
 * the bound) sticks in it->rb and the first kw_record_next() returns it. */
void kw_record_iter_init_bounded(kw_record_iter *it, const kw_batch *b, size_t max_raw) {
    size_t n = b->records.len > 0 ? (size_t)b->records.len : 0;
    it->batch = b;
    it->index = 0;
    it->raw = NULL;
    it->raw_len = n;
    int codec = b->attributes & COMPRESSION_MASK;
    if (codec == KW_CODEC_NONE) {
        kw_rbuf_init(&it->rb, b->records.p, n, "RecordBatch");
        return;
    }
    kw_rbuf_init(&it->rb, NULL, 0, "RecordBatch");
    if (codec > KW_CODEC_ZSTD) {
        kw_rbuf_fail(&it->rb, KW_ERR_UNSUPPORTED_COMPRESSION_TYPE,
                     "compression type %d in attributes is not defined (0-4: none, gzip, "
                     "snappy, lz4, zstd)",
                     codec);
        return;
    }
    char why[sizeof it->rb.errmsg - 16];
    size_t out_len = 0;
    kw_err err = kw_decompress((kw_codec)codec, b->records.p, n, max_raw, &it->raw, &out_len, why,
                               sizeof why);
    if (err != KW_ERR_NONE) {
        kw_rbuf_fail(&it->rb, err, "%s", why);
        return;
    }
    it->raw_len = out_len;
    kw_rbuf_init(&it->rb, it->raw, out_len, "RecordBatch");
}

void kw_record_iter_release(kw_record_iter *it) {
    free(it->raw);
    it->raw = NULL;
}

/* Reads a varint length of a nullable field (-1 null) and takes that many bytes. */
static kw_slice read_varint_bytes(kw_rbuf *rb, const char *field, bool nullable) {
    int32_t n = kw_read_varint(rb, field);
    if (rb->err != KW_ERR_NONE)
        return KW_SLICE_NULL;
    if (n == -1 && nullable)
        return KW_SLICE_NULL;
    if (n < 0) {
        kw_rbuf_fail(rb, KW_ERR__MALFORMED, "%s: invalid length %d", field, n);
        return KW_SLICE_NULL;
    }
    return kw_read_raw(rb, (size_t)n, field);
}

/* Reads the fields of one record from `r` (limited to the record's length). */
static void read_record_body(kw_rbuf *r, const kw_batch *b, kw_arena *a, kw_record *rec) {
    rec->attributes = kw_read_i8(r, "attributes");
    int64_t ts_delta = kw_read_varlong(r, "timestampDelta");
    rec->offset_delta = kw_read_varint(r, "offsetDelta");
    rec->key = read_varint_bytes(r, "key", true);
    rec->value = read_varint_bytes(r, "value", true);
    int32_t nh = kw_read_varint(r, "headers count");
    if (r->err != KW_ERR_NONE)
        return;
    /* Wrapping arithmetic: a hostile delta must not be undefined behaviour. */
    rec->timestamp = (int64_t)((uint64_t)b->base_timestamp + (uint64_t)ts_delta);
    rec->offset = (int64_t)((uint64_t)b->base_offset + (uint64_t)(int64_t)rec->offset_delta);
    if (nh < 0 || (size_t)nh > kw_rbuf_remaining(r) / 2) {
        kw_rbuf_fail(r, KW_ERR__MALFORMED, "headers count %d invalid for %zu bytes left", nh,
                     kw_rbuf_remaining(r));
        return;
    }
    rec->n_headers = nh;
    rec->headers = NULL;
    if (nh > 0 && a) {
        rec->headers = kw_arena_alloc(a, (size_t)nh * sizeof(kw_header));
        if (!rec->headers) {
            kw_rbuf_fail(r, KW_ERR__NO_MEMORY, "headers: out of memory for %d headers", nh);
            return;
        }
    }
    for (int32_t i = 0; i < nh && r->err == KW_ERR_NONE; i++) {
        kw_slice k = read_varint_bytes(r, "headers.key", false);
        kw_slice v = read_varint_bytes(r, "headers.value", true);
        if (rec->headers) {
            rec->headers[i].key = k;
            rec->headers[i].value = v;
        }
    }
}

int kw_record_next(kw_record_iter *it, kw_arena *a, kw_record *rec) {
    kw_rbuf *rb = &it->rb;
    if (rb->err != KW_ERR_NONE)
        return rb->err < 0 ? rb->err : KW_ERR__MALFORMED;
    const kw_batch *b = it->batch;
    if (it->index >= b->record_count) {
        if (kw_rbuf_remaining(rb))
            return kw_rbuf_fail(rb, KW_ERR__MALFORMED,
                                "%zu bytes left after the last of %d records",
                                kw_rbuf_remaining(rb), b->record_count);
        return 0;
    }
    int32_t idx = it->index;
    int32_t length = kw_read_varint(rb, "record length");
    if (rb->err != KW_ERR_NONE) {
        /* Re-word the message so it names the record: "RecordBatch: records[3].record length: ..."
         */
        char msg[sizeof rb->errmsg];
        const char *tail = rb->errmsg;
        if (strncmp(tail, "RecordBatch: ", 13) == 0)
            tail += 13;
        snprintf(msg, sizeof msg, "%s", tail);
        kw_err err = rb->err;
        rb->err = KW_ERR_NONE;
        return kw_rbuf_fail(rb, err, "records[%d].%s", idx, msg);
    }
    if (length < MIN_RECORD_SIZE - 1 || (size_t)length > kw_rbuf_remaining(rb))
        return kw_rbuf_fail(
            rb, length < 0 || length < MIN_RECORD_SIZE - 1 ? KW_ERR__MALFORMED : KW_ERR__TRUNCATED,
            "records[%d].length %d invalid with %zu bytes left", idx, length,
            kw_rbuf_remaining(rb));
    kw_rbuf r;
    kw_rbuf_init(&r, rb->p + rb->pos, (size_t)length, NULL);
    memset(rec, 0, sizeof *rec);
    read_record_body(&r, b, a, rec);
    if (r.err != KW_ERR_NONE)
        return kw_rbuf_fail(rb, r.err, "records[%d].%s", idx, r.errmsg);
    if (kw_rbuf_remaining(&r))
        return kw_rbuf_fail(rb, KW_ERR__MALFORMED,
                            "records[%d]: length %d but its fields take %zu bytes", idx, length,
                            r.pos);
    rb->pos += (size_t)length;
    it->index++;
    return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Writer.                                                                                      */

static inline uint8_t *put_varint(uint8_t *d, int32_t v) {
    return put_uleb(d, zigzag32(v));
}

static inline uint8_t *put_varlong(uint8_t *d, int64_t v) {
    return put_uleb(d, zigzag64(v));
}

/* Size of a varint-length-prefixed nullable field. */
static inline size_t field_size(kw_slice s) {
    return s.len < 0 ? 1 : kw_varint_size(s.len) + (size_t)s.len;
}

static inline uint8_t *put_field(uint8_t *d, kw_slice s) {
    if (s.len < 0)
        return put_varint(d, -1);
    d = put_varint(d, s.len);
    if (s.len)
        memcpy(d, s.p, (size_t)s.len);
    return d + s.len;
}

/* Bytes of key, value and headers as Java's DefaultRecord.sizeOf(keySize, valueSize, headers). */
static size_t kv_headers_size(kw_slice key, kw_slice value, const kw_header *headers,
                              int32_t n_headers) {
    size_t n = field_size(key) + field_size(value);
    if (n_headers < 0)
        n_headers = 0;
    n += kw_varint_size(n_headers);
    for (int32_t i = 0; headers && i < n_headers; i++)
        n += field_size(headers[i].key) + field_size(headers[i].value);
    return n;
}

static size_t record_body_size(int32_t offset_delta, int64_t timestamp_delta, kw_slice key,
                               kw_slice value, const kw_header *headers, int32_t n_headers) {
    return 1 /* attributes */ + kw_varlong_size(timestamp_delta) + kw_varint_size(offset_delta) +
           kv_headers_size(key, value, headers, n_headers);
}

size_t kw_record_size(int32_t offset_delta, int64_t timestamp_delta, kw_slice key, kw_slice value,
                      const kw_header *headers, int32_t n_headers) {
    size_t body = record_body_size(offset_delta, timestamp_delta, key, value, headers, n_headers);
    return uleb_size(((uint64_t)body << 1)) + body; /* zigzag of a positive int */
}

/* As Java: RECORD_BATCH_OVERHEAD (61) + MAX_RECORD_OVERHEAD (21) + sizeOf(key, value, headers). */
size_t kw_batch_size_upper_bound(kw_slice key, kw_slice value, const kw_header *headers,
                                 int32_t n_headers) {
    return KW_BATCH_HEADER_SIZE + MAX_RECORD_OVERHEAD +
           kv_headers_size(key, value, headers, n_headers);
}

void kw_batch_writer_init(kw_batch_writer *w, uint8_t *buf, size_t cap) {
    w->buf = buf;
    w->cap = buf ? cap : 0;
    w->len = KW_BATCH_HEADER_SIZE;
    w->count = 0;
    w->base_timestamp = -1;
    w->max_timestamp = -1;
}

kw_err kw_batch_writer_append(kw_batch_writer *w, int64_t timestamp, kw_slice key, kw_slice value,
                              const kw_header *headers, int32_t n_headers) {
    if (n_headers < 0 || (n_headers > 0 && !headers))
        return KW_ERR__INVALID_ARG;
    for (int32_t i = 0; i < n_headers; i++)
        if (headers[i].key.len < 0)
            return KW_ERR__INVALID_ARG; /* header keys are non-null strings */
    if (w->count == INT32_MAX)
        return KW_ERR__NO_SPACE;
    int64_t base = w->count == 0 ? timestamp : w->base_timestamp;
    int64_t ts_delta = (int64_t)((uint64_t)timestamp - (uint64_t)base);
    size_t body = record_body_size(w->count, ts_delta, key, value, headers, n_headers);
    if (body > INT32_MAX)
        return KW_ERR__NO_SPACE;
    size_t size = kw_varint_size((int32_t)body) + body;
    if (w->len > w->cap || size > w->cap - w->len)
        return KW_ERR__NO_SPACE;

    uint8_t *d = w->buf + w->len;
    uint8_t *start = d;
    d = put_varint(d, (int32_t)body);
    *d++ = 0; /* record attributes: unused */
    d = put_varlong(d, ts_delta);
    d = put_varint(d, w->count);
    d = put_field(d, key);
    d = put_field(d, value);
    d = put_varint(d, n_headers);
    for (int32_t i = 0; i < n_headers; i++) {
        d = put_field(d, headers[i].key);
        d = put_field(d, headers[i].value);
    }
    assert((size_t)(d - start) == size);
    w->len += size;
    if (w->count == 0) {
        w->base_timestamp = timestamp;
        w->max_timestamp = timestamp;
    } else if (timestamp > w->max_timestamp) {
        w->max_timestamp = timestamp;
    }
    w->count++;
    return KW_ERR_NONE;
}

/* Writes the header of a batch of len bytes at p (records already after it) and its CRC. */
static void write_header(const kw_batch_writer *w, uint8_t *p, size_t len, int16_t attributes,
                         int64_t producer_id, int16_t producer_epoch, int32_t base_sequence) {
    store_be64(p + OFF_BASE_OFFSET, 0);
    store_be32(p + OFF_BATCH_LENGTH, (uint32_t)(len - LOG_OVERHEAD));
    store_be32(p + OFF_LEADER_EPOCH, (uint32_t)-1);
    p[OFF_MAGIC] = 2;
    store_be16(p + OFF_ATTRIBUTES, (uint16_t)attributes);
    store_be32(p + OFF_LAST_OFFSET_DELTA, (uint32_t)(w->count - 1));
    store_be64(p + OFF_BASE_TIMESTAMP, (uint64_t)w->base_timestamp);
    store_be64(p + OFF_MAX_TIMESTAMP, (uint64_t)w->max_timestamp);
    store_be64(p + OFF_PRODUCER_ID, (uint64_t)producer_id);
    store_be16(p + OFF_PRODUCER_EPOCH, (uint16_t)producer_epoch);
    store_be32(p + OFF_BASE_SEQUENCE, (uint32_t)base_sequence);
    store_be32(p + OFF_RECORD_COUNT, (uint32_t)w->count);
    store_be32(p + OFF_CRC, kw_crc32c(0, p + OFF_ATTRIBUTES, len - OFF_ATTRIBUTES));
}

/* An empty batch is not written (as Java's MemoryRecordsBuilder builds no batch for zero
 * records): the result is 0. */
size_t kw_batch_writer_close(kw_batch_writer *w, int64_t producer_id, int16_t producer_epoch,
                             int32_t base_sequence) {
    if (w->count == 0 || w->len > w->cap)
        return 0;
    write_header(w, w->buf, w->len, 0, producer_id, producer_epoch, base_sequence);
    return w->len;
}

kw_err kw_batch_writer_compress_records(const kw_batch_writer *w, kw_codec codec, int level,
                                        uint8_t *dst, size_t dst_cap, size_t *records_len,
                                        char *errbuf, size_t errsize) {
    *records_len = 0;
    if (w->count == 0 || w->len > w->cap || !dst || dst_cap < KW_BATCH_HEADER_SIZE)
        return batch_fail(errbuf, errsize, KW_ERR__INVALID_ARG,
                          "cannot compress: %d records, %zu bytes of room", w->count, dst_cap);
    size_t clen = 0;
    kw_err err = kw_compress(codec, level, w->buf + KW_BATCH_HEADER_SIZE,
                             w->len - KW_BATCH_HEADER_SIZE, dst + KW_BATCH_HEADER_SIZE,
                             dst_cap - KW_BATCH_HEADER_SIZE, &clen, errbuf, errsize);
    if (err != KW_ERR_NONE)
        return err;
    if (clen > (size_t)INT32_MAX - KW_BATCH_HEADER_SIZE)
        return batch_fail(errbuf, errsize, KW_ERR__TOO_LARGE, "compressed batch too large");
    *records_len = clen;
    return KW_ERR_NONE;
}

void kw_batch_writer_write_header(const kw_batch_writer *w, uint8_t *dst, size_t len,
                                  kw_codec codec, int64_t producer_id, int16_t producer_epoch,
                                  int32_t base_sequence) {
    assert(len >= KW_BATCH_HEADER_SIZE && w->count > 0);
    write_header(w, dst, len, (int16_t)codec, producer_id, producer_epoch, base_sequence);
}

kw_err kw_batch_writer_close_compressed(kw_batch_writer *w, kw_codec codec, int level,
                                        int64_t producer_id, int16_t producer_epoch,
                                        int32_t base_sequence, uint8_t *dst, size_t dst_cap,
                                        size_t *out_len, char *errbuf, size_t errsize) {
    *out_len = 0;
    size_t clen = 0;
    kw_err err =
        kw_batch_writer_compress_records(w, codec, level, dst, dst_cap, &clen, errbuf, errsize);
    if (err != KW_ERR_NONE)
        return err;
    write_header(w, dst, KW_BATCH_HEADER_SIZE + clen, (int16_t)codec, producer_id, producer_epoch,
                 base_sequence);
    *out_len = KW_BATCH_HEADER_SIZE + clen;
    return KW_ERR_NONE;
}

void kw_batch_set_producer(uint8_t *batch, size_t len, int64_t producer_id, int16_t producer_epoch,
                           int32_t base_sequence) {
    assert(batch && len >= KW_BATCH_HEADER_SIZE);
    if (!batch || len < KW_BATCH_HEADER_SIZE)
        return;
    store_be64(batch + OFF_PRODUCER_ID, (uint64_t)producer_id);
    store_be16(batch + OFF_PRODUCER_EPOCH, (uint16_t)producer_epoch);
    store_be32(batch + OFF_BASE_SEQUENCE, (uint32_t)base_sequence);
    store_be32(batch + OFF_CRC, kw_crc32c(0, batch + OFF_ATTRIBUTES, len - OFF_ATTRIBUTES));
}

void kw_batch_set_base_offset(uint8_t *batch, int64_t base_offset) {
    store_be64(batch + OFF_BASE_OFFSET, (uint64_t)base_offset);
}

void kw_batch_set_leader_epoch(uint8_t *batch, int32_t epoch) {
    store_be32(batch + OFF_LEADER_EPOCH, (uint32_t)epoch);
}
