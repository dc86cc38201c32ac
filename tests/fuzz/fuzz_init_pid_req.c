/* libFuzzer target: InitProducerId request body decode, versions 0-1 (first input byte picks
 * the version); see fuzz_msg.h for what is checked. Seeds: corpus/init_pid_req/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_init_pid_req, kw_init_pid_req_decode, kw_init_pid_req_encode, 0, 1)
