/* libFuzzer target: CreatePartitions request body decode, versions 0-1.
 * The first input byte picks the version; see fuzz_msg.h. Seeds: corpus/create_partitions_req/. */
#include "tests/fuzz/fuzz_msg.h"

FUZZ_MESSAGE(kw_create_partitions_req, kw_create_partitions_req_decode, kw_create_partitions_req_encode, 0, 1)
