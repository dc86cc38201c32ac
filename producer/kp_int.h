/* producer/kp_int.h — private to producer/: the structs and functions the stages share.
 *
 * Who touches what (one line per shared struct, details at each struct):
 * - kp_conf: read-only once the producer exists.
 * - kp_bufpool: its own mutex; FIFO waiters each with their own condition variable.
 * - kp_tp (a partition's deque): tp->lock guards the deque and the batches in it; the
 *   sender-only fields below it are touched by the sender thread alone.
 * - kp_metadata: md->lock guards the current cluster pointer and the wanted-topic set.
 * - kp_accum: map_lock (rwlock) guards the partition map; inc_lock the incomplete-batch list
 *   (taken inside tp->lock); ratio_lock the compression estimates (taken inside tp->lock).
 * - kp_net / kp_conn / kp_req: the sender thread owns them; n->lock guards conns[], each
 *   connection's state and in-flight list against kp_net_snapshot (any thread), held only
 *   while they change, never around a handler. The wakeup fd is written by anyone.
 * - kp_stats: atomics; lock guards the rate window (read by kp_metrics_get).
 *
 * Every function below says which lock it takes or needs (@locks) and which thread may call
 * it (@thread): "app" is any application thread (kp_produce, kp_flush, kp_close, snapshots),
 * "sender" the producer's sender thread, "owner" the thread that creates or destroys the
 * producer (nothing else runs then).
 */
#ifndef COURIER_PRODUCER_KP_INT_H
#define COURIER_PRODUCER_KP_INT_H

#include "producer/kp.h"

#include <pthread.h>
#include <stdatomic.h>

/* ------------------------------------------------------------------------------------------ */
/* config.c                                                                                     */

typedef enum { KP_PART_DEFAULT, KP_PART_STICKY, KP_PART_ROUND_ROBIN, KP_PART_MURMUR2 } kp_part_kind;
typedef enum { KP_SER_STRING, KP_SER_BYTES, KP_SER_INT32, KP_SER_INT64 } kp_ser_kind;

#define KP_MAX_INTERCEPTORS 8

struct kp_conf {
    char bootstrap_servers[1024];
    char client_id[128];
    int acks; /* -1 all, 0, 1 */
    int64_t linger_ms;
    int32_t batch_size;
    int64_t buffer_memory;
    int64_t max_block_ms;
    int32_t max_request_size;
    int32_t retries;
    int64_t retry_backoff_ms;
    int64_t retry_backoff_max_ms;
    int64_t delivery_timeout_ms;
    int32_t request_timeout_ms;
    int32_t max_in_flight;
    bool enable_idempotence;
    int64_t metadata_max_age_ms;
    int64_t reconnect_backoff_ms;
    int64_t reconnect_backoff_max_ms;
    kp_part_kind partitioner;
    bool partitioner_ignore_keys;
    kp_ser_kind key_ser, value_ser;
    kw_codec compression;    /* compression.type */
    int32_t gzip_level;      /* compression.gzip.level: -1 (zlib's default, 6) or 1..9 */
    int32_t lz4_level;       /* compression.lz4.level: 1..17, default 9 */
    int32_t zstd_level;      /* compression.zstd.level: -131072..22, default 3 */
    /* which keys the user set explicitly (Java resolves some conflicts only for defaults) */
    bool set_acks, set_idempotence, set_max_in_flight, set_delivery_timeout, set_retries;

    const kw_clock *clock;
    kp_event_sink sink;
    void *sink_opaque;
    kp_log_cb log_cb;
    void *log_opaque;
    kp_interceptor interceptors[KP_MAX_INTERCEPTORS];
    int n_interceptors;
    kp_serializer_fn key_ser_fn, value_ser_fn;
    void *key_ser_opaque, *value_ser_opaque;
};

/* The effective settings after conflict resolution (Java's postProcessParsedConfig):
 * idempotence quietly off when acks/in-flight/retries conflict and it was not set.
 * @locks none. @thread any (pure). */
kw_err kp_conf_resolve(const kp_conf *in, kp_conf *out, char *errbuf, size_t errsize);
/* The level of the configured codec (compression.<codec>.level; 0 for none and snappy).
 * @locks none. @thread any (pure). */
int32_t kp_conf_codec_level(const kp_conf *c);

/* ------------------------------------------------------------------------------------------ */
/* partitioner.c                                                                                */

typedef struct kp_sticky {
    pthread_mutex_t lock;
    struct kp_sticky_topic *topics; /* list: topic → current sticky partition, rr counter */
    uint64_t rng;
} kp_sticky;

/* @locks none. @thread owner. */
void kp_sticky_init(kp_sticky *s);
/* @locks none. @thread owner. */
void kp_sticky_destroy(kp_sticky *s);
/* The current sticky partition for the topic (chosen at random among n the first time).
 * @locks takes s->lock. @thread app. */
int32_t kp_sticky_partition(kp_sticky *s, const char *topic, int32_t n);
/* Switches the topic's sticky partition away from prev (KIP-480's onNewBatch), to a random
 * other partition; returns the new one. @locks takes s->lock. @thread app. */
int32_t kp_sticky_next(kp_sticky *s, const char *topic, int32_t n, int32_t prev);
/* Round-robin: the next partition for the topic (per-topic counter, as Java's).
 * @locks takes s->lock. @thread app. */
int32_t kp_round_robin_partition(kp_sticky *s, const char *topic, int32_t n);
/* The partitioner stage of kp_produce (Java's KafkaProducer.partition(), librdkafka's
 * rd_kafka_msg_partitioner()): the partition for a record to topic (n_parts partitions) that
 * asked for `requested` (KP_PARTITION_ANY or a number) with serialized key. *sticky is true
 * when the sticky partitioner chose (the append may then move it, KIP-480). On error,
 * *partition is `requested` and errbuf names the problem.
 * @locks takes p->sticky.lock briefly. @thread any application thread. */
