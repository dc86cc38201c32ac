/* protocol/kw_groups.h — the consumer-group and topic-admin messages (part of kw.h's contract;
 * include protocol/kw.h, which includes this).
 *
 * The forms a reading club fills in at its desk (the group coordinator): FindCoordinator,
 * JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, ListGroups,
 * DescribeGroups; and the forms of the depot's building office: CreateTopics, DeleteTopics,
 * CreatePartitions, DescribeConfigs, OffsetForLeaderEpoch. Field layouts and version ranges
 * follow apache/kafka's message JSON files (clients/src/main/resources/common/message/).
 *
 * Same conventions as kw.h: structs hold the union of the fields of the versions we speak
 * (a field a version lacks is left at its default when decoding and ignored when encoding:
 * integers as noted, strings "" or null), decoded slices point into the frame, arrays come from
 * the arena. A nullable array has count -1 when null. These codecs are table-driven
 * (protocol/kw_schema.h): one field list per message, one encoder and decoder for all.
 */
#ifndef COURIER_PROTOCOL_KW_GROUPS_H
#define COURIER_PROTOCOL_KW_GROUPS_H

/* API keys (Kafka's ApiKeys.java). */
enum {
    KW_API_OFFSET_COMMIT = 8,
    KW_API_OFFSET_FETCH = 9,
    KW_API_FIND_COORDINATOR = 10,
    KW_API_JOIN_GROUP = 11,
    KW_API_HEARTBEAT = 12,
    KW_API_LEAVE_GROUP = 13,
    KW_API_SYNC_GROUP = 14,
    KW_API_DESCRIBE_GROUPS = 15,
    KW_API_LIST_GROUPS = 16,
    KW_API_CREATE_TOPICS = 19,
    KW_API_DELETE_TOPICS = 20,
    KW_API_OFFSET_FOR_LEADER_EPOCH = 23,
    KW_API_DESCRIBE_CONFIGS = 32,
    KW_API_CREATE_PARTITIONS = 37,
};

/* Group error codes (Errors.java) beyond kw.h's list. */
enum {
    KW_ERR_INCONSISTENT_GROUP_PROTOCOL = 23,
    KW_ERR_INVALID_GROUP_ID = 24,
    KW_ERR_UNKNOWN_MEMBER_ID = 25,
    KW_ERR_INVALID_SESSION_TIMEOUT = 26,
    KW_ERR_REBALANCE_IN_PROGRESS = 27,
    KW_ERR_INVALID_COMMIT_OFFSET_SIZE = 28,
    KW_ERR_GROUP_AUTHORIZATION_FAILED = 30,
    KW_ERR_INVALID_CONFIG = 40,
    KW_ERR_UNKNOWN_TOPIC_ID = 100,
    KW_ERR_MEMBER_ID_REQUIRED = 79,
    KW_ERR_GROUP_ID_NOT_FOUND = 69,
    KW_ERR_NON_EMPTY_GROUP = 68,
    KW_ERR_GROUP_MAX_SIZE_REACHED = 81,
};

/* ---- FindCoordinator 0–2 ---- */
typedef struct kw_find_coordinator_req {
    kw_slice key;
    int8_t key_type; /* v1+: 0 group, 1 transaction */
} kw_find_coordinator_req;

typedef struct kw_find_coordinator_resp {
    int32_t throttle_time_ms; /* v1+ */
    int16_t error_code;
    kw_slice error_message; /* v1+, nullable */
    int32_t node_id;
    kw_slice host;
    int32_t port;
} kw_find_coordinator_resp;

/* ---- JoinGroup 2–5 ---- */
typedef struct kw_join_group_protocol {
    kw_slice name;
    kw_slice metadata;
} kw_join_group_protocol;

typedef struct kw_join_group_req {
    kw_slice group_id;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms; /* v1+ */
    kw_slice member_id;
    kw_slice group_instance_id; /* v5+, nullable */
    kw_slice protocol_type;
    int32_t n_protocols;
    kw_join_group_protocol *protocols;
} kw_join_group_req;

typedef struct kw_join_group_member {
    kw_slice member_id;
    kw_slice group_instance_id; /* v5+, nullable */
    kw_slice metadata;
} kw_join_group_member;

