/* protocol/kw_schema.h — table-driven codecs (private to protocol/).
 *
 * Kafka describes every message as a list of fields, each present in a range of versions
 * (clients/src/main/resources/common/message/, one JSON file per message). The group and admin messages are written
 * the same way here: a kw_schema lists a struct's fields with their C offsets, and one encoder
 * and one decoder walk any schema at any version. Flexible versions (>= flex_v) use compact
 * strings, bytes and arrays and a tagged-field section after every struct (skipped on read,
 * empty on write), as Kafka's generated code does.
 */
#ifndef COURIER_PROTOCOL_KW_SCHEMA_H
#define COURIER_PROTOCOL_KW_SCHEMA_H

#include "protocol/kw_wire.h"

#include <stddef.h>

typedef enum kw_ftype {
    KW_FT_I8,
    KW_FT_I16,
    KW_FT_I32,
    KW_FT_I64,
    KW_FT_BOOL,
    KW_FT_STRING,   /* kw_slice, never null */
    KW_FT_NSTRING,  /* kw_slice, nullable */
    KW_FT_BYTES,    /* kw_slice, never null */
    KW_FT_NBYTES,   /* kw_slice, nullable */
    KW_FT_STRUCTS,  /* array of elem structs: pointer at off, int32 count at count_off */
    KW_FT_NSTRUCTS, /* nullable array of structs (count -1 = null) */
    KW_FT_I32S,     /* array of int32 */
    KW_FT_STRINGS,  /* array of strings (kw_slice) */
    KW_FT_NSTRINGS, /* nullable array of strings */
} kw_ftype;

typedef struct kw_schema kw_schema;

typedef struct kw_field {
    const char *name;
    kw_ftype type;
    size_t off;       /* the value, or the array pointer */
    size_t count_off; /* arrays: the int32 count */
    const kw_schema *elem;
    int16_t min_v, max_v; /* versions that carry the field */
    int64_t dflt;         /* integers: the value when the version lacks the field */
} kw_field;

struct kw_schema {
    size_t size; /* sizeof the C struct */
    size_t n_fields;
    const kw_field *fields;
};

typedef struct kw_msg_def {
    const char *name; /* "JoinGroup request" */
    int16_t min_v, max_v;
    int16_t flex_v; /* first flexible version (may be above max_v) */
    const kw_schema *schema;
} kw_msg_def;

#define KW_V_ALL 0, INT16_MAX
/* A scalar or string field of struct ST; the rest is: lo, hi (or KW_V_ALL), default. */
#define KW_F(ST, fld, type, ...) {#fld, type, offsetof(ST, fld), 0, NULL, __VA_ARGS__}
/* An array field: pointer `fld`, count `cnt`, element schema (or NULL); the rest: lo, hi. */
#define KW_A(ST, name, fld, cnt, type, elem, ...)                                                  \
    {name, type, offsetof(ST, fld), offsetof(ST, cnt), elem, __VA_ARGS__, 0}
#define KW_SCHEMA(var, ST, ...)                                                                    \
    static const kw_field var##_fields[] = {__VA_ARGS__};                                          \
    static const kw_schema var = {sizeof(ST), sizeof var##_fields / sizeof var##_fields[0],        \
                                  var##_fields}

void kw_schema_encode(kw_wbuf *wb, int16_t version, const kw_msg_def *d, const void *msg);
/* Zeroes msg, then decodes the whole body. Returns rb->err. */
kw_err kw_schema_decode(kw_rbuf *rb, int16_t version, kw_arena *a, const kw_msg_def *d, void *msg);

/* One message: its def (the label names it in errors: "JoinGroup request"; versions min..max,
 * flexible from flex) over `schema`, and kw_<name>_encode/decode for struct T. */
#define KW_SCHEMA_MSG(name, T, label, min, max, flex, schema)                                      \
    static const kw_msg_def d_##name = {label, min, max, flex, &(schema)};                         \
    void kw_##name##_encode(kw_wbuf *wb, int16_t version, const T *m) {                            \
        kw_schema_encode(wb, version, &d_##name, m);                                               \
    }                                                                                              \
    kw_err kw_##name##_decode(kw_rbuf *rb, int16_t version, kw_arena *a, T *m) {                   \
        return kw_schema_decode(rb, version, a, &d_##name, m);                                     \
    }

#endif /* COURIER_PROTOCOL_KW_SCHEMA_H */
