/* libFuzzer target: the gzip decompressor (kw_decompress, KW_CODEC_GZIP) under a bound, then our
 * gzip encoder on what came out (tests/fuzz/fuzz_decompress.h). Seeds: corpus/gzip/. */
#include "tests/fuzz/fuzz_decompress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_decompress_one(KW_CODEC_GZIP, -1, data, size);
}
