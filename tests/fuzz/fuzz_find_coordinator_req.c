/* libFuzzer target: FindCoordinator request body decode, versions 0-2.
 * The first input byte picks the version; see fuzz_msg.h. Seeds: corpus/find_coordinator_req/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_find_coordinator_req, kw_find_coordinator_req_decode, kw_find_coordinator_req_encode, 0, 2)