kw_err kp_partition_choose(kp_producer *p, const char *topic, int32_t requested, kw_slice key,
                           int32_t n_parts, int32_t *partition, bool *sticky, char *errbuf,
                           size_t errsize);

/* ------------------------------------------------------------------------------------------ */
/* serializers.c                                                                                */

/* Serializes data with a built-in kind. Output either points at the caller's data (string,
 * bytes: zero copy) or at scratch (int32, int64: 8 bytes). @locks none. @thread any (pure). */
kw_err kp_serialize_builtin(kp_ser_kind kind, const void *data, int32_t len, uint8_t scratch[8],
                            kw_slice *out, char *errbuf, size_t errsize);
/* Parses "string" / "bytes" / "int32" / "int64". @locks none. @thread any (pure). */
bool kp_ser_kind_parse(const char *name, kp_ser_kind *out);
/* @locks none. @thread any (pure). */
const char *kp_ser_kind_name(kp_ser_kind kind);

/* ------------------------------------------------------------------------------------------ */
/* bufpool.c — the sorting room's stock of crates.                                              */

typedef struct kp_pool_waiter {
    pthread_cond_t cv;
    struct kp_pool_waiter *next;
    bool granted;
} kp_pool_waiter;

/* Java's BufferPool: free list of poolable (batch.size) buffers plus non-pooled memory;
 * waiters served FIFO. lock guards everything below it. */
typedef struct kp_bufpool {
    pthread_mutex_t lock;
    int64_t total;
    int32_t poolable;
    uint8_t **free_bufs;
    int32_t n_free, cap_free;
    int64_t non_pooled_available;
    kp_pool_waiter *wait_head, *wait_tail;
    int32_t n_waiters;
    bool closed;
    const kw_clock *clock;
    _Atomic int64_t wait_time_ns_total;
} kp_bufpool;

/* @locks none. @thread owner. */
kw_err kp_bufpool_init(kp_bufpool *bp, int64_t total, int32_t poolable, const kw_clock *clock);
/* @locks none. @thread owner. */
void kp_bufpool_destroy(kp_bufpool *bp);
/* Non-blocking: a buffer of size bytes, or NULL when it would have to wait.
 * @locks takes bp->lock. @thread any. */
uint8_t *kp_bufpool_try_allocate(kp_bufpool *bp, int32_t size);
/* Blocking: waits up to max_block_ms (producer clock) in FIFO order. KW_ERR__BUFFER_EXHAUSTED
 * when the time runs out, KW_ERR__INVALID_ARG when size > total, KW_ERR__INTERRUPTED when
 * the pool is closed while waiting.
 * @locks takes bp->lock, released while it waits. @thread app (the append) or sender (split). */
kw_err kp_bufpool_allocate(kp_bufpool *bp, int32_t size, int64_t max_block_ms, uint8_t **out);
/* Returns a buffer of size bytes (kept on the free list when size == poolable).
 * @locks takes bp->lock. @thread any. */
void kp_bufpool_deallocate(kp_bufpool *bp, uint8_t *buf, int32_t size);
/* Wakes every waiter with KW_ERR__INTERRUPTED. @locks takes bp->lock. @thread any. */
void kp_bufpool_close(kp_bufpool *bp);
/* The memory free (free list + non-pooled), the threads waiting, and both with the pooled
 * free bytes. @locks take bp->lock. @thread any. */
int64_t kp_bufpool_available(kp_bufpool *bp);
int32_t kp_bufpool_queued(kp_bufpool *bp);
void kp_bufpool_stats(kp_bufpool *bp, int64_t *available, int64_t *pooled_free, int32_t *waiters);

/* ------------------------------------------------------------------------------------------ */
/* batch.c — a crate: ProducerBatch over kw_batch_writer in pooled memory.                      */

/* What the front desk hands over with each record. */
typedef struct kp_thunk {
    kp_delivery_cb cb;
    void *opaque;
    uint64_t seq;
    int64_t produced_us;
} kp_thunk;

/* What a batch keeps per record until completion: 24 bytes, outside buffer.memory (as Java's
 * Thunk). Timestamps and sizes are read back from the batch itself at completion. */
typedef struct kp_thunk_slot {
    kp_delivery_cb cb;
    void *opaque;
    int32_t seq_delta; /* record seq - batch seq_base */
    int32_t age_us;    /* produced_us - batch base_us (clamped) */
} kp_thunk_slot;

struct kp_tp;

