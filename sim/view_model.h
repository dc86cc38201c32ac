/* sim/view_model.h — exactly what the live view draws, as plain structs.
 *
 * The view is a reader (STYLE.md "The view is a reader"): the feed (sim/view_feed.c) samples
 * the producer snapshot, the cluster inspection API and the bus's event ring on a timer and
 * fills one sim_view_model; the drawing code (sim/view.c) turns that model into characters and
 * never looks anywhere else. Everything here is a fixed-size value: a model can be copied,
 * built by hand in a test, and drawn without touching a lock.
 *
 * Sizes are bounded on purpose: a screen cannot show more than a few dozen rows anyway, and the
 * counts (`n_*_total`) say how many there really were so a panel can print "+N more".
 */
#ifndef COURIER_SIM_VIEW_MODEL_H
#define COURIER_SIM_VIEW_MODEL_H

#include "sim/bus.h"
#include "sim/view_lang.h"

#include <stdbool.h>
#include <stdint.h>

#define SIM_VM_MAX_DESK 12    /* front-desk rows kept (most recent first) */
#define SIM_VM_MAX_PARTS 48   /* topic-partitions shown (sorting room and map) */
#define SIM_VM_MAX_BATCHES 6  /* batch boxes shown per partition deque */
#define SIM_VM_MAX_NODES 16   /* broker lanes (every broker a scenario may have) */
#define SIM_VM_MAX_INFLIGHT 6 /* requests shown per lane */
#define SIM_VM_MAX_REPLICAS 8 /* replicas / ISR members per partition */
#define SIM_VM_MAX_TRACE 64   /* trace pane lines kept (most recent last) */
#define SIM_VM_NAME 48        /* topic names, keys, error names (NUL included) */
#define SIM_VM_LINE 160       /* one trace line or status message (NUL included) */
#define SIM_VM_MAX_HISTORY 16 /* events kept in a followed parcel's history */
#define SIM_VM_MAX_GROUPS 2   /* consumer groups shown on the map's "Consumers" lines */

/* sim_view_lang: sim/view_lang.h */

/* Front desk (收件员): one record at the counter. `stage` is the last stage it reached. */
typedef enum sim_vm_stage {
    SIM_STAGE_SENT = 0,    /* kp_produce() called */
    SIM_STAGE_INTERCEPTED, /* interceptors' on_send ran */
    SIM_STAGE_SERIALIZED,  /* key and value serialized */
    SIM_STAGE_PARTITIONED, /* partitioner chose a partition */
    SIM_STAGE_APPENDED,    /* size checked and appended to a batch */
    SIM_STAGE__COUNT
} sim_vm_stage;

typedef struct sim_vm_desk_row {
    uint64_t record_id;
    char topic[SIM_VM_NAME];
    char key[SIM_VM_NAME];      /* printable key ("" = no key) */
    int32_t partition;          /* -1 until partitioned */
    int32_t size;               /* serialized size in bytes, -1 until known */
    sim_vm_stage stage;         /* the last stage reached */
    bool failed;                /* rejected at the desk after `stage` (err_name says why) */
    char err_name[SIM_VM_NAME]; /* "" unless failed */
} sim_vm_desk_row;

/* Sorting room (分拣员): one ProducerBatch box in a partition's deque. */
typedef struct sim_vm_batch {
    uint64_t batch_id; /* the producer's batch id (b7), 0 = unknown */
    int32_t records;
    int32_t bytes;
    int32_t attempts;       /* 0 = first try; > 0 shows retry marks */
    bool sealed;            /* closed for appends (full, or linger expired) */
    bool backing_off;       /* a retry waiting out retry.backoff.ms */
    int64_t linger_left_ms; /* time until linger.ms expires for the tail batch (<= 0: ready) */
    int32_t raw_bytes;      /* before compression (== bytes, or 0, when not compressed) */
} sim_vm_batch;

