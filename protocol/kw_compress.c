/* protocol/kw_compress.c — the packing machine: the four codecs a RecordBatch v2 may carry in
 * attributes bits 0-2 (1 gzip, 2 snappy, 3 lz4, 4 zstd), in the byte formats Kafka's Java
 * client writes (Kafka's Compression classes, clients/src/main/java/.../common/compress/):
 *
 * - gzip: one gzip member (RFC 1952), as java.util.zip.GZIPOutputStream; read with zlib, any
 *   number of members.
 * - snappy: the xerial framing SnappyOutputStream writes: an 8-byte magic (0x82 "SNAPPY" 0),
 *   version 1, compatible version 1 (two big-endian int32), then blocks of up to 32 KiB, each
 *   a big-endian int32 length and a raw snappy block. A payload without the magic is read as
 *   one raw snappy block, as xerial's SnappyInputStream and librdkafka do.
 * - lz4: the LZ4 frame format as KafkaLZ4BlockOutputStream writes it since KIP-57: 64 KiB
 *   blocks, independent, no block or content checksum, no content size (FLG 0x60, BD 0x40),
 *   written and read with liblz4's frame API. Java's default compression.lz4.level is 9, which
 *   Java compresses with lz4's fast compressor; other levels use LZ4 HC.
 * - zstd: standard zstd frames (zstd-jni's ZstdOutputStream), read in streaming mode since
 *   the content size is not always in the frame header.
 *
 * Every decompressor stops at a caller-given bound on the decompressed size: a few KB of
 * zstd can claim gigabytes (a decompression bomb), and a broker must say no, not run out of
 * memory. No I/O and no threads here.
 */
#include "protocol/kw.h"

#include <lz4frame.h>
#include <snappy-c.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#define SNAPPY_BLOCK 32768u /* xerial SnappyOutputStream's default block size, as Java uses */
#define XERIAL_HEADER_SIZE 16u

static const uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};

static const char *const codec_names[] = {"none", "gzip", "snappy", "lz4", "zstd"};

const char *kw_codec_name(int codec) {
    if (codec >= 0 && codec < (int)(sizeof codec_names / sizeof codec_names[0]))
        return codec_names[codec];
    return "unknown";
}

bool kw_codec_from_name(const char *name, kw_codec *out) {
    for (int i = 0; name && i < (int)(sizeof codec_names / sizeof codec_names[0]); i++)
        if (strcmp(name, codec_names[i]) == 0) {
            if (out)
                *out = (kw_codec)i;
            return true;
        }
    return false;
}

static kw_err cfail(char *errbuf, size_t errsize, kw_err err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static kw_err cfail(char *errbuf, size_t errsize, kw_err err, const char *fmt, ...) {
    if (errbuf && errsize) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, errsize, fmt, ap);
        va_end(ap);
    }
    return err;
}