/* A batch. While in a deque, tp->lock guards it; once drained, the sender thread owns it. */
typedef struct kp_batch {
    struct kp_batch *next, *prev; /* deque links */
    uint64_t id;
    struct kp_tp *tp;
    uint8_t *buf;
    int32_t cap;
    kw_batch_writer w;    /* raw records: in buf, or in raw_heap once they outgrow it */
    size_t size;          /* closed size on the wire (valid when closed) */
    kw_codec codec;       /* compression.type when the batch was created */
    int32_t level;        /* the codec's level */
    float est_ratio;      /* Java's estimatedCompressionRatio, fixed at creation */
    uint8_t *raw_heap;    /* a compressed batch's raw records past buf's room (outside
                             buffer.memory, as Java's ByteBufferOutputStream expansion), or NULL */
    uint8_t *wire;        /* a compressed batch: its bytes (malloc'd), else NULL */
    bool compressing;     /* tp->lock: sealed and being packed (queued for or held by a
                             packer, packer.c); ready/drain/expiry leave it alone until this is
                             cleared */
    struct kp_batch *pack_next; /* kp_packer.lock: the packers' queue */
    bool precompressed;   /* wire holds the compressed records; the header comes at close */
    bool ratio_counted;   /* the estimator has seen this batch's ratio */
    size_t raw_size;      /* closed: the uncompressed batch size (== size when not compressed) */
    bool sealed;          /* no more appends */
    bool sealed_at_drain; /* it was still open when drained (linger, flush) */
    bool closed;          /* header written */
    kp_thunk_slot *thunks;
    int32_t n_thunks, cap_thunks;
    uint64_t seq_base; /* the first record's seq */
    int64_t base_us;   /* the first record's kp_produce time */
    int64_t created_ms;
    int64_t last_attempt_ms;
    int32_t attempts;   /* sends so far */
    bool retry;         /* re-enqueued after an error */
    int64_t backoff_ms; /* the backoff that applies while retry is set */
    int32_t base_seq;   /* -1 until stamped */
    int64_t producer_id;
    int16_t producer_epoch;
    bool done;
    /* idempotence (sender thread): the partition's batches that hold a sequence and are not
     * done yet, by sequence (Java's inflightBatchesBySequence); seq_reset once an epoch bump
     * renumbered it (Java's sequenceHasBeenReset) */
    struct kp_batch *sq_next, *sq_prev;
    bool sq_linked;
    bool seq_reset;
    /* incomplete list (kp_accum.inc_lock) */
    struct kp_batch *inc_next, *inc_prev;
} kp_batch;

/* @locks none taken. @thread app or sender: the caller owns b (tp->lock held while b is in a
 * deque; the sender thread once it is drained). So for every kp_batch_ function below. */
kp_batch *kp_batch_new(struct kp_tp *tp, uint64_t id, uint8_t *buf, int32_t cap, int64_t now_ms);
/* Appends a record; KW_ERR__NO_SPACE when it does not fit (then seal). The thunk is copied.
 * @locks none taken. @thread app or sender: the caller owns b, as kp_batch_new. */
kw_err kp_batch_append(kp_batch *b, int64_t timestamp_ms, kw_slice key, kw_slice value,
                       const kw_header *headers, int32_t n_headers, const kp_thunk *thunk);
/* The same with a slot taken from another batch with the same seq_base/base_us (split).
 * @locks none taken. @thread app or sender: the caller owns b, as kp_batch_new. */
kw_err kp_batch_append_slot(kp_batch *b, int64_t timestamp_ms, kw_slice key, kw_slice value,
                            const kw_header *headers, int32_t n_headers, const kp_thunk_slot *slot);
/* The record seq and kp_produce time (µs) of record i.
 * @locks none (reads fields fixed at append). @thread sender. */
uint64_t kp_batch_record_seq(const kp_batch *b, int32_t i);
/* @locks none (reads fields fixed at append). @thread sender. */
int64_t kp_batch_record_produced_us(const kp_batch *b, int32_t i);
/* Writes the header with the producer id/sequence (once); later calls restamp the producer
 * fields when they changed.
 * @locks none taken. @thread app or sender: the caller owns b, as kp_batch_new. */
void kp_batch_close(kp_batch *b, int64_t pid, int16_t epoch, int32_t base_seq);
/* Sealed, or no room left for even a tiny record (its buffer is batch.size or the record).
 * Compressed: the estimated size has reached the capacity (Java's MemoryRecordsBuilder
 * isFull(): writeLimit <= estimatedBytesWritten()).
 * @locks none taken. @thread app or sender: the caller owns b, as kp_batch_new. */
bool kp_batch_is_full(const kp_batch *b);
/* Compress this batch with codec at level; ratio is the topic's estimated compression ratio
 * (CompressionRatioEstimator). Call right after kp_batch_new, before the first append.
 * @locks none taken. @thread app or sender: the caller owns b, as kp_batch_new. */
void kp_batch_set_compression(kp_batch *b, kw_codec codec, int32_t level, float ratio);
/* Java's MemoryRecordsBuilder.estimatedSizeInBytes(): the closed size, or for an open batch
 * header + raw records (times ratio x 1.05 when compressed).
 * @locks none taken. @thread app or sender: the caller owns b, as kp_batch_new. */
size_t kp_batch_estimated_size(const kp_batch *b);
/* The bytes that go on the wire (valid when closed): b->size of them.
 * @locks none (b is closed). @thread sender. */
static inline const uint8_t *kp_batch_wire(const kp_batch *b) {
    return b->wire ? b->wire : b->w.buf;
}
/* The uncompressed batch (valid when closed): b->raw_size bytes, a valid RecordBatch with
 * no compression (delivery reports and splits read the records here, not by decompressing).
 * @locks none (b is closed). @thread sender. */
static inline const uint8_t *kp_batch_raw(const kp_batch *b) {
    return b->w.buf;
}
/* Compresses the records of a sealed, compressing batch into a new buffer (*wire, malloc'd;
 * *size bytes with the header, which kp_batch_close writes). Reads only the batch's raw
 * records: called without tp->lock while b->compressing keeps everyone else away.
 * @locks none: MUST NOT hold tp->lock (b->compressing guards b). @thread app or sender (whoever
 * sealed it). */
kw_err kp_batch_compress_records(const kp_batch *b, uint8_t **wire, size_t *size);
/* The compression ratio of a compressed batch (compressed / raw records), else 1.
 * @locks none. @thread sender. */
float kp_batch_observed_ratio(const kp_batch *b);
/* Frees the thunks and the batch struct (not the buffer).
 * @locks none taken. @thread app or sender: the caller owns b, as kp_batch_new. */
void kp_batch_free(kp_batch *b);

/* Java's ExponentialBackoff(retry.backoff.ms, 2, retry.backoff.max.ms, jitter 0.2):
 * base * 2^(attempts-1) capped at max, times (1 ± jitter*(2*rand01-1)), for attempts >= 1.
 * @locks none. @thread any (pure). */
