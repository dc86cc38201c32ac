/* The building office's forms: CreateTopics 0–4, DeleteTopics 0–3, CreatePartitions 0–1,
 * DescribeConfigs 0–2, OffsetForLeaderEpoch 0–3 (the versions kafka-python's KafkaAdminClient
 * and librdkafka 2.0 pick, all below the first flexible version).
 *
 * Field lists from apache/kafka's message JSON files (see kw_msg_groups.c).
 */
#include "protocol/kw_schema.h"

#define CT_ASSIGN kw_creatable_assignment
KW_SCHEMA(ct_assign, CT_ASSIGN, KW_F(CT_ASSIGN, partition_index, KW_FT_I32, KW_V_ALL, 0),
          KW_A(CT_ASSIGN, "broker_ids", broker_ids, n_broker_ids, KW_FT_I32S, NULL, KW_V_ALL));
#define CT_CONFIG kw_creatable_config
KW_SCHEMA(ct_config, CT_CONFIG, KW_F(CT_CONFIG, name, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(CT_CONFIG, value, KW_FT_NSTRING, KW_V_ALL, 0));
#define CT_TOPIC kw_creatable_topic
KW_SCHEMA(ct_topic, CT_TOPIC, KW_F(CT_TOPIC, name, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(CT_TOPIC, num_partitions, KW_FT_I32, KW_V_ALL, 0),
          KW_F(CT_TOPIC, replication_factor, KW_FT_I16, KW_V_ALL, 0),
          KW_A(CT_TOPIC, "assignments", assignments, n_assignments, KW_FT_STRUCTS, &ct_assign, KW_V_ALL),
          KW_A(CT_TOPIC, "configs", configs, n_configs, KW_FT_STRUCTS, &ct_config, KW_V_ALL));
#define CT_REQ kw_create_topics_req
KW_SCHEMA(ct_req, CT_REQ, KW_A(CT_REQ, "topics", topics, n_topics, KW_FT_STRUCTS, &ct_topic, KW_V_ALL),
          KW_F(CT_REQ, timeout_ms, KW_FT_I32, KW_V_ALL, 0),
          KW_F(CT_REQ, validate_only, KW_FT_BOOL, 1, INT16_MAX, 0));
#define TRES kw_topic_result
KW_SCHEMA(ct_res, TRES, KW_F(TRES, name, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(TRES, error_code, KW_FT_I16, KW_V_ALL, 0),
          KW_F(TRES, error_message, KW_FT_NSTRING, 1, INT16_MAX, 0));
#define TRESP kw_topic_results_resp
KW_SCHEMA(ct_resp, TRESP, KW_F(TRESP, throttle_time_ms, KW_FT_I32, 2, INT16_MAX, 0),
          KW_A(TRESP, "topics", topics, n_topics, KW_FT_STRUCTS, &ct_res, KW_V_ALL));

#define DT_REQ kw_delete_topics_req
KW_SCHEMA(dt_req, DT_REQ,
          KW_A(DT_REQ, "topic_names", topic_names, n_topic_names, KW_FT_STRINGS, NULL, KW_V_ALL),
          KW_F(DT_REQ, timeout_ms, KW_FT_I32, KW_V_ALL, 0));
KW_SCHEMA(dt_res, TRES, KW_F(TRES, name, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(TRES, error_code, KW_FT_I16, KW_V_ALL, 0));
KW_SCHEMA(dt_resp, TRESP, KW_F(TRESP, throttle_time_ms, KW_FT_I32, 1, INT16_MAX, 0),
          KW_A(TRESP, "responses", topics, n_topics, KW_FT_STRUCTS, &dt_res, KW_V_ALL));

#define CP_ASSIGN kw_create_partitions_assignment
KW_SCHEMA(cp_assign, CP_ASSIGN,
          KW_A(CP_ASSIGN, "broker_ids", broker_ids, n_broker_ids, KW_FT_I32S, NULL, KW_V_ALL));
#define CP_TOPIC kw_create_partitions_topic
KW_SCHEMA(cp_topic, CP_TOPIC, KW_F(CP_TOPIC, name, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(CP_TOPIC, count, KW_FT_I32, KW_V_ALL, 0),
          KW_A(CP_TOPIC, "assignments", assignments, n_assignments, KW_FT_NSTRUCTS, &cp_assign, KW_V_ALL));
#define CP_REQ kw_create_partitions_req
KW_SCHEMA(cp_req, CP_REQ, KW_A(CP_REQ, "topics", topics, n_topics, KW_FT_STRUCTS, &cp_topic, KW_V_ALL),
          KW_F(CP_REQ, timeout_ms, KW_FT_I32, KW_V_ALL, 0),
          KW_F(CP_REQ, validate_only, KW_FT_BOOL, KW_V_ALL, 0));
KW_SCHEMA(cp_res, TRES, KW_F(TRES, name, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(TRES, error_code, KW_FT_I16, KW_V_ALL, 0),
          KW_F(TRES, error_message, KW_FT_NSTRING, KW_V_ALL, 0));
KW_SCHEMA(cp_resp, TRESP, KW_F(TRESP, throttle_time_ms, KW_FT_I32, KW_V_ALL, 0),
          KW_A(TRESP, "results", topics, n_topics, KW_FT_STRUCTS, &cp_res, KW_V_ALL));

#define DC_RES kw_describe_configs_resource
KW_SCHEMA(dc_res, DC_RES, KW_F(DC_RES, resource_type, KW_FT_I8, KW_V_ALL, 0),
          KW_F(DC_RES, resource_name, KW_FT_STRING, KW_V_ALL, 0),
          KW_A(DC_RES, "configuration_keys", configuration_keys, n_configuration_keys, KW_FT_NSTRINGS, NULL, KW_V_ALL));
#define DC_REQ kw_describe_configs_req
KW_SCHEMA(dc_req, DC_REQ,
          KW_A(DC_REQ, "resources", resources, n_resources, KW_FT_STRUCTS, &dc_res, KW_V_ALL),
          KW_F(DC_REQ, include_synonyms, KW_FT_BOOL, 1, INT16_MAX, 0));
#define DC_SYN kw_config_synonym
KW_SCHEMA(dc_syn, DC_SYN, KW_F(DC_SYN, name, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(DC_SYN, value, KW_FT_NSTRING, KW_V_ALL, 0),
          KW_F(DC_SYN, source, KW_FT_I8, KW_V_ALL, 0));
#define DC_ENTRY kw_config_entry
KW_SCHEMA(dc_entry, DC_ENTRY, KW_F(DC_ENTRY, name, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(DC_ENTRY, value, KW_FT_NSTRING, KW_V_ALL, 0),
          KW_F(DC_ENTRY, read_only, KW_FT_BOOL, KW_V_ALL, 0),
          KW_F(DC_ENTRY, is_default, KW_FT_BOOL, 0, 0, 0),
          KW_F(DC_ENTRY, config_source, KW_FT_I8, 1, INT16_MAX, -1),
          KW_F(DC_ENTRY, is_sensitive, KW_FT_BOOL, KW_V_ALL, 0),
          KW_A(DC_ENTRY, "synonyms", synonyms, n_synonyms, KW_FT_STRUCTS, &dc_syn, 1, INT16_MAX));
#define DC_RESULT kw_describe_configs_result
KW_SCHEMA(dc_result, DC_RESULT, KW_F(DC_RESULT, error_code, KW_FT_I16, KW_V_ALL, 0),
          KW_F(DC_RESULT, error_message, KW_FT_NSTRING, KW_V_ALL, 0),
          KW_F(DC_RESULT, resource_type, KW_FT_I8, KW_V_ALL, 0),
          KW_F(DC_RESULT, resource_name, KW_FT_STRING, KW_V_ALL, 0),
          KW_A(DC_RESULT, "configs", configs, n_configs, KW_FT_STRUCTS, &dc_entry, KW_V_ALL));
#define DC_RESP kw_describe_configs_resp
KW_SCHEMA(dc_resp, DC_RESP, KW_F(DC_RESP, throttle_time_ms, KW_FT_I32, KW_V_ALL, 0),
          KW_A(DC_RESP, "results", results, n_results, KW_FT_STRUCTS, &dc_result, KW_V_ALL));

#define OL_PART kw_ofle_req_partition
KW_SCHEMA(ol_part, OL_PART, KW_F(OL_PART, partition, KW_FT_I32, KW_V_ALL, 0),
          KW_F(OL_PART, current_leader_epoch, KW_FT_I32, 2, INT16_MAX, -1),
          KW_F(OL_PART, leader_epoch, KW_FT_I32, KW_V_ALL, 0));
#define OL_TOPIC kw_ofle_req_topic
KW_SCHEMA(ol_topic, OL_TOPIC, KW_F(OL_TOPIC, topic, KW_FT_STRING, KW_V_ALL, 0),
          KW_A(OL_TOPIC, "partitions", partitions, n_partitions, KW_FT_STRUCTS, &ol_part, KW_V_ALL));
#define OL_REQ kw_ofle_req
KW_SCHEMA(ol_req, OL_REQ, KW_F(OL_REQ, replica_id, KW_FT_I32, 3, INT16_MAX, -2),
          KW_A(OL_REQ, "topics", topics, n_topics, KW_FT_STRUCTS, &ol_topic, KW_V_ALL));
#define OL_RPART kw_ofle_resp_partition
KW_SCHEMA(ol_rpart, OL_RPART, KW_F(OL_RPART, error_code, KW_FT_I16, KW_V_ALL, 0),
          KW_F(OL_RPART, partition, KW_FT_I32, KW_V_ALL, 0),
          KW_F(OL_RPART, leader_epoch, KW_FT_I32, 1, INT16_MAX, -1),
          KW_F(OL_RPART, end_offset, KW_FT_I64, KW_V_ALL, 0));
#define OL_RTOPIC kw_ofle_resp_topic
KW_SCHEMA(ol_rtopic, OL_RTOPIC, KW_F(OL_RTOPIC, topic, KW_FT_STRING, KW_V_ALL, 0),
          KW_A(OL_RTOPIC, "partitions", partitions, n_partitions, KW_FT_STRUCTS, &ol_rpart, KW_V_ALL));
#define OL_RESP kw_ofle_resp
KW_SCHEMA(ol_resp, OL_RESP, KW_F(OL_RESP, throttle_time_ms, KW_FT_I32, 2, INT16_MAX, 0),
          KW_A(OL_RESP, "topics", topics, n_topics, KW_FT_STRUCTS, &ol_rtopic, KW_V_ALL));

KW_SCHEMA_MSG(create_topics_req, kw_create_topics_req, "CreateTopics request", 0, 4, 5, ct_req)
KW_SCHEMA_MSG(create_topics_resp, kw_topic_results_resp, "CreateTopics response", 0, 4, 5, ct_resp)
KW_SCHEMA_MSG(delete_topics_req, kw_delete_topics_req, "DeleteTopics request", 0, 3, 4, dt_req)
KW_SCHEMA_MSG(delete_topics_resp, kw_topic_results_resp, "DeleteTopics response", 0, 3, 4, dt_resp)
KW_SCHEMA_MSG(create_partitions_req, kw_create_partitions_req, "CreatePartitions request", 0, 1, 2, cp_req)
KW_SCHEMA_MSG(create_partitions_resp, kw_topic_results_resp, "CreatePartitions response", 0, 1, 2, cp_resp)
KW_SCHEMA_MSG(describe_configs_req, kw_describe_configs_req, "DescribeConfigs request", 0, 2, 4, dc_req)
KW_SCHEMA_MSG(describe_configs_resp, kw_describe_configs_resp, "DescribeConfigs response", 0, 2, 4, dc_resp)
KW_SCHEMA_MSG(ofle_req, kw_ofle_req, "OffsetForLeaderEpoch request", 0, 3, 4, ol_req)
KW_SCHEMA_MSG(ofle_resp, kw_ofle_resp, "OffsetForLeaderEpoch response", 0, 3, 4, ol_resp)
