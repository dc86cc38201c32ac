/* producer/kp.h — the Courier producer (kp_): Kafka's KafkaProducer pipeline in C.
 *
 * The courier company's front office. An application hands parcels (records) to the front
 * desk (kp_produce); the sorting room (accumulator) packs them into crates (batches) per
 * destination (topic-partition); the trucks (the sender thread) carry the crates that are
 * ready, one ProduceRequest per broker, down the road (the network client) to the broker the
 * dispatcher's map (metadata) names as each partition's leader; receipts (responses) come
 * back and each sender gets its delivery report.
 *
 * This header is the whole contract. Everything under producer/ besides it is private.
 *
 * Conventions
 * - Errors are kw_err (protocol/kw.h): Kafka's codes keep their wire values
 *   (KW_ERR_NOT_ENOUGH_REPLICAS), local ones are negative (KW_ERR__BUFFER_EXHAUSTED,
 *   KW_ERR__DELIVERY_TIMEOUT, KW_ERR__RECORD_TOO_LARGE ...). kw_err_name() names them.
 * - When a function that takes a callback returns an error, the callback will never be
 *   called. When it returns KW_ERR_NONE, the callback is called exactly once.
 * - Time is read only through the kw_clock handed in the config (monotonic by default):
 *   linger, backoff, request timeouts, max.block.ms and delivery.timeout.ms all follow it, so
 *   a paused clock stops every timer.
 * - Threads: kp_produce, kp_flush, kp_metrics and kp_snapshot may be called from any number
 *   of application threads. Delivery callbacks, on_acknowledgement interceptors and most
 *   events run on the producer's sender thread; never call kp_close/kp_producer_destroy from
 *   a delivery callback (and kp_produce from one may block the sender for up to max.block.ms
 *   when memory is short, as in Java).
 */
#ifndef COURIER_PRODUCER_KP_H
#define COURIER_PRODUCER_KP_H

#include "protocol/kw.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct kp_conf kp_conf;
typedef struct kp_producer kp_producer;

/* ------------------------------------------------------------------------------------------ */
/* Records and delivery reports.                                                                */

#define KP_PARTITION_ANY (-1) /* let the partitioner choose */
#define KP_TIMESTAMP_NOW (-1) /* stamp the record with the producer's clock (CreateTime) */

typedef struct kp_header {
    const char *key;   /* non-NULL, NUL-terminated */
    const void *value; /* NULL = null header value */
    int32_t value_len;
} kp_header;

/* One record as the application hands it over. key and value are the *unserialized* data:
 * what the configured serializer receives (for the built-in ones: "string" takes a char
 * pointer and key_len/value_len (-1 = strlen), "bytes" takes a pointer and a length, "int32"
 * and "int64" take a pointer to an int32_t / int64_t). key == NULL or value == NULL means a
 * null key / null value (a tombstone).
 * Ownership: kp_produce serializes and copies everything before it returns; the caller keeps
 * ownership of every pointer in the record and may free or reuse it at once. */
typedef struct kp_record {
    const char *topic;
    int32_t partition; /* KP_PARTITION_ANY or an explicit partition */
    const void *key;
    int32_t key_len;
    const void *value;
    int32_t value_len;
    const kp_header *headers;
    int32_t n_headers;
    int64_t timestamp_ms; /* KP_TIMESTAMP_NOW or milliseconds */
} kp_record;

/* What Java calls RecordMetadata. Valid only during the callback; copy what you keep. */
typedef struct kp_record_metadata {
    const char *topic;
    int32_t partition;             /* -1 when the record failed before partitioning */
    int64_t offset;                /* -1 when unknown (failed, acks=0, duplicate) */
    int64_t timestamp_ms;          /* CreateTime, or the broker's LogAppendTime when it set one */
    int32_t serialized_key_size;   /* -1 for a null key */
    int32_t serialized_value_size; /* -1 for a null value */
    uint64_t record_seq;           /* the producer-wide sequence kp_produce gave the record (1..) */
    int64_t latency_us;            /* from kp_produce to completion, on the producer's clock */
} kp_record_metadata;

/* Delivery report: err == KW_ERR_NONE and md filled on success, or the error (Kafka's code
 * from the broker, KW_ERR__DELIVERY_TIMEOUT, KW_ERR__INTERRUPTED on a forced close ...).
 * Runs on the sender thread, with no producer lock held; it must not block for long. */
typedef void (*kp_delivery_cb)(const kp_record_metadata *md, kw_err err, void *opaque);

