/* Shared body of the message fuzz targets (tests/fuzz/fuzz_<api>_<req|resp>.c).
 *
 * Input: the first byte picks the version within the API's range (lo + byte % count), the rest
 * is the body. The decoder runs on an exact-size heap copy with a fresh arena, so ASan sees any
 * over-read. On failure the error must be recorded with a message. On success the message is
 * re-encoded, that encoding must decode again, and re-encoding the second decode must give the
 * same bytes (decode∘encode is a fixpoint after one round; the first encoding may differ from
 * the input, e.g. a bool byte 7 comes back as 1). Any violation aborts.
 */
#ifndef COURIER_TESTS_FUZZ_MSG_H
#define COURIER_TESTS_FUZZ_MSG_H

#include "protocol/kw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MESSAGE(T, decode, encode, lo, hi)                                                    \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {                                 \
        if (size < 1)                                                                              \
            return 0;                                                                              \
        int16_t version = (int16_t)((lo) + data[0] % ((hi) - (lo) + 1));                           \
        size_t n = size - 1;                                                                       \
        uint8_t *copy = malloc(n ? n : 1);                                                         \
        if (!copy)                                                                                 \
            return 0;                                                                              \
        memcpy(copy, data + 1, n);                                                                 \
        kw_arena *a = kw_arena_new();                                                              \
        kw_rbuf rb;                                                                                \
        kw_rbuf_init(&rb, copy, n, "fuzz");                                                        \
        T m;                                                                                       \
        kw_err err = decode(&rb, version, a, &m);                                                  \
        if (err != rb.err)                                                                         \
            abort();                                                                               \
        if (err != KW_ERR_NONE) {                                                                  \
            if (rb.errmsg[0] == '\0')                                                              \
                abort();                                                                           \
        } else {                                                                                   \
            if (rb.pos != n)                                                                       \
                abort();                                                                           \
            kw_wbuf w1, w2;                                                                        \
            kw_wbuf_init(&w1);                                                                     \
            kw_wbuf_init(&w2);                                                                     \
            encode(&w1, version, &m);                                                              \
            if (w1.oom)                                                                            \
                abort();                                                                           \
            kw_arena *a2 = kw_arena_new();                                                         \
            kw_rbuf rb2;                                                                           \
            kw_rbuf_init(&rb2, w1.p, w1.len, "fuzz re-encoded");                                   \
            T m2;                                                                                  \
            if (decode(&rb2, version, a2, &m2) != KW_ERR_NONE) {                                   \
                fprintf(stderr, "re-encoded message does not decode: %s\n", rb2.errmsg);           \
                abort();                                                                           \
            }                                                                                      \
            encode(&w2, version, &m2);                                                             \
            if (w2.len != w1.len || (w1.len && memcmp(w1.p, w2.p, w1.len) != 0)) {                 \
                fprintf(stderr, "encode(decode(encode(m))) != encode(m)\n");                       \
                abort();                                                                           \
            }                                                                                      \
            kw_arena_destroy(a2);                                                                  \
            kw_wbuf_free(&w1);                                                                     \
            kw_wbuf_free(&w2);                                                                     \
        }                                                                                          \
        kw_arena_destroy(a);                                                                       \
        free(copy);                                                                                \
        return 0;                                                                                  \
    }

#endif /* COURIER_TESTS_FUZZ_MSG_H */
