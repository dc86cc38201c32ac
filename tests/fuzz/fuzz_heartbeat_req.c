/* libFuzzer target: Heartbeat request body decode, versions 0-3.
 * The first input byte picks the version; see fuzz_msg.h. Seeds: corpus/heartbeat_req/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_heartbeat_req, kw_heartbeat_req_decode, kw_heartbeat_req_encode, 0, 3)
