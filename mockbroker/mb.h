/* mockbroker/mb.h — the mock Kafka cluster (mb_): the depots across the road.
 *
 * An in-process cluster of N brokers, each with its own 127.0.0.1 listening socket and its
 * own event-loop thread, speaking the real Kafka wire protocol (protocol/kw.h), plus a
 * controller thread that owns metadata, leader election, ISR and replication timers.
 * This header is the whole contract; everything else in mockbroker/ is private.
 *
 * Conventions
 * - Functions that can fail return an mb_err: 0 (MB_OK) or a negative code; mb_err_name()
 *   names it. Those that return a count or a port return an int: the value, or a negative
 *   mb_err.
 *   Config errors also fill a caller's errbuf with a sentence naming the key.
 *   No function calls exit(); no function blocks on a broker thread (fault calls take
 *   effect at once under the cluster lock and wake the threads concerned).
 * - Every fault-injection and inspection call is thread-safe and may be called while the
 *   cluster runs, from any thread, including from inside the event sink.
 * - Time: the cluster reads time only through the kw_clock in mb_config (lags, request
 *   timeouts, RTT, replica.lag.time.max.ms); waits convert simulated time to wall time with
 *   clock->wall_us, so a paused clock makes nothing time out.
 * - Events: when mb_config.event_cb is set every action emits a typed mb_event. The sink is
 *   NEVER called with a cluster or broker lock held, so it may block (the simulator's step
 *   mode does) or call back into the inspection API. With no sink, events cost nothing.
 */
#ifndef COURIER_MOCKBROKER_MB_H
#define COURIER_MOCKBROKER_MB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/kw.h"

#define MB_MAX_BROKERS 16     /* brokers in one cluster */
#define MB_MAX_TOPIC_NAME 249 /* Kafka's topic name limit */

/* ------------------------------------------------------------------------------------------ */
/* Errors of the mb_ API (not on the wire).                                                      */

typedef enum mb_err {
    MB_OK = 0,
    MB_ERR_INVALID_ARG = -1,    /* bad argument or config value (errbuf says which) */
    MB_ERR_UNKNOWN_BROKER = -2, /* no broker with that node id */
    MB_ERR_UNKNOWN_TOPIC = -3,  /* no such topic */
    MB_ERR_UNKNOWN_PARTITION = -4,
    MB_ERR_TOPIC_EXISTS = -5,
    MB_ERR_NOT_IN_ISR = -6, /* leader move to a replica that is not in sync or is down */
    MB_ERR_STATE = -7,      /* not allowed now (not started, already started, ...) */
    MB_ERR_NO_MEMORY = -8,
    MB_ERR_IO = -9,   /* socket/thread creation failed (errbuf says why) */
    MB_ERR_END = -10, /* iterator: no more records */
} mb_err;

/* "INVALID_ARG", "UNKNOWN_BROKER", ...; never NULL. */
const char *mb_err_name(int err);

/* ------------------------------------------------------------------------------------------ */
/* Events.                                                                                     */