static void put_be32(uint8_t *d, uint32_t v) {
    d[0] = (uint8_t)(v >> 24);
    d[1] = (uint8_t)(v >> 16);
    d[2] = (uint8_t)(v >> 8);
    d[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *s) {
    return (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 | (uint32_t)s[2] << 8 | (uint32_t)s[3];
}

static LZ4F_preferences_t lz4_prefs(int level) {
    LZ4F_preferences_t p;
    memset(&p, 0, sizeof p);
    p.frameInfo.blockSizeID = LZ4F_max64KB;
    p.frameInfo.blockMode = LZ4F_blockIndependent;
    p.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
    p.frameInfo.blockChecksumFlag = LZ4F_noBlockChecksum;
    p.frameInfo.frameType = LZ4F_frame;
    p.compressionLevel = level;
    return p;
}

size_t kw_compress_bound(kw_codec c, size_t n) {
    switch (c) {
    case KW_CODEC_NONE:
        return n;
    case KW_CODEC_GZIP:
        /* zlib's deflateBound for the zlib wrapper plus the larger gzip header/trailer. */
        return (size_t)compressBound((uLong)n) + 32;
    case KW_CODEC_SNAPPY: {
        size_t blocks = n / SNAPPY_BLOCK + 1;
        return XERIAL_HEADER_SIZE + blocks * (4 + snappy_max_compressed_length(SNAPPY_BLOCK));
    }
    case KW_CODEC_LZ4: {
        LZ4F_preferences_t p = lz4_prefs(0);
        return LZ4F_compressFrameBound(n, &p);
    }
    case KW_CODEC_ZSTD:
        return ZSTD_compressBound(n);
    }
    return 0;
}

static kw_err gzip_compress(int level, const uint8_t *src, size_t n, uint8_t *dst, size_t cap,
                            size_t *out_len, char *errbuf, size_t errsize) {
    z_stream z;
    memset(&z, 0, sizeof z);
    /* windowBits 15 + 16: a gzip header and trailer, as GZIPOutputStream; memLevel 8 is
     * zlib's default. Level -1 is Z_DEFAULT_COMPRESSION (6), Java's Deflater default too. */
    if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return cfail(errbuf, errsize, KW_ERR__INVALID_ARG, "gzip: cannot start at level %d", level);
    if (n > UINT32_MAX || cap > UINT32_MAX) {
        deflateEnd(&z);
        return cfail(errbuf, errsize, KW_ERR__TOO_LARGE, "gzip: %zu bytes is too large", n);
    }
    z.next_in = (Bytef *)(uintptr_t)src;
    z.avail_in = (uInt)n;
    z.next_out = dst;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t done = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END)
        return cfail(errbuf, errsize, KW_ERR__NO_SPACE,
                     "gzip: output does not fit in %zu bytes (zlib %d)", cap, rc);
    *out_len = done;
    return KW_ERR_NONE;
}

static kw_err snappy_xerial_compress(const uint8_t *src, size_t n, uint8_t *dst, size_t cap,
                                     size_t *out_len, char *errbuf, size_t errsize) {
    if (cap < XERIAL_HEADER_SIZE)
        return cfail(errbuf, errsize, KW_ERR__NO_SPACE, "snappy: no room for the header");
    memcpy(dst, xerial_magic, sizeof xerial_magic);
    put_be32(dst + 8, 1);  /* version */
    put_be32(dst + 12, 1); /* compatible version */
    size_t pos = XERIAL_HEADER_SIZE;
    for (size_t off = 0; off < n; off += SNAPPY_BLOCK) {
        size_t chunk = n - off < SNAPPY_BLOCK ? n - off : SNAPPY_BLOCK;
        if (cap - pos < 4 + snappy_max_compressed_length(chunk))
            return cfail(errbuf, errsize, KW_ERR__NO_SPACE,
                         "snappy: output does not fit in %zu bytes", cap);
        size_t clen = cap - pos - 4;
        if (snappy_compress((const char *)src + off, chunk, (char *)dst + pos + 4, &clen) !=
            SNAPPY_OK)
            return cfail(errbuf, errsize, KW_ERR__MALFORMED, "snappy: compression failed");
        put_be32(dst + pos, (uint32_t)clen);
        pos += 4 + clen;
    }
    *out_len = pos;
    return KW_ERR_NONE;
}

kw_err kw_compress(kw_codec c, int level, const uint8_t *src, size_t n, uint8_t *dst, size_t cap,
                   size_t *out_len, char *errbuf, size_t errsize) {
    *out_len = 0;
    switch (c) {
    case KW_CODEC_NONE:
        if (n > cap)
            return cfail(errbuf, errsize, KW_ERR__NO_SPACE, "none: %zu bytes do not fit in %zu", n,
                         cap);
        if (n)
            memcpy(dst, src, n);
        *out_len = n;
        return KW_ERR_NONE;
    case KW_CODEC_GZIP:
        return gzip_compress(level, src, n, dst, cap, out_len, errbuf, errsize);
    case KW_CODEC_SNAPPY:
        return snappy_xerial_compress(src, n, dst, cap, out_len, errbuf, errsize);
    case KW_CODEC_LZ4: {
        /* As Java's Lz4BlockOutputStream: the default level (9) uses lz4's fast compressor
         * ("for backward compatibility"), any other level the high-compression one (LZ4 HC;
         * liblz4 runs levels 1-2 in fast mode too). */
        LZ4F_preferences_t p = lz4_prefs(level == 9 ? 0 : level);
        size_t r = LZ4F_compressFrame(dst, cap, src, n, &p);
        if (LZ4F_isError(r))
            return cfail(errbuf, errsize, KW_ERR__NO_SPACE, "lz4: %s", LZ4F_getErrorName(r));
        *out_len = r;
        return KW_ERR_NONE;
    }
    case KW_CODEC_ZSTD: {
        size_t r = ZSTD_compress(dst, cap, src, n, level);
        if (ZSTD_isError(r))
            return cfail(errbuf, errsize, KW_ERR__NO_SPACE, "zstd: %s", ZSTD_getErrorName(r));
        *out_len = r;
        return KW_ERR_NONE;
    }
    }
    return cfail(errbuf, errsize, KW_ERR_UNSUPPORTED_COMPRESSION_TYPE,
                 "compression type %d is not one of none, gzip, snappy, lz4, zstd", (int)c);
}

/* ------------------------------------------------------------------------------------------ */
/* Decompression into a growing buffer that never passes the bound.                            */

typedef struct outbuf {
    uint8_t *p;
    size_t len, cap, max;
} outbuf;

static kw_err bomb(const char *codec, size_t max, size_t n, char *errbuf, size_t errsize) {
    return cfail(errbuf, errsize, KW_ERR__TOO_LARGE,
                 "%s: %zu compressed bytes expand past the bound of %zu decompressed bytes "
                 "(a decompression bomb?)",
                 codec, n, max);
}

/* Makes at least one byte of room, doubling up to max; false when out of memory or at max
 * (full is then set). */
static bool out_grow(outbuf *o, bool *full) {
    *full = false;
    if (o->len < o->cap)
        return true;
    if (o->cap >= o->max) {
        *full = true;
        return false;
    }
    size_t nc = o->cap ? o->cap * 2 : 4096;
    if (nc > o->max || nc < o->cap)
        nc = o->max;
    uint8_t *np = realloc(o->p, nc ? nc : 1);
    if (!np)
        return false;
    o->p = np;
    o->cap = nc;
    return true;
}

static kw_err gzip_decompress(const uint8_t *src, size_t n, outbuf *o, char *errbuf,
                              size_t errsize) {
    if (n > UINT32_MAX)
        return cfail(errbuf, errsize, KW_ERR__TOO_LARGE, "gzip: %zu bytes is too large", n);
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 16) != Z_OK)
        return cfail(errbuf, errsize, KW_ERR__NO_MEMORY, "gzip: cannot start zlib");
    z.next_in = (Bytef *)(uintptr_t)src;
    z.avail_in = (uInt)n;
    kw_err err = KW_ERR_NONE;
    for (;;) {
        bool full;
        if (!out_grow(o, &full)) {
            err = full ? bomb("gzip", o->max, n, errbuf, errsize)
                       : cfail(errbuf, errsize, KW_ERR__NO_MEMORY, "gzip: out of memory");
            break;
        }
        size_t room = o->cap - o->len;
        z.next_out = o->p + o->len;
        z.avail_out = room > UINT32_MAX ? UINT32_MAX : (uInt)room;
        uInt before = z.avail_out;
        int rc = inflate(&z, Z_NO_FLUSH);
        o->len += before - z.avail_out;
        if (rc == Z_STREAM_END) {
            if (z.avail_in == 0)
                break;
            if (inflateReset(&z) != Z_OK) { /* another gzip member follows */
                err = cfail(errbuf, errsize, KW_ERR__MALFORMED, "gzip: cannot reset");
                break;
            }
            continue;
        }
        if (rc == Z_BUF_ERROR && z.avail_in == 0) {
            err = cfail(errbuf, errsize, KW_ERR__TRUNCATED,
                        "gzip: the stream ends early (%zu bytes in, %zu out)", n, o->len);
            break;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            err = cfail(errbuf, errsize, KW_ERR__MALFORMED, "gzip: corrupt data at byte %lu: %s",
                        z.total_in, z.msg ? z.msg : "invalid stream");
            break;
        }
    }
    inflateEnd(&z);
    return err;
}