typedef struct kw_join_group_resp {
    int32_t throttle_time_ms; /* v2+ */
    int16_t error_code;
    int32_t generation_id;
    kw_slice protocol_name;
    kw_slice leader;
    kw_slice member_id;
    int32_t n_members;
    kw_join_group_member *members;
} kw_join_group_resp;

/* ---- SyncGroup 0–3 ---- */
typedef struct kw_sync_group_assignment {
    kw_slice member_id;
    kw_slice assignment;
} kw_sync_group_assignment;

typedef struct kw_sync_group_req {
    kw_slice group_id;
    int32_t generation_id;
    kw_slice member_id;
    kw_slice group_instance_id; /* v3+, nullable */
    int32_t n_assignments;
    kw_sync_group_assignment *assignments;
} kw_sync_group_req;

typedef struct kw_sync_group_resp {
    int32_t throttle_time_ms; /* v1+ */
    int16_t error_code;
    kw_slice assignment;
} kw_sync_group_resp;

/* ---- Heartbeat 0–3 ---- */
typedef struct kw_heartbeat_req {
    kw_slice group_id;
    int32_t generation_id;
    kw_slice member_id;
    kw_slice group_instance_id; /* v3+, nullable */
} kw_heartbeat_req;

/* Heartbeat, LeaveGroup: throttle (v1+) and an error code. */
typedef struct kw_group_simple_resp {
    int32_t throttle_time_ms;
    int16_t error_code;
} kw_group_simple_resp;

/* ---- LeaveGroup 0–1 ---- */
typedef struct kw_leave_group_req {
    kw_slice group_id;
    kw_slice member_id;
} kw_leave_group_req;

/* ---- OffsetCommit 2–7 ---- */
typedef struct kw_offset_commit_req_partition {
    int32_t partition_index;
    int64_t committed_offset;
    int32_t committed_leader_epoch; /* v6+, default -1 */
    kw_slice committed_metadata;    /* nullable */
} kw_offset_commit_req_partition;

typedef struct kw_offset_commit_req_topic {
    kw_slice name;
    int32_t n_partitions;
    kw_offset_commit_req_partition *partitions;
} kw_offset_commit_req_topic;

typedef struct kw_offset_commit_req {
    kw_slice group_id;
    int32_t generation_id; /* -1: a commit from outside the group (simple consumer) */
    kw_slice member_id;
    kw_slice group_instance_id; /* v7+, nullable */
    int64_t retention_time_ms;  /* v2-4, default -1 */
    int32_t n_topics;
    kw_offset_commit_req_topic *topics;
} kw_offset_commit_req;

typedef struct kw_partition_error {
    int32_t partition_index;
    int16_t error_code;
} kw_partition_error;

typedef struct kw_offset_commit_resp_topic {
    kw_slice name;
    int32_t n_partitions;
    kw_partition_error *partitions;
} kw_offset_commit_resp_topic;

typedef struct kw_offset_commit_resp {
    int32_t throttle_time_ms; /* v3+ */
    int32_t n_topics;
    kw_offset_commit_resp_topic *topics;
} kw_offset_commit_resp;

/* ---- OffsetFetch 1–5 ---- */
typedef struct kw_offset_fetch_req_topic {
    kw_slice name;
    int32_t n_partition_indexes;
    int32_t *partition_indexes;
} kw_offset_fetch_req_topic;

typedef struct kw_offset_fetch_req {
    kw_slice group_id;
    int32_t n_topics; /* -1 = every topic the group committed (v2+) */
    kw_offset_fetch_req_topic *topics;
} kw_offset_fetch_req;

typedef struct kw_offset_fetch_resp_partition {
    int32_t partition_index;
    int64_t committed_offset;       /* -1 when none */
    int32_t committed_leader_epoch; /* v5+, default -1 */
    kw_slice metadata;              /* nullable */
    int16_t error_code;
} kw_offset_fetch_resp_partition;

typedef struct kw_offset_fetch_resp_topic {
    kw_slice name;
    int32_t n_partitions;
    kw_offset_fetch_resp_partition *partitions;
} kw_offset_fetch_resp_topic;

