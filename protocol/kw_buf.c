/* protocol/kw_buf.c — the grammar's alphabet: arena, slices, read/write buffers, primitives
 * and framing.
 *
 * Every reader checks the bytes left before it touches them; the first failure sticks in the
 * read buffer (code + a message naming the field) and every later read returns a zero value,
 * so a decoder reads straight through and checks rb->err once at the end. Writers append to a
 * growable buffer; an allocation failure (or a value the wire cannot carry) sets wb->oom,
 * which is sticky too. Kafka's ByteUtils / Readable / Writable are the reference for the
 * encodings.
 */
#include "protocol/kw_bytes.h"
#include "protocol/kw_wire.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Arena: a list of chunks; allocations are bump-pointer, freed all at once.                    */

#define KW_ARENA_ALIGN 16u
#define KW_ARENA_CHUNK 4096u
#define KW_ARENA_MAX_ALLOC ((size_t)1 << 30) /* 1 GiB: anything larger is a hostile length */

typedef struct kw_arena_chunk {
    struct kw_arena_chunk *next;
    size_t cap;  /* usable bytes in data[] */
    size_t used; /* bytes handed out */
    _Alignas(16) unsigned char data[];
} kw_arena_chunk;

struct kw_arena {
    kw_arena_chunk *head; /* current chunk (allocation happens here), older chunks follow */
};

kw_arena *kw_arena_new(void) {
    return calloc(1, sizeof(kw_arena));
}

static kw_arena_chunk *arena_chunk_new(size_t cap) {
    kw_arena_chunk *c = malloc(sizeof(kw_arena_chunk) + cap);
    if (!c)
        return NULL;
    c->next = NULL;
    c->cap = cap;
    c->used = 0;
    return c;
}

/* Allocates n zeroed bytes aligned to 16 from the current chunk, or from a new chunk (a chunk
 * of its own for large requests, so a big array does not waste the rest of a small chunk). */
void *kw_arena_alloc(kw_arena *a, size_t n) {
    if (!a || n > KW_ARENA_MAX_ALLOC)
        return NULL;
    if (n == 0)
        n = 1;
    size_t need = (n + (KW_ARENA_ALIGN - 1)) & ~(size_t)(KW_ARENA_ALIGN - 1);
    kw_arena_chunk *c = a->head;
    if (!c || c->cap - c->used < need) {
        if (need > KW_ARENA_CHUNK / 4) {
            /* Large: own chunk, linked behind the current one so the current stays in use. */
            kw_arena_chunk *big = arena_chunk_new(need);
            if (!big)
                return NULL;
            big->used = need;
            if (c) {
                big->next = c->next;
                c->next = big;
            } else {
                a->head = big;
            }
            memset(big->data, 0, need);
            return big->data;
        }
        kw_arena_chunk *fresh = arena_chunk_new(KW_ARENA_CHUNK);
        if (!fresh)
            return NULL;
        fresh->next = c;
        a->head = fresh;
        c = fresh;
    }
    void *p = c->data + c->used;
    c->used += need;
    memset(p, 0, need);
    return p;
}

/* Frees every chunk but one standard-size chunk, which is kept (emptied) for reuse. */
void kw_arena_reset(kw_arena *a) {
    if (!a)
        return;
    kw_arena_chunk *keep = NULL;
    kw_arena_chunk *c = a->head;
    while (c) {
        kw_arena_chunk *next = c->next;
        if (!keep && c->cap == KW_ARENA_CHUNK) {
            keep = c;
            keep->used = 0;
            keep->next = NULL;
        } else {
            free(c);
        }
        c = next;
    }
    a->head = keep;
}