/* One raw snappy block, appended to o. */
static kw_err snappy_block(const uint8_t *src, size_t n, outbuf *o, size_t whole, const char *where,
                           char *errbuf, size_t errsize) {
    size_t ulen;
    if (snappy_uncompressed_length((const char *)src, n, &ulen) != SNAPPY_OK)
        return cfail(errbuf, errsize, KW_ERR__MALFORMED, "snappy: %s: bad length preamble", where);
    if (ulen > o->max - o->len)
        return bomb("snappy", o->max, whole, errbuf, errsize);
    if (o->cap - o->len < ulen) {
        size_t nc = o->len + ulen;
        uint8_t *np = realloc(o->p, nc ? nc : 1);
        if (!np)
            return cfail(errbuf, errsize, KW_ERR__NO_MEMORY, "snappy: out of memory");
        o->p = np;
        o->cap = nc;
    }
    size_t got = ulen;
    if (snappy_uncompress((const char *)src, n, (char *)o->p + o->len, &got) != SNAPPY_OK ||
        got != ulen)
        return cfail(errbuf, errsize, KW_ERR__MALFORMED, "snappy: %s: corrupt block", where);
    o->len += got;
    return KW_ERR_NONE;
}

static kw_err snappy_decompress(const uint8_t *src, size_t n, outbuf *o, char *errbuf,
                                size_t errsize) {
    if (n < sizeof xerial_magic || memcmp(src, xerial_magic, sizeof xerial_magic) != 0)
        return snappy_block(src, n, o, n, "raw block", errbuf, errsize);
    if (n < XERIAL_HEADER_SIZE)
        return cfail(errbuf, errsize, KW_ERR__TRUNCATED,
                     "snappy: xerial header truncated (%zu of 16 bytes)", n);
    size_t pos = XERIAL_HEADER_SIZE;
    for (int i = 0; pos < n; i++) {
        if (n - pos < 4)
            return cfail(errbuf, errsize, KW_ERR__TRUNCATED,
                         "snappy: xerial block %d: truncated length at byte %zu", i, pos);
        uint32_t clen = get_be32(src + pos);
        pos += 4;
        if (clen > n - pos)
            return cfail(errbuf, errsize, KW_ERR__TRUNCATED,
                         "snappy: xerial block %d: length %u but %zu bytes left", i, clen, n - pos);
        char where[40];
        snprintf(where, sizeof where, "xerial block %d", i);
        kw_err e = snappy_block(src + pos, clen, o, n, where, errbuf, errsize);
        if (e != KW_ERR_NONE)
            return e;
        pos += clen;
    }
    return KW_ERR_NONE;
}

