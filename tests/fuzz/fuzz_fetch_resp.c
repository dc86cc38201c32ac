/* libFuzzer target: Fetch response body decode, versions 4-12 (first input byte picks
 * the version); see fuzz_msg.h for what is checked. Seeds: corpus/fetch_resp/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_fetch_resp, kw_fetch_resp_decode, kw_fetch_resp_encode, 4, 12)
