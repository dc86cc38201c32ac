/* libFuzzer target: ListOffsets request body decode, versions 1-7 (first input byte picks
 * the version); see fuzz_msg.h for what is checked. Seeds: corpus/list_offsets_req/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_list_offsets_req, kw_list_offsets_req_decode, kw_list_offsets_req_encode, 1, 7)