int64_t kp_retry_backoff_ms(int32_t attempts, int64_t base_ms, int64_t max_ms, double rand01);

/* ------------------------------------------------------------------------------------------ */
/* accumulator.c — the sorting room.                                                            */

/* One partition's deque. lock guards head/tail/n_batches and the batches in them. The fields
 * after the marker belong to the sender thread. */
typedef struct kp_tp {
    char *topic;
    int32_t partition;
    pthread_mutex_t lock;
    kp_batch *head, *tail;
    int32_t n_batches;
    /* read by the snapshot without the lock (relaxed atomics) */
    _Atomic int32_t leader;
    _Atomic int32_t in_flight;
    _Atomic bool muted;
    _Atomic int32_t next_seq;
    /* --- sender thread only --- */
    int32_t last_acked_seq;
    struct kp_tp *hnext;
    /* idempotence (Java's TxnPartitionEntry): the producer id and epoch this partition's
     * sequences belong to; the sequenced batches not yet done, lowest sequence first; the
     * next sequence expected once an expired batch's fate is known (-1 = resolved); and
     * whether an epoch bump must renumber this partition's batches. */
    int64_t seq_pid;
    int16_t seq_epoch;
    kp_batch *sq_head, *sq_tail;
    int32_t unresolved_next;
    bool rewrite_seq;
} kp_tp;

typedef struct kp_ready {
    int32_t *nodes; /* ready leader nodes, unique */
    int32_t n_nodes, cap_nodes;
    int64_t next_ready_check_ms;
    bool unknown_leaders;
} kp_ready;

typedef struct kp_drained {
    int32_t node_id;
    kp_batch **batches;
    int32_t n, cap;
    int64_t bytes;
} kp_drained;

typedef struct kp_node_parts {
    int32_t node_id;
    int32_t drain_index;
} kp_node_parts;

typedef struct kp_accum {
    const kp_conf *conf;
    kp_bufpool *pool;
    pthread_rwlock_t map_lock; /* guards buckets/all (grow only) */
    kp_tp **buckets;
    int32_t n_buckets;
    kp_tp **all;
    int32_t n_all, cap_all;
    _Atomic int32_t flushes_in_progress;
    _Atomic bool closed;
    _Atomic uint64_t next_batch_id;
    /* incomplete batches (for flush), oldest first */
    pthread_mutex_t inc_lock;
    pthread_cond_t inc_cv;
    kp_batch *inc_head, *inc_tail;
    int64_t n_incomplete;
    /* sender thread only: per-node drain index */
    kp_node_parts *nodes;
    int32_t n_nodes, cap_nodes;
    /* Java's CompressionRatioEstimator: one estimate per topic (the codec is the producer's);
     * ratio_lock guards the list, read at batch creation, updated at drain. */
    pthread_mutex_t ratio_lock;
    struct kp_ratio *ratios;
    /* the packers that compress sealed batches (set once by the owner before any append;
     * NULL or no threads: the sealing thread packs) */
    struct kp_packer *packer;
} kp_accum;

/* Compresses a sealed batch's records (b->compressing set, no lock held: nobody else touches
 * it) and publishes the result under tp->lock, clearing b->compressing; moves the topic's
 * estimated ratio (as ProducerBatch.close()). On failure the batch is packed at drain (or goes
 * uncompressed). The caller wakes the sender. @locks takes tp->lock, then ratio_lock.
 * @thread a packer, or app when there are no packers. */
void kp_accum_pack(kp_accum *a, kp_batch *b);

/* The topic's estimated compression ratio (1.0 until a batch was compressed). @locks
 * ratio_lock (taken inside). @thread app or sender. */
float kp_accum_ratio_get(kp_accum *a, const char *topic);
/* Java's CompressionRatioEstimator.updateEstimation: a worse observed ratio raises the
 * estimate by at least 0.05, a better one lowers it by at most 0.005.
 * @locks takes ratio_lock. @thread app or sender (whoever compresses). */
void kp_accum_ratio_update(kp_accum *a, const char *topic, float observed);
/* Java's setEstimation (after a split: max(1.0, observed)).
 * @locks takes ratio_lock. @thread sender. */
void kp_accum_ratio_set(kp_accum *a, const char *topic, float ratio);

/* @locks none. @thread owner. */
kw_err kp_accum_init(kp_accum *a, const kp_conf *conf, kp_bufpool *pool);
/* @locks none. @thread owner. */
void kp_accum_destroy(kp_accum *a);
/* The deque for (topic, partition), created on first use.
 * @locks takes map_lock (read; write to add a partition). @thread app or sender. */
kp_tp *kp_accum_tp(kp_accum *a, const char *topic, int32_t partition);

typedef struct kp_append_result {
    kw_err err;
    kp_batch *batch; /* the batch the record went into (do not touch after return) */
    uint64_t batch_id;
    int32_t batch_records;
    bool new_batch;             /* a new batch was created */
    bool batch_full;            /* the tail is full (wake the sender) */
    bool aborted_for_new_batch; /* abort_on_new_batch and a new batch was needed */
    uint64_t sealed_batch_id;   /* a batch that got sealed by this append (0 = none) */
    bool waited;                /* blocked on buffer memory */
    int64_t waited_us;
} kp_append_result;

/* Java's RecordAccumulator.append: to the tail batch, or a new batch from the pool (blocking
 * up to max_block_ms). With abort_on_new_batch it returns aborted_for_new_batch instead of
 * allocating (the sticky partitioner then switches partitions and calls again). The caller
 * emits events from the result, with no lock held.
 * @locks takes tp->lock (inc_lock and ratio_lock inside it) and bp->lock; none is held while
 * it waits for memory or calls on_wait. @thread app. */
