/* libFuzzer target: SyncGroup response body decode, versions 0-3.
 * The first input byte picks the version; see fuzz_msg.h. Seeds: corpus/sync_group_resp/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_sync_group_resp, kw_sync_group_resp_decode, kw_sync_group_resp_encode, 0, 3)
