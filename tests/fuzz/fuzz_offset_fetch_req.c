/* libFuzzer target: OffsetFetch request body decode, versions 1-5.
 * The first input byte picks the version; see fuzz_msg.h. Seeds: corpus/offset_fetch_req/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_offset_fetch_req, kw_offset_fetch_req_decode, kw_offset_fetch_req_encode, 1, 5)
