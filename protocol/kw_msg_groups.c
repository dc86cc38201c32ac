/* The reading club's forms: FindCoordinator 0–2, JoinGroup 2–5, SyncGroup 0–3, Heartbeat 0–3,
 * LeaveGroup 0–1, OffsetCommit 2–7, OffsetFetch 1–5, ListGroups 0–2, DescribeGroups 0–4.
 *
 * Field lists and versions from apache/kafka's message JSON files
 * (clients/src/main/resources/common/message/<Name>{Request,Response}.json); the first
 * flexible version of each is given as flex_v (we serve none of them yet, the header code in
 * kw_api.c still needs to know them).
 */
#include "protocol/kw_schema.h"

#include <string.h>

#define FC_REQ kw_find_coordinator_req
KW_SCHEMA(fc_req, FC_REQ, KW_F(FC_REQ, key, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(FC_REQ, key_type, KW_FT_I8, 1, INT16_MAX, 0));
#define FC_RESP kw_find_coordinator_resp
KW_SCHEMA(fc_resp, FC_RESP, KW_F(FC_RESP, throttle_time_ms, KW_FT_I32, 1, INT16_MAX, 0),
          KW_F(FC_RESP, error_code, KW_FT_I16, KW_V_ALL, 0),
          KW_F(FC_RESP, error_message, KW_FT_NSTRING, 1, INT16_MAX, 0),
          KW_F(FC_RESP, node_id, KW_FT_I32, KW_V_ALL, 0),
          KW_F(FC_RESP, host, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(FC_RESP, port, KW_FT_I32, KW_V_ALL, 0));

#define JG_PROTO kw_join_group_protocol
KW_SCHEMA(jg_proto, JG_PROTO, KW_F(JG_PROTO, name, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(JG_PROTO, metadata, KW_FT_BYTES, KW_V_ALL, 0));
#define JG_REQ kw_join_group_req
KW_SCHEMA(jg_req, JG_REQ, KW_F(JG_REQ, group_id, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(JG_REQ, session_timeout_ms, KW_FT_I32, KW_V_ALL, 0),
          KW_F(JG_REQ, rebalance_timeout_ms, KW_FT_I32, 1, INT16_MAX, -1),
          KW_F(JG_REQ, member_id, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(JG_REQ, group_instance_id, KW_FT_NSTRING, 5, INT16_MAX, 0),
          KW_F(JG_REQ, protocol_type, KW_FT_STRING, KW_V_ALL, 0),
          KW_A(JG_REQ, "protocols", protocols, n_protocols, KW_FT_STRUCTS, &jg_proto, KW_V_ALL));
#define JG_MEMBER kw_join_group_member
KW_SCHEMA(jg_member, JG_MEMBER, KW_F(JG_MEMBER, member_id, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(JG_MEMBER, group_instance_id, KW_FT_NSTRING, 5, INT16_MAX, 0),
          KW_F(JG_MEMBER, metadata, KW_FT_BYTES, KW_V_ALL, 0));
#define JG_RESP kw_join_group_resp
KW_SCHEMA(jg_resp, JG_RESP, KW_F(JG_RESP, throttle_time_ms, KW_FT_I32, 2, INT16_MAX, 0),
          KW_F(JG_RESP, error_code, KW_FT_I16, KW_V_ALL, 0),
          KW_F(JG_RESP, generation_id, KW_FT_I32, KW_V_ALL, -1),
          KW_F(JG_RESP, protocol_name, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(JG_RESP, leader, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(JG_RESP, member_id, KW_FT_STRING, KW_V_ALL, 0),
          KW_A(JG_RESP, "members", members, n_members, KW_FT_STRUCTS, &jg_member, KW_V_ALL));

#define SG_ASSIGN kw_sync_group_assignment
KW_SCHEMA(sg_assign, SG_ASSIGN, KW_F(SG_ASSIGN, member_id, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(SG_ASSIGN, assignment, KW_FT_BYTES, KW_V_ALL, 0));
#define SG_REQ kw_sync_group_req
KW_SCHEMA(sg_req, SG_REQ, KW_F(SG_REQ, group_id, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(SG_REQ, generation_id, KW_FT_I32, KW_V_ALL, 0),
          KW_F(SG_REQ, member_id, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(SG_REQ, group_instance_id, KW_FT_NSTRING, 3, INT16_MAX, 0),
          KW_A(SG_REQ, "assignments", assignments, n_assignments, KW_FT_STRUCTS, &sg_assign, KW_V_ALL));
#define SG_RESP kw_sync_group_resp
KW_SCHEMA(sg_resp, SG_RESP, KW_F(SG_RESP, throttle_time_ms, KW_FT_I32, 1, INT16_MAX, 0),
          KW_F(SG_RESP, error_code, KW_FT_I16, KW_V_ALL, 0),
          KW_F(SG_RESP, assignment, KW_FT_BYTES, KW_V_ALL, 0));

#define HB_REQ kw_heartbeat_req
KW_SCHEMA(hb_req, HB_REQ, KW_F(HB_REQ, group_id, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(HB_REQ, generation_id, KW_FT_I32, KW_V_ALL, 0),
          KW_F(HB_REQ, member_id, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(HB_REQ, group_instance_id, KW_FT_NSTRING, 3, INT16_MAX, 0));
#define SIMPLE kw_group_simple_resp
KW_SCHEMA(simple_resp, SIMPLE, KW_F(SIMPLE, throttle_time_ms, KW_FT_I32, 1, INT16_MAX, 0),
          KW_F(SIMPLE, error_code, KW_FT_I16, KW_V_ALL, 0));

#define LG_REQ kw_leave_group_req
KW_SCHEMA(lg_req, LG_REQ, KW_F(LG_REQ, group_id, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(LG_REQ, member_id, KW_FT_STRING, KW_V_ALL, 0));

#define OC_PART kw_offset_commit_req_partition
KW_SCHEMA(oc_part, OC_PART, KW_F(OC_PART, partition_index, KW_FT_I32, KW_V_ALL, 0),
          KW_F(OC_PART, committed_offset, KW_FT_I64, KW_V_ALL, 0),
          KW_F(OC_PART, committed_leader_epoch, KW_FT_I32, 6, INT16_MAX, -1),
          KW_F(OC_PART, committed_metadata, KW_FT_NSTRING, KW_V_ALL, 0));
#define OC_TOPIC kw_offset_commit_req_topic
KW_SCHEMA(oc_topic, OC_TOPIC, KW_F(OC_TOPIC, name, KW_FT_STRING, KW_V_ALL, 0),
          KW_A(OC_TOPIC, "partitions", partitions, n_partitions, KW_FT_STRUCTS, &oc_part, KW_V_ALL));
#define OC_REQ kw_offset_commit_req
KW_SCHEMA(oc_req, OC_REQ, KW_F(OC_REQ, group_id, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(OC_REQ, generation_id, KW_FT_I32, KW_V_ALL, -1),
          KW_F(OC_REQ, member_id, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(OC_REQ, group_instance_id, KW_FT_NSTRING, 7, INT16_MAX, 0),
          KW_F(OC_REQ, retention_time_ms, KW_FT_I64, 2, 4, -1),
          KW_A(OC_REQ, "topics", topics, n_topics, KW_FT_STRUCTS, &oc_topic, KW_V_ALL));
#define PERR kw_partition_error
KW_SCHEMA(perr, PERR, KW_F(PERR, partition_index, KW_FT_I32, KW_V_ALL, 0),
          KW_F(PERR, error_code, KW_FT_I16, KW_V_ALL, 0));
#define OC_RTOPIC kw_offset_commit_resp_topic
KW_SCHEMA(oc_rtopic, OC_RTOPIC, KW_F(OC_RTOPIC, name, KW_FT_STRING, KW_V_ALL, 0),
          KW_A(OC_RTOPIC, "partitions", partitions, n_partitions, KW_FT_STRUCTS, &perr, KW_V_ALL));
#define OC_RESP kw_offset_commit_resp
KW_SCHEMA(oc_resp, OC_RESP, KW_F(OC_RESP, throttle_time_ms, KW_FT_I32, 3, INT16_MAX, 0),
          KW_A(OC_RESP, "topics", topics, n_topics, KW_FT_STRUCTS, &oc_rtopic, KW_V_ALL));

#define OF_TOPIC kw_offset_fetch_req_topic
KW_SCHEMA(of_topic, OF_TOPIC, KW_F(OF_TOPIC, name, KW_FT_STRING, KW_V_ALL, 0),
          KW_A(OF_TOPIC, "partition_indexes", partition_indexes, n_partition_indexes, KW_FT_I32S, NULL, KW_V_ALL));
#define OF_REQ kw_offset_fetch_req
KW_SCHEMA(of_req, OF_REQ, KW_F(OF_REQ, group_id, KW_FT_STRING, KW_V_ALL, 0),
          KW_A(OF_REQ, "topics", topics, n_topics, KW_FT_NSTRUCTS, &of_topic, KW_V_ALL));
#define OF_RPART kw_offset_fetch_resp_partition
KW_SCHEMA(of_rpart, OF_RPART, KW_F(OF_RPART, partition_index, KW_FT_I32, KW_V_ALL, 0),
          KW_F(OF_RPART, committed_offset, KW_FT_I64, KW_V_ALL, 0),
          KW_F(OF_RPART, committed_leader_epoch, KW_FT_I32, 5, INT16_MAX, -1),
          KW_F(OF_RPART, metadata, KW_FT_NSTRING, KW_V_ALL, 0),
          KW_F(OF_RPART, error_code, KW_FT_I16, KW_V_ALL, 0));
#define OF_RTOPIC kw_offset_fetch_resp_topic
KW_SCHEMA(of_rtopic, OF_RTOPIC, KW_F(OF_RTOPIC, name, KW_FT_STRING, KW_V_ALL, 0),
          KW_A(OF_RTOPIC, "partitions", partitions, n_partitions, KW_FT_STRUCTS, &of_rpart, KW_V_ALL));
#define OF_RESP kw_offset_fetch_resp
KW_SCHEMA(of_resp, OF_RESP, KW_F(OF_RESP, throttle_time_ms, KW_FT_I32, 3, INT16_MAX, 0),
          KW_A(OF_RESP, "topics", topics, n_topics, KW_FT_STRUCTS, &of_rtopic, KW_V_ALL),
          KW_F(OF_RESP, error_code, KW_FT_I16, 2, INT16_MAX, 0));

#define LS_REQ kw_list_groups_req
static const kw_schema ls_req = {sizeof(LS_REQ), 0, NULL};
#define LS_GROUP kw_listed_group
KW_SCHEMA(ls_group, LS_GROUP, KW_F(LS_GROUP, group_id, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(LS_GROUP, protocol_type, KW_FT_STRING, KW_V_ALL, 0));
#define LS_RESP kw_list_groups_resp
KW_SCHEMA(ls_resp, LS_RESP, KW_F(LS_RESP, throttle_time_ms, KW_FT_I32, 1, INT16_MAX, 0),
          KW_F(LS_RESP, error_code, KW_FT_I16, KW_V_ALL, 0),
          KW_A(LS_RESP, "groups", groups, n_groups, KW_FT_STRUCTS, &ls_group, KW_V_ALL));

#define DG_REQ kw_describe_groups_req
KW_SCHEMA(dg_req, DG_REQ,
          KW_A(DG_REQ, "groups", groups, n_groups, KW_FT_STRINGS, NULL, KW_V_ALL),
          KW_F(DG_REQ, include_authorized_operations, KW_FT_BOOL, 3, INT16_MAX, 0));
#define DG_MEMBER kw_described_member
KW_SCHEMA(dg_member, DG_MEMBER, KW_F(DG_MEMBER, member_id, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(DG_MEMBER, group_instance_id, KW_FT_NSTRING, 4, INT16_MAX, 0),
          KW_F(DG_MEMBER, client_id, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(DG_MEMBER, client_host, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(DG_MEMBER, member_metadata, KW_FT_BYTES, KW_V_ALL, 0),
          KW_F(DG_MEMBER, member_assignment, KW_FT_BYTES, KW_V_ALL, 0));
#define DG_GROUP kw_described_group
KW_SCHEMA(dg_group, DG_GROUP, KW_F(DG_GROUP, error_code, KW_FT_I16, KW_V_ALL, 0),
          KW_F(DG_GROUP, group_id, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(DG_GROUP, group_state, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(DG_GROUP, protocol_type, KW_FT_STRING, KW_V_ALL, 0),
          KW_F(DG_GROUP, protocol_data, KW_FT_STRING, KW_V_ALL, 0),
          KW_A(DG_GROUP, "members", members, n_members, KW_FT_STRUCTS, &dg_member, KW_V_ALL),
          KW_F(DG_GROUP, authorized_operations, KW_FT_I32, 3, INT16_MAX, INT32_MIN));
#define DG_RESP kw_describe_groups_resp
KW_SCHEMA(dg_resp, DG_RESP, KW_F(DG_RESP, throttle_time_ms, KW_FT_I32, 1, INT16_MAX, 0),
          KW_A(DG_RESP, "groups", groups, n_groups, KW_FT_STRUCTS, &dg_group, KW_V_ALL));

KW_SCHEMA_MSG(find_coordinator_req, kw_find_coordinator_req, "FindCoordinator request", 0, 2, 3, fc_req)
KW_SCHEMA_MSG(find_coordinator_resp, kw_find_coordinator_resp, "FindCoordinator response", 0, 2, 3, fc_resp)
KW_SCHEMA_MSG(join_group_req, kw_join_group_req, "JoinGroup request", 2, 5, 6, jg_req)
KW_SCHEMA_MSG(join_group_resp, kw_join_group_resp, "JoinGroup response", 2, 5, 6, jg_resp)
KW_SCHEMA_MSG(sync_group_req, kw_sync_group_req, "SyncGroup request", 0, 3, 4, sg_req)
KW_SCHEMA_MSG(sync_group_resp, kw_sync_group_resp, "SyncGroup response", 0, 3, 4, sg_resp)
KW_SCHEMA_MSG(heartbeat_req, kw_heartbeat_req, "Heartbeat request", 0, 3, 4, hb_req)
KW_SCHEMA_MSG(heartbeat_resp, kw_group_simple_resp, "Heartbeat response", 0, 3, 4, simple_resp)
KW_SCHEMA_MSG(leave_group_req, kw_leave_group_req, "LeaveGroup request", 0, 1, 4, lg_req)
KW_SCHEMA_MSG(leave_group_resp, kw_group_simple_resp, "LeaveGroup response", 0, 1, 4, simple_resp)
KW_SCHEMA_MSG(offset_commit_req, kw_offset_commit_req, "OffsetCommit request", 2, 7, 8, oc_req)
KW_SCHEMA_MSG(offset_commit_resp, kw_offset_commit_resp, "OffsetCommit response", 2, 7, 8, oc_resp)
KW_SCHEMA_MSG(offset_fetch_req, kw_offset_fetch_req, "OffsetFetch request", 1, 5, 6, of_req)
KW_SCHEMA_MSG(offset_fetch_resp, kw_offset_fetch_resp, "OffsetFetch response", 1, 5, 6, of_resp)
KW_SCHEMA_MSG(list_groups_req, kw_list_groups_req, "ListGroups request", 0, 2, 3, ls_req)
KW_SCHEMA_MSG(list_groups_resp, kw_list_groups_resp, "ListGroups response", 0, 2, 3, ls_resp)
KW_SCHEMA_MSG(describe_groups_req, kw_describe_groups_req, "DescribeGroups request", 0, 4, 5, dg_req)
KW_SCHEMA_MSG(describe_groups_resp, kw_describe_groups_resp, "DescribeGroups response", 0, 4, 5, dg_resp)

bool kw_sync_group_resp_decode_null_assignment(kw_rbuf *rb, int16_t version,
                                               kw_sync_group_resp *m) {
    memset(m, 0, sizeof *m);
    if (version >= 1)
        m->throttle_time_ms = kw_read_i32(rb, "throttle_time_ms");
    m->error_code = kw_read_i16(rb, "error_code");
    int32_t len = kw_read_i32(rb, "assignment");
    m->assignment = KW_SLICE_NULL;
    return !rb->err && len == -1 && kw_rbuf_remaining(rb) == 0;
}