void kp_accum_append(kp_accum *a, kp_tp *tp, int64_t timestamp_ms, kw_slice key, kw_slice value,
                     const kw_header *headers, int32_t n_headers, const kp_thunk *thunk,
                     int64_t max_block_ms, bool abort_on_new_batch, int64_t now_ms,
                     void (*on_wait)(void *arg, int32_t size), void *wait_arg,
                     kp_append_result *res);

/* Java's ready(): fills r with the leader nodes that have a sendable batch, and the time until
 * the next batch may become sendable.
 * @locks takes map_lock (read), then each tp->lock. @thread sender. */
void kp_accum_ready(kp_accum *a, int64_t now_ms, kp_ready *r);
/* Java's drain(): for each ready node, round-robin over its partitions from the saved index,
 * one batch per partition, until max_request_size. Batches are sealed and closed (stamped with
 * pid/sequence when idempotent: pid >= 0). out must have room for n_nodes entries, each reset.
 * Returns the number of batches drained.
 * @locks takes map_lock (read), then each tp->lock; ratio_lock too. @thread sender. */
int32_t kp_accum_drain(kp_accum *a, const int32_t *nodes, int32_t n_nodes, int32_t max_request_size,
                       int64_t pid, int16_t epoch, int64_t now_ms, kp_drained *out);
/* Puts a batch back for a retry (at the head; in sequence order with idempotence).
 * @locks takes tp->lock. @thread sender. */
void kp_accum_reenqueue(kp_accum *a, kp_batch *b, int64_t backoff_ms, int64_t now_ms);
/* Removes batches whose delivery.timeout.ms passed (not in flight) into *out (malloc'd array).
 * @locks takes map_lock (read), then each tp->lock. @thread sender. */
int32_t kp_accum_expire(kp_accum *a, int64_t now_ms, kp_batch ***out);
/* Takes every batch out of the deques (forced close).
 * @locks takes map_lock (read), then each tp->lock. @thread sender. */
int32_t kp_accum_take_all(kp_accum *a, kp_batch ***out);
/* Incomplete-batch tracking for flush.
 * @locks takes inc_lock (called with tp->lock held or none). @thread app or sender. */
void kp_accum_incomplete_add(kp_accum *a, kp_batch *b);
/* @locks takes inc_lock; broadcasts inc_cv (kp_flush waits on it). @thread sender. */
void kp_accum_incomplete_remove(kp_accum *a, kp_batch *b);
/* @locks none. @thread sender. */
void kp_drained_free(kp_drained *d);
/* @locks none. @thread sender. */
void kp_ready_free(kp_ready *r);

/* ------------------------------------------------------------------------------------------ */
/* metadata.c                                                                                   */

typedef struct kp_node {
    int32_t id;
    char host[128];
    int32_t port;
} kp_node;

typedef struct kp_mpart {
    int32_t partition;
    int16_t err;
    int32_t leader;
    int32_t leader_epoch;
    int32_t n_replicas, n_isr;
    int32_t replicas[8], isr[8];
} kp_mpart;

typedef struct kp_mtopic {
    char *name;
    int16_t err;
    int32_t n_parts;
    kp_mpart *parts;
} kp_mtopic;

/* An immutable view of the cluster; replaced whole on every update, freed by refcount. */
typedef struct kp_cluster {
    _Atomic int32_t refs;
    int64_t version;
    int32_t n_nodes;
    kp_node *nodes;
    int32_t n_topics;
    kp_mtopic *topics;
} kp_cluster;

typedef struct kp_metadata {
    pthread_mutex_t lock;
    pthread_cond_t cv; /* broadcast on every update */
    kp_cluster *cur;
    char **wanted; /* topics the producer uses */
    int32_t n_wanted, cap_wanted;
    _Atomic bool need_update;
    _Atomic bool new_topics; /* a topic joined the wanted set: ask without the backoff */
    int64_t last_update_ms;  /* sender thread */
    int64_t last_attempt_ms; /* sender thread */
    bool request_in_flight;  /* sender thread */
    _Atomic int64_t version;
    _Atomic bool closed; /* producer closing: waiters give up */
    const kw_clock *clock;
} kp_metadata;

/* @locks none. @thread owner. */
void kp_metadata_init(kp_metadata *md, const kw_clock *clock);
/* @locks none. @thread owner. */
void kp_metadata_destroy(kp_metadata *md);
/* The current cluster with a reference taken (never NULL); release with kp_cluster_release.
 * @locks takes md->lock. @thread any. */
kp_cluster *kp_metadata_cluster(kp_metadata *md);
/* @locks none (atomic refcount). @thread any. */
void kp_cluster_release(kp_cluster *c);
/* @locks none (the cluster is immutable; hold a reference). @thread any. */
const kp_mtopic *kp_cluster_topic(const kp_cluster *c, const char *name);
/* @locks none (the cluster is immutable; hold a reference). @thread any. */
const kp_node *kp_cluster_node(const kp_cluster *c, int32_t id);
/* Adds a topic to the wanted set; true when it was new. @locks takes md->lock. @thread app. */
bool kp_metadata_add_topic(kp_metadata *md, const char *topic);
/* Builds a Metadata request's topic list (copies of names; free with kp_metadata_free_names).
 * @locks takes md->lock. @thread sender. */
int32_t kp_metadata_wanted(kp_metadata *md, char ***names);
/* @locks none. @thread sender. */
void kp_metadata_free_names(char **names, int32_t n);
/* Applies a Metadata response (sender thread). Returns the number of partitions known.
 * @locks takes md->lock; broadcasts md->cv. @thread sender. */
int32_t kp_metadata_apply(kp_metadata *md, const kw_metadata_resp *resp, int64_t now_ms);
/* Waits (producing thread) until the topic has partitions, or deadline (clock ms). Returns
 * the partition count, 0 when the time ran out; *topic_err gets the broker's error; *blocked
 * is false when the map knew the topic at the first look (no time passed here).
 * @locks takes md->lock and waits on md->cv (wake is called without it). @thread app. */
