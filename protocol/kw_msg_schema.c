/* protocol/kw_msg_schema.c — one encoder and one decoder for every table-driven message
 * (kw_schema.h): the clerk who reads any form by its field list.
 */
#include "protocol/kw_msg_util.h"
#include "protocol/kw_schema.h"

#include <assert.h>
#include <string.h>

static bool has_field(const kw_field *f, int16_t v) {
    return v >= f->min_v && v <= f->max_v;
}

/* Smallest encoding of one element of s at version v (bounds array counts before allocating). */
static size_t min_size(const kw_schema *s, int16_t v, bool flex) {
    size_t n = flex ? 1u : 0u; /* tagged fields */
    for (size_t i = 0; i < s->n_fields; i++) {
        const kw_field *f = &s->fields[i];
        if (!has_field(f, v))
            continue;
        switch (f->type) {
        case KW_FT_I8:
        case KW_FT_BOOL:
            n += 1;
            break;
        case KW_FT_I16:
            n += 2;
            break;
        case KW_FT_I32:
            n += 4;
            break;
        case KW_FT_I64:
            n += 8;
            break;
        case KW_FT_STRING:
        case KW_FT_NSTRING:
            n += flex ? 1u : 2u;
            break;
        default: /* bytes and arrays */
            n += flex ? 1u : 4u;
            break;
        }
    }
    return n ? n : 1;
}

#define AT(base, off, T) ((T *)(void *)((uint8_t *)(base) + (off)))
#define CAT(base, off, T) ((const T *)(const void *)((const uint8_t *)(base) + (off)))

/* ---- scalars: one place knows each integer type's width, C type and wire form ---- */

static bool is_int(kw_ftype t) {
    return t == KW_FT_I8 || t == KW_FT_I16 || t == KW_FT_I32 || t == KW_FT_I64 || t == KW_FT_BOOL;
}

/* Stores v into the field's C type at p. */
static void store_int(kw_ftype t, void *p, int64_t v) {
    switch (t) {
    case KW_FT_I8:
        *(int8_t *)p = (int8_t)v;
        break;
    case KW_FT_I16:
        *(int16_t *)p = (int16_t)v;
        break;
    case KW_FT_I32:
        *(int32_t *)p = (int32_t)v;
        break;
    case KW_FT_I64:
        *(int64_t *)p = v;
        break;
    default: /* KW_FT_BOOL */
        *(bool *)p = v != 0;
        break;
    }
}

static int64_t load_int(kw_ftype t, const void *p) {
    switch (t) {
    case KW_FT_I8:
        return *(const int8_t *)p;
    case KW_FT_I16:
        return *(const int16_t *)p;
    case KW_FT_I32:
        return *(const int32_t *)p;
    case KW_FT_I64:
        return *(const int64_t *)p;
    default: /* KW_FT_BOOL */
        return *(const bool *)p;
    }
}

static int64_t read_int(kw_rbuf *rb, kw_ftype t, const char *field) {
    switch (t) {
    case KW_FT_I8:
        return kw_read_i8(rb, field);
    case KW_FT_I16:
        return kw_read_i16(rb, field);
    case KW_FT_I32:
        return kw_read_i32(rb, field);
    case KW_FT_I64:
        return kw_read_i64(rb, field);
    default: /* KW_FT_BOOL */
        return kw_read_bool(rb, field);
    }
}

static void write_int(kw_wbuf *wb, kw_ftype t, int64_t v) {
    switch (t) {
    case KW_FT_I8:
        kw_write_i8(wb, (int8_t)v);
        break;
    case KW_FT_I16:
        kw_write_i16(wb, (int16_t)v);
        break;
    case KW_FT_I32:
        kw_write_i32(wb, (int32_t)v);
        break;
    case KW_FT_I64:
        kw_write_i64(wb, v);
        break;
    default: /* KW_FT_BOOL */
        kw_write_bool(wb, v != 0);
        break;
    }
}

/* ---- decode ---- */

static int32_t read_count(kw_rbuf *rb, bool flex, bool nullable, size_t min_elem,
                          const char *field) {
    int32_t n = flex ? kw_read_compact_array_len(rb, min_elem, field)
                     : kw_read_array_len(rb, min_elem, field);
    if (rb->err)
        return 0;
    if (n < 0 && !nullable) {
        kw_rbuf_fail(rb, KW_ERR__MALFORMED, "%s: null array in a non-nullable field", field);
        return 0;
    }
    return n;
}