typedef enum mb_event_kind {
    MB_EV_REQUEST_RECEIVED, /* a request frame decoded: api_key/version, correlation_id, bytes */
    MB_EV_RESPONSE_SENT,    /* a response written to the socket: correlation_id, bytes, error
                               (the answer's top-level error, else a partition's; 0 = none) */
    MB_EV_RESPONSE_DROPPED, /* fault: a response swallowed (drop_responses) */
    MB_EV_RECORDS_APPENDED, /* leader appended a batch: topic/partition, offset..offset_end-1,
                               count, bytes, producer_id, sequence */
    MB_EV_DUPLICATE_BATCH,  /* idempotence: a repeat answered with the original offset */
    MB_EV_PRODUCE_REJECTED, /* a partition's batch refused: error says why */
    MB_EV_REPLICA_FETCHED,  /* follower node_id copied offset..offset_end-1 from the leader
                               (peer_node_id), bytes */
    MB_EV_HW_ADVANCED,      /* high watermark moved: offset = old, offset_end = new */
    MB_EV_ISR_CHANGED,      /* ISR shrank or expanded: isr[]/n_isr is the new set; peer_node_id
                               the replica that left (error set) or joined (error 0) */
    MB_EV_LEADER_CHANGED,   /* node_id = new leader (-1 none), peer_node_id = old,
                               leader_epoch = new epoch */
    MB_EV_LOG_TRUNCATED,    /* replica node_id's log cut: offset = new end, offset_end = old end */
    MB_EV_BROKER_DOWN,
    MB_EV_BROKER_UP,
    MB_EV_BROKER_ISOLATED,
    MB_EV_BROKER_HEALED,
    MB_EV_FAULT_INJECTED,       /* any fault call: detail describes it */
    MB_EV_CONNECTION_OPENED,    /* a client connected to node_id: detail "127.0.0.1:port" */
    MB_EV_CONNECTION_CLOSED,    /* detail gives the reason (malformed frame, broker down, EOF) */
    MB_EV_TOPIC_CREATED,        /* partition = partition count */
    MB_EV_PRODUCER_ID_ASSIGNED, /* InitProducerId: producer_id, producer_epoch */
    /* consumer groups (mockbroker/group.c): node_id is the group's coordinator, detail names
     * the group and the member ("group g: member m-1 joined, 2 members") */
    MB_EV_GROUP_MEMBER_JOINED,  /* a member entered the group: count = members now */
    MB_EV_GROUP_MEMBER_LEFT,    /* LeaveGroup, or dropped for not rejoining a rebalance */
    MB_EV_GROUP_MEMBER_EXPIRED, /* no heartbeat within session.timeout.ms */
    MB_EV_GROUP_REBALANCING,    /* PreparingRebalance: members must (re)join */
    MB_EV_GROUP_REBALANCED,     /* join phase done: leader_epoch = the new generation */
    MB_EV_GROUP_ASSIGNED,       /* the leader's assignment handed out (SyncGroup): Stable */
    MB_EV_OFFSET_COMMITTED,     /* topic/partition, offset = the committed offset */
    MB_EV_TOPIC_DELETED,        /* DeleteTopics */
    MB_EV_PARTITIONS_CREATED,   /* CreatePartitions: partition = the new count */
    MB_EV_SEGMENTS_DELETED,     /* retention deleted the oldest segments of a partition:
                                   offset = old log start, offset_end = new log start, count =
                                   records, bytes; detail says which limit */
    MB_EV__COUNT
} mb_event_kind;

/* "request.received", "response.sent", "replica.fetched", "hw.advanced", "isr.changed",
 * "leader.changed", "log.truncated", "broker.down", ... ; never NULL. */
const char *mb_event_kind_name(mb_event_kind kind);

/* One event. Pointers (topic, detail) are valid only during the sink call: copy what you keep.
 * Fields a kind does not use are -1 (ids, offsets) or 0 (counts, bytes) or NULL. */
typedef struct mb_event {
    mb_event_kind kind;
    int64_t time_us;      /* cluster clock, microseconds */
    int32_t node_id;      /* the broker acting (receiving, replicating, going down) */
    int32_t peer_node_id; /* the other broker, when there is one (leader fetched from, ...) */
    const char *topic;    /* NULL when not about a partition */
    int32_t partition;
    int32_t correlation_id;
    int16_t api_key; /* -1 when not about a request */
    int16_t api_version;
    int16_t error; /* a kw_err wire code (0 = none) */
    int16_t producer_epoch;
    int32_t leader_epoch;
    int64_t offset;     /* see the kind */
    int64_t offset_end; /* see the kind */
    int64_t producer_id;
    int32_t sequence; /* base sequence of a batch */
    int32_t count;    /* records */
    int64_t bytes;
    int64_t raw_bytes; /* records.appended: the batch's size decompressed (0 = none) */
    int32_t n_isr;
    int32_t isr[MB_MAX_BROKERS];
    const char *detail; /* human-readable, may be NULL */
    int64_t hw_before;  /* records.appended: the partition's high watermark when the batch was
                           appended, and after the followers due at once had copied it (acks=1
                           with lagging followers: unchanged); -1 = not about an append */
    int64_t hw_after;
} mb_event;

