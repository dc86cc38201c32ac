/* libFuzzer target: DeleteTopics request body decode, versions 0-3.
 * The first input byte picks the version; see fuzz_msg.h. Seeds: corpus/delete_topics_req/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_delete_topics_req, kw_delete_topics_req_decode, kw_delete_topics_req_encode, 0, 3)
