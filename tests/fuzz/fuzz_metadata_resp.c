/* libFuzzer target: Metadata response body decode, versions 0-12 (first input byte picks
 * the version); see fuzz_msg.h for what is checked. Seeds: corpus/metadata_resp/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_metadata_resp, kw_metadata_resp_decode, kw_metadata_resp_encode, 0, 12)
