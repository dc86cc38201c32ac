/* libFuzzer target: Heartbeat response body decode, versions 0-3.
 * The first input byte picks the version; see fuzz_msg.h. Seeds: corpus/heartbeat_resp/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_group_simple_resp, kw_heartbeat_resp_decode, kw_heartbeat_resp_encode, 0, 3)