typedef struct kw_offset_fetch_resp {
    int32_t throttle_time_ms; /* v3+ */
    int32_t n_topics;
    kw_offset_fetch_resp_topic *topics;
    int16_t error_code; /* v2+ */
} kw_offset_fetch_resp;

/* ---- ListGroups 0–2 ---- */
typedef struct kw_list_groups_req {
    int32_t unused; /* the body is empty at v0-v3 */
} kw_list_groups_req;

typedef struct kw_listed_group {
    kw_slice group_id;
    kw_slice protocol_type;
} kw_listed_group;

typedef struct kw_list_groups_resp {
    int32_t throttle_time_ms; /* v1+ */
    int16_t error_code;
    int32_t n_groups;
    kw_listed_group *groups;
} kw_list_groups_resp;

/* ---- DescribeGroups 0–4 ---- */
typedef struct kw_describe_groups_req {
    int32_t n_groups;
    kw_slice *groups;
    bool include_authorized_operations; /* v3+ */
} kw_describe_groups_req;

typedef struct kw_described_member {
    kw_slice member_id;
    kw_slice group_instance_id; /* v4+, nullable */
    kw_slice client_id;
    kw_slice client_host;
    kw_slice member_metadata;
    kw_slice member_assignment;
} kw_described_member;

typedef struct kw_described_group {
    int16_t error_code;
    kw_slice group_id;
    kw_slice group_state; /* "Stable", "PreparingRebalance", ... */
    kw_slice protocol_type;
    kw_slice protocol_data; /* the chosen protocol ("range", "roundrobin") */
    int32_t n_members;
    kw_described_member *members;
    int32_t authorized_operations; /* v3+, default INT32_MIN */
} kw_described_group;

typedef struct kw_describe_groups_resp {
    int32_t throttle_time_ms; /* v1+ */
    int32_t n_groups;
    kw_described_group *groups;
} kw_describe_groups_resp;

/* ---- CreateTopics 0–4 ---- */
typedef struct kw_creatable_assignment {
    int32_t partition_index;
    int32_t n_broker_ids;
    int32_t *broker_ids;
} kw_creatable_assignment;

typedef struct kw_creatable_config {
    kw_slice name;
    kw_slice value; /* nullable */
} kw_creatable_config;

typedef struct kw_creatable_topic {
    kw_slice name;
    int32_t num_partitions;     /* -1: the broker's num.partitions (v4+) */
    int16_t replication_factor; /* -1: default.replication.factor (v4+) */
    int32_t n_assignments;
    kw_creatable_assignment *assignments;
    int32_t n_configs;
    kw_creatable_config *configs;
} kw_creatable_topic;

typedef struct kw_create_topics_req {
    int32_t n_topics;
    kw_creatable_topic *topics;
    int32_t timeout_ms;
    bool validate_only; /* v1+ */
} kw_create_topics_req;

/* A topic's outcome in CreateTopics, DeleteTopics, CreatePartitions answers. */
typedef struct kw_topic_result {
    kw_slice name;
    int16_t error_code;
    kw_slice error_message; /* nullable; CreateTopics v1+, CreatePartitions, not DeleteTopics */
} kw_topic_result;

typedef struct kw_topic_results_resp {
    int32_t throttle_time_ms; /* CreateTopics v2+, DeleteTopics v1+, CreatePartitions all */
    int32_t n_topics;
    kw_topic_result *topics;
} kw_topic_results_resp;

/* ---- DeleteTopics 0–3 ---- */
typedef struct kw_delete_topics_req {
    int32_t n_topic_names;
    kw_slice *topic_names;
    int32_t timeout_ms;
} kw_delete_topics_req;

/* ---- CreatePartitions 0–1 ---- */
typedef struct kw_create_partitions_assignment {
    int32_t n_broker_ids;
    int32_t *broker_ids;
} kw_create_partitions_assignment;

typedef struct kw_create_partitions_topic {
    kw_slice name;
    int32_t count;         /* the new total */
    int32_t n_assignments; /* -1 = null: the broker places them */
    kw_create_partitions_assignment *assignments;
} kw_create_partitions_topic;

