/* protocol/kw_errors.c — the complaint book: every error code with its name, a sentence and
 * whether trying again may help.
 *
 * Names, sentences and the retriable flag follow Kafka's Errors.java and the exception classes
 * behind it (a code is retriable when its exception extends RetriableException), as published
 * in the protocol guide's error table. Local (negative, below -100) codes are Courier's own.
 */
#include "protocol/kw.h"

#include <stdio.h>
#include <string.h>

typedef struct kw_err_desc {
    kw_err code;
    const char *name;
    bool retriable;
    const char *str;
} kw_err_desc;

static const kw_err_desc err_table[] = {
    /* local */
    {KW_ERR__TRUNCATED, "TRUNCATED", false, "Input ended inside a field."},
    {KW_ERR__MALFORMED, "MALFORMED", false, "A field holds an impossible value."},
    {KW_ERR__TOO_LARGE, "TOO_LARGE", false, "A frame or field is larger than allowed."},
    {KW_ERR__UNSUPPORTED_API, "UNSUPPORTED_API", false,
     "The API key or version is not one this codec speaks."},
    {KW_ERR__NO_SPACE, "NO_SPACE", false, "The fixed buffer is full."},
    {KW_ERR__NO_MEMORY, "NO_MEMORY", false, "Memory allocation failed."},
    {KW_ERR__BAD_CRC, "BAD_CRC", false, "The RecordBatch CRC-32C does not match its contents."},
    {KW_ERR__TRANSPORT, "TRANSPORT", true, "The connection to the broker failed or was closed."},
    {KW_ERR__TIMED_OUT, "TIMED_OUT", true, "The request timed out locally (request.timeout.ms)."},
    {KW_ERR__BUFFER_EXHAUSTED, "BUFFER_EXHAUSTED", false,
     "No buffer memory became free within max.block.ms."},
    {KW_ERR__DELIVERY_TIMEOUT, "DELIVERY_TIMEOUT", false,
     "The record was not delivered within delivery.timeout.ms."},
    {KW_ERR__RECORD_TOO_LARGE, "RECORD_TOO_LARGE", false,
     "The record is larger than max.request.size or buffer.memory."},
    {KW_ERR__INVALID_ARG, "INVALID_ARG", false, "An argument or configuration value is invalid."},
    {KW_ERR__STATE, "STATE", false, "The call is not allowed in the current state."},
    {KW_ERR__METADATA_TIMEOUT, "METADATA_TIMEOUT", false,
     "Topic metadata was not available within max.block.ms."},
    {KW_ERR__UNKNOWN_PARTITION, "UNKNOWN_PARTITION", false,
     "The partition is outside the topic's partitions."},
    {KW_ERR__FATAL, "FATAL", false,
     "A fatal idempotence error occurred; the producer can no longer be used."},
    {KW_ERR__SERIALIZATION, "SERIALIZATION", false, "A serializer failed."},
    {KW_ERR__INTERRUPTED, "INTERRUPTED", false, "The producer was closed while waiting."},

    /* Kafka */
    {KW_ERR_UNKNOWN_SERVER_ERROR, "UNKNOWN_SERVER_ERROR", false,
     "The server experienced an unexpected error when processing the request."},
    {KW_ERR_NONE, "NONE", false, "Success."},
    {KW_ERR_OFFSET_OUT_OF_RANGE, "OFFSET_OUT_OF_RANGE", false,
     "The requested offset is not within the range of offsets maintained by the server."},
    {KW_ERR_CORRUPT_MESSAGE, "CORRUPT_MESSAGE", true,
     "This message has failed its CRC checksum, exceeds the valid size, has a null key for a "
     "compacted topic, or is otherwise corrupt."},
    {KW_ERR_UNKNOWN_TOPIC_OR_PARTITION, "UNKNOWN_TOPIC_OR_PARTITION", true,
     "This server does not host this topic-partition."},
    {KW_ERR_INVALID_FETCH_SIZE, "INVALID_FETCH_SIZE", false,
     "The requested fetch size is invalid."},
    {KW_ERR_LEADER_NOT_AVAILABLE, "LEADER_NOT_AVAILABLE", true,
     "There is no leader for this topic-partition as we are in the middle of a leadership "
     "election."},
    {KW_ERR_NOT_LEADER_OR_FOLLOWER, "NOT_LEADER_OR_FOLLOWER", true,
     "For requests intended only for the leader, this error indicates that the broker is not the "
     "current leader."},
    {KW_ERR_REQUEST_TIMED_OUT, "REQUEST_TIMED_OUT", true, "The request timed out."},
    {KW_ERR_BROKER_NOT_AVAILABLE, "BROKER_NOT_AVAILABLE", false, "The broker is not available."},
    {KW_ERR_REPLICA_NOT_AVAILABLE, "REPLICA_NOT_AVAILABLE", true,
     "The replica is not available for the requested topic-partition."},
    {KW_ERR_MESSAGE_TOO_LARGE, "MESSAGE_TOO_LARGE", false,
     "The request included a message larger than the max message size the server will accept."},
    {KW_ERR_STALE_CONTROLLER_EPOCH, "STALE_CONTROLLER_EPOCH", false,
     "The controller moved to another broker."},
    {KW_ERR_OFFSET_METADATA_TOO_LARGE, "OFFSET_METADATA_TOO_LARGE", false,
     "The metadata field of the offset request was too large."},
    {KW_ERR_NETWORK_EXCEPTION, "NETWORK_EXCEPTION", true,
     "The server disconnected before a response was received."},
    {KW_ERR_COORDINATOR_LOAD_IN_PROGRESS, "COORDINATOR_LOAD_IN_PROGRESS", true,
     "The coordinator is loading and hence can't process requests."},
    {KW_ERR_COORDINATOR_NOT_AVAILABLE, "COORDINATOR_NOT_AVAILABLE", true,
     "The coordinator is not available."},
    {KW_ERR_NOT_COORDINATOR, "NOT_COORDINATOR", true, "This is not the correct coordinator."},
    {KW_ERR_INVALID_TOPIC_EXCEPTION, "INVALID_TOPIC_EXCEPTION", false,
     "The request attempted to perform an operation on an invalid topic."},
    {KW_ERR_RECORD_LIST_TOO_LARGE, "RECORD_LIST_TOO_LARGE", false,
     "The request included message batch larger than the configured segment size on the "
     "server."},
    {KW_ERR_NOT_ENOUGH_REPLICAS, "NOT_ENOUGH_REPLICAS", true,
     "Messages are rejected since there are fewer in-sync replicas than required."},
    {KW_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND, "NOT_ENOUGH_REPLICAS_AFTER_APPEND", true,
     "Messages are written to the log, but to fewer in-sync replicas than required."},
    {KW_ERR_INVALID_REQUIRED_ACKS, "INVALID_REQUIRED_ACKS", false,
     "Produce request specified an invalid value for required acks."},
    {KW_ERR_ILLEGAL_GENERATION, "ILLEGAL_GENERATION", false,
     "Specified group generation id is not valid."},
    /* consumer groups and admin (kw_groups.h) */
    {(kw_err)KW_ERR_INCONSISTENT_GROUP_PROTOCOL, "INCONSISTENT_GROUP_PROTOCOL", false,
     "The group member's supported protocols are incompatible with those of existing members."},
    {(kw_err)KW_ERR_INVALID_GROUP_ID, "INVALID_GROUP_ID", false, "The configured groupId is invalid."},
    {(kw_err)KW_ERR_UNKNOWN_MEMBER_ID, "UNKNOWN_MEMBER_ID", false,
     "The coordinator is not aware of this member."},
    {(kw_err)KW_ERR_INVALID_SESSION_TIMEOUT, "INVALID_SESSION_TIMEOUT", false,
     "The session timeout is not within the range allowed by the broker."},
    {(kw_err)KW_ERR_REBALANCE_IN_PROGRESS, "REBALANCE_IN_PROGRESS", false,
     "The group is rebalancing, so a rejoin is needed."},
    {(kw_err)KW_ERR_INVALID_COMMIT_OFFSET_SIZE, "INVALID_COMMIT_OFFSET_SIZE", false,
     "The committing offset data size is not valid."},
    {(kw_err)KW_ERR_GROUP_AUTHORIZATION_FAILED, "GROUP_AUTHORIZATION_FAILED", false,
     "Group authorization failed."},
    {(kw_err)KW_ERR_INVALID_CONFIG, "INVALID_CONFIG", false,
     "Configuration is invalid."},
    {(kw_err)KW_ERR_NON_EMPTY_GROUP, "NON_EMPTY_GROUP", false, "The group is not empty."},
    {(kw_err)KW_ERR_GROUP_ID_NOT_FOUND, "GROUP_ID_NOT_FOUND", false, "The group id does not exist."},
    {(kw_err)KW_ERR_MEMBER_ID_REQUIRED, "MEMBER_ID_REQUIRED", false,
     "The group member needs to have a valid member id before actually entering a consumer "
     "group."},
    {(kw_err)KW_ERR_GROUP_MAX_SIZE_REACHED, "GROUP_MAX_SIZE_REACHED", false,
     "The consumer group has reached its max size."},
    {(kw_err)KW_ERR_UNKNOWN_TOPIC_ID, "UNKNOWN_TOPIC_ID", true,
     "This server does not host this topic ID."},
    {KW_ERR_TOPIC_AUTHORIZATION_FAILED, "TOPIC_AUTHORIZATION_FAILED", false,
     "Topic authorization failed."},
    {KW_ERR_CLUSTER_AUTHORIZATION_FAILED, "CLUSTER_AUTHORIZATION_FAILED", false,
     "Cluster authorization failed."},
    {KW_ERR_INVALID_TIMESTAMP, "INVALID_TIMESTAMP", false,
     "The timestamp of the message is out of acceptable range."},
    {KW_ERR_UNSUPPORTED_SASL_MECHANISM, "UNSUPPORTED_SASL_MECHANISM", false,
     "The broker does not support the requested SASL mechanism."},
    {KW_ERR_ILLEGAL_SASL_STATE, "ILLEGAL_SASL_STATE", false,
     "Request is not valid given the current SASL state."},
    {KW_ERR_UNSUPPORTED_VERSION, "UNSUPPORTED_VERSION", false,
     "The version of API is not supported."},
    {KW_ERR_TOPIC_ALREADY_EXISTS, "TOPIC_ALREADY_EXISTS", false,
     "Topic with this name already exists."},
    {KW_ERR_INVALID_PARTITIONS, "INVALID_PARTITIONS", false, "Number of partitions is below 1."},
    {KW_ERR_INVALID_REPLICATION_FACTOR, "INVALID_REPLICATION_FACTOR", false,
     "Replication factor is below 1 or larger than the number of available brokers."},
    {KW_ERR_NOT_CONTROLLER, "NOT_CONTROLLER", true,
     "This is not the correct controller for this cluster."},
    {KW_ERR_INVALID_REQUEST, "INVALID_REQUEST", false,
     "This most likely occurs because of a request being malformed by the client library or the "
     "message was sent to an incompatible broker."},
    {KW_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT, "UNSUPPORTED_FOR_MESSAGE_FORMAT", false,
     "The message format version on the broker does not support the request."},
    {KW_ERR_POLICY_VIOLATION, "POLICY_VIOLATION", false,
     "Request parameters do not satisfy the configured policy."},
    {KW_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "OUT_OF_ORDER_SEQUENCE_NUMBER", false,
     "The broker received an out of order sequence number."},
    {KW_ERR_DUPLICATE_SEQUENCE_NUMBER, "DUPLICATE_SEQUENCE_NUMBER", false,
     "The broker received a duplicate sequence number."},
    {KW_ERR_INVALID_PRODUCER_EPOCH, "INVALID_PRODUCER_EPOCH", false,
     "Producer attempted to produce with an old epoch."},
    {KW_ERR_INVALID_TXN_STATE, "INVALID_TXN_STATE", false,
     "The producer attempted a transactional operation in an invalid state."},
    {KW_ERR_INVALID_PRODUCER_ID_MAPPING, "INVALID_PRODUCER_ID_MAPPING", false,
     "The producer attempted to use a producer id which is not currently assigned to its "
     "transactional id."},
    {KW_ERR_INVALID_TRANSACTION_TIMEOUT, "INVALID_TRANSACTION_TIMEOUT", false,
     "The transaction timeout is larger than the maximum value allowed by the broker."},
    {KW_ERR_CONCURRENT_TRANSACTIONS, "CONCURRENT_TRANSACTIONS", true,
     "The producer attempted to update a transaction while another concurrent operation on the "
     "same transaction was ongoing."},
    {KW_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED, "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", false,
     "Transactional Id authorization failed."},
    {KW_ERR_KAFKA_STORAGE_ERROR, "KAFKA_STORAGE_ERROR", true,
     "Disk error when trying to access log file on the disk."},
    {KW_ERR_UNKNOWN_PRODUCER_ID, "UNKNOWN_PRODUCER_ID", false,
     "This exception is raised by the broker if it could not locate the producer metadata "
     "associated with the producerId in question."},
    {KW_ERR_FENCED_LEADER_EPOCH, "FENCED_LEADER_EPOCH", true,
     "The leader epoch in the request is older than the epoch on the broker."},
    {KW_ERR_UNKNOWN_LEADER_EPOCH, "UNKNOWN_LEADER_EPOCH", true,
     "The leader epoch in the request is newer than the epoch on the broker."},
    {KW_ERR_UNSUPPORTED_COMPRESSION_TYPE, "UNSUPPORTED_COMPRESSION_TYPE", false,
     "The requesting client does not support the compression type of given partition."},
    {KW_ERR_OFFSET_NOT_AVAILABLE, "OFFSET_NOT_AVAILABLE", true,
     "The leader high watermark has not caught up from a recent leader election so the offsets "
     "cannot be guaranteed to be monotonically increasing."},
    {KW_ERR_PREFERRED_LEADER_NOT_AVAILABLE, "PREFERRED_LEADER_NOT_AVAILABLE", true,
     "The preferred leader was not available."},
    {KW_ERR_THROTTLING_QUOTA_EXCEEDED, "THROTTLING_QUOTA_EXCEEDED", true,
     "The throttling quota has been exceeded."},
    {KW_ERR_PRODUCER_FENCED, "PRODUCER_FENCED", false,
     "There is a newer producer with the same transactionalId which fences the current one."},
    /* InvalidRecordException extends ApiException, not RetriableException. */
    {KW_ERR_INVALID_RECORD, "INVALID_RECORD", false,
     "This record has failed the validation on broker and hence will be rejected."},
};

