/* libFuzzer target: InitProducerId response body decode, versions 0-1 (first input byte picks
 * the version); see fuzz_msg.h for what is checked. Seeds: corpus/init_pid_resp/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_init_pid_resp, kw_init_pid_resp_decode, kw_init_pid_resp_encode, 0, 1)