int32_t kp_metadata_wait_topic(kp_metadata *md, const char *topic, int64_t deadline_ms,
                               void (*wake)(void *arg), void *wake_arg, int16_t *topic_err,
                               bool *blocked);
/* Wakes metadata waiters (close). @locks takes md->lock. @thread app (kp_close). */
void kp_metadata_wake_all(kp_metadata *md);
/* Applies the KIP-951 leader hints of a Produce answer (v10+: CurrentLeader of each
 * NOT_LEADER_OR_FOLLOWER partition, NodeEndpoints): a partition whose hinted leader epoch is
 * newer than ours now points at that leader, as Java's Sender.handleProduceResponse does through
 * Metadata.updatePartitionLeadership. Returns the number of partitions moved. @thread sender
 * @locks takes md->lock. */
int32_t kp_metadata_apply_leader_hints(kp_metadata *md, const kw_produce_resp *resp);

/* ------------------------------------------------------------------------------------------ */
/* netclient.c — the road: connections, framing, in-flight requests.                           */

struct kp_producer;
struct kp_req;
/* A response handler: err != NONE (transport, timeout) means body is NULL. */
typedef void (*kp_resp_handler)(struct kp_producer *p, struct kp_req *req, kw_err err,
                                kw_rbuf *body, int64_t now_ms);

typedef struct kp_req {
    struct kp_req *next;
    int32_t correlation_id;
    int16_t api_key, api_version;
    int64_t sent_ms;
    int64_t sent_us;
    bool expect_response;
    size_t end_offset; /* where the request ends in the connection's output (acks=0) */
    kp_resp_handler handler;
    void *ctx;
    int32_t node_id;
    int32_t batch_count;
    int32_t bytes;
} kp_req;

enum { KP_CONN_DOWN = 0, KP_CONN_CONNECTING = 1, KP_CONN_NEGOTIATING = 2, KP_CONN_READY = 3 };

typedef struct kp_conn {
    int32_t node_id;
    char host[128];
    int32_t port;
    int fd;
    int state;
    kw_wbuf out;
    size_t out_pos;
    uint8_t *in;
    size_t in_len, in_cap;
    kp_req *head, *tail;
    int32_t n_in_flight;
    int32_t n_noresp; /* queued requests that expect no response (acks=0) */
    int64_t last_attempt_ms;
    int64_t backoff_ms;
    int32_t failures;
    int16_t versions[32]; /* negotiated max version per api key (-1 = unsupported) */
} kp_conn;

typedef struct kp_net {
    struct kp_producer *p;
    kp_conn **conns;
    int32_t n_conns, cap_conns;
    int wake_fd; /* eventfd */
    /* A wakeup is written and not yet taken by the sender: further wakeups skip the write
     * (as Java's Selector.wakeup(), one interrupt per select). */
    _Atomic bool wake_pending;
    int32_t next_corr;
    _Atomic int64_t bytes_out, bytes_in;
    /* Guards conns[], each conn's state and in-flight list against the snapshot reader;
     * the sender holds it only while changing them, never while running handlers. */
    pthread_mutex_t lock;
} kp_net;

/* @locks none. @thread owner. */
kw_err kp_net_init(kp_net *n, struct kp_producer *p);
/* @locks none. @thread owner. */
void kp_net_destroy(kp_net *n);
/* Any thread: wakes the sender's poll; one eventfd write until the sender takes it, later
 * calls only see the pending flag. Everything the caller changed before the call is seen by
 * the sender's next round. @locks none (writes the eventfd). @thread any. */
void kp_net_wakeup(kp_net *n);
/* The connection for a node (created on first use, with host/port).
 * @locks takes n->lock to add or re-address a connection. @thread sender. */
kp_conn *kp_net_conn(kp_net *n, int32_t node_id, const char *host, int32_t port);
/* @locks none: only the sender changes conns[]. @thread sender. */
kp_conn *kp_net_find(kp_net *n, int32_t node_id);
/* True when the connection is up and below max.in.flight; starts connecting when it is down
 * and its reconnect backoff passed.
 * @locks takes n->lock when it starts connecting. @thread sender. */
bool kp_net_ready(kp_net *n, kp_conn *c, int64_t now_ms);
/* The negotiated version of an API on a ready connection, or -1. @locks none. @thread sender. */
int16_t kp_net_version(const kp_conn *c, int16_t api_key);
/* Queues a request: body is the encoded body (header added here); the next kp_net_poll writes
 * it. Returns the kp_req (owned by the connection until its handler ran) or NULL on failure.
 * The handler never runs inside this call.
 * @locks takes n->lock to queue the request. @thread sender. */
kp_req *kp_net_send(kp_net *n, kp_conn *c, int16_t api_key, int16_t version, const kw_wbuf *body,
                    bool expect_response, kp_resp_handler h, void *ctx, int64_t now_ms);
/* Polls sockets for up to timeout_ms of producer time; runs handlers; expires requests older
 * than request.timeout.ms.
 * @locks takes n->lock while a connection or its in-flight list changes; handlers run without
 * it. @thread sender. */
void kp_net_poll(kp_net *n, int64_t timeout_ms);
/* A ready connection with the fewest in-flight requests (for Metadata/InitProducerId), or
 * NULL (then a connection attempt is started towards some node).
 * @locks none: only the sender changes conns[]. @thread sender. */
kp_conn *kp_net_least_loaded(kp_net *n, int64_t now_ms);
/* @locks takes n->lock. @thread any. */
int32_t kp_net_in_flight(kp_net *n);
/* Requests of one API in flight. @locks takes n->lock. @thread any. */
int32_t kp_net_in_flight_api(kp_net *n, int16_t api_key);
/* Copies the connections and their in-flight requests. @locks takes n->lock. @thread any. */
kw_err kp_net_snapshot(kp_net *n, kp_snap *out, int64_t now_ms);
/* Closes every connection, failing its in-flight requests with err.
 * @locks takes n->lock per connection; handlers run without it. @thread sender. */