void kw_arena_destroy(kw_arena *a) {
    if (!a)
        return;
    kw_arena_chunk *c = a->head;
    while (c) {
        kw_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    free(a);
}

/* ------------------------------------------------------------------------------------------ */
/* Slices.                                                                                      */

kw_slice kw_slice_str(const char *s) {
    if (!s)
        return KW_SLICE_NULL;
    size_t n = strlen(s);
    if (n > INT32_MAX)
        n = INT32_MAX;
    return (kw_slice){(const uint8_t *)s, (int32_t)n};
}

bool kw_slice_eq(kw_slice s, const char *cstr) {
    if (s.len < 0)
        return cstr == NULL;
    if (!cstr)
        return false;
    size_t n = strlen(cstr);
    return n == (size_t)s.len && (n == 0 || memcmp(s.p, cstr, n) == 0);
}

char *kw_slice_cstr(kw_slice s, char *buf, size_t bufsize) {
    if (!buf || bufsize == 0)
        return buf;
    size_t n = s.len > 0 ? (size_t)s.len : 0;
    if (n > bufsize - 1)
        n = bufsize - 1;
    if (n)
        memcpy(buf, s.p, n);
    buf[n] = '\0';
    return buf;
}

/* ------------------------------------------------------------------------------------------ */
/* Read buffer.                                                                                 */

void kw_rbuf_init(kw_rbuf *rb, const void *p, size_t len, const char *context) {
    rb->p = p;
    rb->len = p ? len : 0;
    rb->pos = 0;
    rb->err = KW_ERR_NONE;
    rb->errmsg[0] = '\0';
    rb->context = context;
}

size_t kw_rbuf_remaining(const kw_rbuf *rb) {
    return rb->len - rb->pos;
}

kw_err kw_rbuf_fail(kw_rbuf *rb, kw_err err, const char *fmt, ...) {
    if (rb->err != KW_ERR_NONE)
        return rb->err;
    rb->err = err;
    size_t off = 0;
    if (rb->context && *rb->context) {
        int n = snprintf(rb->errmsg, sizeof rb->errmsg, "%s: ", rb->context);
        off = n > 0 ? (size_t)n : 0;
        if (off >= sizeof rb->errmsg)
            off = sizeof rb->errmsg - 1;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rb->errmsg + off, sizeof rb->errmsg - off, fmt, ap);
    va_end(ap);
    return err;
}

/* True when n more bytes can be read; otherwise records a truncation naming the field. */
static inline bool need(kw_rbuf *rb, size_t n, const char *field, const char *what) {
    if (rb->err != KW_ERR_NONE)
        return false;
    if (rb->len - rb->pos < n) {
        kw_rbuf_fail(rb, KW_ERR__TRUNCATED,
                     "%s: truncated %s (need %zu bytes at offset %zu, %zu left)",
                     field ? field : "?", what, n, rb->pos, rb->len - rb->pos);
        return false;
    }
    return true;
}

int8_t kw_read_i8(kw_rbuf *rb, const char *field) {
    if (!need(rb, 1, field, "int8"))
        return 0;
    return (int8_t)rb->p[rb->pos++];
}

int16_t kw_read_i16(kw_rbuf *rb, const char *field) {
    if (!need(rb, 2, field, "int16"))
        return 0;
    uint16_t v = load_be16(rb->p + rb->pos);
    rb->pos += 2;
    return (int16_t)v;
}

int32_t kw_read_i32(kw_rbuf *rb, const char *field) {
    if (!need(rb, 4, field, "int32"))
        return 0;
    uint32_t v = load_be32(rb->p + rb->pos);
    rb->pos += 4;
    return (int32_t)v;
}

int64_t kw_read_i64(kw_rbuf *rb, const char *field) {
    if (!need(rb, 8, field, "int64"))
        return 0;
    uint64_t v = load_be64(rb->p + rb->pos);
    rb->pos += 8;
    return (int64_t)v;
}

uint32_t kw_read_u32(kw_rbuf *rb, const char *field) {
    if (!need(rb, 4, field, "uint32"))
        return 0;
    uint32_t v = load_be32(rb->p + rb->pos);
    rb->pos += 4;
    return v;
}

/* Kafka reads a boolean as "byte != 0"; we do the same. */
bool kw_read_bool(kw_rbuf *rb, const char *field) {
    if (!need(rb, 1, field, "boolean"))
        return false;
    return rb->p[rb->pos++] != 0;
}

/* Reads an unsigned LEB128 value of at most max_bytes bytes whose value fits in `bits` bits.
 * Overlong (non-canonical) encodings are accepted, as Kafka does; bits beyond `bits` and
 * encodings longer than max_bytes are malformed. */
static uint64_t read_uleb(kw_rbuf *rb, const char *field, const char *what, unsigned max_bytes,
                          unsigned bits) {
    if (rb->err != KW_ERR_NONE)
        return 0;
    uint64_t v = 0;
    unsigned shift = 0;
    for (unsigned i = 0;; i++) {
        if (rb->pos >= rb->len) {
            kw_rbuf_fail(rb, KW_ERR__TRUNCATED, "%s: truncated %s at offset %zu",
                         field ? field : "?", what, rb->pos);
            return 0;
        }
        uint8_t b = rb->p[rb->pos++];
        if ((b & 0x80) && i + 1 == max_bytes) {
            kw_rbuf_fail(rb, KW_ERR__MALFORMED, "%s: %s longer than %u bytes at offset %zu",
                         field ? field : "?", what, max_bytes, rb->pos - 1);
            return 0;
        }
        uint64_t chunk = (uint64_t)(b & 0x7f);
        if (shift > 0 && bits - shift < 7 && (chunk >> (bits - shift)) != 0) {
            kw_rbuf_fail(rb, KW_ERR__MALFORMED, "%s: %s overflows %u bits at offset %zu",
                         field ? field : "?", what, bits, rb->pos - 1);
            return 0;
        }
        v |= chunk << shift;
        if (!(b & 0x80))
            return v;
        shift += 7;
    }
}

int32_t kw_read_varint(kw_rbuf *rb, const char *field) {
    uint32_t u = (uint32_t)read_uleb(rb, field, "varint", 5, 32);
    return (int32_t)((u >> 1) ^ (uint32_t) - (int32_t)(u & 1));
}

int64_t kw_read_varlong(kw_rbuf *rb, const char *field) {
    uint64_t u = read_uleb(rb, field, "varlong", 10, 64);
    return (int64_t)((u >> 1) ^ (uint64_t) - (int64_t)(u & 1));
}

uint32_t kw_read_uvarint(kw_rbuf *rb, const char *field) {
    return (uint32_t)read_uleb(rb, field, "unsigned varint", 5, 32);
}

/* Takes n bytes as a slice (n already validated to fit in int32). */
static kw_slice take(kw_rbuf *rb, size_t n, const char *field, const char *what) {
    if (!need(rb, n, field, what))
        return KW_SLICE_NULL;
    kw_slice s = {rb->p + rb->pos, (int32_t)n};
    rb->pos += n;
    return s;
}

/* Takes the body of a string or bytes field whose length n was just read (-1 = null when
 * nullable; any other negative length is malformed). */
static kw_slice take_sized(kw_rbuf *rb, int32_t n, const char *field, bool nullable,
                           const char *what) {
    if (rb->err != KW_ERR_NONE)
        return KW_SLICE_NULL;
    if (n == -1 && nullable)
        return KW_SLICE_NULL;
    if (n < 0) {
        kw_rbuf_fail(rb, KW_ERR__MALFORMED, "%s: invalid %s%s length %d", field ? field : "?",
                     nullable ? "nullable " : "", what, n);
        return KW_SLICE_NULL;
    }
    return take(rb, (size_t)n, field, what);
}

static kw_slice read_str16(kw_rbuf *rb, const char *field, bool nullable) {
    return take_sized(rb, kw_read_i16(rb, field), field, nullable, "string");
}

kw_slice kw_read_string(kw_rbuf *rb, const char *field) {
    return read_str16(rb, field, false);
}

kw_slice kw_read_nullable_string(kw_rbuf *rb, const char *field) {
    return read_str16(rb, field, true);
}

static kw_slice read_bytes32(kw_rbuf *rb, const char *field, bool nullable) {
    return take_sized(rb, kw_read_i32(rb, field), field, nullable, "bytes");
}

kw_slice kw_read_bytes(kw_rbuf *rb, const char *field) {
    return read_bytes32(rb, field, false);
}

kw_slice kw_read_nullable_bytes(kw_rbuf *rb, const char *field) {
    return read_bytes32(rb, field, true);
}

/* Compact string/bytes: uvarint N+1, 0 = null. Strings are limited to 32767 bytes as in
 * Kafka's generated readers; bytes to INT32_MAX. */
static kw_slice read_compact(kw_rbuf *rb, const char *field, bool is_string) {
    uint32_t n1 = kw_read_uvarint(rb, field);
    if (rb->err != KW_ERR_NONE || n1 == 0)
        return KW_SLICE_NULL;
    uint32_t n = n1 - 1;
    uint32_t limit = is_string ? INT16_MAX : INT32_MAX;
    if (n > limit) {
        kw_rbuf_fail(rb, KW_ERR__MALFORMED, "%s: compact %s length %u exceeds %u",
                     field ? field : "?", is_string ? "string" : "bytes", n, limit);
        return KW_SLICE_NULL;
    }
    return take(rb, n, field, is_string ? "compact string" : "compact bytes");
}

kw_slice kw_read_compact_string(kw_rbuf *rb, const char *field) {
    return read_compact(rb, field, true);
}

kw_slice kw_read_compact_bytes(kw_rbuf *rb, const char *field) {
    return read_compact(rb, field, false);
}

kw_slice kw_read_raw(kw_rbuf *rb, size_t n, const char *field) {
    if (n > INT32_MAX) {
        kw_rbuf_fail(rb, KW_ERR__TOO_LARGE, "%s: raw length %zu too large", field ? field : "?", n);
        return KW_SLICE_NULL;
    }
    return take(rb, n, field, "raw bytes");
}

/* Checks that `count` elements of at least min_elem_size bytes can fit in what is left, so a
 * hostile count never drives an allocation. min_elem_size 0 is treated as 1. */
static int32_t check_count(kw_rbuf *rb, int64_t count, size_t min_elem_size, const char *field) {
    size_t m = min_elem_size ? min_elem_size : 1;
    size_t left = kw_rbuf_remaining(rb);
    if (count > INT32_MAX) {
        kw_rbuf_fail(rb, KW_ERR__MALFORMED, "%s: array of %lld elements exceeds INT32_MAX",
                     field ? field : "?", (long long)count);
        return 0;
    }
    if ((uint64_t)count > left / m) {
        kw_rbuf_fail(rb, KW_ERR__TRUNCATED,
                     "%s: array of %lld elements needs at least %llu bytes, only %zu left",
                     field ? field : "?", (long long)count,
                     (unsigned long long)((uint64_t)count * (uint64_t)m), left);
        return 0;
    }
    return (int32_t)count;
}

int32_t kw_read_array_len(kw_rbuf *rb, size_t min_elem_size, const char *field) {
    int32_t n = kw_read_i32(rb, field);
    if (rb->err != KW_ERR_NONE)
        return 0;
    if (n == -1)
        return -1;
    if (n < 0) {
        kw_rbuf_fail(rb, KW_ERR__MALFORMED, "%s: invalid array length %d", field ? field : "?", n);
        return 0;
    }
    return check_count(rb, n, min_elem_size, field);
}

int32_t kw_read_compact_array_len(kw_rbuf *rb, size_t min_elem_size, const char *field) {
    uint32_t n1 = kw_read_uvarint(rb, field);
    if (rb->err != KW_ERR_NONE)
        return 0;
    if (n1 == 0)
        return -1;
    return check_count(rb, (int64_t)n1 - 1, min_elem_size, field);
}

/* Tagged fields: uvarint count, then per field uvarint tag, uvarint size, size bytes. We keep
 * none of them, so every tag is skipped (after checking it is really there). */
void kw_read_tagged_fields(kw_rbuf *rb, const char *field) {
    uint32_t n = kw_read_uvarint(rb, field);
    if (rb->err != KW_ERR_NONE)
        return;
    if (check_count(rb, n, 2, field) != (int32_t)n || rb->err != KW_ERR_NONE)
        return;
    for (uint32_t i = 0; i < n; i++) {
        (void)kw_read_uvarint(rb, field);
        uint32_t size = kw_read_uvarint(rb, field);
        if (rb->err != KW_ERR_NONE)
            return;
        if (!need(rb, size, field, "tagged field"))
            return;
        rb->pos += size;
    }
}

void kw_read_expect_end(kw_rbuf *rb, const char *what) {
    if (rb->err != KW_ERR_NONE)
        return;
    size_t left = kw_rbuf_remaining(rb);
    if (left)
        kw_rbuf_fail(rb, KW_ERR__MALFORMED, "%zu trailing bytes after %s", left, what ? what : "?");
}

/* ------------------------------------------------------------------------------------------ */
/* Write buffer.                                                                                */

void kw_wbuf_init(kw_wbuf *wb) {
    wb->p = NULL;
    wb->len = 0;
    wb->cap = 0;
    wb->oom = false;
}

void kw_wbuf_free(kw_wbuf *wb) {
    free(wb->p);
    kw_wbuf_init(wb);
}

void kw_wbuf_reset(kw_wbuf *wb) {
    wb->len = 0;
    wb->oom = false;
}

/* Does not advance wb->len: the caller writes the n bytes, then adds n to wb->len. */
uint8_t *kw_wbuf_reserve(kw_wbuf *wb, size_t n) {
    if (wb->oom)
        return NULL;
    if (wb->cap - wb->len >= n)
        return wb->p + wb->len;
    if (n > SIZE_MAX / 2 - wb->len) {
        wb->oom = true;
        return NULL;
    }
    size_t cap = wb->cap ? wb->cap : 256;
    while (cap - wb->len < n)
        cap *= 2;
    uint8_t *p = realloc(wb->p, cap);
    if (!p) {
        wb->oom = true;
        return NULL;
    }
    wb->p = p;
    wb->cap = cap;
    return wb->p + wb->len;
}

/* Appends n bytes the caller fills; NULL after an allocation failure. */
static inline uint8_t *grow(kw_wbuf *wb, size_t n) {
    uint8_t *d = kw_wbuf_reserve(wb, n);
    if (d)
        wb->len += n;
    return d;
}

void kw_write_i8(kw_wbuf *wb, int8_t v) {
    uint8_t *d = grow(wb, 1);
    if (d)
        d[0] = (uint8_t)v;
}

void kw_write_i16(kw_wbuf *wb, int16_t v) {
    uint8_t *d = grow(wb, 2);
    if (d)
        store_be16(d, (uint16_t)v);
}

void kw_write_i32(kw_wbuf *wb, int32_t v) {
    uint8_t *d = grow(wb, 4);
    if (d)
        store_be32(d, (uint32_t)v);
}

void kw_write_i64(kw_wbuf *wb, int64_t v) {
    uint8_t *d = grow(wb, 8);
    if (d)
        store_be64(d, (uint64_t)v);
}

void kw_write_u32(kw_wbuf *wb, uint32_t v) {
    uint8_t *d = grow(wb, 4);
    if (d)
        store_be32(d, v);
}

void kw_write_bool(kw_wbuf *wb, bool v) {
    kw_write_i8(wb, v ? 1 : 0);
}

static void write_uleb(kw_wbuf *wb, uint64_t u) {
    uint8_t tmp[10];
    size_t n = (size_t)(put_uleb(tmp, u) - tmp);
    uint8_t *d = grow(wb, n);
    if (d)
        memcpy(d, tmp, n);
}

void kw_write_varint(kw_wbuf *wb, int32_t v) {
    write_uleb(wb, zigzag32(v));
}

void kw_write_varlong(kw_wbuf *wb, int64_t v) {
    write_uleb(wb, zigzag64(v));
}

void kw_write_uvarint(kw_wbuf *wb, uint32_t v) {
    write_uleb(wb, v);
}

void kw_wbuf_append(kw_wbuf *wb, const void *p, size_t n) {
    if (n == 0)
        return;
    uint8_t *d = grow(wb, n);
    if (d)
        memcpy(d, p, n);
}

static inline size_t slice_len(kw_slice s) {
    return s.len > 0 ? (size_t)s.len : 0;
}

/* A string longer than the int16 length can say cannot be encoded: the buffer is marked
 * failed (wb->oom) rather than writing a frame the peer would misparse. */
void kw_write_string(kw_wbuf *wb, kw_slice s) {
    size_t n = slice_len(s);
    if (n > INT16_MAX) {
        wb->oom = true;
        return;
    }
    kw_write_i16(wb, (int16_t)n);
    kw_wbuf_append(wb, s.p, n);
}

void kw_write_nullable_string(kw_wbuf *wb, kw_slice s) {
    if (s.len < 0) {
        kw_write_i16(wb, -1);
        return;
    }
    kw_write_string(wb, s);
}

void kw_write_bytes(kw_wbuf *wb, kw_slice s) {
    size_t n = slice_len(s);
    kw_write_i32(wb, (int32_t)n);
    kw_wbuf_append(wb, s.p, n);
}

void kw_write_nullable_bytes(kw_wbuf *wb, kw_slice s) {
    if (s.len < 0) {
        kw_write_i32(wb, -1);
        return;
    }
    kw_write_bytes(wb, s);
}

void kw_write_compact_string(kw_wbuf *wb, kw_slice s) {
    if (s.len < 0) {
        kw_write_uvarint(wb, 0);
        return;
    }
    if (s.len > INT16_MAX) {
        wb->oom = true;
        return;
    }
    kw_write_uvarint(wb, (uint32_t)s.len + 1);
    kw_wbuf_append(wb, s.p, (size_t)s.len);
}

void kw_write_compact_bytes(kw_wbuf *wb, kw_slice s) {
    if (s.len < 0) {
        kw_write_uvarint(wb, 0);
        return;
    }
    kw_write_uvarint(wb, (uint32_t)s.len + 1);
    kw_wbuf_append(wb, s.p, (size_t)s.len);
}

void kw_write_array_len(kw_wbuf *wb, int32_t n) {
    kw_write_i32(wb, n < 0 ? -1 : n);
}

void kw_write_compact_array_len(kw_wbuf *wb, int32_t n) {
    kw_write_uvarint(wb, n < 0 ? 0u : (uint32_t)n + 1);
}

void kw_write_empty_tagged_fields(kw_wbuf *wb) {
    kw_write_uvarint(wb, 0);
}

void kw_wbuf_put_i32_at(kw_wbuf *wb, size_t offset, int32_t v) {
    if (wb->oom || offset > wb->len || wb->len - offset < 4) {
        assert(wb->oom && "kw_wbuf_put_i32_at outside the written bytes");
        return;
    }
    store_be32(wb->p + offset, (uint32_t)v);
}

size_t kw_varint_size(int32_t v) {
    return uleb_size(zigzag32(v));
}

size_t kw_varlong_size(int64_t v) {
    return uleb_size(zigzag64(v));
}

/* ------------------------------------------------------------------------------------------ */
/* Framing.                                                                                     */

int kw_frame_peek(const uint8_t *p, size_t avail, int32_t max_frame, int32_t *frame_len,
                  char *errbuf, size_t errsize) {
    if (avail < 4)
        return 0;
    int32_t n = (int32_t)load_be32(p);
    if (n < 0) {
        if (errbuf && errsize)
            snprintf(errbuf, errsize, "frame size %d is negative", n);
        return KW_ERR__MALFORMED;
    }
    if (n > max_frame) {
        if (errbuf && errsize)
            snprintf(errbuf, errsize, "frame size %d exceeds the maximum %d", n, max_frame);
        return KW_ERR__TOO_LARGE;
    }
    if (frame_len)
        *frame_len = n;
    return avail - 4 >= (size_t)n ? 1 : 0;
}

size_t kw_frame_begin(kw_wbuf *wb) {
    size_t start = wb->len;
    kw_write_i32(wb, 0);
    return start;
}

/* A frame larger than INT32_MAX cannot be sent: the buffer is marked failed. */
void kw_frame_end(kw_wbuf *wb, size_t start) {
    if (wb->oom)
        return;
    size_t n = wb->len - start - 4;
    if (n > INT32_MAX) {
        wb->oom = true;
        return;
    }
    kw_wbuf_put_i32_at(wb, start, (int32_t)n);
}

bool kw_grow(void *arr, int32_t n, int32_t *cap, size_t elem_size, int32_t first) {
    if (n < *cap)
        return true;
    if (*cap > INT32_MAX / 2)
        return false;
    int32_t nc = *cap ? *cap * 2 : first;
    void *old;
    memcpy(&old, arr, sizeof old);
    void *nv = realloc(old, (size_t)nc * elem_size);
    if (!nv)
        return false;
    memcpy(arr, &nv, sizeof nv);
    *cap = nc;
    return true;
}
