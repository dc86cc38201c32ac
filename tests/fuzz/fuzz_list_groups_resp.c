/* libFuzzer target: ListGroups response body decode, versions 0-2.
 * The first input byte picks the version; see fuzz_msg.h. Seeds: corpus/list_groups_resp/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_list_groups_resp, kw_list_groups_resp_decode, kw_list_groups_resp_encode, 0, 2)
