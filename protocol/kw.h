/* protocol/kw.h — the Kafka wire codec (kw_) shared by the producer and the mock broker.
 *
 * The courier company and its depots speak one language: this is its grammar. No I/O and no
 * threads live here: primitives over a bounds-checked read buffer and a growable write buffer,
 * request/response headers, size-prefixed framing, encode/decode of each API we speak,
 * RecordBatch v2 with CRC-32C, and Kafka's error codes with their names.
 *
 * Conventions
 * - Decoders never read past the end. A read buffer carries a sticky error: the first failed
 *   read records a code and a message naming the field ("Produce.topic_data[0].name: truncated
 *   string"); later reads do nothing and return zero values. Callers check rb->err once.
 * - Decoded strings and byte fields point into the read buffer (zero copy): a decoded struct
 *   is valid only while the frame it was decoded from is. Arrays are allocated from a kw_arena
 *   handed in; kw_arena_reset()/kw_arena_destroy() frees them all at once.
 * - An array count is checked against the bytes left before anything is allocated, so a hostile
 *   length field cannot cause a huge allocation.
 * - Encoders append to a kw_wbuf; running out of memory sets wb->oom (sticky), checked once.
 * - Every struct holds the union of the fields of all versions we speak; fields that a version
 *   does not carry are ignored when encoding and left at their defaults when decoding.
 */
#ifndef COURIER_PROTOCOL_KW_H
#define COURIER_PROTOCOL_KW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------------------------ */
/* Errors: Kafka's codes keep their wire values; local codes are negative (below -100).        */

typedef enum kw_err {
    /* local errors (never on the wire) */
    KW_ERR__TRUNCATED = -200,         /* input ended inside a field */
    KW_ERR__MALFORMED = -199,         /* a field holds an impossible value */
    KW_ERR__TOO_LARGE = -198,         /* a frame or field is larger than allowed */
    KW_ERR__UNSUPPORTED_API = -197,   /* API key or version we do not speak */
    KW_ERR__NO_SPACE = -196,          /* a fixed buffer (batch writer) is full */
    KW_ERR__NO_MEMORY = -195,         /* allocation failed */
    KW_ERR__BAD_CRC = -194,           /* RecordBatch CRC-32C mismatch */
    KW_ERR__TRANSPORT = -193,         /* connection failed or closed */
    KW_ERR__TIMED_OUT = -192,         /* local timeout (request.timeout.ms) */
    KW_ERR__BUFFER_EXHAUSTED = -191,  /* producer: no buffer memory within max.block.ms */
    KW_ERR__DELIVERY_TIMEOUT = -190,  /* producer: delivery.timeout.ms passed */
    KW_ERR__RECORD_TOO_LARGE = -189,  /* producer: record larger than max.request.size */
    KW_ERR__INVALID_ARG = -188,       /* bad argument or config value */
    KW_ERR__STATE = -187,             /* call not allowed in this state (closed producer) */
    KW_ERR__METADATA_TIMEOUT = -186,  /* producer: topic metadata not available in max.block.ms */
    KW_ERR__UNKNOWN_PARTITION = -185, /* producer: partition outside the topic's partitions */
    KW_ERR__FATAL = -184,             /* producer: fatal idempotence error, producer unusable */
    KW_ERR__SERIALIZATION = -183,     /* producer: a serializer failed */
    KW_ERR__INTERRUPTED = -182,       /* producer: closed while waiting */

    /* Kafka's protocol error codes (subset we use; names as in Kafka's Errors.java) */
    KW_ERR_UNKNOWN_SERVER_ERROR = -1,
    KW_ERR_NONE = 0,
    KW_ERR_OFFSET_OUT_OF_RANGE = 1,
    KW_ERR_CORRUPT_MESSAGE = 2,
    KW_ERR_UNKNOWN_TOPIC_OR_PARTITION = 3,
    KW_ERR_INVALID_FETCH_SIZE = 4,
    KW_ERR_LEADER_NOT_AVAILABLE = 5,
    KW_ERR_NOT_LEADER_OR_FOLLOWER = 6,
    KW_ERR_REQUEST_TIMED_OUT = 7,
    KW_ERR_BROKER_NOT_AVAILABLE = 8,
    KW_ERR_REPLICA_NOT_AVAILABLE = 9,
    KW_ERR_MESSAGE_TOO_LARGE = 10,
    KW_ERR_STALE_CONTROLLER_EPOCH = 11,
    KW_ERR_OFFSET_METADATA_TOO_LARGE = 12,
    KW_ERR_NETWORK_EXCEPTION = 13,
    KW_ERR_COORDINATOR_LOAD_IN_PROGRESS = 14,
    KW_ERR_COORDINATOR_NOT_AVAILABLE = 15,
    KW_ERR_NOT_COORDINATOR = 16,
    KW_ERR_INVALID_TOPIC_EXCEPTION = 17,
    KW_ERR_RECORD_LIST_TOO_LARGE = 18,
    KW_ERR_NOT_ENOUGH_REPLICAS = 19,
    KW_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20,
    KW_ERR_INVALID_REQUIRED_ACKS = 21,
    KW_ERR_ILLEGAL_GENERATION = 22,
    KW_ERR_INVALID_TIMESTAMP = 32,
    KW_ERR_UNSUPPORTED_SASL_MECHANISM = 33,
    KW_ERR_ILLEGAL_SASL_STATE = 34,
    KW_ERR_UNSUPPORTED_VERSION = 35,
    KW_ERR_TOPIC_ALREADY_EXISTS = 36,
    KW_ERR_INVALID_PARTITIONS = 37,
    KW_ERR_INVALID_REPLICATION_FACTOR = 38,
    KW_ERR_NOT_CONTROLLER = 41,
    KW_ERR_INVALID_REQUEST = 42,
    KW_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT = 43,
    KW_ERR_POLICY_VIOLATION = 44,
    KW_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER = 45,
    KW_ERR_DUPLICATE_SEQUENCE_NUMBER = 46,
    KW_ERR_INVALID_PRODUCER_EPOCH = 47,
    KW_ERR_INVALID_TXN_STATE = 48,
    KW_ERR_INVALID_PRODUCER_ID_MAPPING = 49,
    KW_ERR_INVALID_TRANSACTION_TIMEOUT = 50,
    KW_ERR_CONCURRENT_TRANSACTIONS = 51,
    KW_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53,
    KW_ERR_CLUSTER_AUTHORIZATION_FAILED = 31,
    KW_ERR_TOPIC_AUTHORIZATION_FAILED = 29,
    KW_ERR_KAFKA_STORAGE_ERROR = 56,
    KW_ERR_UNKNOWN_PRODUCER_ID = 59,
    KW_ERR_FENCED_LEADER_EPOCH = 74,
    KW_ERR_UNKNOWN_LEADER_EPOCH = 75,
    KW_ERR_UNSUPPORTED_COMPRESSION_TYPE = 76,
    KW_ERR_OFFSET_NOT_AVAILABLE = 78,
    KW_ERR_PREFERRED_LEADER_NOT_AVAILABLE = 80,
    KW_ERR_THROTTLING_QUOTA_EXCEEDED = 89,
    KW_ERR_PRODUCER_FENCED = 90,
    KW_ERR_INVALID_RECORD = 87,
} kw_err;

