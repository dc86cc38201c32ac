/* libFuzzer target: CreateTopics request body decode, versions 0-4.
 * The first input byte picks the version; see fuzz_msg.h. Seeds: corpus/create_topics_req/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_create_topics_req, kw_create_topics_req_decode, kw_create_topics_req_encode, 0, 4)
