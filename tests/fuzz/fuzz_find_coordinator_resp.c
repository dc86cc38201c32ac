/* libFuzzer target: FindCoordinator response body decode, versions 0-2.
 * The first input byte picks the version; see fuzz_msg.h. Seeds: corpus/find_coordinator_resp/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_find_coordinator_resp, kw_find_coordinator_resp_decode, kw_find_coordinator_resp_encode, 0, 2)
