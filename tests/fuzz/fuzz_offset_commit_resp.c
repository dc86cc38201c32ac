/* libFuzzer target: OffsetCommit response body decode, versions 2-7.
 * The first input byte picks the version; see fuzz_msg.h. Seeds: corpus/offset_commit_resp/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_offset_commit_resp, kw_offset_commit_resp_decode, kw_offset_commit_resp_encode, 2, 7)
