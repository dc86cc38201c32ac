/* protocol/kw_wire.h — the Kafka field primitives (private to protocol/): the clerks' pens.
 *
 * Readers and writers of the wire's scalar and length-prefixed types (int8..int64, varints,
 * strings, bytes, array lengths, tagged fields), as Kafka's Readable/Writable do. The message
 * codecs (kw_msg_*.c, kw_schema.h, kw_consumer.c), the RecordBatch code and the framing are
 * written with them. Other rooms never write a field by hand: they encode and decode whole
 * messages and headers through protocol/kw.h (kw_<message>_encode/decode, kw_frame_request,
 * kw_produce_req_acks...). Only the .c files of protocol/ and the tests and fuzz targets that
 * build frames by hand include this header (docs/architecture.md lists the private headers).
 */
#ifndef COURIER_PROTOCOL_KW_WIRE_H
#define COURIER_PROTOCOL_KW_WIRE_H

#include "protocol/kw.h"

/* Readers: `field` names the field for error messages. On error (or after one) they return 0,
 * a null slice or false, and leave rb->err set. */
int8_t kw_read_i8(kw_rbuf *rb, const char *field);
int16_t kw_read_i16(kw_rbuf *rb, const char *field);
int32_t kw_read_i32(kw_rbuf *rb, const char *field);
int64_t kw_read_i64(kw_rbuf *rb, const char *field);
uint32_t kw_read_u32(kw_rbuf *rb, const char *field);
bool kw_read_bool(kw_rbuf *rb, const char *field);
int32_t kw_read_varint(kw_rbuf *rb, const char *field);           /* zigzag */
int64_t kw_read_varlong(kw_rbuf *rb, const char *field);          /* zigzag */
uint32_t kw_read_uvarint(kw_rbuf *rb, const char *field);         /* unsigned varint */
kw_slice kw_read_string(kw_rbuf *rb, const char *field);          /* int16 length, non-null */
kw_slice kw_read_nullable_string(kw_rbuf *rb, const char *field); /* int16 length, -1 = null */
kw_slice kw_read_bytes(kw_rbuf *rb, const char *field);           /* int32 length, non-null */
kw_slice kw_read_nullable_bytes(kw_rbuf *rb, const char *field);  /* int32 length, -1 = null */
kw_slice kw_read_compact_string(kw_rbuf *rb, const char *field);  /* uvarint len+1 (0 = null) */
kw_slice kw_read_compact_bytes(kw_rbuf *rb, const char *field);   /* uvarint len+1 (0 = null) */
/* Raw n bytes. */
kw_slice kw_read_raw(kw_rbuf *rb, size_t n, const char *field);
/* Array length (int32; -1 = null returned as -1). Fails when count * min_elem_size exceeds
 * the bytes left. */
int32_t kw_read_array_len(kw_rbuf *rb, size_t min_elem_size, const char *field);
/* Compact array length (uvarint N+1; 0 = null returned as -1), same check. */
int32_t kw_read_compact_array_len(kw_rbuf *rb, size_t min_elem_size, const char *field);
/* Reads a tagged-field section and skips every tag (we define none we keep). */
void kw_read_tagged_fields(kw_rbuf *rb, const char *field);
/* Fails with KW_ERR__MALFORMED if bytes are left over ("trailing bytes after <what>"). */
void kw_read_expect_end(kw_rbuf *rb, const char *what);

void kw_write_i8(kw_wbuf *wb, int8_t v);
void kw_write_i16(kw_wbuf *wb, int16_t v);
void kw_write_i32(kw_wbuf *wb, int32_t v);
void kw_write_i64(kw_wbuf *wb, int64_t v);
void kw_write_u32(kw_wbuf *wb, uint32_t v);
void kw_write_bool(kw_wbuf *wb, bool v);
void kw_write_varint(kw_wbuf *wb, int32_t v);
void kw_write_varlong(kw_wbuf *wb, int64_t v);
void kw_write_uvarint(kw_wbuf *wb, uint32_t v);
void kw_write_string(kw_wbuf *wb, kw_slice s); /* null slice written as "" */
void kw_write_nullable_string(kw_wbuf *wb, kw_slice s);
void kw_write_bytes(kw_wbuf *wb, kw_slice s);
void kw_write_nullable_bytes(kw_wbuf *wb, kw_slice s);
void kw_write_compact_string(kw_wbuf *wb, kw_slice s); /* null slice → 0 */
void kw_write_compact_bytes(kw_wbuf *wb, kw_slice s);
void kw_write_array_len(kw_wbuf *wb, int32_t n);         /* -1 = null */
void kw_write_compact_array_len(kw_wbuf *wb, int32_t n); /* -1 = null */
void kw_write_empty_tagged_fields(kw_wbuf *wb);
/* Overwrites a big-endian int32 at offset (for size prefixes and batch lengths). */
void kw_wbuf_put_i32_at(kw_wbuf *wb, size_t offset, int32_t v);

/* Size of the zigzag varint encoding of v (for batch size estimates). */
size_t kw_varint_size(int32_t v);
size_t kw_varlong_size(int64_t v);

#endif /* COURIER_PROTOCOL_KW_WIRE_H */
