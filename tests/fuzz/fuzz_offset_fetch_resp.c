/* libFuzzer target: OffsetFetch response body decode, versions 1-5.
 * The first input byte picks the version; see fuzz_msg.h. Seeds: corpus/offset_fetch_resp/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_offset_fetch_resp, kw_offset_fetch_resp_decode, kw_offset_fetch_resp_encode, 1, 5)
