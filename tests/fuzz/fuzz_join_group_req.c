/* libFuzzer target: JoinGroup request body decode, versions 2-5.
 * The first input byte picks the version; see fuzz_msg.h. Seeds: corpus/join_group_req/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_join_group_req, kw_join_group_req_decode, kw_join_group_req_encode, 2, 5)
