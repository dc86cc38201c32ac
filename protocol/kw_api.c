/* protocol/kw_api.c — the counter's price list: which APIs and versions we speak, and the
 * request/response headers that carry them.
 *
 * Header versions follow the message JSON files of apache/kafka: a request uses header v2 and
 * a response header v1 exactly when the body version is flexible ("flexibleVersions"), except
 * that ApiVersions responses always use header v0 (a client must be able to read the answer
 * before it knows which versions the broker speaks).
 */
#include "protocol/kw_wire.h"

#include <stdio.h>

/* The ranges both sides advertise and accept (DESIGN.md "Wire protocol we speak"). Produce is
 * advertised from 0 like Kafka 4.x (ApiKeys.PRODUCE_API_VERSIONS_RESPONSE_MIN_VERSION):
 * librdkafka before 2.11 turns compression off unless the range starts low (KAFKA-18659); a
 * broker answers Produce v0–2 with UNSUPPORTED_VERSION and a client never picks them. */
const kw_api_range kw_supported_apis[] = {
    {KW_API_PRODUCE, 0, 11},
    {KW_API_FETCH, 4, 12},
    {KW_API_LIST_OFFSETS, 1, 7},
    {KW_API_METADATA, 0, 12},
    {KW_API_API_VERSIONS, 0, 4},
    {KW_API_INIT_PRODUCER_ID, 0, 5},
    /* consumer groups and topic admin (protocol/kw_groups.h) */
    {KW_API_OFFSET_COMMIT, 2, 7}, {KW_API_OFFSET_FETCH, 1, 5}, {KW_API_FIND_COORDINATOR, 0, 2},
    {KW_API_JOIN_GROUP, 2, 5}, {KW_API_HEARTBEAT, 0, 3}, {KW_API_LEAVE_GROUP, 0, 1},
    {KW_API_SYNC_GROUP, 0, 3}, {KW_API_DESCRIBE_GROUPS, 0, 4}, {KW_API_LIST_GROUPS, 0, 2},
    {KW_API_CREATE_TOPICS, 0, 4}, {KW_API_DELETE_TOPICS, 0, 3},
    {KW_API_OFFSET_FOR_LEADER_EPOCH, 0, 3}, {KW_API_DESCRIBE_CONFIGS, 0, 2},
    {KW_API_CREATE_PARTITIONS, 0, 1},
};
const size_t kw_supported_api_count = sizeof kw_supported_apis / sizeof kw_supported_apis[0];

const kw_api_range *kw_api_supported(int16_t api_key) {
    for (size_t i = 0; i < kw_supported_api_count; i++)
        if (kw_supported_apis[i].api_key == api_key)
            return &kw_supported_apis[i];
    return NULL;
}

const char *kw_api_name(int16_t api_key) {
    switch (api_key) {
    case KW_API_PRODUCE:
        return "Produce";
    case KW_API_FETCH:
        return "Fetch";
    case KW_API_LIST_OFFSETS:
        return "ListOffsets";
    case KW_API_METADATA:
        return "Metadata";
    case KW_API_API_VERSIONS:
        return "ApiVersions";
    case KW_API_INIT_PRODUCER_ID:
        return "InitProducerId";
    case KW_API_OFFSET_COMMIT:
        return "OffsetCommit";
    case KW_API_OFFSET_FETCH:
        return "OffsetFetch";
    case KW_API_FIND_COORDINATOR:
        return "FindCoordinator";
    case KW_API_JOIN_GROUP:
        return "JoinGroup";
    case KW_API_HEARTBEAT:
        return "Heartbeat";
    case KW_API_LEAVE_GROUP:
        return "LeaveGroup";
    case KW_API_SYNC_GROUP:
        return "SyncGroup";
    case KW_API_DESCRIBE_GROUPS:
        return "DescribeGroups";
    case KW_API_LIST_GROUPS:
        return "ListGroups";
    case KW_API_CREATE_TOPICS:
        return "CreateTopics";
    case KW_API_DELETE_TOPICS:
        return "DeleteTopics";
    case KW_API_OFFSET_FOR_LEADER_EPOCH:
        return "OffsetForLeaderEpoch";
    case KW_API_DESCRIBE_CONFIGS:
        return "DescribeConfigs";
    case KW_API_CREATE_PARTITIONS:
        return "CreatePartitions";
    default: {
        static _Thread_local char buf[16];
        snprintf(buf, sizeof buf, "Api%d", (int)api_key);
        return buf;
    }
    }
}

