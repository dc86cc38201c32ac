/* libFuzzer target: LeaveGroup response body decode, versions 0-1.
 * The first input byte picks the version; see fuzz_msg.h. Seeds: corpus/leave_group_resp/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_group_simple_resp, kw_leave_group_resp_decode, kw_leave_group_resp_encode, 0, 1)
