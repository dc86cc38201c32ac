/* libFuzzer target: JoinGroup response body decode, versions 2-5.
 * The first input byte picks the version; see fuzz_msg.h. Seeds: corpus/join_group_resp/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_join_group_resp, kw_join_group_resp_decode, kw_join_group_resp_encode, 2, 5)
