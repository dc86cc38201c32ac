/* libFuzzer target: OffsetForLeaderEpoch response body decode, versions 0-3.
 * The first input byte picks the version; see fuzz_msg.h. Seeds: corpus/ofle_resp/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_ofle_resp, kw_ofle_resp_decode, kw_ofle_resp_encode, 0, 3)
