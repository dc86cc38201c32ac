/* protocol/kw_msg_util.h — private helpers shared by the message codecs (kw_msg_*.c).
 *
 * The forms a depot fills in share their grammar: a field path for error messages
 * ("Metadata.topics[2].partitions[0].isr_nodes"), array counts checked before allocating,
 * and the version gate every decoder starts with. Not part of the public contract (kw.h).
 */
#ifndef COURIER_PROTOCOL_KW_MSG_UTIL_H
#define COURIER_PROTOCOL_KW_MSG_UTIL_H

#include "protocol/kw_wire.h"

#include <string.h>

/* The dotted path of the field being read, built as the decoder descends. Pushing costs a
 * memcpy and a hand-formatted index, so paths are cheap enough to build on every read. */
typedef struct kw_path {
    char buf[200];
    size_t len;
} kw_path;

static inline void kw_path_init(kw_path *p, const char *root) {
    size_t n = strlen(root);
    if (n >= sizeof p->buf)
        n = sizeof p->buf - 1;
    memcpy(p->buf, root, n);
    p->buf[n] = '\0';
    p->len = n;
}

/* Writes ".name" (and "[index]" when index >= 0) at p->buf + at, truncating at the end of the
 * buffer; returns the new end. Formats by hand: this runs for every array element decoded. */
static inline size_t kw_path_put(kw_path *p, size_t at, const char *name, int32_t index) {
    char tmp[16];
    size_t end = sizeof p->buf - 1, k = 0;
    if (at < end)
        p->buf[at++] = '.';
    for (const char *c = name; *c && at < end; c++)
        p->buf[at++] = *c;
    if (index >= 0) {
        uint32_t v = (uint32_t)index;
        do {
            tmp[k++] = (char)('0' + v % 10);
            v /= 10;
        } while (v && k < sizeof tmp);
        if (at < end)
            p->buf[at++] = '[';
        while (k && at < end)
            p->buf[at++] = tmp[--k];
        if (at < end)
            p->buf[at++] = ']';
    }
    p->buf[at] = '\0';
    return at;
}

/* Appends `.name` (or `.name[index]` when index >= 0) and returns the previous length, to be
 * handed back to kw_path_pop(). Truncates silently when the path gets too long. */
static inline size_t kw_path_push(kw_path *p, const char *name, int32_t index) {
    size_t old = p->len;
    p->len = kw_path_put(p, p->len, name, index);
    return old;
}

static inline void kw_path_pop(kw_path *p, size_t old) {
    p->len = old;
    p->buf[old] = '\0';
}

/* The full name of a leaf field under the current path; valid until the next path call. */
static inline const char *kw_path_leaf(kw_path *p, const char *leaf) {
    kw_path_put(p, p->len, leaf, -1);
    return p->buf;
}

/* Same as kw_path_leaf, with an element index: `.leaf[index]`. */
static inline const char *kw_path_leaf_index(kw_path *p, const char *leaf, int32_t index) {
    kw_path_put(p, p->len, leaf, index);
    return p->buf;
}

/* The version gate every decoder opens with. Returns true when `version` is in [lo, hi];
 * otherwise records KW_ERR__UNSUPPORTED_API naming the API and the range. */
static inline bool kw_msg_version_ok(kw_rbuf *rb, const char *what, int16_t version, int16_t lo,
                                     int16_t hi) {
    if (version >= lo && version <= hi)
        return true;
    kw_rbuf_fail(rb, KW_ERR__UNSUPPORTED_API, "%s v%d is not supported (we speak v%d-v%d)", what,
                 (int)version, (int)lo, (int)hi);
    return false;
}

/* Reads the length of an array that the schema says is never null: a null (-1) count is
 * malformed. Returns the count (0 after an error). `flexible` selects the compact form. */
static inline int32_t kw_msg_read_count(kw_rbuf *rb, bool flexible, size_t min_elem_size,
                                        const char *field) {
    int32_t n = flexible ? kw_read_compact_array_len(rb, min_elem_size, field)
                         : kw_read_array_len(rb, min_elem_size, field);
    if (rb->err)
        return 0;
    if (n < 0) {
        kw_rbuf_fail(rb, KW_ERR__MALFORMED, "%s: null array in a non-nullable field", field);
        return 0;
    }
    return n;
}