/* ------------------------------------------------------------------------------------------ */
/* Serializers. The built-ins are named by key.serializer / value.serializer:
 * "string" (default), "bytes", "int32", "int64" (big-endian, as Kafka's). A user serializer
 * appends the bytes of `data` to `out` and sets *is_null for a null result; it returns
 * KW_ERR_NONE or an error (kp_produce then fails with KW_ERR__SERIALIZATION). It may be
 * called from several application threads at once.                                           */

typedef kw_err (*kp_serializer_fn)(void *opaque, const char *topic, const void *data, int32_t len,
                                   kw_wbuf *out, bool *is_null);

/* ------------------------------------------------------------------------------------------ */
/* Interceptors (Java's ProducerInterceptor). Any callback may be NULL. Failures are logged,
 * reported as a KP_EV_INTERCEPTOR_ERROR event and swallowed, as in Java.                       */

typedef struct kp_interceptor {
    const char *name; /* for log messages */
    /* Before serialization, on the producing thread. It may change the record's fields
     * (pointing them to memory it owns that stays valid until kp_produce returns). A non-zero
     * return is logged; the record then goes on as it was before this interceptor. */
    kw_err (*on_send)(void *opaque, kp_record *rec);
    /* When a record is acknowledged or fails (sender thread, or the producing thread for
     * records that fail in kp_produce after the interceptors ran). */
    void (*on_acknowledgement)(void *opaque, const kp_record_metadata *md, kw_err err);
    /* When the producer is destroyed. */
    void (*on_close)(void *opaque);
    void *opaque;
} kp_interceptor;

/* ------------------------------------------------------------------------------------------ */
/* Events: what the view and the trace see inside the pipeline.                                */

typedef enum kp_event_kind {
    KP_EV_RECORD_SENT = 0,    /* kp_produce entered (record_seq, topic) */
    KP_EV_RECORD_INTERCEPTED, /* on_send interceptors done */
    KP_EV_RECORD_SERIALIZED,  /* key/value serialized (bytes = key+value bytes) */
    KP_EV_RECORD_PARTITIONED, /* partition chosen (partition) */
    KP_EV_RECORD_APPENDED,    /* in a batch (batch_id, record_count = records in the batch) */
    KP_EV_RECORD_FAILED,      /* kp_produce failed (err) — the record never got in */
    KP_EV_BATCH_CREATED,      /* new batch (batch_id, partition, bytes = capacity) */
    KP_EV_BATCH_SEALED,       /* batch closed for appends (full, or drained) */
    KP_EV_BATCH_DRAINED,      /* taken for a request (node, base_sequence, attempt) */
    KP_EV_BATCH_COMPLETED,    /* acknowledged or failed for good (err, base_offset) */
    KP_EV_BATCH_RETRIED,      /* re-enqueued after a retriable error (err, attempt, duration_us =
                                 backoff) */
    KP_EV_BATCH_EXPIRED,      /* delivery.timeout.ms passed */
    KP_EV_BATCH_SPLIT,        /* MESSAGE_TOO_LARGE: split into smaller batches (batch_count) */
    KP_EV_REQUEST_SENT,      /* ProduceRequest written (node, correlation_id, batch_count, bytes) */
    KP_EV_RESPONSE_RECEIVED, /* its response (node, correlation_id, duration_us = latency; err =
                                the transport error, else the first partition error) */
    KP_EV_REQUEST_TIMED_OUT, /* request.timeout.ms passed: connection closed (node, correlation_id)
                              */
    KP_EV_BUFFER_WAIT,       /* kp_produce blocked on buffer.memory (bytes wanted) */
    KP_EV_BUFFER_WAIT_DONE,  /* ... and got it or gave up (duration_us, err) */
    KP_EV_METADATA_REQUESTED, /* Metadata request sent (node, correlation_id) */
    KP_EV_METADATA_UPDATED,   /* new metadata applied (record_count = partitions known) */
    KP_EV_CONNECTION_UP,      /* connected and versions negotiated (node) */
    KP_EV_CONNECTION_DOWN,    /* connection closed or failed (node, err) */
    KP_EV_PRODUCER_ID,        /* InitProducerId answered (producer_id, producer_epoch, err) */
    KP_EV_INTERCEPTOR_ERROR,  /* an interceptor failed (detail names it) */
    KP_EV_PRODUCER_EPOCH_BUMPED, /* idempotence: a sequence was lost, the producer bumped its
                                    epoch (producer_id, producer_epoch = the new epoch; topic,
                                    partition = the first partition renumbered; err = why) */
    KP_EV__COUNT
} kp_event_kind;