#define ERR_COUNT (sizeof err_table / sizeof err_table[0])

static const kw_err_desc *err_find(kw_err err) {
    for (size_t i = 0; i < ERR_COUNT; i++)
        if (err_table[i].code == err)
            return &err_table[i];
    return NULL;
}

const char *kw_err_name(kw_err err) {
    const kw_err_desc *d = err_find(err);
    if (d)
        return d->name;
    static _Thread_local char buf[32];
    snprintf(buf, sizeof buf, "UNKNOWN_ERROR_%d", (int)err);
    return buf;
}

const char *kw_err_str(kw_err err) {
    const kw_err_desc *d = err_find(err);
    return d ? d->str : "Unknown error code.";
}

bool kw_err_is_retriable(kw_err err) {
    const kw_err_desc *d = err_find(err);
    return d ? d->retriable : false;
}

/* Accepts Kafka's names, local names with or without the leading "__" (as librdkafka spells
 * them), and "UNKNOWN_ERROR_<n>" as kw_err_name() prints unknown codes. */
bool kw_err_from_name(const char *name, kw_err *out) {
    if (!name)
        return false;
    const char *n = name;
    bool local_prefix = strncmp(n, "__", 2) == 0;
    if (local_prefix)
        n += 2;
    for (size_t i = 0; i < ERR_COUNT; i++) {
        if (local_prefix && err_table[i].code > -100)
            continue;
        if (strcmp(err_table[i].name, n) == 0) {
            if (out)
                *out = err_table[i].code;
            return true;
        }
    }
    if (!local_prefix && strncmp(name, "UNKNOWN_ERROR_", 14) == 0) {
        const char *d = name + 14;
        int sign = 1;
        if (*d == '-') {
            sign = -1;
            d++;
        }
        if (!*d)
            return false;
        long v = 0;
        for (; *d; d++) {
            if (*d < '0' || *d > '9' || v > 100000)
                return false;
            v = v * 10 + (*d - '0');
        }
        if (out)
            *out = (kw_err)(sign * v);
        return true;
    }
    return false;
}