/* Kafka's name of the error ("NOT_LEADER_OR_FOLLOWER"; local ones without the underscores,
 * e.g. "BUFFER_EXHAUSTED", "DELIVERY_TIMEOUT"); "UNKNOWN_ERROR_<n>" for codes not in the
 * table (returned in a static thread-local buffer). Never NULL. */
const char *kw_err_name(kw_err err);
/* A human sentence describing the error. Never NULL. */
const char *kw_err_str(kw_err err);
/* True when Kafka marks the error retriable (RetriableException), or a local transient
 * error (__TRANSPORT, __TIMED_OUT). */
bool kw_err_is_retriable(kw_err err);
/* Looks an error up by its name; returns false when the name is unknown. */
bool kw_err_from_name(const char *name, kw_err *out);

/* ------------------------------------------------------------------------------------------ */
/* Memory: an arena for decoded arrays.                                                         */

typedef struct kw_arena kw_arena;
kw_arena *kw_arena_new(void);
/* Allocates n zeroed bytes (aligned for any type); NULL when out of memory or n is absurd. */
void *kw_arena_alloc(kw_arena *a, size_t n);
/* Frees everything allocated so far; the arena can be reused. */
void kw_arena_reset(kw_arena *a);
void kw_arena_destroy(kw_arena *a);

/* ------------------------------------------------------------------------------------------ */
/* Buffers and primitives.                                                                      */

/* A byte slice: len == -1 means null (nullable string/bytes). Points into someone else's
 * memory; the owner is said where a slice is handed out. */
typedef struct kw_slice {
    const uint8_t *p;
    int32_t len;
} kw_slice;

#define KW_SLICE_NULL ((kw_slice){NULL, -1})
/* A slice over a NUL-terminated C string; NULL gives the null slice. */
kw_slice kw_slice_str(const char *s);
/* True when the slice equals the C string (a null slice equals only NULL). */
bool kw_slice_eq(kw_slice s, const char *cstr);
/* Copies the slice into buf as a NUL-terminated string (truncating); returns buf. */
char *kw_slice_cstr(kw_slice s, char *buf, size_t bufsize);

typedef struct kw_rbuf {
    const uint8_t *p;
    size_t len;
    size_t pos;
    kw_err err;          /* KW_ERR_NONE until the first failed read */
    char errmsg[160];    /* names the field of the first failure */
    const char *context; /* prefix for error messages, e.g. "Produce v7 request" */
} kw_rbuf;

