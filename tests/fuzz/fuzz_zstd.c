/* libFuzzer target: the zstd decompressor (kw_decompress, KW_CODEC_ZSTD) under a bound, then our
 * zstd encoder on what came out (tests/fuzz/fuzz_decompress.h). Seeds: corpus/zstd/. */
#include "tests/fuzz/fuzz_decompress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_decompress_one(KW_CODEC_ZSTD, 1, data, size);
}