/* Allocates n zeroed elements of `size` bytes from the arena. n == 0 gives NULL without an
 * error; a failed allocation records KW_ERR__NO_MEMORY naming the field. The count has already
 * been checked against the bytes left, so n * size is bounded by the frame size. */
static inline void *kw_msg_alloc(kw_rbuf *rb, kw_arena *a, int32_t n, size_t size,
                                 const char *field) {
    if (rb->err || n <= 0)
        return NULL;
    void *p = kw_arena_alloc(a, (size_t)n * size);
    if (!p)
        kw_rbuf_fail(rb, KW_ERR__NO_MEMORY, "%s: cannot allocate %d elements", field, (int)n);
    return p;
}

/* Reads the count of the non-nullable array `name` under path and allocates its elements
 * (kw_msg_read_count, then kw_msg_alloc). Returns the elements (NULL when empty or after an
 * error) and sets *n_out to the count, 0 after an error, so the caller's fill loop runs
 * `for (i = 0; i < *n_out && !rb->err; i++)`. */
static inline void *kw_msg_read_array(kw_rbuf *rb, kw_arena *a, bool flexible, size_t min_elem_size,
                                      size_t elem_size, kw_path *path, const char *name,
                                      int32_t *n_out) {
    const char *field = kw_path_leaf(path, name);
    int32_t n = kw_msg_read_count(rb, flexible, min_elem_size, field);
    void *v = kw_msg_alloc(rb, a, n, elem_size, field);
    *n_out = rb->err ? 0 : n;
    return v;
}

/* Reads an int32 array (non-nullable) into arena memory; `flexible` selects the compact count. */
static inline int32_t *kw_msg_read_i32_array(kw_rbuf *rb, kw_arena *a, bool flexible, kw_path *path,
                                             const char *name, int32_t *n_out) {
    int32_t *v = kw_msg_read_array(rb, a, flexible, 4, sizeof *v, path, name, n_out);
    for (int32_t i = 0; i < *n_out && !rb->err; i++)
        v[i] = kw_read_i32(rb, kw_path_leaf_index(path, name, i));
    return v;
}

/* Array count in the form the version uses: int32 (-1 = null), or compact uvarint N+1 (0 = null)
 * in flexible versions. */
static inline void kw_msg_write_len(kw_wbuf *wb, bool flexible, int32_t n) {
    if (flexible)
        kw_write_compact_array_len(wb, n);
    else
        kw_write_array_len(wb, n);
}

static inline void kw_msg_write_i32_array(kw_wbuf *wb, bool flexible, int32_t n, const int32_t *v) {
    if (n < 0)
        n = 0;
    kw_msg_write_len(wb, flexible, n);
    for (int32_t i = 0; i < n; i++)
        kw_write_i32(wb, v[i]);
}

/* ---- Flexible versions (KIP-482) --------------------------------------------------------- */
/* From an API's first flexible version on, strings, bytes and arrays are "compact" (uvarint
 * length + 1, 0 = null) and every struct, the message itself included, ends with a
 * tagged-field section. These helpers take the form from a `flexible` flag so each codec
 * keeps one field list for all its versions. */

/* A non-nullable string: int16 length, or compact. A null slice is written as "". */
static inline void kw_msg_write_str(kw_wbuf *wb, bool flexible, kw_slice s) {
    if (flexible)
        kw_write_compact_string(wb, s.len < 0 ? kw_slice_str("") : s);
    else
        kw_write_string(wb, s);
}

static inline void kw_msg_write_nstr(kw_wbuf *wb, bool flexible, kw_slice s) {
    if (flexible)
        kw_write_compact_string(wb, s);
    else
        kw_write_nullable_string(wb, s);
}

static inline void kw_msg_write_nbytes(kw_wbuf *wb, bool flexible, kw_slice s) {
    if (flexible)
        kw_write_compact_bytes(wb, s);
    else
        kw_write_nullable_bytes(wb, s);
}

/* The empty tagged-field section that ends a struct in flexible versions (nothing otherwise). */
static inline void kw_msg_write_tags(kw_wbuf *wb, bool flexible) {
    if (flexible)
        kw_write_empty_tagged_fields(wb);
}

static inline kw_slice kw_msg_read_nstr(kw_rbuf *rb, bool flexible, const char *field) {
    return flexible ? kw_read_compact_string(rb, field) : kw_read_nullable_string(rb, field);
}