/* A string (or, with bytes, a byte field): compact when flexible; null only where nullable. */
static kw_slice read_slice(kw_rbuf *rb, bool flex, bool bytes, bool nullable, const char *field) {
    kw_slice s =
        bytes ? (flex ? kw_read_compact_bytes(rb, field) : kw_read_nullable_bytes(rb, field))
              : (flex ? kw_read_compact_string(rb, field) : kw_read_nullable_string(rb, field));
    if (!rb->err && s.len < 0 && !nullable)
        kw_rbuf_fail(rb, KW_ERR__MALFORMED, "%s: null in %s", field,
                     bytes ? "non-nullable bytes" : "a non-nullable string");
    return s;
}

static void decode_struct(kw_rbuf *rb, int16_t v, bool flex, kw_arena *a, const kw_schema *s,
                          void *base, kw_path *path);

static void set_default(const kw_field *f, void *base) {
    if (is_int(f->type)) {
        store_int(f->type, AT(base, f->off, void), f->dflt);
        return;
    }
    switch (f->type) {
    case KW_FT_STRING:
    case KW_FT_BYTES:
        *AT(base, f->off, kw_slice) = kw_slice_str("");
        break;
    case KW_FT_NSTRING:
    case KW_FT_NBYTES:
        *AT(base, f->off, kw_slice) = KW_SLICE_NULL;
        break;
    case KW_FT_NSTRUCTS:
    case KW_FT_NSTRINGS:
        *AT(base, f->count_off, int32_t) = (int32_t)f->dflt;
        break;
    default:
        break; /* arrays: zeroed */
    }
}

static void decode_array(kw_rbuf *rb, int16_t v, bool flex, kw_arena *a, const kw_field *f,
                         void *base, kw_path *path) {
    const char *leaf = kw_path_leaf(path, f->name);
    bool nullable = f->type == KW_FT_NSTRUCTS || f->type == KW_FT_NSTRINGS;
    size_t esize, emin;
    if (f->type == KW_FT_STRUCTS || f->type == KW_FT_NSTRUCTS) {
        esize = f->elem->size;
        emin = min_size(f->elem, v, flex);
    } else if (f->type == KW_FT_I32S) {
        esize = sizeof(int32_t);
        emin = 4;
    } else {
        esize = sizeof(kw_slice);
        emin = flex ? 1 : 2;
    }
    int32_t n = read_count(rb, flex, nullable, emin, leaf);
    *AT(base, f->count_off, int32_t) = rb->err ? 0 : n;
    if (rb->err || n <= 0)
        return;
    void *arr = kw_msg_alloc(rb, a, n, esize, leaf);
    *AT(base, f->off, void *) = arr;
    if (!arr) {
        *AT(base, f->count_off, int32_t) = 0;
        return;
    }
    for (int32_t i = 0; i < n && !rb->err; i++) {
        void *el = (uint8_t *)arr + (size_t)i * esize;
        if (f->type == KW_FT_I32S) {
            *(int32_t *)el = kw_read_i32(rb, kw_path_leaf_index(path, f->name, i));
        } else if (f->type == KW_FT_STRINGS || f->type == KW_FT_NSTRINGS) {
            *(kw_slice *)el =
                read_slice(rb, flex, false, false, kw_path_leaf_index(path, f->name, i));
        } else {
            size_t mark = kw_path_push(path, f->name, i);
            decode_struct(rb, v, flex, a, f->elem, el, path);
            kw_path_pop(path, mark);
        }
    }
    if (rb->err)
        *AT(base, f->count_off, int32_t) = 0;
}

static void decode_struct(kw_rbuf *rb, int16_t v, bool flex, kw_arena *a, const kw_schema *s,
                          void *base, kw_path *path) {
    for (size_t i = 0; i < s->n_fields; i++) {
        const kw_field *f = &s->fields[i];
        if (!has_field(f, v)) {
            set_default(f, base);
            continue;
        }
        if (rb->err)
            return;
        const char *leaf = kw_path_leaf(path, f->name);
        switch (f->type) {
        case KW_FT_STRING:
        case KW_FT_NSTRING:
        case KW_FT_BYTES:
        case KW_FT_NBYTES:
            *AT(base, f->off, kw_slice) =
                read_slice(rb, flex, f->type == KW_FT_BYTES || f->type == KW_FT_NBYTES,
                           f->type == KW_FT_NSTRING || f->type == KW_FT_NBYTES, leaf);
            break;
        default:
            if (is_int(f->type))
                store_int(f->type, AT(base, f->off, void), read_int(rb, f->type, leaf));
            else
                decode_array(rb, v, flex, a, f, base, path);
            break;
        }
    }
    if (flex && !rb->err)
        kw_read_tagged_fields(rb, kw_path_leaf(path, "_tagged_fields"));
}

