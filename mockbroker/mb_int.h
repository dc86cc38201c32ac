/* mockbroker/mb_int.h — private structures of the mock cluster (not for other rooms).
 *
 * Locking: one cluster mutex (c->lock) guards all shared state: topics, partitions, replica
 * logs, ISR, producer state, broker flags (up, isolated, rtt, drop counters, lags), injected
 * errors and the producer id counter. It is held briefly: no socket I/O, no event sink, no
 * allocation of big buffers under it. Connections belong to their broker's thread alone.
 */
#ifndef COURIER_MOCKBROKER_MB_INT_H
#define COURIER_MOCKBROKER_MB_INT_H

#include "mockbroker/mb.h"

#include <pthread.h>
#include <stdatomic.h>

/* ---- batches and logs (log.c) --------------------------------------------------------------- */

/* One RecordBatch as received, with its offsets assigned. Immutable once in a log, shared by
 * every replica log that holds it (reference counted). */
typedef struct mb_batch {
    atomic_int refcnt;
    int64_t base_offset;
    int64_t last_offset;
    int64_t append_time_us; /* cluster clock when the leader appended it */
    int64_t max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t count;
    int32_t leader_epoch;
    int8_t codec;   /* attributes bits 0-2: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd */
    bool seg_first; /* the first batch of a segment (set by the leader before appending) */
    bool crc_unchecked; /* its CRC (crc) is checked as mb_log_store copies it */
    uint32_t crc;
    size_t raw_len; /* the batch's size with its records decompressed (== len uncompressed) */
    size_t len;
    /* The whole batch as the client sent it, baseOffset rewritten. It lives in a log's chunk
     * once stored (chunk != NULL: the batch holds a reference on it), right after this
     * struct (mb_batch_new), or, before mb_log_store, in the request's frame (borrowed). */
    uint8_t *data;
    struct mb_chunk *chunk;
} mb_batch;

/* Allocates a batch holding a copy of p[0..len). refcnt 1. NULL when out of memory. */
mb_batch *mb_batch_new(const uint8_t *p, size_t len);
/* A batch that points at p[0..len) without copying it (the request's frame): it must be
 * stored with mb_log_store before that frame is reused, or dropped. refcnt 1. */
mb_batch *mb_batch_borrow(const uint8_t *p, size_t len);
void mb_batch_ref(mb_batch *b);
void mb_batch_unref(mb_batch *b);

typedef struct mb_log {
    mb_batch **v;
    size_t n, cap;
    int64_t start; /* log start offset (moved by retention) */
    int64_t end;   /* log end offset */
    int64_t bytes;
    int64_t raw_bytes; /* the same batches with their records decompressed */
    /* Segments: runs of batches, each starting at a batch with seg_first (or at v[0]). */
    size_t nseg;             /* segments in the log */
    size_t first_seg_n;      /* batches in the oldest segment */
    int64_t first_seg_bytes; /* bytes of the oldest segment */
    int64_t seg_bytes;       /* bytes of the newest (active) segment */
    int64_t seg_first_us;    /* append time of the active segment's first batch */
    int64_t deleted_records; /* records retention deleted from this log */
    int64_t deleted_bytes;
    struct mb_chunk *chunk; /* where mb_log_store copies the next batch (a reference) */
    size_t chunk_next;      /* the size of the next chunk (they grow by doubling) */
} mb_log;

/* A batch's size with its records decompressed (its size when not compressed). */
static inline int64_t mb_batch_raw_len(const mb_batch *b) {
    return (int64_t)(b->raw_len ? b->raw_len : b->len);
}

void mb_log_free(mb_log *l);
/* Appends a batch (takes a reference). Returns false when out of memory. */
bool mb_log_append(mb_log *l, mb_batch *b);
/* The leader, before appending a borrowed batch: copies its bytes into the log's current
 * chunk (a new one, twice the last, when it does not fit; at most max(64 KiB, segment_bytes)
 * up to 4 MiB, so retention frees memory a segment at a time). With crc_unchecked, the CRC
 * is computed in the same pass and a mismatch stores nothing: *computed_crc gets the value.
 * Returns 0, -1 when out of memory, -2 on a CRC mismatch. */