typedef void (*mb_event_cb)(const mb_event *ev, void *opaque);

/* Log lines (connection closed for a malformed frame, unsupported API, ...). level: 0 error,
 * 1 warning, 2 info. When no log_cb is set lines go to stderr, prefixed "mockbroker: ". */
typedef void (*mb_log_cb)(int level, const char *line, void *opaque);

/* ------------------------------------------------------------------------------------------ */
/* Configuration.                                                                              */

typedef struct mb_topic_config {
    const char *name;
    int32_t partitions;          /* >= 1 */
    int16_t replication_factor;  /* 1..brokers */
    int16_t min_insync_replicas; /* 0 = the cluster's min.insync.replicas */
} mb_topic_config;

typedef struct mb_config {
    int32_t brokers;               /* number of brokers, node ids 1..brokers (default 3) */
    int port;                      /* base port: broker i listens on port+i-1; 0 = ephemeral */
    const mb_topic_config *topics; /* created at mb_cluster_new; the array is copied */
    size_t n_topics;
    bool auto_create_topics_enable;     /* auto.create.topics.enable (default true) */
    int32_t num_partitions;             /* num.partitions for auto-created topics (default 1) */
    int16_t default_replication_factor; /* default.replication.factor (default 1; capped at
                                           the number of brokers) */
    int16_t min_insync_replicas;        /* min.insync.replicas (default 1) */
    int64_t replica_lag_time_max_ms;    /* replica.lag.time.max.ms (default 30000) */
    int64_t follower_lag_ms[MB_MAX_BROKERS]; /* per broker (index node_id-1): how long after
                                        the leader's append this broker, as a follower, copies
                                        a batch (default 0 = at the controller's next tick) */
    int32_t socket_request_max_bytes;        /* socket.request.max.bytes (default 104857600) */
    int32_t message_max_bytes;               /* message.max.bytes per batch (default 1048588) */
    int32_t group_initial_rebalance_delay_ms; /* group.initial.rebalance.delay.ms: how long a
                                        new group waits for more members (default 3000) */
    /* Retention, Kafka's broker defaults for every topic (a topic's own retention.* and
     * segment.* override them). A partition's log is a run of segments; a segment rolls when
     * the next batch would take it past log.segment.bytes or when its first batch is older
     * than log.segment.ms (cluster clock). Whole segments are deleted from the old end, only
     * below the high watermark, while the log without the oldest segment still holds
     * log.retention.bytes, or when the newest batch of the oldest segment was appended more
     * than log.retention.ms ago (Kafka's UnifiedLog.deleteRetentionSizeBreachedSegments and
     * deleteRetentionMsBreachedSegments); the log start offset moves to the first batch
     * kept. -1 = unlimited. */
    int64_t log_retention_bytes; /* log.retention.bytes (default -1) */
    int64_t log_retention_ms;    /* log.retention.ms (default 604800000, 7 days) */
    int64_t log_segment_bytes;   /* log.segment.bytes (default 1073741824) */
    int64_t log_segment_ms;      /* log.segment.ms (log.roll.ms, default 604800000) */
    const kw_clock *clock; /* NULL = kw_clock_monotonic(); must outlive the cluster */
    mb_event_cb event_cb;  /* NULL = no events (zero cost) */
    void *event_opaque;
    mb_log_cb log_cb; /* NULL = stderr */
    void *log_opaque;
} mb_config;

/* Fills conf with Kafka 4.0's defaults (3 brokers, ephemeral ports, no topics). */
void mb_config_init(mb_config *conf);

/* ------------------------------------------------------------------------------------------ */
/* Life cycle.                                                                                 */

typedef struct mb_cluster mb_cluster;

/* Validates conf, binds every broker's listening socket (so ports are known at once) and
 * creates the configured topics. Threads start in mb_cluster_start(). On error *out is NULL
 * and errbuf names the problem. The cluster copies what it needs of conf. */
mb_err mb_cluster_new(const mb_config *conf, mb_cluster **out, char *errbuf, size_t errsize);
/* Starts the broker threads and the controller. */
mb_err mb_cluster_start(mb_cluster *c, char *errbuf, size_t errsize);
/* Stops every thread, closes every socket, frees everything. NULL is a no-op. */
void mb_cluster_destroy(mb_cluster *c);

