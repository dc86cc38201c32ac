/* libFuzzer target: DescribeConfigs request body decode, versions 0-2.
 * The first input byte picks the version; see fuzz_msg.h. Seeds: corpus/describe_configs_req/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_describe_configs_req, kw_describe_configs_req_decode, kw_describe_configs_req_encode, 0, 2)
