/* libFuzzer target: Metadata request body decode, versions 0-12 (first input byte picks
 * the version); see fuzz_msg.h for what is checked. Seeds: corpus/metadata_req/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_metadata_req, kw_metadata_req_decode, kw_metadata_req_encode, 0, 12)