/* "record.sent", "batch.retried", ... (the names the JSONL trace uses); "?" when out of range. */
const char *kp_event_kind_name(kp_event_kind kind);

/* One event. Fields that do not apply are 0 / -1 as noted. Pointers are valid only during the
 * sink call. */
typedef struct kp_event {
    kp_event_kind kind;
    int64_t time_us;        /* the producer's clock */
    uint64_t record_seq;    /* 0 = none */
    uint64_t batch_id;      /* 0 = none */
    const char *topic;      /* NULL = none */
    int32_t partition;      /* -1 = none */
    int32_t node_id;        /* -1 = none */
    int32_t correlation_id; /* -1 = none */
    int64_t bytes;          /* 0 = none */
    int32_t record_count;   /* 0 = none */
    int32_t batch_count;    /* 0 = none */
    int32_t attempt;        /* 1 = first try */
    int64_t base_offset;    /* -1 = none */
    int32_t base_sequence;  /* -1 = none */
    int64_t producer_id;    /* -1 = none */
    int16_t producer_epoch; /* -1 = none */
    int64_t duration_us;    /* 0 = none */
    kw_err err;             /* KW_ERR_NONE = none */
    const char *detail;     /* NULL or a short human sentence; record.partitioned of a keyed
                               record says "key=<key>" (printable, at most 40 characters) */
    const void *key;        /* record.serialized/partitioned/appended: the serialized key */
    int32_t key_len;        /* -1 = null key / none */
    int16_t api_key;        /* request.sent, response.received, request.timed_out,
                               metadata.requested: the request's ApiKey; -1 = none */
    int64_t raw_bytes;      /* batch events: the batch's bytes before compression (0 = none);
                               bytes is then its size on the wire (estimated while open) */
} kp_event;

/* An event sink. Called from the producing threads and the sender thread, never with a
 * producer lock held, so it may block (the simulator's step mode does: the emitting thread
 * then really waits). With no sink set, events cost one branch. */
typedef void (*kp_event_sink)(const kp_event *ev, void *opaque);

/* Log lines (level 3 = error, 4 = warning, 6 = info, 7 = debug). Default: warnings and errors
 * to stderr. */
typedef void (*kp_log_cb)(int level, const char *msg, void *opaque);

/* ------------------------------------------------------------------------------------------ */
/* Configuration, with Kafka's key names and Kafka 4.0 defaults (docs/producer.md lists them):
 * bootstrap.servers, client.id, acks (all|-1|0|1), linger.ms (5), batch.size (16384),
 * buffer.memory (33554432), max.block.ms (60000), max.request.size (1048576),
 * retries (2147483647), retry.backoff.ms (100), retry.backoff.max.ms (1000),
 * delivery.timeout.ms (120000), request.timeout.ms (30000),
 * max.in.flight.requests.per.connection (5), enable.idempotence (true),
 * metadata.max.age.ms (300000), reconnect.backoff.ms (50), reconnect.backoff.max.ms (1000),
 * partitioner (default|sticky|round_robin|murmur2), partitioner.ignore.keys (false),
 * key.serializer / value.serializer (string|bytes|int32|int64), compression.type
 * (none|gzip|snappy|lz4|zstd), compression.gzip.level (-1 = 6, or 1..9),
 * compression.lz4.level (9 = lz4's fast compressor as Java, other levels 1..17 LZ4 HC),
 * compression.zstd.level (3, -131072..22).                                                  */

kp_conf *kp_conf_new(void);
void kp_conf_destroy(kp_conf *conf);
/* A deep copy (hooks included); NULL when out of memory. */
kp_conf *kp_conf_dup(const kp_conf *conf);
/* Sets one key. Returns KW_ERR__INVALID_ARG with errbuf naming the key ("linger.ms: 'abc' is
 * not an integer", "no such configuration key 'lingr.ms'"). */
kw_err kp_conf_set(kp_conf *conf, const char *key, const char *value, char *errbuf, size_t errsize);
/* The value of a key as a string (defaults included). KW_ERR__INVALID_ARG for unknown keys. */
kw_err kp_conf_get(const kp_conf *conf, const char *key, char *buf, size_t bufsize);
/* Checks the settings together ("enable.idempotence requires acks=all", "delivery.timeout.ms
 * should be >= linger.ms + request.timeout.ms", ...). kp_producer_new calls it too. */