/* "127.0.0.1:PORT,127.0.0.1:PORT,..." of all brokers (valid until destroy). */
const char *mb_cluster_bootstrap(const mb_cluster *c);
/* The listening port of a broker (node ids 1..brokers), or a negative mb_err. */
int mb_broker_port(const mb_cluster *c, int32_t node_id);

/* Sets a topic's retention config by Kafka's name: "retention.bytes" (per partition),
 * "retention.ms" (-1 = unlimited for both), "segment.bytes" (14..2^31-1), "segment.ms"
 * (>= 1). It overrides the cluster's log.* default for that topic and applies at once (the
 * next append or controller tick deletes what is due). MB_ERR_INVALID_ARG (errbuf says why)
 * or MB_ERR_UNKNOWN_TOPIC. */
mb_err mb_topic_set_config(mb_cluster *c, const char *topic, const char *key, int64_t value,
                           char *errbuf, size_t errsize);

/* ------------------------------------------------------------------------------------------ */
/* Fault injection. Each call emits MB_EV_FAULT_INJECTED (and the kind-specific events).     */

/* Broker down: its listener and connections close (on its thread, right after the call),
 * requests already read are not answered; the controller at once removes it from every ISR
 * and elects new leaders from the ISR for the partitions it led (epoch + 1), truncating the
 * other replicas to the new leader's log. */
mb_err mb_broker_down(mb_cluster *c, int32_t node_id);
/* Broker up: listens again on the same port; rejoins its partitions as a follower (its log is
 * truncated to what it shares with the leader), catches up and re-enters the ISR. A partition
 * that had no leader (every ISR member down) gets this broker as leader if it was in the ISR. */
mb_err mb_broker_up(mb_cluster *c, int32_t node_id);
/* True while the broker is up (not after mb_broker_down). */
bool mb_broker_is_up(const mb_cluster *c, int32_t node_id);
/* Adds rtt_ms of delay (cluster clock) before each response of this broker is sent. 0 = none. */
mb_err mb_broker_set_rtt(mb_cluster *c, int32_t node_id, int64_t rtt_ms);
/* The next n responses this broker would send are swallowed (the requests are still
 * processed: appended batches stay appended). A connection that lost an answer stays silent
 * afterwards (TCP order: nothing may overtake the lost answer), so the client sees a request
 * timeout and reconnects; its later answers are dropped too (response.dropped events). */
mb_err mb_broker_drop_responses(mb_cluster *c, int32_t node_id, int32_t n);
/* The next requests of api_key get these errors, one per request, in order. With topic NULL
 * the whole request fails (every partition, or the top-level error for Metadata,
 * InitProducerId); with a topic (and partition >= 0, or -1 for any) only that topic/partition
 * in Produce, Fetch or ListOffsets fails (nothing is appended). The array is copied. */
mb_err mb_push_request_errors(mb_cluster *c, int16_t api_key, const char *topic, int32_t partition,
                              const kw_err *errors, size_t n);
/* Moves a partition's leadership to node_id, which must be an up ISR member (MB_ERR_NOT_IN_ISR
 * otherwise): epoch + 1; what the old leader had beyond the new leader's log end is truncated;
 * pending acks=all requests on the old leader get NOT_LEADER_OR_FOLLOWER. */
mb_err mb_partition_move_leader(mb_cluster *c, const char *topic, int32_t partition,
                                int32_t node_id);
/* Sets how long after the leader's append this broker copies a batch as a follower. A lag
 * above replica.lag.time.max.ms takes the broker out of the ISR of its partitions. */
mb_err mb_broker_set_follower_lag(mb_cluster *c, int32_t node_id, int64_t lag_ms);
/* Isolates a broker from the other brokers: no replication to or from it (clients still
 * connect). Its followers fall out of ISRs after replica.lag.time.max.ms; if it leads, the
 * followers it leads fall out of its ISR (it stays leader: the zombie-leader lab). */
