/* Shared body of the decompressor fuzz targets (fuzz_gzip.c, fuzz_snappy.c, fuzz_lz4.c,
 * fuzz_zstd.c): the input is a compressed payload as it sits after a RecordBatch header.
 * Decompression under a 1 MiB bound either fails with a message naming the codec, or
 * succeeds within the bound; then the output is compressed again by our encoder and must
 * decompress to the same bytes. */
#ifndef COURIER_TESTS_FUZZ_DECOMPRESS_H
#define COURIER_TESTS_FUZZ_DECOMPRESS_H

#include "protocol/kw.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_DECOMPRESS_BOUND ((size_t)1 << 20)

static int fuzz_decompress_one(kw_codec codec, int level, const uint8_t *data, size_t size) {
    uint8_t *out = NULL;
    size_t on = 0;
    char err[256] = "";
    kw_err e = kw_decompress(codec, data, size, FUZZ_DECOMPRESS_BOUND, &out, &on, err, sizeof err);
    if (e != KW_ERR_NONE) {
        if (out || !strstr(err, kw_codec_name(codec)))
            abort();
        return 0;
    }
    if (!out || on > FUZZ_DECOMPRESS_BOUND)
        abort();
    size_t cap = kw_compress_bound(codec, on);
    uint8_t *z = malloc(cap ? cap : 1);
    size_t zn = 0;
    if (z && kw_compress(codec, level, out, on, z, cap, &zn, err, sizeof err) != KW_ERR_NONE)
        abort();
    if (z) {
        uint8_t *back = NULL;
        size_t bn = 0;
        if (kw_decompress(codec, z, zn, FUZZ_DECOMPRESS_BOUND, &back, &bn, err, sizeof err) !=
                KW_ERR_NONE ||
            bn != on || (on && memcmp(back, out, on) != 0))
            abort();
        free(back);
    }
    free(z);
    free(out);
    return 0;
}

#endif
