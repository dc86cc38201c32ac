/* libFuzzer target: Produce request body decode, versions 0-11 (first input byte picks
 * the version); see fuzz_msg.h for what is checked. Seeds: corpus/produce_req/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_produce_req, kw_produce_req_decode, kw_produce_req_encode, 0, 11)
