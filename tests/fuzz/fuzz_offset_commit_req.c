/* libFuzzer target: OffsetCommit request body decode, versions 2-7.
 * The first input byte picks the version; see fuzz_msg.h. Seeds: corpus/offset_commit_req/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_offset_commit_req, kw_offset_commit_req_decode, kw_offset_commit_req_encode, 2, 7)
