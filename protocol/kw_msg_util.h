/* protocol/kw_msg_util.h — private helpers shared by the message codecs (kw_msg_*.c).
 *
 * The forms a depot fills in share their grammar: a field path for error messages
 * ("Metadata.topics[2].partitions[0].isr_nodes"), array counts checked before allocating,
 * and the version gate every decoder starts with. Not part of the public contract (kw.h).
 */
#ifndef COURIER_PROTOCOL_KW_MSG_UTIL_H
#define COURIER_PROTOCOL_KW_MSG_UTIL_H

#include "protocol/kw.h"

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

/* Reads an int32 array (non-nullable) into arena memory. */
static inline int32_t *kw_msg_read_i32_array(kw_rbuf *rb, kw_arena *a, kw_path *path,
                                             const char *name, int32_t *n_out) {
    int32_t *v = kw_msg_read_array(rb, a, false, 4, sizeof *v, path, name, n_out);
    for (int32_t i = 0; i < *n_out && !rb->err; i++)
        v[i] = kw_read_i32(rb, kw_path_leaf_index(path, name, i));
    return v;
}

static inline void kw_msg_write_i32_array(kw_wbuf *wb, int32_t n, const int32_t *v) {
    if (n < 0)
        n = 0;
    kw_write_array_len(wb, n);
    for (int32_t i = 0; i < n; i++)
        kw_write_i32(wb, v[i]);
}

/* Encoders treat a negative count of a non-nullable array as empty. */
static inline int32_t kw_msg_count(int32_t n) {
    return n < 0 ? 0 : n;
}

#endif /* COURIER_PROTOCOL_KW_MSG_UTIL_H */
