/* libFuzzer target: ListGroups request body decode, versions 0-2.
 * The first input byte picks the version; see fuzz_msg.h. Seeds: corpus/list_groups_req/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_list_groups_req, kw_list_groups_req_decode, kw_list_groups_req_encode, 0, 2)