void kp_net_close_all(kp_net *n, kw_err err);

/* ------------------------------------------------------------------------------------------ */
/* packer.c — the packing table: threads that compress sealed batches.                         */

#define KP_PACKERS_MAX 4

/* lock guards the queue and stop; the threads are started and joined by the owner. */
typedef struct kp_packer {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    kp_batch *head, *tail; /* sealed batches waiting, oldest first (b->pack_next) */
    bool stop;
    pthread_t threads[KP_PACKERS_MAX];
    int32_t n_threads; /* started (owner) */
    kp_accum *accum;
    kp_net *net;
} kp_packer;

/* The online CPUs, 1..KP_PACKERS_MAX. @locks none. @thread any. */
int32_t kp_packer_default_threads(void);
/* Starts n_threads packers (0: none, the sealing thread packs). KW_ERR__NO_MEMORY when none of
 * the n_threads could start. @locks none. @thread owner. */
kw_err kp_packer_init(kp_packer *pk, kp_accum *accum, kp_net *net, int32_t n_threads);
/* Queues a sealed batch (b->compressing already set under tp->lock) for a packer.
 * @locks takes pk->lock (no tp->lock held). @thread app. */
void kp_packer_submit(kp_packer *pk, kp_batch *b);
/* Lets the packers finish the queue, then joins them; safe to call twice.
 * @locks takes pk->lock. @thread owner (after the sender thread ended). */
void kp_packer_stop(kp_packer *pk);
/* kp_packer_stop, then frees the lock. @locks none. @thread owner. */
void kp_packer_destroy(kp_packer *pk);

/* ------------------------------------------------------------------------------------------ */
/* metrics.c                                                                                    */

typedef struct kp_stats {
    pthread_mutex_t lock;
    /* bumped by the producing threads on every record: a cache line of its own, away from
     * the counters the sender bumps (a shared line costs both sides on every record) */
    _Alignas(64) _Atomic int64_t record_send_total;
    _Alignas(64) _Atomic int64_t record_error_total, record_retry_total;
    _Atomic int64_t batches, batch_bytes, batch_bytes_max;
    _Atomic int64_t batch_raw_bytes;        /* the same batches before compression */
    _Atomic int64_t compression_ratio_ppm;  /* sum of per-batch ratios, in millionths */
    _Atomic int64_t requests, responses, request_records;
    _Atomic int64_t queue_time_ms_sum, queue_time_ms_max, queue_samples;
    _Atomic int64_t latency_ms_sum, latency_ms_max;
    _Atomic int64_t batch_split_total;
    int64_t created_ms;
    int64_t win_ms;
    int64_t win_send, win_error, win_retry, win_req;
    double rate_send, rate_error, rate_retry, rate_req;
} kp_stats;

/* @locks none. @thread owner. */
void kp_stats_init(kp_stats *s, int64_t now_ms);
/* @locks none. @thread owner. */
void kp_stats_destroy(kp_stats *s);

/* ------------------------------------------------------------------------------------------ */
/* The producer.                                                                                */

struct kp_producer {
    kp_conf conf; /* resolved copy */
    const kw_clock *clock;
    /* kp_epoch_ms_at with the default clock: CLOCK_REALTIME - CLOCK_MONOTONIC (µs), and the
     * monotonic instant it was measured at. */
    _Atomic int64_t epoch_off_us, epoch_off_at_us;
    kp_bufpool pool;
    kp_accum accum;
    kp_metadata md;
    kp_net net;
    kp_packer packer; /* with compression.type set */
    kp_sticky sticky;
    kp_stats stats;
    pthread_t sender;
    bool sender_started;
    _Atomic bool closing; /* no more kp_produce */
    _Atomic bool force_close;
    _Atomic bool sender_done;
    _Alignas(64) _Atomic uint64_t next_record_seq; /* app: one line for the per-record two */
    _Atomic int64_t outstanding;
    _Alignas(64) char after_hot[1]; /* the fields below stay off that line */
    pthread_mutex_t close_lock;
    pthread_cond_t close_cv;
    bool closed;            /* close_lock: kp_close finished */
    bool close_in_progress; /* close_lock: a kp_close is running (others wait for it) */
    /* idempotence (sender thread writes, others read) */
    _Atomic int64_t producer_id;
    _Atomic int16_t producer_epoch;
    bool pid_request_in_flight;
    int64_t pid_last_attempt_ms;
    bool pid_reset_needed;
    bool epoch_bump_required; /* sender: a partition lost a sequence (Java's epochBumpRequired) */
    kw_err bump_reason;       /* sender: the error that asked for the bump */
    int16_t pid_api_version;  /* sender: the InitProducerId version the id came with */
    uint64_t rng;
    int64_t cluster_version_seen; /* sender: leaders refreshed for this version */
    int32_t tps_seen;
    kw_wbuf sbuf;        /* sender: request body scratch */
    kw_arena *arena;     /* sender: response decoding */
    kw_arena *rec_arena; /* sender: reading records back at completion */
};

/* Emits an event if a sink is set. ev fields not set by the caller: use kp_ev().
 * @locks none. @thread any. */
static inline bool kp_has_sink(const struct kp_producer *p) {
    return p->conf.sink != NULL;
}
/* @locks none. @thread any. */
kp_event kp_ev(const struct kp_producer *p, kp_event_kind kind);
/* @locks none taken; MUST NOT be called with a lock held (the sink is user code).
 * @thread any. */
