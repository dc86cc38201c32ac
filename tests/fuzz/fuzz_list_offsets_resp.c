/* libFuzzer target: ListOffsets response body decode, versions 1-7 (first input byte picks
 * the version); see fuzz_msg.h for what is checked. Seeds: corpus/list_offsets_resp/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_list_offsets_resp, kw_list_offsets_resp_decode, kw_list_offsets_resp_encode, 1, 7)