/* A non-nullable string; a compact null (length 0) is malformed, as Java's generated readers
 * say ("non-nullable field ... was serialized as null"). */
static inline kw_slice kw_msg_read_str(kw_rbuf *rb, bool flexible, const char *field) {
    if (!flexible)
        return kw_read_string(rb, field);
    kw_slice s = kw_read_compact_string(rb, field);
    if (!rb->err && s.len < 0) {
        kw_rbuf_fail(rb, KW_ERR__MALFORMED, "%s: null in a non-nullable string", field);
        return (kw_slice){(const uint8_t *)"", 0};
    }
    return s;
}

static inline kw_slice kw_msg_read_nbytes(kw_rbuf *rb, bool flexible, const char *field) {
    return flexible ? kw_read_compact_bytes(rb, field) : kw_read_nullable_bytes(rb, field);
}

static inline void kw_msg_read_tags(kw_rbuf *rb, bool flexible, const char *field) {
    if (flexible)
        kw_read_tagged_fields(rb, field);
}

/* Reads a nullable array count (-1 = null) in the version's form. */
static inline int32_t kw_msg_read_nlen(kw_rbuf *rb, bool flexible, size_t min_elem_size,
                                       const char *field) {
    int32_t n = flexible ? kw_read_compact_array_len(rb, min_elem_size, field)
                         : kw_read_array_len(rb, min_elem_size, field);
    return rb->err ? 0 : n;
}

/* A reader of the tagged fields a struct keeps: handed every tag with `sub`, a buffer over exactly
 * that field's bytes; returns false for a tag it does not know (skipped, as Kafka skips unknown
 * tags), true after reading a known one (an error there, or bytes left over, fails the outer
 * buffer). */
typedef bool (*kw_msg_tag_fn)(kw_rbuf *sub, uint32_t tag, void *arg);

/* Reads a tagged-field section, handing each field to `fn`. Tags must ascend (Java's generated
 * readers reject a repeated tag). */
static inline void kw_msg_read_tags_with(kw_rbuf *rb, const char *field, kw_msg_tag_fn fn,
                                         void *arg) {
    uint32_t n = kw_read_uvarint(rb, field);
    if (rb->err)
        return;
    if ((size_t)n > kw_rbuf_remaining(rb) / 2) {
        kw_rbuf_fail(rb, KW_ERR__MALFORMED, "%s: %u tagged fields cannot fit in %zu bytes", field,
                     n, kw_rbuf_remaining(rb));
        return;
    }
    int64_t prev = -1;
    for (uint32_t i = 0; i < n && !rb->err; i++) {
        uint32_t tag = kw_read_uvarint(rb, field);
        uint32_t size = kw_read_uvarint(rb, field);
        if (rb->err)
            return;
        if ((int64_t)tag <= prev) {
            kw_rbuf_fail(rb, KW_ERR__MALFORMED, "%s: tag %u after tag %lld (tags must ascend)",
                         field, tag, (long long)prev);
            return;
        }
        prev = tag;
        kw_slice body = kw_read_raw(rb, size, field);
        if (rb->err)
            return;
        kw_rbuf sub;
        kw_rbuf_init(&sub, body.p, (size_t)size, NULL);
        if (!fn(&sub, tag, arg))
            continue;
        if (!sub.err && sub.pos != sub.len)
            kw_rbuf_fail(&sub, KW_ERR__MALFORMED, "%s: tag %u: %zu bytes left inside the field",
                         field, tag, sub.len - sub.pos);
        if (sub.err) {
            kw_rbuf_fail(rb, sub.err, "%s", sub.errmsg);
            return;
        }
    }
}

/* Writes one tagged field (tag, size, bytes) from a buffer that holds its value. */
static inline void kw_msg_write_tag(kw_wbuf *wb, uint32_t tag, const kw_wbuf *value) {
    kw_write_uvarint(wb, tag);
    kw_write_uvarint(wb, (uint32_t)value->len);
    kw_wbuf_append(wb, value->p, value->len);
    if (value->oom)
        wb->oom = true;
}

/* Encoders treat a negative count of a non-nullable array as empty. */
static inline int32_t kw_msg_count(int32_t n) {
    return n < 0 ? 0 : n;
}

#endif /* COURIER_PROTOCOL_KW_MSG_UTIL_H */