int mb_log_store(mb_log *l, mb_batch *b, int64_t segment_bytes, uint32_t *computed_crc);
/* Index of the first batch whose last offset >= offset (n when none). */
size_t mb_log_find(const mb_log *l, int64_t offset);
/* Drops every batch at or after index i; the end becomes that batch's base offset. */
void mb_log_truncate_index(mb_log *l, size_t i);
/* Number of leading batches both logs share (the same batch objects). */
size_t mb_log_common_prefix(const mb_log *a, const mb_log *b);
/* The leader, before appending b (append_time_us set): marks b as the first batch of a new
 * segment when the active one is full (segment_bytes) or old (segment_ms; -1/0 = never). */
void mb_log_roll(const mb_log *l, mb_batch *b, int64_t segment_bytes, int64_t segment_ms);
/* Drops the leading batches below offset `start` (whole batches) and sets the log start;
 * an emptied log also gets its end moved up to start. Returns the records dropped. */
int64_t mb_log_drop_before(mb_log *l, int64_t start);

/* ---- idempotence (idempotence.c) ------------------------------------------------------------ */

#define MB_PID_BATCHES 5 /* as Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN */
#define MB_FIRST_PRODUCER_ID 1000 /* InitProducerId hands out ids from here */

typedef struct mb_pid_batch {
    int32_t first_seq, last_seq;
    int64_t base_offset, last_offset;
} mb_pid_batch;

typedef struct mb_pid_entry {
    int64_t producer_id;
    int16_t epoch;
    int n; /* batches kept (<= 5), oldest first */
    mb_pid_batch b[MB_PID_BATCHES];
} mb_pid_entry;

typedef struct mb_pid_state {
    mb_pid_entry *v;
    size_t n, cap;
} mb_pid_state;

/* The sequence number `delta` places after seq, wrapping at INT32_MAX to 0 as Kafka's
 * DefaultRecordBatch.incrementSequence. */
static inline int32_t mb_seq_add(int32_t seq, int32_t delta) {
    return (int32_t)(((int64_t)seq + delta) % ((int64_t)INT32_MAX + 1));
}

/* Checks an idempotent batch (producer_id >= 0) against the partition's producer state.
 * Returns KW_ERR_NONE (append it), or an error; *dup_offset >= 0 when it is a duplicate of a
 * stored batch (answer success with that base offset, append nothing). */
kw_err mb_pid_check(const mb_pid_state *s, const mb_batch *b, bool issued_here,
                    int64_t *dup_offset);
/* Records an appended batch. */
bool mb_pid_record(mb_pid_state *s, const mb_batch *b);
/* Rebuilds the state from a log (after a leader change truncated history). */
void mb_pid_rebuild(mb_pid_state *s, const mb_log *l);
void mb_pid_free(mb_pid_state *s);

/* Transactional ids the cluster has handed a producer id to (Kafka's TransactionMetadata,
 * without the transaction states: Courier simulates no transactions). */
typedef struct mb_txn_entry {
    char *id;
    int64_t producer_id;
    int16_t epoch, last_epoch; /* last_epoch: before the last bump (-1 = none) */
} mb_txn_entry;

typedef struct mb_txn_state {
    mb_txn_entry *v;
    size_t n, cap;
} mb_txn_state;

/* InitProducerId as Kafka's TransactionCoordinator: the answer goes to pid and epoch (-1 on
 * error).
 * @locks c->lock MUST be held. */
kw_err mb_init_pid(struct mb_cluster *c, const kw_init_pid_req *req, int16_t version,
                   int64_t *pid, int16_t *epoch);
void mb_txn_free(mb_txn_state *s);