void kp_emit(const struct kp_producer *p, const kp_event *ev);
/* @locks none taken; MUST NOT be called with a lock held (the log callback is user code).
 * @thread any. */
void kp_log(const struct kp_producer *p, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* @locks none. @thread any. */
int64_t kp_now_ms(const struct kp_producer *p);
/* @locks none. @thread any. */
int64_t kp_now_us(const struct kp_producer *p);
/* Milliseconds since the Unix epoch on the producer's clock: CreateTime for records that ask
 * for "now" (durations use kp_now_ms). @locks none. @thread any. */
int64_t kp_epoch_ms(const struct kp_producer *p);
/* kp_epoch_ms at the instant now_us (the producer clock's now_us, read just before) without a
 * second clock read when the clock is the default one: CLOCK_MONOTONIC plus the offset to
 * CLOCK_REALTIME, re-read at least every millisecond of monotonic time (so a step of the
 * system clock shows within 1 ms). Any other clock (the simulator's) is read as kp_epoch_ms.
 * @locks none (relaxed atomics). @thread any. */
int64_t kp_epoch_ms_at(struct kp_producer *p, int64_t now_us);
/* Waits on cv (with mutex m held) until deadline_ms on the producer's clock, in wall-time
 * slices the clock chooses; returns when signalled or the slice passed (callers re-check).
 * @locks m MUST be held (released while waiting). @thread any. */
void kp_cond_wait_until(const kw_clock *clock, pthread_cond_t *cv, pthread_mutex_t *m,
                        int64_t deadline_ms);
/* Initialises a condition variable on CLOCK_MONOTONIC. @locks none. @thread owner. */
void kp_cond_init(pthread_cond_t *cv);

/* sender.c */
/* The sender thread's body. @locks takes what kp_net_poll and kp_accum_ready/drain take, never
 * two at once. @thread sender (it is the sender thread). */
void *kp_sender_main(void *arg);
/* Completes a batch: callbacks, interceptors, metrics, memory back to the pool.
 * @locks none held on entry (callbacks and interceptors run without locks); takes inc_lock and
 * bp->lock. @thread sender. */
void kp_sender_complete(struct kp_producer *p, kp_batch *b, kw_err err, int64_t base_offset,
                        int64_t log_append_time, int64_t now_ms);

/* idempotence.c — Java's TransactionManager, idempotent part. @thread sender, all of them. */
/* Resolves sequences, bumps the epoch when a partition asked for it, asks for a producer id
 * when there is none (Java's maybeResolveSequences + bumpIdempotentEpochAndResetIdIfNeeded).
 * @locks takes map_lock (read), then tp->lock of the partitions it renumbers; none held on
 * entry. @thread sender. */
void kp_idem_maybe_init_pid(struct kp_producer *p, int64_t now_ms);
/* @locks none. @thread sender (pid_reset_needed is the sender's). */
bool kp_idem_has_pid(const struct kp_producer *p);
/* Java's TransactionManager.canRetry for an idempotent batch's partition error (it may ask for
 * an epoch bump): true when it may be retried. log_start_offset is the answer's (-1 unknown).
 * @locks none: the sequence state is the sender's. @thread sender. */
bool kp_idem_retriable(struct kp_producer *p, kp_batch *b, kw_err err, int64_t log_start_offset);
/* Java's handleCompletedBatch: the last acknowledged sequence moves on.
 * @locks none: the sequence state is the sender's. @thread sender. */
void kp_idem_on_success(struct kp_producer *p, kp_batch *b);
/* Java's handleFailedBatch: the batch fails for good; adjust (it failed before its retries
 * ran out, for a non-retriable error) or a sequence error asks for an epoch bump.
 * @locks none: the sequence state is the sender's. @thread sender. */
void kp_idem_on_failed(struct kp_producer *p, kp_batch *b, kw_err err, bool adjust);
/* A batch that expired (delivery.timeout.ms) after it was sent: whether the broker has it is
 * unknown, so no new batch of the partition goes out until that is resolved
 * (markSequenceUnresolved).
 * @locks none: the sequence state is the sender's. @thread sender. */
void kp_idem_on_expired(struct kp_producer *p, kp_batch *b);
/* Batch b leaves the partition's sequenced list (done, or replaced by its split pieces).
 * @locks none: the sequenced list is the sender's. @thread sender. */
void kp_idem_forget(kp_batch *b);
/* Split: the pieces take the parent's place in the sequenced list, keeping its range.
 * @locks none: the sequenced list is the sender's. @thread sender. */
void kp_idem_replace(kp_batch *parent, kp_batch **pieces, int32_t n);
/* Java's RecordAccumulator.shouldStopDrainingBatch: false when the head batch b of tp must
 * wait. @locks tp->lock held (by the drain). @thread sender. */
bool kp_idem_may_drain(const kp_tp *tp, const kp_batch *b, int64_t pid, int16_t epoch);
/* Stamps b with the producer id, epoch and the partition's next sequence (Java's drain with
 * maybeUpdateProducerIdAndEpoch); a batch that has its sequence keeps it.
 * @locks tp->lock MUST be held (by the drain). @thread sender. */
void kp_idem_stamp(kp_tp *tp, kp_batch *b, int64_t pid, int16_t epoch);

/* metrics.c: counters bumped on the hot paths. @locks none (relaxed atomics). @thread any. */
void kp_stats_record_sent(struct kp_producer *p, int64_t n);
void kp_stats_record_error(struct kp_producer *p, int64_t n);
void kp_stats_record_retry(struct kp_producer *p, int64_t n);
void kp_stats_batch_drained(struct kp_producer *p, const kp_batch *b, int64_t now_ms);
void kp_stats_request(struct kp_producer *p, int32_t records);
void kp_stats_response(struct kp_producer *p, int64_t latency_ms);

#endif /* COURIER_PRODUCER_KP_INT_H */