mb_err mb_broker_isolate(mb_cluster *c, int32_t node_id);
mb_err mb_broker_heal(mb_cluster *c, int32_t node_id);

/* ------------------------------------------------------------------------------------------ */
/* Inspection.                                                                                 */

typedef struct mb_partition_info {
    int32_t partition;
    int32_t leader; /* -1 when none */
    int32_t leader_epoch;
    int16_t min_insync_replicas;
    int32_t n_replicas;
    int32_t replicas[MB_MAX_BROKERS];
    int32_t n_isr;
    int32_t isr[MB_MAX_BROKERS];
    int64_t log_start_offset; /* first offset still held (retention moves it) */
    int64_t log_end_offset; /* the leader's (or the last leader's) */
    int64_t high_watermark;
    int64_t replica_log_end[MB_MAX_BROKERS]; /* per replicas[i] */
    int64_t batches;                         /* batches in the leader's log */
    int64_t bytes;                           /* bytes in the leader's log */
    int64_t raw_bytes; /* the same with compressed batches counted decompressed */
    int64_t segments;  /* segments in the leader's log */
    int64_t deleted_records; /* records retention deleted (offsets below the log start) */
    int64_t deleted_bytes;   /* their bytes */
} mb_partition_info;

/* Number of partitions of a topic, or a negative mb_err. */
int mb_topic_partition_count(mb_cluster *c, const char *topic);
/* Copies a partition's state. */
mb_err mb_partition_info_get(mb_cluster *c, const char *topic, int32_t partition,
                             mb_partition_info *out);

/* One stored record, as the audit reads it. key/value point into the iterator's snapshot:
 * valid until the next mb_record_iter_next() or destroy. len -1 = null. */
typedef struct mb_record {
    int64_t offset;
    int64_t timestamp;
    const uint8_t *key;
    int32_t key_len;
    const uint8_t *value;
    int32_t value_len;
    int64_t producer_id; /* -1 when not idempotent */
    int16_t producer_epoch;
    int32_t sequence;     /* base sequence + offset delta; -1 when not idempotent */
    int32_t leader_epoch; /* epoch of the leader that appended the batch */
} mb_record;

typedef struct mb_record_iter mb_record_iter;

/* Iterates the records of a partition's leader log (the whole log, up to the log end offset;
 * from_offset skips earlier records; compare with high_watermark for what is committed).
 * The iterator holds a snapshot: appends and truncations after creation are not seen.
 * The caller must mb_record_iter_destroy() it. */
mb_err mb_record_iter_new(mb_cluster *c, const char *topic, int32_t partition, int64_t from_offset,
                          mb_record_iter **out);
/* MB_OK with *rec filled, MB_ERR_END at the end, or another negative error (malformed batch). */
mb_err mb_record_iter_next(mb_record_iter *it, mb_record *rec);
void mb_record_iter_destroy(mb_record_iter *it);

/* Requests this broker received: of one api_key, or of all APIs with api_key -1. */
int64_t mb_broker_request_count(mb_cluster *c, int32_t node_id, int16_t api_key);

/* Consumer groups (mockbroker/group.c). The node id coordinating `group` now (it moves when
 * that broker goes down), or -1 when no broker is up. */
int32_t mb_group_coordinator_id(mb_cluster *c, const char *group);
/* A group's committed offset for a partition into *offset (-1 when none). MB_ERR_UNKNOWN_TOPIC
 * when the group does not exist. */
mb_err mb_group_committed(mb_cluster *c, const char *group, const char *topic, int32_t partition,
                          int64_t *offset);

/* A group as the view shows it: "Stable", generation, members, coordinator. */
typedef struct mb_group_info {
    char group_id[128];
    char state[24];
    int32_t generation;
    int32_t members;
    int32_t coordinator;
    char assignment[200]; /* each member's client id and partitions, as the leader assigned
                             them: "courier t[0,1,2] rdkafka t[3,4,5]" ("" before any) */
} mb_group_info;

/* Copies up to max groups into out; returns how many groups exist (may exceed max). */
int mb_groups_list(mb_cluster *c, mb_group_info *out, int max);

#endif /* COURIER_MOCKBROKER_MB_H */