typedef struct sim_vm_partition {
    char topic[SIM_VM_NAME];
    int32_t partition;
    int32_t leader;      /* -1 = no leader known */
    int32_t in_flight;   /* batches drained into requests still on the road */
    int n_batches;       /* boxes in `batches` (oldest first) */
    int n_batches_total; /* batches really in the deque */
    sim_vm_batch batches[SIM_VM_MAX_BATCHES];
} sim_vm_partition;

/* The buffer pool gauge: used / buffer.memory and the threads waiting for memory. */
typedef struct sim_vm_pool {
    int64_t used;
    int64_t total;
    int32_t waiters;
} sim_vm_pool;

/* Trucks (运输车): one ProduceRequest on the road. */
typedef struct sim_vm_request {
    int32_t correlation_id;
    int32_t batches;
    int32_t bytes;
    int64_t age_ms;
} sim_vm_request;

/* A lane's most recent response (shown until the next one comes back). */
typedef struct sim_vm_response {
    int32_t correlation_id;
    int32_t err;                /* kw_err; 0 = ok */
    char err_name[SIM_VM_NAME]; /* "" when ok */
} sim_vm_response;

/* One lane per broker node. */
typedef struct sim_vm_node {
    int32_t id;
    bool up;
    int32_t rtt_ms;       /* injected extra RTT, 0 = none */
    int32_t drop_pending; /* responses still to be dropped ("drop 3") */
    int64_t requests_total;
    int64_t errors_total;
    int n_inflight;
    int n_inflight_total;
    sim_vm_request inflight[SIM_VM_MAX_INFLIGHT];
    bool has_last; /* `last` holds the most recent response */
    sim_vm_response last;
} sim_vm_node;

/* Dispatcher's map (调度员): a partition as the cluster knows it. */
typedef struct sim_vm_map_row {
    char topic[SIM_VM_NAME];
    int32_t partition;
    int32_t leader; /* -1 = offline */
    int32_t epoch;
    int64_t high_watermark;
    int64_t log_end_offset; /* the leader's log end (next offset it will write) */
    int n_replicas;
    int32_t replicas[SIM_VM_MAX_REPLICAS];
    int64_t replica_end[SIM_VM_MAX_REPLICAS]; /* each replica's log end, as replicas[] */
    /* The last truncation of this partition: offsets [trunc_from, trunc_to) removed from
     * broker trunc_node's log; trunc_acked of them had been acknowledged to the producer
     * (-1 = not known yet). trunc_from < 0: never truncated. */
    int64_t trunc_from, trunc_to, trunc_acked;
    int32_t trunc_node;
    bool trunc_pending; /* not cut yet: the leader lacks [trunc_from, trunc_to) that replica
                           trunc_node holds (the old leader), so it will be cut when it rejoins */
    int n_isr;
    int32_t isr[SIM_VM_MAX_REPLICAS];
    int64_t changed_ago_ms; /* since leader/ISR/epoch last changed; < 0 = never */
} sim_vm_map_row;

/* The audit so far (from the runner's counters) and the rates of the last second. */
typedef struct sim_vm_footer {
    double records_per_s;
    double requests_per_s;
    double records_per_request;
    int64_t sent;
    int64_t acked;
    int64_t failed;
    int64_t retries;
    int64_t lost;       /* acked but not in the logs; < 0 = not known yet */
    int64_t duplicated; /* extra copies in the logs; < 0 = not known yet */
    int64_t reordered;  /* records after a later-sent record of the same key; < 0 = unknown */
} sim_vm_footer;

/* What the clock and the step gate are doing. */
typedef struct sim_vm_status {
    bool paused;
    bool stepping;           /* step mode on: each key press releases one event */
    bool finished;           /* workload done and every record has an outcome */
    double speed;            /* simulation seconds per wall second */
    int64_t sim_ms;          /* simulation time since the start */
    int64_t sim_us;          /* the same in µs (the header shows t=12.345s) */
    uint64_t steps;          /* steps taken since the pause */
    bool running_to;         /* a run-to key (n f x T) is letting events through */
    int32_t room;            /* the selected room (sim_room; Tab changes it, n runs to it) */
    uint64_t last_released;  /* seq of the event the last step let through (0 = none) */
    uint64_t events;         /* events published so far (held ones are not): +1 per step */
    int32_t step_waiting;    /* events emitted and held at the step gate now */
    uint64_t events_dropped; /* events the view's ring overwrote before it saw them */
    char scenario[SIM_VM_NAME];
} sim_vm_status;