/* ---- cluster state (cluster.c) -------------------------------------------------------------- */

typedef struct mb_replica {
    int32_t node;
    bool in_isr;
    int64_t caught_up_us; /* last time this follower had everything the leader had */
    mb_log log;
} mb_replica;

typedef struct mb_topic mb_topic;

typedef struct mb_partition {
    mb_topic *topic;
    int32_t id;
    int32_t leader;      /* node id, -1 none */
    int32_t last_leader; /* replica index of the current or last leader */
    int32_t leader_epoch;
    int16_t min_isr;
    int32_t n_replicas;
    mb_replica rep[MB_MAX_BROKERS];
    int64_t hw;
    mb_pid_state pids;
} mb_partition;

struct mb_topic {
    char name[MB_MAX_TOPIC_NAME + 1];
    /* retention in effect (the topic's own or the cluster's log.* defaults); -1 unlimited */
    int64_t retention_bytes, retention_ms, segment_bytes, segment_ms;
    bool own_retention[4]; /* set by the topic's config (DescribeConfigs' source) */
    int32_t n_partitions;
    mb_partition *parts;
    kw_uuid id; /* topic id (KIP-516): random, never zero, fixed at creation; Metadata v10+ */
};

/* An injected error queue for one API (and optionally one topic/partition). */
typedef struct mb_inject {
    struct mb_inject *next;
    int16_t api_key;
    char topic[MB_MAX_TOPIC_NAME + 1]; /* "" = whole request */
    int32_t partition;                 /* -1 = any */
    size_t n, pos;
    kw_err *errors;
} mb_inject;

typedef struct mb_conn mb_conn;

typedef struct mb_broker {
    struct mb_cluster *c;
    int32_t id;
    int port;
    int listen_fd; /* -1 while not listening; broker thread after start */
    int wake_fd;   /* eventfd: anyone writes, the broker thread reads */
    pthread_t thread;
    bool thread_started;
    /* under c->lock */
    bool up;
    bool isolated;
    int64_t follower_lag_us;
    /* atomics, any thread */
    atomic_bool want_up;
    atomic_int n_conns;
    atomic_llong req_count[64];
    atomic_llong req_total;
    atomic_llong rtt_us;  /* fault: delay before each response */
    atomic_int drop_next; /* fault: responses still to swallow */
    atomic_int n_pending; /* slots waiting (acks=all, fetch wait): wake when HW moves */
    /* broker thread only */
    mb_conn *conns;
} mb_broker;

struct mb_cluster {
    mb_config conf;
    const kw_clock *clock;
    pthread_mutex_t lock;
    pthread_cond_t ctl_cond; /* controller waits here (with lock) */
    bool ctl_kick;           /* under lock: something to replicate */
    atomic_bool stopping;
    bool started;
    int32_t n_brokers;
    mb_broker brokers[MB_MAX_BROKERS];
    char bootstrap[MB_MAX_BROKERS * 24];
    pthread_t ctl_thread;
    bool ctl_started;
    /* under lock */
    mb_topic **topics;
    size_t n_topics, cap_topics;
    int64_t next_pid;
    mb_txn_state txns; /* InitProducerId with a transactional id */
    mb_inject *injects;
    struct mb_groups *groups; /* consumer groups and committed offsets (group.c) */
};

static inline int64_t mb_now(const struct mb_cluster *c) {
    return kw_clock_now_us(c->clock);
}
static inline mb_broker *mb_broker_get(struct mb_cluster *c, int32_t node) {
    return node >= 1 && node <= c->n_brokers ? &c->brokers[node - 1] : NULL;
}

/* ---- events (events.c) ---------------------------------------------------------------------- */

/* Events collected while a lock is held and delivered after it is released. */
typedef struct mb_evbuf {
    mb_event *v;
    size_t n, cap;
    mb_event local[16];
    char *strs; /* detail strings owned by the buffer */
    size_t strs_len, strs_cap;
} mb_evbuf;