static kw_err lz4_decompress(const uint8_t *src, size_t n, outbuf *o, char *errbuf,
                             size_t errsize) {
    LZ4F_dctx *d = NULL;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION)))
        return cfail(errbuf, errsize, KW_ERR__NO_MEMORY, "lz4: cannot start");
    size_t pos = 0, hint = 1;
    kw_err err = KW_ERR_NONE;
    while (pos < n) {
        bool full;
        if (!out_grow(o, &full)) {
            err = full ? bomb("lz4", o->max, n, errbuf, errsize)
                       : cfail(errbuf, errsize, KW_ERR__NO_MEMORY, "lz4: out of memory");
            break;
        }
        size_t out_sz = o->cap - o->len, in_sz = n - pos;
        hint = LZ4F_decompress(d, o->p + o->len, &out_sz, src + pos, &in_sz, NULL);
        if (LZ4F_isError(hint)) {
            err = cfail(errbuf, errsize, KW_ERR__MALFORMED, "lz4: corrupt frame at byte %zu: %s",
                        pos, LZ4F_getErrorName(hint));
            break;
        }
        pos += in_sz;
        o->len += out_sz;
        if (in_sz == 0 && out_sz == 0 && o->len < o->cap) {
            err = cfail(errbuf, errsize, KW_ERR__MALFORMED, "lz4: no progress at byte %zu", pos);
            break;
        }
    }
    /* Input used up: drain what the context still holds, then the frame must be complete. */
    while (err == KW_ERR_NONE && hint != 0) {
        bool full;
        if (!out_grow(o, &full)) {
            err = full ? bomb("lz4", o->max, n, errbuf, errsize)
                       : cfail(errbuf, errsize, KW_ERR__NO_MEMORY, "lz4: out of memory");
            break;
        }
        size_t out_sz = o->cap - o->len, in_sz = 0;
        hint = LZ4F_decompress(d, o->p + o->len, &out_sz, src + n, &in_sz, NULL);
        if (LZ4F_isError(hint)) {
            err = cfail(errbuf, errsize, KW_ERR__MALFORMED, "lz4: corrupt frame: %s",
                        LZ4F_getErrorName(hint));
            break;
        }
        o->len += out_sz;
        if (out_sz == 0 && hint != 0)
            err = cfail(errbuf, errsize, KW_ERR__TRUNCATED,
                        "lz4: the frame ends early (%zu bytes in, %zu out)", n, o->len);
    }
    LZ4F_freeDecompressionContext(d);
    return err;
}

