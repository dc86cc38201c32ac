/* libFuzzer target: DescribeGroups response body decode, versions 0-4.
 * The first input byte picks the version; see fuzz_msg.h. Seeds: corpus/describe_groups_resp/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_describe_groups_resp, kw_describe_groups_resp_decode, kw_describe_groups_resp_encode, 0, 4)