kw_err kw_schema_decode(kw_rbuf *rb, int16_t version, kw_arena *a, const kw_msg_def *d,
                        void *msg) {
    memset(msg, 0, d->schema->size);
    kw_path path;
    kw_path_init(&path, d->name);
    /* defaults first, so a failed decode still leaves a well-formed struct */
    for (size_t i = 0; i < d->schema->n_fields; i++)
        set_default(&d->schema->fields[i], msg);
    if (rb->err)
        return rb->err;
    if (!kw_msg_version_ok(rb, d->name, version, d->min_v, d->max_v))
        return rb->err;
    /* the path root is the API name: "JoinGroup request" → "JoinGroup" */
    const char *sp = strchr(d->name, ' ');
    size_t n = sp ? (size_t)(sp - d->name) : strlen(d->name);
    char root[64];
    if (n >= sizeof root)
        n = sizeof root - 1;
    memcpy(root, d->name, n);
    root[n] = '\0';
    kw_path_init(&path, root);
    decode_struct(rb, version, version >= d->flex_v, a, d->schema, msg, &path);
    kw_read_expect_end(rb, d->name);
    return rb->err;
}

/* ---- encode ---- */

/* A string (or, with bytes, a byte field): compact when flexible; a null where the field is
 * not nullable is written empty. */
static void write_slice(kw_wbuf *wb, bool flex, bool bytes, bool nullable, kw_slice s) {
    if (!nullable && s.len < 0)
        s = kw_slice_str("");
    if (flex)
        (bytes ? kw_write_compact_bytes : kw_write_compact_string)(wb, s);
    else if (nullable)
        (bytes ? kw_write_nullable_bytes : kw_write_nullable_string)(wb, s);
    else
        (bytes ? kw_write_bytes : kw_write_string)(wb, s);
}

static void encode_struct(kw_wbuf *wb, int16_t v, bool flex, const kw_schema *s,
                          const void *base);

static void encode_array(kw_wbuf *wb, int16_t v, bool flex, const kw_field *f, const void *base) {
    bool nullable = f->type == KW_FT_NSTRUCTS || f->type == KW_FT_NSTRINGS;
    int32_t n = *CAT(base, f->count_off, int32_t);
    const void *arr = *CAT(base, f->off, void *);
    if (n < 0 && !nullable)
        n = 0;
    if (n > 0 && !arr)
        n = 0;
    if (flex)
        kw_write_compact_array_len(wb, n);
    else
        kw_write_array_len(wb, n);
    for (int32_t i = 0; i < n; i++) {
        if (f->type == KW_FT_I32S) {
            kw_write_i32(wb, ((const int32_t *)arr)[i]);
        } else if (f->type == KW_FT_STRINGS || f->type == KW_FT_NSTRINGS) {
            write_slice(wb, flex, false, false, ((const kw_slice *)arr)[i]);
        } else {
            encode_struct(wb, v, flex, f->elem,
                          (const uint8_t *)arr + (size_t)i * f->elem->size);
        }
    }
}

static void encode_struct(kw_wbuf *wb, int16_t v, bool flex, const kw_schema *s,
                          const void *base) {
    for (size_t i = 0; i < s->n_fields; i++) {
        const kw_field *f = &s->fields[i];
        if (!has_field(f, v))
            continue;
        switch (f->type) {
        case KW_FT_STRING:
        case KW_FT_NSTRING:
        case KW_FT_BYTES:
        case KW_FT_NBYTES:
            write_slice(wb, flex, f->type == KW_FT_BYTES || f->type == KW_FT_NBYTES,
                        f->type == KW_FT_NSTRING || f->type == KW_FT_NBYTES,
                        *CAT(base, f->off, kw_slice));
            break;
        default:
            if (is_int(f->type))
                write_int(wb, f->type, load_int(f->type, CAT(base, f->off, void)));
            else
                encode_array(wb, v, flex, f, base);
            break;
        }
    }
    if (flex)
        kw_write_empty_tagged_fields(wb);
}

void kw_schema_encode(kw_wbuf *wb, int16_t version, const kw_msg_def *d, const void *msg) {
    assert(version >= d->min_v && version <= d->max_v);
    encode_struct(wb, version, version >= d->flex_v, d->schema, msg);
}