/* First flexible version of each API we know (Kafka's "flexibleVersions": "N+"), also above
 * our ranges, so a header sent at a version we do not serve is still read correctly. */
static int first_flexible_version(int16_t api_key) {
    switch (api_key) {
    case KW_API_PRODUCE:
        return 9;
    case KW_API_FETCH:
        return 12;
    case KW_API_LIST_OFFSETS:
        return 6;
    case KW_API_METADATA:
        return 9;
    case KW_API_API_VERSIONS:
        return 3;
    case KW_API_INIT_PRODUCER_ID:
        return 2;
    case KW_API_OFFSET_COMMIT:
        return 8;
    case KW_API_OFFSET_FETCH:
    case KW_API_JOIN_GROUP:
        return 6;
    case KW_API_FIND_COORDINATOR:
    case KW_API_LIST_GROUPS:
        return 3;
    case KW_API_HEARTBEAT:
    case KW_API_LEAVE_GROUP:
    case KW_API_SYNC_GROUP:
    case KW_API_DELETE_TOPICS:
    case KW_API_OFFSET_FOR_LEADER_EPOCH:
    case KW_API_DESCRIBE_CONFIGS:
        return 4;
    case KW_API_DESCRIBE_GROUPS:
    case KW_API_CREATE_TOPICS:
        return 5;
    case KW_API_CREATE_PARTITIONS:
        return 2;
    default:
        return -1; /* unknown: treat as never flexible */
    }
}

bool kw_api_is_flexible(int16_t api_key, int16_t api_version) {
    int first = first_flexible_version(api_key);
    return first >= 0 && api_version >= first;
}

int kw_request_header_version(int16_t api_key, int16_t api_version) {
    return kw_api_is_flexible(api_key, api_version) ? 2 : 1;
}

int kw_response_header_version(int16_t api_key, int16_t api_version) {
    if (api_key == KW_API_API_VERSIONS)
        return 0;
    return kw_api_is_flexible(api_key, api_version) ? 1 : 0;
}

/* client_id stays a (non-compact) nullable string even in header v2; v2 adds tagged fields. */
void kw_request_header_encode(kw_wbuf *wb, const kw_request_header *h) {
    kw_write_i16(wb, h->api_key);
    kw_write_i16(wb, h->api_version);
    kw_write_i32(wb, h->correlation_id);
    kw_write_nullable_string(wb, h->client_id);
    if (kw_request_header_version(h->api_key, h->api_version) >= 2)
        kw_write_empty_tagged_fields(wb);
}

void kw_frame_request(kw_wbuf *out, const kw_request_header *h, const void *body, size_t len) {
    size_t start = kw_frame_begin(out);
    kw_request_header_encode(out, h);
    if (len > 0)
        kw_wbuf_append(out, body, len);
    kw_frame_end(out, start);
}

kw_err kw_request_header_decode(kw_rbuf *rb, kw_request_header *h) {
    h->api_key = kw_read_i16(rb, "request_header.request_api_key");
    h->api_version = kw_read_i16(rb, "request_header.request_api_version");
    h->correlation_id = kw_read_i32(rb, "request_header.correlation_id");
    h->client_id = kw_read_nullable_string(rb, "request_header.client_id");
    if (rb->err == KW_ERR_NONE && kw_request_header_version(h->api_key, h->api_version) >= 2)
        kw_read_tagged_fields(rb, "request_header._tagged_fields");
    return rb->err;
}

void kw_response_header_encode(kw_wbuf *wb, const kw_response_header *h, int header_version) {
    kw_write_i32(wb, h->correlation_id);
    if (header_version >= 1)
        kw_write_empty_tagged_fields(wb);
}

kw_err kw_response_header_decode(kw_rbuf *rb, kw_response_header *h, int header_version) {
    h->correlation_id = kw_read_i32(rb, "response_header.correlation_id");
    if (header_version >= 1)
        kw_read_tagged_fields(rb, "response_header._tagged_fields");
    return rb->err;
}