static kw_err zstd_decompress(const uint8_t *src, size_t n, outbuf *o, char *errbuf,
                              size_t errsize) {
    ZSTD_DCtx *d = ZSTD_createDCtx();
    if (!d)
        return cfail(errbuf, errsize, KW_ERR__NO_MEMORY, "zstd: cannot start");
    ZSTD_inBuffer in = {src, n, 0};
    size_t ret = 1;
    kw_err err = KW_ERR_NONE;
    for (;;) {
        bool full;
        if (in.pos == in.size && ret == 0)
            break;
        if (!out_grow(o, &full)) {
            err = full ? bomb("zstd", o->max, n, errbuf, errsize)
                       : cfail(errbuf, errsize, KW_ERR__NO_MEMORY, "zstd: out of memory");
            break;
        }
        ZSTD_outBuffer out = {o->p + o->len, o->cap - o->len, 0};
        ret = ZSTD_decompressStream(d, &out, &in);
        if (ZSTD_isError(ret)) {
            err = cfail(errbuf, errsize, KW_ERR__MALFORMED, "zstd: corrupt frame at byte %zu: %s",
                        in.pos, ZSTD_getErrorName(ret));
            break;
        }
        o->len += out.pos;
        if (in.pos == in.size && ret != 0 && out.pos < out.size) {
            err = cfail(errbuf, errsize, KW_ERR__TRUNCATED,
                        "zstd: the frame ends early (%zu bytes in, %zu out)", n, o->len);
            break;
        }
    }
    ZSTD_freeDCtx(d);
    return err;
}

kw_err kw_decompress(kw_codec c, const uint8_t *src, size_t n, size_t max_out, uint8_t **out,
                     size_t *out_len, char *errbuf, size_t errsize) {
    *out = NULL;
    *out_len = 0;
    outbuf o = {NULL, 0, 0, max_out};
    kw_err err;
    switch (c) {
    case KW_CODEC_NONE:
        if (n > max_out)
            return bomb("none", max_out, n, errbuf, errsize);
        err = KW_ERR_NONE;
        o.p = malloc(n ? n : 1);
        if (!o.p)
            return cfail(errbuf, errsize, KW_ERR__NO_MEMORY, "out of memory");
        if (n)
            memcpy(o.p, src, n);
        o.len = n;
        break;
    case KW_CODEC_GZIP:
        err = gzip_decompress(src, n, &o, errbuf, errsize);
        break;
    case KW_CODEC_SNAPPY:
        err = snappy_decompress(src, n, &o, errbuf, errsize);
        break;
    case KW_CODEC_LZ4:
        err = lz4_decompress(src, n, &o, errbuf, errsize);
        break;
    case KW_CODEC_ZSTD:
        err = zstd_decompress(src, n, &o, errbuf, errsize);
        break;
    default:
        return cfail(errbuf, errsize, KW_ERR_UNSUPPORTED_COMPRESSION_TYPE,
                     "compression type %d is not one of none, gzip, snappy, lz4, zstd", (int)c);
    }
    if (err != KW_ERR_NONE) {
        free(o.p);
        return err;
    }
    if (!o.p) /* empty output: still hand back a pointer the caller may free */
        o.p = malloc(1);
    if (!o.p)
        return cfail(errbuf, errsize, KW_ERR__NO_MEMORY, "out of memory");
    *out = o.p;
    *out_len = o.len;
    return KW_ERR_NONE;
}
