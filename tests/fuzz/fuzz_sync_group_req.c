/* libFuzzer target: SyncGroup request body decode, versions 0-3.
 * The first input byte picks the version; see fuzz_msg.h. Seeds: corpus/sync_group_req/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_sync_group_req, kw_sync_group_req_decode, kw_sync_group_req_encode, 0, 3)
