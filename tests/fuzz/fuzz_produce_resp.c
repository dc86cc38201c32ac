/* libFuzzer target: Produce response body decode, versions 0-11 (first input byte picks
 * the version); see fuzz_msg.h for what is checked. Seeds: corpus/produce_resp/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_produce_resp, kw_produce_resp_decode, kw_produce_resp_encode, 0, 11)
