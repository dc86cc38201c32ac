/* protocol/kw_bytes.h — private byte-level helpers shared by the buffer codec (kw_buf.c) and the
 * RecordBatch writer and parser (kw_batch.c): big-endian loads and stores, zigzag, and unsigned
 * LEB128 (Kafka's unsigned varint). Not part of the public contract (kw.h).
 *
 * Every function works on memory the caller has already checked is large enough. */
#ifndef COURIER_PROTOCOL_KW_BYTES_H
#define COURIER_PROTOCOL_KW_BYTES_H

#include <stddef.h>
#include <stdint.h>

static inline uint16_t load_be16(const uint8_t *p) {
    return (uint16_t)((unsigned)p[0] << 8 | (unsigned)p[1]);
}
static inline uint32_t load_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}
static inline uint64_t load_be64(const uint8_t *p) {
    return (uint64_t)load_be32(p) << 32 | (uint64_t)load_be32(p + 4);
}

static inline void store_be16(uint8_t *d, uint16_t v) {
    d[0] = (uint8_t)(v >> 8);
    d[1] = (uint8_t)v;
}
static inline void store_be32(uint8_t *d, uint32_t v) {
    d[0] = (uint8_t)(v >> 24);
    d[1] = (uint8_t)(v >> 16);
    d[2] = (uint8_t)(v >> 8);
    d[3] = (uint8_t)v;
}
static inline void store_be64(uint8_t *d, uint64_t v) {
    store_be32(d, (uint32_t)(v >> 32));
    store_be32(d + 4, (uint32_t)v);
}

/* Zigzag without shifting a negative number: 0, -1, 1, -2 ... → 0, 1, 2, 3 ... */
static inline uint32_t zigzag32(int32_t v) {
    return ((uint32_t)v << 1) ^ (v < 0 ? UINT32_MAX : 0u);
}
static inline uint64_t zigzag64(int64_t v) {
    return ((uint64_t)v << 1) ^ (v < 0 ? UINT64_MAX : 0u);
}

/* Bytes of u as unsigned LEB128: 1 to 10. */
static inline size_t uleb_size(uint64_t u) {
    size_t n = 1;
    while (u >= 0x80) {
        u >>= 7;
        n++;
    }
    return n;
}

/* Writes u as unsigned LEB128 at d (uleb_size(u) bytes); returns the end. */
static inline uint8_t *put_uleb(uint8_t *d, uint64_t u) {
    while (u >= 0x80) {
        *d++ = (uint8_t)(u | 0x80);
        u >>= 7;
    }
    *d++ = (uint8_t)u;
    return d;
}

#endif