kw_err kp_conf_validate(const kp_conf *conf, char *errbuf, size_t errsize);

/* The clock; must outlive every producer made from this config. NULL = monotonic. */
void kp_conf_set_clock(kp_conf *conf, const kw_clock *clock);
void kp_conf_set_event_sink(kp_conf *conf, kp_event_sink sink, void *opaque);
void kp_conf_set_log_cb(kp_conf *conf, kp_log_cb cb, void *opaque);
/* Appends an interceptor (copied; opaque must outlive the producer). At most 8. */
kw_err kp_conf_add_interceptor(kp_conf *conf, const kp_interceptor *ic);
/* Installs a user serializer (overrides key.serializer / value.serializer). */
void kp_conf_set_key_serializer(kp_conf *conf, kp_serializer_fn fn, void *opaque);
void kp_conf_set_value_serializer(kp_conf *conf, kp_serializer_fn fn, void *opaque);

/* ------------------------------------------------------------------------------------------ */
/* The producer.                                                                               */

/* Creates a producer from a copy of conf (the caller keeps conf) and starts its sender
 * thread. NULL on error, with errbuf naming the problem. Connects lazily. */
kp_producer *kp_producer_new(const kp_conf *conf, char *errbuf, size_t errsize);

/* Java's send(): interceptors → wait for the topic's metadata (max.block.ms) → serialize →
 * partition → size check (max.request.size) → append to the accumulator, blocking for buffer
 * memory up to max.block.ms. Returns KW_ERR_NONE when the record is in a batch (cb will be
 * called exactly once, later, on the sender thread), or an error and cb is not called:
 * KW_ERR__METADATA_TIMEOUT, KW_ERR__BUFFER_EXHAUSTED, KW_ERR__RECORD_TOO_LARGE,
 * KW_ERR__SERIALIZATION, KW_ERR__UNKNOWN_PARTITION, KW_ERR__INVALID_ARG, KW_ERR__STATE
 * (closed), KW_ERR__FATAL. cb may be NULL. *record_seq (may be NULL) gets the record's
 * producer-wide sequence, also on failure. */
kw_err kp_produce(kp_producer *p, const kp_record *rec, kp_delivery_cb cb, void *opaque,
                  uint64_t *record_seq);

/* Makes every buffered record ready at once and waits until all records produced before the
 * call are complete (acknowledged or failed). timeout_ms < 0 waits without limit. Returns
 * KW_ERR__TIMED_OUT when the time ran out first, KW_ERR__STATE when the producer is closed. */
kw_err kp_flush(kp_producer *p, int64_t timeout_ms);

/* Java's close(timeout): stops accepting records (kp_produce then returns KW_ERR__STATE),
 * sends what is buffered and waits up to timeout_ms (< 0 = no limit) for it to complete; when
 * the time runs out, the rest fails with KW_ERR__INTERRUPTED (Java's forced close). Then the
 * sender thread stops. Returns KW_ERR__TIMED_OUT after a forced close. Idempotent. */
kw_err kp_close(kp_producer *p, int64_t timeout_ms);

/* Closes (without a time limit, as Java's close()) if not closed yet, calls the interceptors'
 * on_close and frees everything. NULL is fine. */
void kp_producer_destroy(kp_producer *p);

/* The number of records handed to kp_produce that are not complete yet. */
int64_t kp_outstanding(kp_producer *p);

/* ------------------------------------------------------------------------------------------ */
/* Metrics with Java's names (producer-metrics group).                                          */

typedef struct kp_metrics {
    double record_send_rate; /* records/s over the last 30 s window */
    double record_send_total;
    double record_error_rate;
    double record_error_total;
    double record_retry_rate;
    double record_retry_total;
    double batch_size_avg; /* bytes */
    double batch_size_max;
    double records_per_request_avg;
    double record_queue_time_avg; /* ms from append to drain */
    double record_queue_time_max;
    double request_latency_avg; /* ms */
    double request_latency_max;
    double request_rate;
    double request_total;
    double response_total;
    double requests_in_flight;
    double buffer_total_bytes;
    double buffer_available_bytes;
    double bufferpool_wait_time_ns_total;
    double waiting_threads;
    double batch_split_total;
    double metadata_age; /* s since the last metadata update */
    double outgoing_byte_total;
    double incoming_byte_total;
    double compression_rate_avg; /* compressed / uncompressed size per batch, averaged (Java) */
    double batch_byte_total;     /* Courier's: bytes of the batches drained, as sent */
    double batch_raw_byte_total; /* Courier's: the same batches before compression */
} kp_metrics;