typedef struct kw_create_partitions_req {
    int32_t n_topics;
    kw_create_partitions_topic *topics;
    int32_t timeout_ms;
    bool validate_only;
} kw_create_partitions_req;

/* ---- DescribeConfigs 0–2 ---- */
enum { KW_RESOURCE_TOPIC = 2, KW_RESOURCE_BROKER = 4 };

typedef struct kw_describe_configs_resource {
    int8_t resource_type;
    kw_slice resource_name;
    int32_t n_configuration_keys; /* -1 = null: every config */
    kw_slice *configuration_keys;
} kw_describe_configs_resource;

typedef struct kw_describe_configs_req {
    int32_t n_resources;
    kw_describe_configs_resource *resources;
    bool include_synonyms; /* v1+ */
} kw_describe_configs_req;

typedef struct kw_config_synonym {
    kw_slice name;
    kw_slice value; /* nullable */
    int8_t source;
} kw_config_synonym;

typedef struct kw_config_entry {
    kw_slice name;
    kw_slice value; /* nullable */
    bool read_only;
    bool is_default;     /* v0 only */
    int8_t config_source; /* v1+: 1 topic, 4 static broker, 5 default, default -1 */
    bool is_sensitive;
    int32_t n_synonyms; /* v1+ */
    kw_config_synonym *synonyms;
} kw_config_entry;

typedef struct kw_describe_configs_result {
    int16_t error_code;
    kw_slice error_message; /* nullable */
    int8_t resource_type;
    kw_slice resource_name;
    int32_t n_configs;
    kw_config_entry *configs;
} kw_describe_configs_result;

typedef struct kw_describe_configs_resp {
    int32_t throttle_time_ms;
    int32_t n_results;
    kw_describe_configs_result *results;
} kw_describe_configs_resp;

/* ---- OffsetForLeaderEpoch 0–3 ---- */
typedef struct kw_ofle_req_partition {
    int32_t partition;
    int32_t current_leader_epoch; /* v2+, default -1 */
    int32_t leader_epoch;
} kw_ofle_req_partition;

typedef struct kw_ofle_req_topic {
    kw_slice topic;
    int32_t n_partitions;
    kw_ofle_req_partition *partitions;
} kw_ofle_req_topic;

typedef struct kw_ofle_req {
    int32_t replica_id; /* v3+, default -2 (a consumer) */
    int32_t n_topics;
    kw_ofle_req_topic *topics;
} kw_ofle_req;

typedef struct kw_ofle_resp_partition {
    int16_t error_code;
    int32_t partition;
    int32_t leader_epoch; /* v1+, default -1 */
    int64_t end_offset;
} kw_ofle_resp_partition;

typedef struct kw_ofle_resp_topic {
    kw_slice topic;
    int32_t n_partitions;
    kw_ofle_resp_partition *partitions;
} kw_ofle_resp_topic;

typedef struct kw_ofle_resp {
    int32_t throttle_time_ms; /* v2+ */
    int32_t n_topics;
    kw_ofle_resp_topic *topics;
} kw_ofle_resp;

/* Encoders and decoders, as kw.h's: encode asserts the version is in range; decode fails with
 * KW_ERR__UNSUPPORTED_API outside it, on truncation, and on trailing bytes. */
#define KW_GROUP_CODEC(name, T)                                                                    \
    void kw_##name##_encode(kw_wbuf *wb, int16_t version, const T *m);                             \
    kw_err kw_##name##_decode(kw_rbuf *rb, int16_t version, kw_arena *a, T *m);