/* A parcel the class follows (`/`): where it is in each room, and its history. */
typedef struct sim_vm_parcel {
    bool active;
    int64_t record_id;       /* the producer's record number (#N at the desk) */
    char key[SIM_VM_NAME];   /* "" = none */
    char topic[SIM_VM_NAME]; /* "" until known */
    int32_t partition;       /* -1 until partitioned */
    int64_t batch_id;        /* -1 until in a batch */
    int32_t batch_pos;       /* its place in the batch, 0-based (-1 unknown) */
    int32_t corr_id;         /* the truck (request) carrying it, -1 = none yet */
    int32_t node;            /* that truck's broker */
    int64_t offset;          /* its offset in the partition, -1 until known */
    int n_replicated;        /* followers that copied it */
    int32_t replicated[SIM_VM_MAX_REPLICAS];
    bool acked;
    int32_t err;  /* failed for good with this error (0 = no) */
    bool lost;    /* acked, then its offset was truncated away */
    bool duplicated; /* appended a second time (a retry of a batch already written) */
    bool reordered;  /* written after a later-sent parcel with the same key */
    int n_history;   /* oldest first; the newest SIM_VM_MAX_HISTORY kept */
    int n_history_total;
    sim_event history[SIM_VM_MAX_HISTORY];
} sim_vm_parcel;

/* A consumer group of the cluster (mb_groups_list): the map's "Consumers" line. */
typedef struct sim_vm_group {
    char group_id[SIM_VM_NAME];
    char state[24]; /* "Stable", "PreparingRebalance", "CompletingRebalance", "Empty" */
    int32_t generation;
    int32_t members;
    int32_t coordinator;         /* the broker id coordinating it */
    char assignment[SIM_VM_LINE]; /* "courier t[0,1,2] rdkafka t[3,4,5]" */
    int64_t lag; /* sum over the map's partitions with a commit of HW - committed; -1 = none */
} sim_vm_group;

typedef struct sim_view_model {
    sim_view_lang lang;
    sim_vm_status status;

    int n_desk; /* most recent first */
    sim_vm_desk_row desk[SIM_VM_MAX_DESK];

    int64_t batch_size; /* producer batch.size (the box's capacity) */
    int64_t linger_ms;  /* producer linger.ms */
    int n_parts;
    int n_parts_total;
    sim_vm_partition parts[SIM_VM_MAX_PARTS];
    sim_vm_pool pool;

    int n_nodes;
    sim_vm_node nodes[SIM_VM_MAX_NODES];

    int n_map;
    int n_map_total;
    sim_vm_map_row map[SIM_VM_MAX_PARTS];

    sim_vm_footer footer;

    bool show_trace;
    int n_trace; /* oldest first */
    char trace[SIM_VM_MAX_TRACE][SIM_VM_LINE];
    uint64_t trace_seq[SIM_VM_MAX_TRACE]; /* each line's event seq (the released one is marked) */

    /* The event the last step let through: explained on the bottom line, its row
     * highlighted in its room. */
    bool has_step_event;
    sim_event step_event;

    sim_vm_parcel parcel;

    /* A one-line message (last action, or a prompt such as "broker down: which id?"). */
    char message[SIM_VM_LINE];
    bool message_is_prompt; /* the message asks a question: it wins over the explanation */
    int show_help;          /* 0 = hidden, 1 = keys, 2 = legend (symbols), 3 = the errors */

    /* The cluster's consumer groups (mock cluster only) and where clients reach it. */
    char bootstrap[SIM_VM_NAME]; /* the first broker's "127.0.0.1:PORT", "" when not ours */
    int n_groups;
    int n_groups_total;
    sim_vm_group groups[SIM_VM_MAX_GROUPS];
} sim_view_model;

#endif
