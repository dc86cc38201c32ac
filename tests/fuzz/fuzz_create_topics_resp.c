/* libFuzzer target: CreateTopics response body decode, versions 0-4.
 * The first input byte picks the version; see fuzz_msg.h. Seeds: corpus/create_topics_resp/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_topic_results_resp, kw_create_topics_resp_decode, kw_create_topics_resp_encode, 0, 4)
