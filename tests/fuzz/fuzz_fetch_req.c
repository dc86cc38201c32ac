/* libFuzzer target: Fetch request body decode, versions 4-12 (first input byte picks
 * the version); see fuzz_msg.h for what is checked. Seeds: corpus/fetch_req/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_fetch_req, kw_fetch_req_decode, kw_fetch_req_encode, 4, 12)
