/* libFuzzer target: DescribeConfigs response body decode, versions 0-2.
 * The first input byte picks the version; see fuzz_msg.h. Seeds: corpus/describe_configs_resp/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_describe_configs_resp, kw_describe_configs_resp_decode, kw_describe_configs_resp_encode, 0, 2)