KW_GROUP_CODEC(find_coordinator_req, kw_find_coordinator_req)
KW_GROUP_CODEC(find_coordinator_resp, kw_find_coordinator_resp)
KW_GROUP_CODEC(join_group_req, kw_join_group_req)
KW_GROUP_CODEC(join_group_resp, kw_join_group_resp)
KW_GROUP_CODEC(sync_group_req, kw_sync_group_req)
KW_GROUP_CODEC(sync_group_resp, kw_sync_group_resp)
KW_GROUP_CODEC(heartbeat_req, kw_heartbeat_req)
KW_GROUP_CODEC(heartbeat_resp, kw_group_simple_resp)
KW_GROUP_CODEC(leave_group_req, kw_leave_group_req)
KW_GROUP_CODEC(leave_group_resp, kw_group_simple_resp)
KW_GROUP_CODEC(offset_commit_req, kw_offset_commit_req)
KW_GROUP_CODEC(offset_commit_resp, kw_offset_commit_resp)
KW_GROUP_CODEC(offset_fetch_req, kw_offset_fetch_req)
KW_GROUP_CODEC(offset_fetch_resp, kw_offset_fetch_resp)
KW_GROUP_CODEC(list_groups_req, kw_list_groups_req)
KW_GROUP_CODEC(list_groups_resp, kw_list_groups_resp)
KW_GROUP_CODEC(describe_groups_req, kw_describe_groups_req)
KW_GROUP_CODEC(describe_groups_resp, kw_describe_groups_resp)
KW_GROUP_CODEC(create_topics_req, kw_create_topics_req)
KW_GROUP_CODEC(create_topics_resp, kw_topic_results_resp)
KW_GROUP_CODEC(delete_topics_req, kw_delete_topics_req)
KW_GROUP_CODEC(delete_topics_resp, kw_topic_results_resp)
KW_GROUP_CODEC(create_partitions_req, kw_create_partitions_req)
KW_GROUP_CODEC(create_partitions_resp, kw_topic_results_resp)
KW_GROUP_CODEC(describe_configs_req, kw_describe_configs_req)
KW_GROUP_CODEC(describe_configs_resp, kw_describe_configs_resp)
KW_GROUP_CODEC(ofle_req, kw_ofle_req)
KW_GROUP_CODEC(ofle_resp, kw_ofle_resp)
#undef KW_GROUP_CODEC

/* librdkafka's mock cluster (2.0) answers SyncGroup with a null assignment, which the message
 * does not allow (SyncGroupResponse.json: bytes, not nullable), so kw_sync_group_resp_decode
 * refuses it. This reads such an answer as librdkafka's own client does: its throttle time and
 * error code, and an empty (null) assignment. True when rb held exactly that answer. */
bool kw_sync_group_resp_decode_null_assignment(kw_rbuf *rb, int16_t version, kw_sync_group_resp *m);

/* ---- The "consumer" protocol's bytes inside JoinGroup and SyncGroup ----
 * What members of protocol_type "consumer" put in JoinGroup's protocol metadata
 * (ConsumerProtocolSubscription.json) and the leader hands out through SyncGroup
 * (ConsumerProtocolAssignment.json), as Java's ConsumerProtocol, librdkafka and kafka-python
 * write them. We write version 0 of both, which every client reads; we read any version,
 * taking the fields of version 0 and ignoring the newer ones after them (owned partitions,
 * generation, rack), as Java does for versions it does not know. */
typedef struct kw_consumer_subscription {
    int16_t version;
    int32_t n_topics;
    kw_slice *topics;
    kw_slice user_data; /* nullable */
} kw_consumer_subscription;

typedef struct kw_consumer_topic_partitions {
    kw_slice topic;
    int32_t n_partitions;
    int32_t *partitions;
} kw_consumer_topic_partitions;

typedef struct kw_consumer_assignment {
    int16_t version;
    int32_t n_topics;
    kw_consumer_topic_partitions *topics;
    kw_slice user_data; /* nullable */
} kw_consumer_assignment;

/* Write version 0 (s->version and a->version are ignored). */
void kw_consumer_subscription_encode(kw_wbuf *wb, const kw_consumer_subscription *s);
void kw_consumer_assignment_encode(kw_wbuf *wb, const kw_consumer_assignment *a);
/* Decode any version >= 0; arrays from the arena, slices into the bytes. KW_ERR__MALFORMED
 * (rb->errmsg names the field) on truncation or a negative version. An empty assignment
 * (zero bytes, what a leader gives a member it left out) decodes as no topics. */
kw_err kw_consumer_subscription_decode(kw_rbuf *rb, kw_arena *a, kw_consumer_subscription *s);
kw_err kw_consumer_assignment_decode(kw_rbuf *rb, kw_arena *a, kw_consumer_assignment *out);

#endif /* COURIER_PROTOCOL_KW_GROUPS_H */
