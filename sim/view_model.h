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

typedef enum sim_view_lang { SIM_LANG_EN = 0, SIM_LANG_ZH = 1 } sim_view_lang;

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
    int32_t records;
    int32_t bytes;
    int32_t attempts;       /* 0 = first try; > 0 shows retry marks */
    bool sealed;            /* closed for appends (full, or linger expired) */
    bool backing_off;       /* a retry waiting out retry.backoff.ms */
    int64_t linger_left_ms; /* time until linger.ms expires for the tail batch (<= 0: ready) */
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
    int32_t drop_pending; /* responses still to be dropped */
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
    int n_replicas;
    int32_t replicas[SIM_VM_MAX_REPLICAS];
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
    int64_t lost;       /* < 0 = not known until the end */
    int64_t duplicated; /* < 0 = not known until the end */
} sim_vm_footer;

/* What the clock and the step gate are doing. */
typedef struct sim_vm_status {
    bool paused;
    bool stepping;           /* step mode on: each key press releases one event */
    bool finished;           /* workload done and every record has an outcome */
    double speed;            /* simulation seconds per wall second */
    int64_t sim_ms;          /* simulation time since the start */
    uint64_t events;         /* events let through so far (emitted minus held): the
                                step counter, +1 per step */
    int32_t step_waiting;    /* events emitted and held at the step gate now */
    uint64_t events_dropped; /* events the view's ring overwrote before it saw them */
    char scenario[SIM_VM_NAME];
} sim_vm_status;

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

    /* A one-line message (last action, or a prompt such as "broker down: which id?"). */
    char message[SIM_VM_LINE];
    bool show_help;
} sim_view_model;

#endif
