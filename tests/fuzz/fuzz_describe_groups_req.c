/* libFuzzer target: DescribeGroups request body decode, versions 0-4.
 * The first input byte picks the version; see fuzz_msg.h. Seeds: corpus/describe_groups_req/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_describe_groups_req, kw_describe_groups_req_decode, kw_describe_groups_req_encode, 0, 4)
