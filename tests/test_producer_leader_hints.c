/* KIP-951 on the producer's side: the leader hints of a Produce v10+ answer move a partition to
 * the hinted leader when the hint's leader epoch is newer than the one the producer knows, as
 * Java's Sender.handleProduceResponse -> Metadata.updatePartitionLeadership. */
#include "producer/kp_int.h"
#include "tests/tu.h"

#include <string.h>

/* Our picture: brokers 1 and 2, topic "t" with partitions 0 (leader 1, epoch 3) and 1 (leader 2,
 * epoch 5). */
static void seed(kp_metadata *md) {
    static kw_metadata_broker brokers[2];
    brokers[0] = (kw_metadata_broker){1, kw_slice_str("127.0.0.1"), 9001, KW_SLICE_NULL};
    brokers[1] = (kw_metadata_broker){2, kw_slice_str("127.0.0.1"), 9002, KW_SLICE_NULL};
    static int32_t reps[2] = {1, 2};
    static kw_metadata_partition parts[2];
    parts[0] = (kw_metadata_partition){0, 0, 1, 3, 2, reps, 2, reps, 0, NULL};
    parts[1] = (kw_metadata_partition){0, 1, 2, 5, 2, reps, 2, reps, 0, NULL};
    static kw_metadata_topic topic;
    topic = (kw_metadata_topic){.name = kw_slice_str("t"),
                                .n_partitions = 2,
                                .partitions = parts,
                                .topic_authorized_operations = INT32_MIN};
    kw_metadata_resp resp = {.n_brokers = 2,
                             .brokers = brokers,
                             .cluster_id = KW_SLICE_NULL,
                             .controller_id = 1,
                             .n_topics = 1,
                             .topics = &topic,
                             .cluster_authorized_operations = INT32_MIN};
    CU_ASSERT_EQUAL(kp_metadata_apply(md, &resp, 0), 2);
}

/* A one-partition Produce answer for "t" with a CurrentLeader hint. */
static int32_t hint(kp_metadata *md, int32_t partition, int16_t err, int32_t leader, int32_t epoch,
                    int32_t n_endpoints, kw_metadata_broker *endpoints) {
    kw_produce_resp_partition p = {.index = partition,
                                   .error_code = err,
                                   .base_offset = -1,
                                   .log_append_time_ms = -1,
                                   .log_start_offset = -1,
                                   .error_message = KW_SLICE_NULL,
                                   .has_current_leader = true,
                                   .current_leader_id = leader,
                                   .current_leader_epoch = epoch};
    kw_produce_resp_topic t = {kw_slice_str("t"), 1, &p};
    kw_produce_resp resp = {.n_topics = 1,
                            .topics = &t,
                            .n_node_endpoints = n_endpoints,
                            .node_endpoints = endpoints};
    return kp_metadata_apply_leader_hints(md, &resp);
}

static kp_mpart part_of(kp_metadata *md, int32_t partition) {
    kp_cluster *c = kp_metadata_cluster(md);
    const kp_mtopic *t = kp_cluster_topic(c, "t");
    kp_mpart p = t->parts[partition];
    kp_cluster_release(c);
    return p;
}

static void test_newer_hint_moves_the_leader_and_older_does_not(void) {
    kp_metadata md;
    kp_metadata_init(&md, kw_clock_monotonic());
    seed(&md);
    int64_t v0 = atomic_load(&md.version);
    /* the same epoch, or an older one: our picture stays */
    CU_ASSERT_EQUAL(hint(&md, 0, KW_ERR_NOT_LEADER_OR_FOLLOWER, 2, 3, 0, NULL), 0);
    CU_ASSERT_EQUAL(hint(&md, 0, KW_ERR_NOT_LEADER_OR_FOLLOWER, 2, 2, 0, NULL), 0);
    CU_ASSERT_EQUAL(atomic_load(&md.version), v0);
    CU_ASSERT_EQUAL(part_of(&md, 0).leader, 1);
    /* a hint on a partition that did not fail NOT_LEADER_OR_FOLLOWER is not one */
    CU_ASSERT_EQUAL(hint(&md, 0, KW_ERR_NONE, 2, 9, 0, NULL), 0);
    /* newer: partition 0 now goes to broker 2, epoch 4; partition 1 untouched */
    CU_ASSERT_EQUAL(hint(&md, 0, KW_ERR_NOT_LEADER_OR_FOLLOWER, 2, 4, 0, NULL), 1);
    CU_ASSERT_EQUAL(part_of(&md, 0).leader, 2);
    CU_ASSERT_EQUAL(part_of(&md, 0).leader_epoch, 4);
    CU_ASSERT_EQUAL(part_of(&md, 1).leader, 2);
    CU_ASSERT_EQUAL(part_of(&md, 1).leader_epoch, 5);
    CU_ASSERT(atomic_load(&md.version) > v0); /* the sender re-reads leaders on a new version */
    kp_metadata_destroy(&md);
}

static void test_unknown_leader_needs_its_endpoint(void) {
    kp_metadata md;
    kp_metadata_init(&md, kw_clock_monotonic());
    seed(&md);
    /* broker 3 is not in our picture and the answer does not say where it is */
    CU_ASSERT_EQUAL(hint(&md, 1, KW_ERR_NOT_LEADER_OR_FOLLOWER, 3, 6, 0, NULL), 0);
    CU_ASSERT_EQUAL(part_of(&md, 1).leader, 2);
    /* with NodeEndpoints it does: the node joins the picture */
    kw_metadata_broker ep = {3, kw_slice_str("localhost"), 9003, KW_SLICE_NULL};
    CU_ASSERT_EQUAL(hint(&md, 1, KW_ERR_NOT_LEADER_OR_FOLLOWER, 3, 6, 1, &ep), 1);
    CU_ASSERT_EQUAL(part_of(&md, 1).leader, 3);
    kp_cluster *c = kp_metadata_cluster(&md);
    const kp_node *n = kp_cluster_node(c, 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    CU_ASSERT_STRING_EQUAL(n->host, "localhost");
    CU_ASSERT_EQUAL(n->port, 9003);
    CU_ASSERT_PTR_NOT_NULL(kp_cluster_node(c, 1)); /* the others stay */
    kp_cluster_release(c);
    /* a leader of -1 (unknown) or a partition we do not know moves nothing */
    CU_ASSERT_EQUAL(hint(&md, 1, KW_ERR_NOT_LEADER_OR_FOLLOWER, -1, 9, 0, NULL), 0);
    CU_ASSERT_EQUAL(hint(&md, 7, KW_ERR_NOT_LEADER_OR_FOLLOWER, 1, 9, 0, NULL), 0);
    kp_metadata_destroy(&md);
}

void suite_producer_leader_hints(void);
void suite_producer_leader_hints(void) {
    tu_suite("producer_leader_hints");
    tu_test("test_newer_hint_moves_the_leader_and_older_does_not",
            test_newer_hint_moves_the_leader_and_older_does_not);
    tu_test("test_unknown_leader_needs_its_endpoint", test_unknown_leader_needs_its_endpoint);
}
