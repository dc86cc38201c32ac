/* libFuzzer target: the snappy decompressor (kw_decompress, KW_CODEC_SNAPPY) under a bound, then
 * our snappy encoder on what came out (tests/fuzz/fuzz_decompress.h). Seeds: corpus/snappy/. */
#include "tests/fuzz/fuzz_decompress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_decompress_one(KW_CODEC_SNAPPY, 0, data, size);
}
