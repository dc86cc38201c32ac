/* libFuzzer target: LeaveGroup request body decode, versions 0-1.
 * The first input byte picks the version; see fuzz_msg.h. Seeds: corpus/leave_group_req/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_leave_group_req, kw_leave_group_req_decode, kw_leave_group_req_encode, 0, 1)