void mb_evbuf_init(mb_evbuf *eb);
/* A new event of this kind with every id set to "none"; NULL when there is no sink. */
mb_event *mb_ev_add(struct mb_cluster *c, mb_evbuf *eb, mb_event_kind kind, int32_t node);
/* Attaches a formatted detail string to ev (copied into the buffer). */
void mb_ev_detail(mb_evbuf *eb, mb_event *ev, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Delivers the collected events to the sink (NO lock may be held) and empties the buffer. */
void mb_evbuf_flush(struct mb_cluster *c, mb_evbuf *eb);
void mb_evbuf_free(mb_evbuf *eb);
/* Logs a line through log_cb or stderr. */
void mb_logf(struct mb_cluster *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- cluster internals (cluster.c, replication.c) ------------------------------------------- */

/* @locks c->lock MUST be held. */
mb_topic *mb_topic_find(struct mb_cluster *c, kw_slice name);
mb_partition *mb_partition_find(struct mb_cluster *c, kw_slice topic, int32_t partition);
int mb_topic_create_locked(struct mb_cluster *c, const char *name, int32_t partitions, int16_t rf,
                           int16_t min_isr, mb_evbuf *eb, mb_topic **out);
mb_replica *mb_partition_replica(mb_partition *p, int32_t node);
int32_t mb_partition_isr_count(const mb_partition *p);
void mb_partition_fill_isr(const mb_partition *p, int32_t *n, int32_t *isr);
/* Leader election from the ISR, excluding `exclude` (-1 none); truncation of the others. */
void mb_partition_elect(struct mb_cluster *c, mb_partition *p, int32_t prefer, int32_t exclude,
                        mb_evbuf *eb);
/* Truncates replica r to the prefix it shares with the leader's log. */
void mb_replica_reconcile(struct mb_cluster *c, mb_partition *p, mb_replica *r, mb_evbuf *eb);
/* Retention: deletes the oldest segments of every replica log of p that the topic's
 * retention.bytes/retention.ms allow (below the high watermark only); the log start offset
 * moves. Cheap when nothing is due. @locks c->lock MUST be held. */
void mb_partition_retain(struct mb_cluster *c, mb_partition *p, int64_t now, mb_evbuf *eb);
/* The cluster time at which retention.ms next deletes a segment of p, or INT64_MAX. */
int64_t mb_partition_retain_due(const mb_partition *p);
/* Recomputes the high watermark; wakes the leader when it moved. */
void mb_partition_update_hw(struct mb_cluster *c, mb_partition *p, mb_evbuf *eb);
/* Wakes the controller (lock held). */
void mb_controller_kick(struct mb_cluster *c);

/* One partition's replication tick: followers copy what is due, ISR and HW follow. Returns
 * the cluster time of the next change, or INT64_MAX. @locks c->lock MUST be held. */
int64_t mb_partition_tick(struct mb_cluster *c, mb_partition *p, int64_t now, mb_evbuf *eb);
/* Controller thread body (replication.c). */
void *mb_controller_main(void *arg);

/* ---- brokers (broker.c) -------------------------------------------------------------------- */

int mb_broker_listen(mb_broker *b, char *errbuf, size_t errsize);
void *mb_broker_main(void *arg);
void mb_broker_wake(mb_broker *b);

/* ---- fault injection (faults.c) -------------------------------------------------------------- */

/* Takes the next injected error for a request of api_key as a whole (topic ""), or for a
 * topic/partition. KW_ERR_NONE when none. @locks c->lock MUST be held. */
kw_err mb_inject_take(struct mb_cluster *c, int16_t api_key, const char *topic, int32_t partition);
void mb_inject_free_all(struct mb_cluster *c);

/* ---- consumer groups (group.c) -------------------------------------------------------------- */

/* Frees every group and committed offset (cluster destroy; no thread running). */
void mb_groups_free(struct mb_cluster *c);

#endif
