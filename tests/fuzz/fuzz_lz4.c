/* libFuzzer target: the lz4 decompressor (kw_decompress, KW_CODEC_LZ4) under a bound, then our
 * lz4 encoder on what came out (tests/fuzz/fuzz_decompress.h). Seeds: corpus/lz4/. */
#include "tests/fuzz/fuzz_decompress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_decompress_one(KW_CODEC_LZ4, 1, data, size);
}
