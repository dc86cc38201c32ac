/* libFuzzer target: ApiVersions response body decode, versions 0-4 (first input byte picks
 * the version); see fuzz_msg.h for what is checked. Seeds: corpus/api_versions_resp/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_api_versions_resp, kw_api_versions_resp_decode, kw_api_versions_resp_encode, 0, 4)