/* Fills *out with a consistent-enough view of the metrics (each counter atomic). */
void kp_metrics_get(kp_producer *p, kp_metrics *out);
/* Calls fn for each metric with its Java name ("record-send-rate", ...); returns the count. */
int kp_metrics_foreach(const kp_metrics *m,
                       void (*fn)(const char *name, double value, void *opaque), void *opaque);

/* ------------------------------------------------------------------------------------------ */
/* Snapshot: a consistent copy of the pipeline for the view. Each section is copied under its
 * own lock (one partition deque at a time), briefly; the pipeline is not stalled.             */

typedef struct kp_snap_batch {
    uint64_t batch_id;
    int32_t record_count;
    int32_t bytes;           /* bytes written so far */
    int32_t capacity;        /* batch.size (or the larger size of an oversized record) */
    int64_t age_ms;          /* now - created */
    int64_t linger_ms;       /* the configured linger.ms, to compare */
    int32_t attempts;        /* 0 = never sent */
    bool sealed;             /* closed for appends */
    bool in_retry;           /* waiting for its retry backoff */
    int64_t backoff_left_ms; /* > 0 while backing off */
    int32_t base_sequence;   /* -1 until drained with idempotence */
    int32_t raw_bytes;       /* bytes before compression (== bytes when not compressed) */
    int8_t codec;            /* kw_codec: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd; with a
                                codec, bytes is the estimated compressed size until the batch
                                is closed (drained), then the compressed size */
} kp_snap_batch;

typedef struct kp_snap_partition {
    char topic[128];
    int32_t partition;
    int32_t leader;        /* -1 = unknown */
    bool muted;            /* max.in.flight=1: a batch is in flight */
    int32_t in_flight;     /* batches of this partition in flight */
    int32_t next_sequence; /* idempotence: next sequence to give */
    int32_t n_batches;
    kp_snap_batch *batches; /* head (oldest) first */
} kp_snap_partition;

typedef struct kp_snap_request {
    int32_t correlation_id;
    int16_t api_key;
    int32_t batch_count;
    int32_t bytes;
    int64_t age_ms;
} kp_snap_request;

typedef struct kp_snap_node {
    int32_t node_id;
    char host[128];
    int32_t port;
    int state; /* 0 disconnected, 1 connecting, 2 negotiating, 3 ready */
    int32_t n_in_flight;
    kp_snap_request *in_flight; /* oldest first */
} kp_snap_node;

typedef struct kp_snap_meta_partition {
    char topic[128];
    int32_t partition;
    int32_t leader;
    int32_t leader_epoch;
    int32_t n_replicas;
    int32_t replicas[8];
    int32_t n_isr;
    int32_t isr[8];
} kp_snap_meta_partition;

typedef struct kp_snapshot {
    int64_t time_us;
    int32_t n_partitions;
    kp_snap_partition *partitions;
    int64_t buffer_total;       /* buffer.memory */
    int64_t buffer_used;        /* allocated to batches */
    int64_t buffer_pooled_free; /* free batch.size buffers kept for reuse */
    int32_t buffer_waiters;
    int32_t n_nodes;
    kp_snap_node *nodes;
    int32_t n_meta;
    kp_snap_meta_partition *meta;
    int64_t producer_id;
    int16_t producer_epoch;
    int64_t records_outstanding;
} kp_snap; /* the struct tag is kp_snapshot too: `struct kp_snapshot` works */

/* Fills *out; free it with kp_snapshot_free. KW_ERR__NO_MEMORY on allocation failure. */
kw_err kp_snapshot(kp_producer *p, kp_snap *out);
void kp_snapshot_free(kp_snap *s);

/* ------------------------------------------------------------------------------------------ */
/* Kafka's partitioning functions, public so tests can check them against Java's values.      */

/* Kafka's Utils.murmur2 (seed 0x9747b28c), byte-compatible with Java: as signed 32-bit,
 * murmur2("21") == -973932308. */
int32_t kp_murmur2(const void *data, size_t len);
/* The partition Kafka picks for a serialized key: (murmur2(key) & 0x7fffffff) % n. */
int32_t kp_partition_for_key(const void *key, size_t len, int32_t n_partitions);

#endif /* COURIER_PRODUCER_KP_H */
