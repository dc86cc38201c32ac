/* libFuzzer target: OffsetForLeaderEpoch request body decode, versions 0-3.
 * The first input byte picks the version; see fuzz_msg.h. Seeds: corpus/ofle_req/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_ofle_req, kw_ofle_req_decode, kw_ofle_req_encode, 0, 3)