void kw_rbuf_init(kw_rbuf *rb, const void *p, size_t len, const char *context);
size_t kw_rbuf_remaining(const kw_rbuf *rb);
/* Records an error (only the first one sticks) with a printf-style message; returns err. */
kw_err kw_rbuf_fail(kw_rbuf *rb, kw_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

typedef struct kw_wbuf {
    uint8_t *p;
    size_t len;
    size_t cap;
    bool oom; /* sticky: an allocation failed; the content is incomplete */
} kw_wbuf;

/* Makes room for element n of the growable array *arr (a pointer to the array pointer) of
 * *cap elements of elem_size bytes: when n reaches *cap, doubles *cap (to `first` from 0) and
 * reallocates. false when out of memory or too large; *arr and *cap are then unchanged. */
bool kw_grow(void *arr, int32_t n, int32_t *cap, size_t elem_size, int32_t first);

void kw_wbuf_init(kw_wbuf *wb);
void kw_wbuf_free(kw_wbuf *wb);
/* Empties the buffer, keeping its memory. */
void kw_wbuf_reset(kw_wbuf *wb);
/* Ensures room for n more bytes; returns a pointer to them (NULL and oom set on failure). */
uint8_t *kw_wbuf_reserve(kw_wbuf *wb, size_t n);

/* Appends n bytes (an already-encoded body, a queued answer). */
void kw_wbuf_append(kw_wbuf *wb, const void *p, size_t n);

/* The Kafka field encoders and decoders (kw_read_*, kw_write_*) are private to protocol/:
 * protocol/kw_wire.h. Other rooms encode and decode whole messages and headers, below. */

/* ------------------------------------------------------------------------------------------ */
/* Framing: every request and response is an int32 size followed by that many bytes.          */

#define KW_DEFAULT_MAX_FRAME (100 * 1024 * 1024) /* socket.request.max.bytes */

/* Looks at the start of a receive buffer. Returns 1 and the payload size in *frame_len when a
 * whole frame is there (payload at p + 4), 0 when more bytes are needed, or a negative
 * kw_err (KW_ERR__TOO_LARGE / KW_ERR__MALFORMED for size < 0 or > max_frame) with errbuf
 * filled ("frame size 2147483647 exceeds the maximum 104857600"). Once the 4 size bytes are
 * there, *frame_len is filled even when 0 is returned, so a reader can size its buffer. */
int kw_frame_peek(const uint8_t *p, size_t avail, int32_t max_frame, int32_t *frame_len,
                  char *errbuf, size_t errsize);
/* Starts a frame: writes a placeholder size, returns its offset for kw_frame_end(). */
size_t kw_frame_begin(kw_wbuf *wb);
/* Fills in the size of the frame started at `start`. */
void kw_frame_end(kw_wbuf *wb, size_t start);

/* ------------------------------------------------------------------------------------------ */
/* API keys, versions, headers.                                                                 */

enum {
    KW_API_PRODUCE = 0,
    KW_API_FETCH = 1,
    KW_API_LIST_OFFSETS = 2,
    KW_API_METADATA = 3,
    KW_API_API_VERSIONS = 18,
    KW_API_INIT_PRODUCER_ID = 22,
};

typedef struct kw_api_range {
    int16_t api_key;
    int16_t min_version;
    int16_t max_version;
} kw_api_range;

/* The APIs and version ranges this codec speaks (both sides advertise/pick from these). */
extern const kw_api_range kw_supported_apis[];
extern const size_t kw_supported_api_count;
/* The range for an API key, or NULL if we do not speak it. */
const kw_api_range *kw_api_supported(int16_t api_key);
/* "Produce", "Metadata", ...; "Api<n>" for others (static or thread-local string). */
const char *kw_api_name(int16_t api_key);
/* Header versions Kafka uses for an API at a version (request header 1 or 2, response 0 or
 * 1). ApiVersions responses always use header v0, even for flexible versions. */
int kw_request_header_version(int16_t api_key, int16_t api_version);
int kw_response_header_version(int16_t api_key, int16_t api_version);
/* True when the API body at this version is flexible (compact types + tagged fields). */
bool kw_api_is_flexible(int16_t api_key, int16_t api_version);

typedef struct kw_request_header {
    int16_t api_key;
    int16_t api_version;
    int32_t correlation_id;
    kw_slice client_id; /* nullable */
} kw_request_header;

/* Request header v1 or v2 (as kw_request_header_version() says for the key/version). */
void kw_request_header_encode(kw_wbuf *wb, const kw_request_header *h);
/* A whole request frame appended to out: the size, the header, then `len` bytes of an
 * already-encoded body (kw_<message>_req_encode into another wbuf). */
void kw_frame_request(kw_wbuf *out, const kw_request_header *h, const void *body, size_t len);
/* Decodes api_key and api_version first, then the rest with the header version they imply.
 * Unknown api keys still decode (v1 header) so the broker can answer or log them. */
kw_err kw_request_header_decode(kw_rbuf *rb, kw_request_header *h);

typedef struct kw_response_header {
    int32_t correlation_id;
} kw_response_header;

void kw_response_header_encode(kw_wbuf *wb, const kw_response_header *h, int header_version);
kw_err kw_response_header_decode(kw_rbuf *rb, kw_response_header *h, int header_version);

/* ------------------------------------------------------------------------------------------ */
/* Messages. Each has encode(wb, version, msg) and decode(rb, version, arena, msg); decode
 * returns rb->err (KW_ERR_NONE on success) and fails on trailing bytes.                        */

/* ApiVersions 0–4 (v3+ flexible) */
typedef struct kw_api_versions_req {
    kw_slice client_software_name;    /* v3+ */
    kw_slice client_software_version; /* v3+ */
} kw_api_versions_req;

typedef struct kw_api_versions_resp {
    int16_t error_code;
    int32_t n_api_keys;
    kw_api_range *api_keys;
    int32_t throttle_time_ms; /* v1+ */
} kw_api_versions_resp;

/* A topic id (KIP-516): 16 bytes, all zero = none. */
typedef struct kw_uuid {
    uint8_t b[16];
} kw_uuid;

/* Metadata 0–12 (v9+ flexible) */
typedef struct kw_metadata_req {
    int32_t n_topics; /* -1 = all topics (v1+); v0 uses 0 for all */
    kw_slice *topics; /* names; v10+ a name may be null (the topic asked for by id) */
    bool allow_auto_topic_creation;             /* v4+, default true */
    bool include_cluster_authorized_operations; /* v8–10 */
    bool include_topic_authorized_operations;   /* v8+ */
    kw_uuid *topic_ids; /* v10+, one per topic; NULL = every id zero (asked for by name) */
} kw_metadata_req;

typedef struct kw_metadata_broker {
    int32_t node_id;
    kw_slice host;
    int32_t port;
    kw_slice rack; /* v1+, nullable */
} kw_metadata_broker;

typedef struct kw_metadata_partition {
    int16_t error_code;
    int32_t partition_index;
    int32_t leader_id;
    int32_t leader_epoch; /* v7+, default -1 */
    int32_t n_replicas;
    int32_t *replica_nodes;
    int32_t n_isr;
    int32_t *isr_nodes;
    int32_t n_offline;
    int32_t *offline_replicas; /* v5+ */
} kw_metadata_partition;

typedef struct kw_metadata_topic {
    int16_t error_code;
    kw_slice name;    /* nullable from v12 (an unknown topic asked for by id) */
    bool is_internal; /* v1+ */
    int32_t n_partitions;
    kw_metadata_partition *partitions;
    int32_t topic_authorized_operations; /* v8+, default INT32_MIN */
    kw_uuid topic_id;                    /* v10+ (on the wire after name) */
} kw_metadata_topic;

typedef struct kw_metadata_resp {
    int32_t throttle_time_ms; /* v3+ */
    int32_t n_brokers;
    kw_metadata_broker *brokers;
    kw_slice cluster_id;   /* v2+, nullable */
    int32_t controller_id; /* v1+, default -1 */
    int32_t n_topics;
    kw_metadata_topic *topics;
    int32_t cluster_authorized_operations; /* v8–10, default INT32_MIN */
} kw_metadata_resp;

/* Produce 0–11 (v9+ flexible). Requests v0–2 carry no transactional_id and are decoded only so
 * a broker can answer them UNSUPPORTED_VERSION, as Kafka 4.x does (KAFKA-18659). */
typedef struct kw_produce_req_partition {
    int32_t index;
    kw_slice records; /* nullable bytes: one or more RecordBatch v2 */
} kw_produce_req_partition;

typedef struct kw_produce_req_topic {
    kw_slice name;
    int32_t n_partitions;
    kw_produce_req_partition *partitions;
} kw_produce_req_topic;

typedef struct kw_produce_req {
    kw_slice transactional_id; /* nullable */
    int16_t acks;
    int32_t timeout_ms;
    int32_t n_topics;
    kw_produce_req_topic *topics;
} kw_produce_req;

typedef struct kw_produce_record_error {
    int32_t batch_index;
    kw_slice message; /* nullable */
} kw_produce_record_error;

typedef struct kw_produce_resp_partition {
    int32_t index;
    int16_t error_code;
    int64_t base_offset;
    int64_t log_append_time_ms; /* v2+, default -1 */
    int64_t log_start_offset;   /* v5+, default -1 */
    int32_t n_record_errors;    /* v8+ */
    kw_produce_record_error *record_errors;
    kw_slice error_message; /* v8+, nullable */
    /* v10+ tagged field 0 CurrentLeader (KIP-951): the leader a NOT_LEADER_OR_FOLLOWER answer
     * points the producer to. Written only when has_current_leader; decoded as -1/-1 when
     * absent. */
    bool has_current_leader;
    int32_t current_leader_id;
    int32_t current_leader_epoch;
} kw_produce_resp_partition;

typedef struct kw_produce_resp_topic {
    kw_slice name;
    int32_t n_partitions;
    kw_produce_resp_partition *partitions;
} kw_produce_resp_topic;

typedef struct kw_produce_resp {
    int32_t n_topics;
    kw_produce_resp_topic *topics;
    int32_t throttle_time_ms; /* v1+ */
    /* v10+ tagged field 0 NodeEndpoints (KIP-951): host and port of every leader named in a
     * CurrentLeader; written only when non-empty. */
    int32_t n_node_endpoints;
    kw_metadata_broker *node_endpoints;
} kw_produce_resp;

/* InitProducerId 0–5 (flexible from v2) */
typedef struct kw_init_pid_req {
    kw_slice transactional_id; /* nullable */
    int32_t transaction_timeout_ms;
    int64_t producer_id;    /* v3+: the producer's current id, -1 when it has none */
    int16_t producer_epoch; /* v3+: its current epoch, -1 when it has none */
} kw_init_pid_req;

typedef struct kw_init_pid_resp {
    int32_t throttle_time_ms;
    int16_t error_code;
    int64_t producer_id;
    int16_t producer_epoch;
} kw_init_pid_resp;

/* ListOffsets 1–7 (v6+ flexible; v7 adds only the timestamp -3, max timestamp, KIP-734) */
typedef struct kw_list_offsets_req_partition {
    int32_t partition_index;
    int32_t current_leader_epoch; /* v4+, default -1 */
    int64_t timestamp;            /* -1 latest, -2 earliest */
} kw_list_offsets_req_partition;

typedef struct kw_list_offsets_req_topic {
    kw_slice name;
    int32_t n_partitions;
    kw_list_offsets_req_partition *partitions;
} kw_list_offsets_req_topic;

typedef struct kw_list_offsets_req {
    int32_t replica_id;
    int8_t isolation_level; /* v2+ */
    int32_t n_topics;
    kw_list_offsets_req_topic *topics;
} kw_list_offsets_req;

typedef struct kw_list_offsets_resp_partition {
    int32_t partition_index;
    int16_t error_code;
    int64_t timestamp;
    int64_t offset;
    int32_t leader_epoch; /* v4+, default -1 */
} kw_list_offsets_resp_partition;

typedef struct kw_list_offsets_resp_topic {
    kw_slice name;
    int32_t n_partitions;
    kw_list_offsets_resp_partition *partitions;
} kw_list_offsets_resp_topic;

typedef struct kw_list_offsets_resp {
    int32_t throttle_time_ms; /* v2+ */
    int32_t n_topics;
    kw_list_offsets_resp_topic *topics;
} kw_list_offsets_resp;

/* Fetch 4–12 (v12 flexible) */
typedef struct kw_fetch_req_partition {
    int32_t partition;
    int32_t current_leader_epoch; /* v9+, default -1 */
    int64_t fetch_offset;
    int64_t log_start_offset; /* v5+, default -1 */
    int32_t partition_max_bytes;
    int32_t last_fetched_epoch; /* v12+ (on the wire before log_start_offset); -1 = none */
} kw_fetch_req_partition;

typedef struct kw_fetch_req_topic {
    kw_slice topic;
    int32_t n_partitions;
    kw_fetch_req_partition *partitions;
} kw_fetch_req_topic;

typedef struct kw_fetch_forgotten_topic {
    kw_slice topic;
    int32_t n_partitions;
    int32_t *partitions;
} kw_fetch_forgotten_topic;

typedef struct kw_fetch_req {
    int32_t replica_id;
    int32_t max_wait_ms;
    int32_t min_bytes;
    int32_t max_bytes;      /* v3+ */
    int8_t isolation_level; /* v4+ */
    int32_t session_id;     /* v7+ */
    int32_t session_epoch;  /* v7+, default -1 */
    int32_t n_topics;
    kw_fetch_req_topic *topics;
    int32_t n_forgotten; /* v7+ */
    kw_fetch_forgotten_topic *forgotten;
    kw_slice rack_id; /* v11+ */
} kw_fetch_req;

typedef struct kw_fetch_aborted_txn {
    int64_t producer_id;
    int64_t first_offset;
} kw_fetch_aborted_txn;

typedef struct kw_fetch_resp_partition {
    int32_t partition_index;
    int16_t error_code;
    int64_t high_watermark;
    int64_t last_stable_offset; /* v4+, default -1 */
    int64_t log_start_offset;   /* v5+, default -1 */
    int32_t n_aborted;          /* v4+, -1 = null */
    kw_fetch_aborted_txn *aborted;
    int32_t preferred_read_replica; /* v11+, default -1 */
    kw_slice records;               /* nullable */
} kw_fetch_resp_partition;

typedef struct kw_fetch_resp_topic {
    kw_slice topic;
    int32_t n_partitions;
    kw_fetch_resp_partition *partitions;
} kw_fetch_resp_topic;

typedef struct kw_fetch_resp {
    int32_t throttle_time_ms; /* v1+ */
    int16_t error_code;       /* v7+ */
    int32_t session_id;       /* v7+ */
    int32_t n_topics;
    kw_fetch_resp_topic *topics;
} kw_fetch_resp;

/* Encoders write the body only (no size prefix, no header). `version` must be in the
 * supported range (asserted). */
void kw_api_versions_req_encode(kw_wbuf *wb, int16_t version, const kw_api_versions_req *m);
void kw_api_versions_resp_encode(kw_wbuf *wb, int16_t version, const kw_api_versions_resp *m);
void kw_metadata_req_encode(kw_wbuf *wb, int16_t version, const kw_metadata_req *m);
void kw_metadata_resp_encode(kw_wbuf *wb, int16_t version, const kw_metadata_resp *m);
void kw_produce_req_encode(kw_wbuf *wb, int16_t version, const kw_produce_req *m);
void kw_produce_resp_encode(kw_wbuf *wb, int16_t version, const kw_produce_resp *m);
void kw_init_pid_req_encode(kw_wbuf *wb, int16_t version, const kw_init_pid_req *m);
void kw_init_pid_resp_encode(kw_wbuf *wb, int16_t version, const kw_init_pid_resp *m);
void kw_list_offsets_req_encode(kw_wbuf *wb, int16_t version, const kw_list_offsets_req *m);
void kw_list_offsets_resp_encode(kw_wbuf *wb, int16_t version, const kw_list_offsets_resp *m);
void kw_fetch_req_encode(kw_wbuf *wb, int16_t version, const kw_fetch_req *m);
void kw_fetch_resp_encode(kw_wbuf *wb, int16_t version, const kw_fetch_resp *m);

/* Decoders read a whole body (after the header) and fail on trailing bytes. An unsupported
 * version fails with KW_ERR__UNSUPPORTED_API. Arrays come from `arena`. */
kw_err kw_api_versions_req_decode(kw_rbuf *rb, int16_t version, kw_arena *a,
                                  kw_api_versions_req *m);
kw_err kw_api_versions_resp_decode(kw_rbuf *rb, int16_t version, kw_arena *a,
                                   kw_api_versions_resp *m);
kw_err kw_metadata_req_decode(kw_rbuf *rb, int16_t version, kw_arena *a, kw_metadata_req *m);
kw_err kw_metadata_resp_decode(kw_rbuf *rb, int16_t version, kw_arena *a, kw_metadata_resp *m);
kw_err kw_produce_req_decode(kw_rbuf *rb, int16_t version, kw_arena *a, kw_produce_req *m);
kw_err kw_produce_resp_decode(kw_rbuf *rb, int16_t version, kw_arena *a, kw_produce_resp *m);
/* The acks of a Produce request body (rb after the request header) without reading its
 * records: how a proxy learns that no answer will come (acks=0). Any version: the fields
 * before acks have kept their layout since v3 (compact from v9). Returns rb->err. */
kw_err kw_produce_req_acks(kw_rbuf *rb, int16_t version, int16_t *acks);
kw_err kw_init_pid_req_decode(kw_rbuf *rb, int16_t version, kw_arena *a, kw_init_pid_req *m);
kw_err kw_init_pid_resp_decode(kw_rbuf *rb, int16_t version, kw_arena *a, kw_init_pid_resp *m);
kw_err kw_list_offsets_req_decode(kw_rbuf *rb, int16_t version, kw_arena *a,
                                  kw_list_offsets_req *m);
kw_err kw_list_offsets_resp_decode(kw_rbuf *rb, int16_t version, kw_arena *a,
                                   kw_list_offsets_resp *m);
kw_err kw_fetch_req_decode(kw_rbuf *rb, int16_t version, kw_arena *a, kw_fetch_req *m);
kw_err kw_fetch_resp_decode(kw_rbuf *rb, int16_t version, kw_arena *a, kw_fetch_resp *m);

/* ------------------------------------------------------------------------------------------ */
/* Compression (kw_compress.c): the codecs of RecordBatch v2 attributes bits 0-2, in the byte
 * formats Kafka's Java client writes (gzip; snappy in xerial framing, raw snappy also read;
 * lz4 frame with 64 KiB independent blocks; zstd frames).                                      */

typedef enum kw_codec {
    KW_CODEC_NONE = 0,
    KW_CODEC_GZIP = 1,
    KW_CODEC_SNAPPY = 2,
    KW_CODEC_LZ4 = 3,
    KW_CODEC_ZSTD = 4,
} kw_codec;
#define KW_CODEC_MASK 0x07 /* attributes bits 0-2; ids 5-7 are not defined by Kafka */

/* "none", "gzip", "snappy", "lz4", "zstd" (Kafka's compression.type names); "unknown" else. */
const char *kw_codec_name(int codec);
/* Looks a codec up by its compression.type name; false when unknown. */
bool kw_codec_from_name(const char *name, kw_codec *out);
/* The most bytes kw_compress() may write for n input bytes. */
size_t kw_compress_bound(kw_codec c, size_t n);
/* Compresses src[0..n) into dst (cap bytes, kw_compress_bound() is always enough) at level
 * (Kafka's compression.gzip.level -1 or 1..9, compression.lz4.level 1..17,
 * compression.zstd.level; ignored for snappy). *out_len gets the compressed size. */
kw_err kw_compress(kw_codec c, int level, const uint8_t *src, size_t n, uint8_t *dst, size_t cap,
                   size_t *out_len, char *errbuf, size_t errsize);
/* Decompresses src[0..n) into a new buffer (*out, malloc'd: the caller frees it) of *out_len
 * bytes, never more than max_out: a larger output fails with KW_ERR__TOO_LARGE and a message
 * naming the codec and the bound. Corrupt input: KW_ERR__MALFORMED or KW_ERR__TRUNCATED with
 * a message naming the codec and where. On error *out is NULL. */
kw_err kw_decompress(kw_codec c, const uint8_t *src, size_t n, size_t max_out, uint8_t **out,
                     size_t *out_len, char *errbuf, size_t errsize);

/* ------------------------------------------------------------------------------------------ */
/* RecordBatch v2 (magic 2). Layout: baseOffset i64, batchLength i32, partitionLeaderEpoch i32,
 * magic i8, crc u32 (CRC-32C over attributes..end), attributes i16, lastOffsetDelta i32,
 * baseTimestamp i64, maxTimestamp i64, producerId i64, producerEpoch i16, baseSequence i32,
 * records count i32, records.                                                                  */

#define KW_BATCH_HEADER_SIZE 61 /* bytes before the first record */
#define KW_BATCH_CRC_OFFSET 17  /* where the crc field starts */
#define KW_BATCH_ATTR_OFFSET 21 /* CRC covers from here to the end */
#define KW_NO_PRODUCER_ID (-1LL)
#define KW_NO_SEQUENCE (-1)

/* CRC-32C (Castagnoli), as Kafka's Crc32C. crc32c("123456789") == 0xE3069283. */
uint32_t kw_crc32c(uint32_t crc, const void *data, size_t len);
/* The same CRC by the portable slice-by-8 tables, even where kw_crc32c() uses the CPU's crc32
 * instruction (tests and benchmarks compare the two). */
uint32_t kw_crc32c_sw(uint32_t crc, const void *data, size_t len);
/* kw_crc32c of src while copying it to dst (the two must not overlap): one pass over the
 * bytes instead of two, for a broker that checks a batch's CRC as it stores it. */
uint32_t kw_crc32c_copy(uint32_t crc, void *dst, const void *src, size_t len);

typedef struct kw_header {
    kw_slice key;   /* header keys are non-null strings */
    kw_slice value; /* nullable */
} kw_header;

typedef struct kw_record {
    int8_t attributes;
    int64_t timestamp; /* absolute: baseTimestamp + delta */
    int64_t offset;    /* absolute: baseOffset + delta */
    int32_t offset_delta;
    kw_slice key;   /* nullable */
    kw_slice value; /* nullable */
    int32_t n_headers;
    kw_header *headers; /* from the arena handed to the iterator */
} kw_record;

typedef struct kw_batch {
    int64_t base_offset;
    int32_t batch_length; /* bytes after the batchLength field */
    int32_t partition_leader_epoch;
    int8_t magic;
    uint32_t crc;
    int16_t attributes; /* bits 0-2 compression, 3 timestamp type, 4 transactional, 5 control,
                           6 delete horizon set (KIP-534) */
    int32_t last_offset_delta;
    int64_t base_timestamp;
    int64_t max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t record_count;
    kw_slice records; /* the raw record bytes after the header */
    kw_slice whole;   /* the whole batch, base offset through the last record */
} kw_batch;

/* Parses one batch header at the start of p (which may hold more batches after it); checks
 * magic 2, batchLength against the bytes present, the CRC (when check_crc), and the record
 * count against the bytes. *consumed gets the whole batch size. Errors name the field. */
kw_err kw_batch_parse(const uint8_t *p, size_t len, bool check_crc, kw_batch *b, size_t *consumed,
                      char *errbuf, size_t errsize);

typedef struct kw_record_iter {
    kw_rbuf rb;
    const kw_batch *batch;
    int32_t index;
    uint8_t *raw;    /* the decompressed records of a compressed batch (owned), or NULL */
    size_t raw_len;  /* bytes of records after decompression (== records.len uncompressed) */
} kw_record_iter;

/* Iterates the records of a batch. A compressed batch (attributes bits 0-2: gzip, snappy,
 * lz4, zstd) is decompressed once, at init, into memory the iterator owns, never more than
 * KW_DECOMPRESS_MAX_DEFAULT bytes (kw_record_iter_init_bounded() takes another bound):
 * past it the iterator fails with KW_ERR__TOO_LARGE and a message naming the codec and the
 * bound. kw_record_next returns 1 with *rec filled (slices point into the batch or the
 * iterator's memory), 0 at the end, or a negative value on error; the error is always in
 * it->rb.err (with it->rb.errmsg naming the record and field) and the return equals it for
 * local codes. Codec ids 5-7 set it->rb.err = KW_ERR_UNSUPPORTED_COMPRESSION_TYPE (Kafka's
 * code, positive on the wire) and return KW_ERR__MALFORMED, so `rc < 0` is always the error
 * test. Errors stick: later calls return the same. With a NULL arena, headers are checked and
 * counted (n_headers) but not returned (headers == NULL). Call kw_record_iter_release() when
 * done (it frees the decompressed records; records read stay valid until then). */
#define KW_DECOMPRESS_MAX_DEFAULT ((size_t)64 << 20)
void kw_record_iter_init(kw_record_iter *it, const kw_batch *b);
void kw_record_iter_init_bounded(kw_record_iter *it, const kw_batch *b, size_t max_raw);
int kw_record_next(kw_record_iter *it, kw_arena *a, kw_record *rec);
void kw_record_iter_release(kw_record_iter *it);

/* Writer of one RecordBatch v2 into a fixed caller-owned buffer (the producer's pooled
 * memory). Append until KW_ERR__NO_SPACE, then close. The writer does not own buf; a caller
 * that wants more room copies buf[0..len) into a larger buffer and sets buf and cap. */
typedef struct kw_batch_writer {
    uint8_t *buf;
    size_t cap;
    size_t len;
    int32_t count;
    int64_t base_timestamp;
    int64_t max_timestamp;
} kw_batch_writer;

void kw_batch_writer_init(kw_batch_writer *w, uint8_t *buf, size_t cap);
/* Bytes one record takes inside a batch (its length varint included). */
size_t kw_record_size(int32_t offset_delta, int64_t timestamp_delta, kw_slice key, kw_slice value,
                      const kw_header *headers, int32_t n_headers);
/* Upper bound of a batch holding just this record (header + record): Java's
 * AbstractRecords.estimateSizeInBytesUpperBound, used for the max.request.size check. */
size_t kw_batch_size_upper_bound(kw_slice key, kw_slice value, const kw_header *headers,
                                 int32_t n_headers);
/* Appends a record (offset delta = count so far). KW_ERR__NO_SPACE leaves the batch intact.
 * The first record fixes baseTimestamp. */
kw_err kw_batch_writer_append(kw_batch_writer *w, int64_t timestamp, kw_slice key, kw_slice value,
                              const kw_header *headers, int32_t n_headers);
/* Writes the header (base offset 0, leader epoch -1, no compression) and the CRC; returns
 * the batch size in bytes. Call once, after the last append. */
size_t kw_batch_writer_close(kw_batch_writer *w, int64_t producer_id, int16_t producer_epoch,
                             int32_t base_sequence);
/* Closes the batch compressed with codec at level (Kafka's compression.<codec>.level value;
 * ignored for snappy and none): writes the header with attributes = codec into dst and the
 * compressed records after it, and the CRC over the compressed bytes, as Kafka. dst (not the
 * writer's buffer) needs KW_BATCH_HEADER_SIZE + kw_compress_bound(codec, raw records) bytes.
 * *out_len gets the batch size. The writer's records stay as they were (raw). */
kw_err kw_batch_writer_close_compressed(kw_batch_writer *w, kw_codec codec, int level,
                                        int64_t producer_id, int16_t producer_epoch,
                                        int32_t base_sequence, uint8_t *dst, size_t dst_cap,
                                        size_t *out_len, char *errbuf, size_t errsize);
/* The first half of kw_batch_writer_close_compressed: compresses the records written so far
 * into dst + KW_BATCH_HEADER_SIZE (dst_cap bytes in all); *records_len gets the compressed
 * size. The header is written later by kw_batch_writer_write_header (the producer compresses
 * a full batch on the thread that sealed it, and stamps the producer fields at drain). */
kw_err kw_batch_writer_compress_records(const kw_batch_writer *w, kw_codec codec, int level,
                                        uint8_t *dst, size_t dst_cap, size_t *records_len,
                                        char *errbuf, size_t errsize);
/* Writes the header of a batch of len bytes at dst whose records (len - header bytes, raw or
 * compressed with codec) already follow it, and its CRC. */
void kw_batch_writer_write_header(const kw_batch_writer *w, uint8_t *dst, size_t len,
                                  kw_codec codec, int64_t producer_id, int16_t producer_epoch,
                                  int32_t base_sequence);
/* Bytes of raw records written so far (the batch minus its header). */
static inline size_t kw_batch_writer_records_size(const kw_batch_writer *w) {
    return w->len > KW_BATCH_HEADER_SIZE ? w->len - KW_BATCH_HEADER_SIZE : 0;
}
/* Rewrites producer id, epoch and base sequence of a closed batch in place and recomputes the
 * CRC (the producer stamps sequences at drain time). */
void kw_batch_set_producer(uint8_t *batch, size_t len, int64_t producer_id, int16_t producer_epoch,
                           int32_t base_sequence);
/* Rewrites baseOffset (not covered by the CRC) — the broker assigns offsets on append. */
void kw_batch_set_base_offset(uint8_t *batch, int64_t base_offset);
/* Rewrites partitionLeaderEpoch (not covered by the CRC). */
void kw_batch_set_leader_epoch(uint8_t *batch, int32_t epoch);

/* ------------------------------------------------------------------------------------------ */
/* Clock: producer and cluster read time only through one of these, so the simulator can pause
 * and scale time (DESIGN.md "Time"). Not I/O: just a pair of callbacks.                       */

typedef struct kw_clock {
    /* Current simulated time in microseconds (monotonic). */
    int64_t (*now_us)(void *opaque);
    /* Wall-clock microseconds to wait for `sim_us` of simulated time to pass (scaled by the
     * speed; while paused return a short poll interval, e.g. 20 ms, so waiters re-check). */
    int64_t (*wall_us)(void *opaque, int64_t sim_us);
    void *opaque;
    /* Microseconds since the Unix epoch at the current simulated instant: the source of record
     * timestamps (CreateTime, LogAppendTime), never of durations. NULL means the system's
     * real-time clock (CLOCK_REALTIME), so a clock that fakes a small monotonic time still
     * stamps records with today's date. */
    int64_t (*epoch_us)(void *opaque);
} kw_clock;

/* The default clock: CLOCK_MONOTONIC for durations, CLOCK_REALTIME for timestamps, speed 1. */
const kw_clock *kw_clock_monotonic(void);
static inline int64_t kw_clock_now_us(const kw_clock *c) {
    return c->now_us(c->opaque);
}
static inline int64_t kw_clock_now_ms(const kw_clock *c) {
    return c->now_us(c->opaque) / 1000;
}
/* The system's real-time clock in microseconds since the Unix epoch. */
int64_t kw_realtime_us(void);
/* Milliseconds since the Unix epoch at the clock's current instant (Kafka's timestamps). */
static inline int64_t kw_clock_epoch_ms(const kw_clock *c) {
    return (c->epoch_us ? c->epoch_us(c->opaque) : kw_realtime_us()) / 1000;
}

/* Consumer-group and topic-admin messages (FindCoordinator ... OffsetForLeaderEpoch). */
#include "protocol/kw_groups.h"

#endif /* COURIER_PROTOCOL_KW_H */
