/* sim/view_feed.c — the view's window on the run: what the four rooms show, sampled.
 *
 * Each frame (at most 20 a second) the feed drains the bus's event ring, folds the events
 * into the little state the screen needs (the last records at the front desk, each lane's last
 * response, faults in force, the trace tail), then copies the producer's snapshot, the
 * cluster's partition states and the runner's progress into a sim_view_model. Drawing never
 * computes anything: it is handed that model (htop's ScreenManager: sample on a timer, then
 * redraw).
 *
 * @locality the view thread only; the pipeline is touched through kp_snapshot(),
 * kp_metrics_get(), the mb inspection calls and sim_runner_progress(), each brief.
 */
#include "sim/view_feed.h"

#include "sim/foreign.h"

#include "mockbroker/mb.h"
#include "producer/kp.h"
#include "protocol/kw.h"
#include "sim/record.h"
#include "sim/view_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define READ_CHUNK 256
#define NODE_IDS (SIM_MAX_BROKERS + 1) /* node ids 1..SIM_MAX_BROKERS index directly */
#define HISTORY 64
#define HIGHLIGHT_MS 3000

typedef struct node_state {
    bool has_last;
    sim_vm_response last;
    int64_t errors;       /* error responses seen by the producer */
    int32_t rtt_ms;       /* from rtt faults */
    int32_t drop_pending; /* drop_responses faults minus response.dropped events */
} node_state;

typedef struct map_state {
    bool seen;
    int32_t leader, epoch;
    uint64_t isr_sig;
    int64_t changed_wall_ms; /* -1 = never changed while watched */
} map_state;

/* A batch on its way: which truck (request) carries it to which broker. */
typedef struct batch_trip {
    uint64_t batch_id;
    int32_t node;
    int32_t corr;     /* -1 until the request.sent that follows its drain */
    int32_t n_records;
    int64_t t_us; /* when it was drained */
    int32_t partition;
} batch_trip;

/* A parcel with the followed parcel's key: where it sits, so its write can be seen. */
typedef struct key_mate {
    int64_t record_id;
    int64_t batch_id; /* -1 until appended to a batch */
} key_mate;

#define KEY_MATES 256
#define EARLY_STOPS 48

/* Offsets [from, to) of one partition acknowledged to the producer by broker `node`. */
typedef struct ack_range {
    int part; /* index in scenario order (map rows) */
    int32_t node;
    int64_t from, to;
} ack_range;

typedef struct trunc_state {
    int64_t from, to, acked;
    int32_t node;
    int64_t t_us; /* when the cut happened */
} trunc_state;

#define TRIPS 1024
#define AUDIT_EVERY_MS 1000

typedef struct sample_point {
    int64_t sim_ms;
    uint64_t requests;
} sample_point;

struct sim_view_feed {
    sim_runner *r; /* NULL in tests that only fold events */
    sim_event *chunk;
    int64_t wall_ms;

    int n_desk;
    sim_vm_desk_row desk[SIM_VM_MAX_DESK]; /* most recent first */

    node_state node[NODE_IDS];
    map_state map[SIM_VM_MAX_PARTS];

    sim_event trace[SIM_VM_MAX_TRACE]; /* ring of the latest events */
    int trace_head, trace_len;

    sample_point hist[HISTORY];
    int hist_head, hist_len;
    double req_rate;

    bool audit_done;
    int64_t lost, duplicated, reordered;
    int64_t audit_next_wall_ms; /* the live audit runs again at this wall time */
    bool audit_soon;            /* a truncation or leader change: audit at the next sample */

    bool has_step_event;
    sim_event step_event; /* the last event a step let through */

    batch_trip trips[TRIPS]; /* ring of recent drains */
    int trips_head;

    ack_range *acks; /* acknowledged offset ranges (merged), for truncation counts */
    size_t n_acks, cap_acks;
    trunc_state trunc[SIM_VM_MAX_PARTS];

    sim_vm_parcel parcel; /* the followed parcel (`/`) */
    key_mate mates[KEY_MATES]; /* recent parcels with the followed key (ring) */
    int mates_head;
    int64_t max_written_mate; /* highest record id of that key written to the log so far */
    /* Following a key before its parcel is partitioned: the desk's first stops (sent,
     * intercepted, serialized) of recent parcels, whose key is not told yet; the one that
     * binds gets them into its history. */
    sim_event early[EARLY_STOPS];
    int early_head;
    bool has_parcel_row;
    sim_vm_desk_row parcel_row; /* its desk row, kept after newer records pushed it out */

    uint64_t last_seq; /* seq of the last event folded (recordings tag samples with it) */
};

static int64_t monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

sim_view_feed *sim_view_feed_new(sim_runner *r) {
    sim_view_feed *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->chunk = calloc(READ_CHUNK, sizeof *f->chunk);
    if (!f->chunk) {
        free(f);
        return NULL;
    }
    f->r = r;
    f->lost = f->duplicated = f->reordered = -1;
    for (int i = 0; i < SIM_VM_MAX_PARTS; i++)
        f->trunc[i].from = -1;
    for (int i = 0; i < SIM_VM_MAX_PARTS; i++)
        f->map[i].changed_wall_ms = -1;
    if (r)
        sim_view_feed_seed(f, sim_runner_scenario(r));
    return f;
}

void sim_view_feed_seed(sim_view_feed *f, const sim_scenario *s) {
    /* Faults present from the start (the scenario's RTTs) are faults in force. */
    for (int id = 1; s && id <= s->cluster.brokers && id < NODE_IDS; id++)
        f->node[id].rtt_ms = (int32_t)s->cluster.rtt_ms[id - 1];
}

void sim_view_feed_destroy(sim_view_feed *f) {
    if (!f)
        return;
    free(f->chunk);
    free(f->acks);
    free(f);
}

/* ---- events ------------------------------------------------------------------------------ */

static const char *err_name(int32_t err) {
    const char *n = kw_err_name((kw_err)err);
    return n ? n : "ERROR";
}

/* The front-desk row of a record, inserting it on top when `create` (record.sent). */
static sim_vm_desk_row *desk_row(sim_view_feed *f, int64_t record_id, bool create) {
    for (int i = 0; i < f->n_desk; i++)
        if ((int64_t)f->desk[i].record_id == record_id)
            return &f->desk[i];
    if (!create)
        return NULL;
    if (f->n_desk < SIM_VM_MAX_DESK)
        f->n_desk++;
    memmove(&f->desk[1], &f->desk[0], (size_t)(f->n_desk - 1) * sizeof f->desk[0]);
    sim_vm_desk_row *row = &f->desk[0];
    memset(row, 0, sizeof *row);
    row->record_id = (uint64_t)record_id;
    row->partition = -1;
    row->size = -1;
    row->stage = SIM_STAGE_SENT;
    return row;
}

/* Reads "name=NUMBER" out of a fault description ("rtt broker=1 ms=100"). */
static bool detail_num(const char *detail, const char *name, long long *out) {
    size_t n = strlen(name);
    for (const char *p = detail; (p = strstr(p, name)) != NULL; p += n) {
        if ((p == detail || p[-1] == ' ') && p[n] == '=') {
            char *end;
            long long v = strtoll(p + n + 1, &end, 10);
            if (end != p + n + 1) {
                *out = v;
                return true;
            }
        }
    }
    return false;
}

/* Copies a name into a fixed field, cut on a character boundary (never a split UTF-8). */
static void copy_name(char *dst, size_t size, const char *src) {
    sim_vt_clip(dst, size, src, (int)size, false);
}

static bool starts_with(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void fold_fault(sim_view_feed *f, const sim_event *e) {
    long long broker = e->node, v;
    if (strstr(e->detail, "FAILED"))
        return; /* refused by the cluster: nothing changed */
    if (broker < 0)
        detail_num(e->detail, "broker", &broker);
    if (broker <= 0 || broker >= NODE_IDS)
        return;
    node_state *n = &f->node[broker];
    if (starts_with(e->detail, "rtt") && detail_num(e->detail, "ms", &v))
        n->rtt_ms = (int32_t)v;
    else if (starts_with(e->detail, "drop_responses") && detail_num(e->detail, "count", &v))
        n->drop_pending += (int32_t)v;
}

static void trace_push(sim_view_feed *f, const sim_event *e) {
    f->trace[(f->trace_head + f->trace_len) % SIM_VM_MAX_TRACE] = *e;
    if (f->trace_len < SIM_VM_MAX_TRACE)
        f->trace_len++;
    else
        f->trace_head = (f->trace_head + 1) % SIM_VM_MAX_TRACE;
}

/* Index of a topic-partition in scenario order (the map's rows), -1 when unknown. */
static int part_index(const sim_view_feed *f, const char *topic, int32_t partition) {
    if (!f->r || partition < 0)
        return -1;
    const sim_scenario *s = sim_runner_scenario(f->r);
    int idx = 0;
    for (int t = 0; t < s->cluster.n_topics; t++) {
        if (!strcmp(s->cluster.topics[t].name, topic))
            return partition < s->cluster.topics[t].partitions && idx + partition < SIM_VM_MAX_PARTS
                       ? idx + partition
                       : -1;
        idx += s->cluster.topics[t].partitions;
    }
    return -1;
}

static batch_trip *trip_of(sim_view_feed *f, uint64_t batch_id) {
    for (int i = 0; i < TRIPS; i++) {
        batch_trip *t = &f->trips[(f->trips_head + TRIPS - 1 - i) % TRIPS];
        if (t->batch_id == batch_id)
            return t;
    }
    return NULL;
}

static void note_ack(sim_view_feed *f, int part, int32_t node, int64_t from, int64_t to) {
    if (part < 0 || to <= from)
        return;
    for (size_t i = 0; i < f->n_acks; i++) {
        ack_range *a = &f->acks[i];
        if (a->part == part && a->node == node && (a->to == from || a->from == to)) {
            if (a->to == from)
                a->to = to;
            else
                a->from = from;
            return;
        }
    }
    if (f->n_acks == f->cap_acks) {
        size_t nc = f->cap_acks ? f->cap_acks * 2 : 256;
        ack_range *na = realloc(f->acks, nc * sizeof *na);
        if (!na)
            return;
        f->acks = na;
        f->cap_acks = nc;
    }
    f->acks[f->n_acks++] = (ack_range){part, node, from, to};
}

/* Acknowledged offsets of broker `node`'s log in [from, to); with `remove`, they are gone
 * (a truncation removed them). */
static int64_t acked_in(sim_view_feed *f, int part, int32_t node, int64_t from, int64_t to,
                        bool remove) {
    int64_t n = 0;
    for (size_t i = 0; i < f->n_acks; i++) {
        ack_range *a = &f->acks[i];
        if (a->part != part || a->node != node)
            continue;
        int64_t lo = a->from > from ? a->from : from, hi = a->to < to ? a->to : to;
        if (hi <= lo)
            continue;
        n += hi - lo;
        if (remove) {
            /* keep what lies below the cut (truncation removes a suffix of the log) */
            if (a->from >= from)
                a->to = a->from;
            else
                a->to = from;
        }
    }
    return n;
}

/* The followed parcel: adds an event to its history. */
static void parcel_note(sim_vm_parcel *pc, const sim_event *e) {
    if (pc->n_history == SIM_VM_MAX_HISTORY) {
        memmove(&pc->history[0], &pc->history[1], (SIM_VM_MAX_HISTORY - 1) * sizeof pc->history[0]);
        pc->n_history--;
    }
    pc->history[pc->n_history++] = *e;
    pc->n_history_total++;
}

static bool parcel_tp(const sim_vm_parcel *pc, const sim_event *e) {
    return pc->partition >= 0 && e->partition == pc->partition && !strcmp(e->topic, pc->topic);
}

/* The parcels of the followed key: which batch each is in, and the highest record id of the
 * key written to the log so far (the followed parcel written after it is out of order). A
 * key follow binds to the first parcel of the key. */
static void fold_key_mates(sim_view_feed *f, const sim_event *e) {
    sim_vm_parcel *pc = &f->parcel;
    const char *k = e->kind;
    if (pc->key[0] && !strcmp(k, "record.partitioned")) {
        const char *kp = strstr(e->detail, "key=");
        size_t n = strlen(pc->key);
        if (kp && !strncmp(kp + 4, pc->key, n) && (kp[4 + n] == '\0' || kp[4 + n] == ' ')) {
            if (pc->record_id < 0) { /* following a key: the next parcel with that key */
                pc->record_id = e->record_id;
                /* its stops before this one, oldest first, as following its number would */
                for (int i = 0; i < EARLY_STOPS; i++) {
                    const sim_event *x = &f->early[(f->early_head + i) % EARLY_STOPS];
                    if (x->kind[0] && x->record_id == e->record_id)
                        parcel_note(pc, x);
                }
            }
            /* every parcel of the key is watched, to see the order they are written in */
            f->mates[f->mates_head] = (key_mate){e->record_id, -1};
            f->mates_head = (f->mates_head + 1) % KEY_MATES;
        }
    }
    if (pc->key[0] && !strcmp(k, "record.appended"))
        for (int i = 0; i < KEY_MATES; i++)
            if (f->mates[i].record_id == e->record_id && e->record_id > 0)
                f->mates[i].batch_id = e->batch_id;
    if (pc->key[0] && !strcmp(k, "records.appended") && e->corr_id >= 0) {
        /* the key's parcels this write carried (one batch per partition per request) */
        for (int i = 0; i < KEY_MATES; i++) {
            if (f->mates[i].batch_id < 0 || f->mates[i].record_id == pc->record_id)
                continue;
            batch_trip *t = trip_of(f, (uint64_t)f->mates[i].batch_id);
            if (t && t->corr == e->corr_id && t->node == e->node &&
                t->partition == e->partition && f->mates[i].record_id > f->max_written_mate)
                f->max_written_mate = f->mates[i].record_id;
        }
    }
}

/* The followed parcel at the broker: written (at which offset; twice: duplicated; after a later
 * parcel of its key: reordered), copied by followers, committed, cut. */
static void fold_parcel_at_broker(sim_view_feed *f, const sim_event *e) {
    sim_vm_parcel *pc = &f->parcel;
    const char *k = e->kind;
    if (!strcmp(k, "records.appended") && pc->corr_id >= 0 && e->corr_id == pc->corr_id &&
        e->node == pc->node) {
        if (pc->offset >= 0 && pc->offset != e->offset + pc->batch_pos && !pc->lost)
            pc->duplicated = true;
        pc->offset = e->offset + pc->batch_pos;
        /* written after a parcel of the same key that was sent later: out of order */
        if (f->max_written_mate > pc->record_id)
            pc->reordered = true;
        parcel_note(pc, e);
    } else if (!strcmp(k, "records.appended") && pc->offset >= 0 && pc->corr_id >= 0 &&
               e->corr_id >= 0 && e->corr_id != pc->corr_id && e->node == pc->node) {
        /* another truck carried the same batch (a retry) and it was written again */
    } else if (pc->offset >= 0 && e->offset <= pc->offset && pc->offset < e->offset_end) {
        if (!strcmp(k, "replica.fetched")) {
            if (pc->n_replicated < SIM_VM_MAX_REPLICAS)
                pc->replicated[pc->n_replicated++] = e->node;
            parcel_note(pc, e);
        } else if (!strcmp(k, "log.truncated") && e->node == pc->node) {
            /* cut from the log of the broker that wrote it */
            if (pc->acked)
                pc->lost = true;
            parcel_note(pc, e);
        }
    } else if (!strcmp(k, "hw.advanced") && pc->offset >= 0 && e->offset > pc->offset) {
        /* committed: the first HW past its offset is worth a line */
        bool seen = false;
        for (int i = 0; i < pc->n_history; i++)
            if (!strcmp(pc->history[i].kind, "hw.advanced"))
                seen = true;
        if (!seen)
            parcel_note(pc, e);
    }
}

/* Follows the parcel through the rooms: the desk, its batch, its truck, the broker's log. */
static void fold_parcel(sim_view_feed *f, const sim_event *e) {
    sim_vm_parcel *pc = &f->parcel;
    const char *k = e->kind;
    if (!pc->active)
        return;
    if (pc->key[0] && pc->record_id < 0 && e->source == SIM_SRC_PRODUCER &&
        e->record_id >= 0 &&
        (!strcmp(k, "record.sent") || !strcmp(k, "record.intercepted") ||
         !strcmp(k, "record.serialized"))) {
        f->early[f->early_head] = *e;
        f->early_head = (f->early_head + 1) % EARLY_STOPS;
        return;
    }
    fold_key_mates(f, e);
    if (e->source == SIM_SRC_PRODUCER && e->record_id == pc->record_id &&
        starts_with(k, "record.")) {
        if (e->topic[0])
            copy_name(pc->topic, sizeof pc->topic, e->topic);
        if (e->partition >= 0)
            pc->partition = e->partition;
        if (!strcmp(k, "record.appended")) {
            pc->batch_id = e->batch_id;
            pc->batch_pos = e->count > 0 ? e->count - 1 : 0;
        }
        if (!strcmp(k, "record.failed"))
            pc->err = e->err ? e->err : -1;
        parcel_note(pc, e);
        return;
    }
    if (pc->batch_id < 0)
        return;
    if (e->source == SIM_SRC_PRODUCER && e->batch_id == pc->batch_id) {
        if (!strcmp(k, "batch.drained")) {
            pc->node = e->node;
            pc->corr_id = -1;
        } else if (!strcmp(k, "batch.completed")) {
            if (e->err == 0) {
                pc->acked = true;
                pc->offset = e->offset + pc->batch_pos;
            } else {
                pc->err = e->err;
            }
        }
        parcel_note(pc, e);
        return;
    }
    if (e->source == SIM_SRC_PRODUCER && pc->corr_id < 0 && !strcmp(k, "request.sent") &&
        e->node == pc->node) {
        batch_trip *t = trip_of(f, (uint64_t)pc->batch_id);
        if (t && t->corr == e->corr_id) {
            pc->corr_id = e->corr_id;
            parcel_note(pc, e);
        }
        return;
    }
    if (pc->corr_id >= 0 && e->corr_id == pc->corr_id && e->node == pc->node &&
        (!strcmp(k, "response.received") || !strcmp(k, "request.timed_out") ||
         !strcmp(k, "request.received"))) {
        parcel_note(pc, e);
        return;
    }
    if (e->source == SIM_SRC_BROKER && parcel_tp(pc, e))
        fold_parcel_at_broker(f, e);
}

/* What the cluster tells about acks and truncations (the map's loss columns). */
static void fold_loss(sim_view_feed *f, const sim_event *e) {
    const char *k = e->kind;
    if (e->source == SIM_SRC_PRODUCER && !strcmp(k, "batch.drained") && e->batch_id >= 0) {
        batch_trip *t = &f->trips[f->trips_head];
        f->trips_head = (f->trips_head + 1) % TRIPS;
        *t = (batch_trip){(uint64_t)e->batch_id, e->node, -1, e->count, e->t_us, e->partition};
    } else if (e->source == SIM_SRC_PRODUCER && !strcmp(k, "request.sent")) {
        /* the drains just before it, to this node, are its load */
        for (int i = 0; i < TRIPS; i++) {
            batch_trip *t = &f->trips[(f->trips_head + TRIPS - 1 - i) % TRIPS];
            if (t->batch_id == 0)
                break;
            if (t->node == e->node && t->corr < 0)
                t->corr = e->corr_id;
            else if (t->node == e->node)
                break;
        }
    } else if (e->source == SIM_SRC_PRODUCER && !strcmp(k, "batch.completed") && e->err == 0 &&
               e->offset >= 0 && e->batch_id >= 0) {
        batch_trip *t = trip_of(f, (uint64_t)e->batch_id);
        int part = part_index(f, e->topic, e->partition);
        int64_t from = e->offset, to = e->offset + (e->count > 0 ? e->count : 1);
        trunc_state *ts = part >= 0 ? &f->trunc[part] : NULL;
        if (t && ts && ts->from >= 0 && t->node == ts->node && t->t_us <= ts->t_us &&
            from < ts->to && to > ts->from) {
            /* an answer that was on the road when its leader died: acknowledged now, but its
             * offsets were already cut from that leader's log — lost as it arrives */
            int64_t lo = from > ts->from ? from : ts->from, hi = to < ts->to ? to : ts->to;
            ts->acked += hi - lo;
            f->audit_soon = true;
        } else {
            note_ack(f, part, t ? t->node : -1, from, to);
        }
    } else if (e->source == SIM_SRC_BROKER && !strcmp(k, "log.truncated")) {
        int part = part_index(f, e->topic, e->partition);
        if (part >= 0 && e->offset_end > e->offset) {
            trunc_state *ts = &f->trunc[part];
            ts->from = e->offset;
            ts->to = e->offset_end;
            ts->node = e->node;
            ts->t_us = e->t_us;
            ts->acked = acked_in(f, part, e->node, e->offset, e->offset_end, true);
        }
        f->audit_soon = true;
    } else if (e->source == SIM_SRC_BROKER && !strcmp(k, "leader.changed")) {
        f->audit_soon = true;
    }
}

/* Folds an event into what the rooms show (everything but the trace tail). */
static void fold(sim_view_feed *f, const sim_event *e) {
    const char *k = e->kind;
    /* a step's event is explained; so is a fault (a timeline entry may pause the run on it) */
    if (e->stepped || (e->source == SIM_SRC_SIM && !strcmp(e->kind, "fault"))) {
        f->has_step_event = true;
        f->step_event = *e;
    }
    fold_loss(f, e);
    fold_parcel(f, e);
    f->last_seq = e->seq;
    if (e->source == SIM_SRC_PRODUCER) {
        if (starts_with(k, "record.")) {
            sim_vm_desk_row *row = desk_row(f, e->record_id, !strcmp(k, "record.sent"));
            if (!row)
                return;
            if (e->topic[0] && !row->topic[0])
                copy_name(row->topic, sizeof row->topic, e->topic);
            sim_vm_stage st = SIM_STAGE_SENT;
            if (!strcmp(k, "record.intercepted")) {
                st = SIM_STAGE_INTERCEPTED;
            } else if (!strcmp(k, "record.serialized")) {
                st = SIM_STAGE_SERIALIZED;
                if (e->bytes >= 0)
                    row->size = (int32_t)e->bytes;
            } else if (!strcmp(k, "record.partitioned")) {
                st = SIM_STAGE_PARTITIONED;
                row->partition = e->partition;
            } else if (!strcmp(k, "record.appended")) {
                st = SIM_STAGE_APPENDED;
                if (e->partition >= 0)
                    row->partition = e->partition;
            } else if (!strcmp(k, "record.failed")) {
                row->failed = true;
                snprintf(row->err_name, sizeof row->err_name, "%s", err_name(e->err));
            }
            if (!row->failed && st > row->stage)
                row->stage = st;
            /* A key, when the emitter put one in the detail ("key=k17"). */
            const char *kp = strstr(e->detail, "key=");
            if (kp && !row->key[0]) {
                size_t n = strcspn(kp + 4, " ");
                if (n >= sizeof row->key)
                    n = sizeof row->key - 1;
                memcpy(row->key, kp + 4, n);
                row->key[n] = '\0';
            }
        } else if (!strcmp(k, "response.received")) {
            /* Every Produce request ends here, a timed-out one too (its request.timed_out is
             * followed by this event with err TIMED_OUT), so a lane counts each request once. */
            if (e->node <= 0 || e->node >= NODE_IDS)
                return;
            node_state *n = &f->node[e->node];
            n->has_last = true;
            n->last.correlation_id = e->corr_id;
            n->last.err = e->err;
            n->last.err_name[0] = '\0';
            if (e->err) {
                snprintf(n->last.err_name, sizeof n->last.err_name, "%s", err_name(e->err));
                n->errors++;
            }
        }
    } else if (e->source == SIM_SRC_BROKER) {
        if (!strcmp(k, "response.dropped") && e->node > 0 && e->node < NODE_IDS) {
            if (f->node[e->node].drop_pending > 0)
                f->node[e->node].drop_pending--;
        }
    } else if (e->source == SIM_SRC_SIM) {
        if (!strcmp(k, "fault"))
            fold_fault(f, e);
    }
}

void sim_view_feed_event(sim_view_feed *f, const sim_event *e) {
    trace_push(f, e);
    fold(f, e);
}

void sim_view_feed_format_event(const sim_event *e, char *buf, size_t size) {
    char tmp[SIM_VM_LINE + 64];
    size_t off = 0;
#define PUT(...)                                                                                   \
    do {                                                                                           \
        if (off < sizeof tmp) {                                                                    \
            int k_ = snprintf(tmp + off, sizeof tmp - off, __VA_ARGS__);                           \
            if (k_ > 0)                                                                            \
                off += (size_t)k_;                                                                 \
        }                                                                                          \
    } while (0)
    /* seconds.milliseconds, cut (not rounded) as the header's t= and the explanation are */
    int64_t ms = e->t_us / 1000;
    PUT("%4lld.%03lld %-18s", (long long)(ms / 1000), (long long)(ms % 1000), e->kind);
    if (e->topic[0])
        PUT(" %s", e->topic);
    if (e->partition >= 0)
        PUT(e->topic[0] ? "-%d" : " p%d", (int)e->partition);
    if (e->node >= 0)
        PUT(" node=%d", (int)e->node);
    if (e->record_id >= 0)
        PUT(" rec=%lld", (long long)e->record_id);
    if (e->batch_id >= 0)
        PUT(" batch=%lld", (long long)e->batch_id);
    if (e->corr_id >= 0)
        PUT(" corr=%d", (int)e->corr_id);
    if (e->count >= 0)
        PUT(" n=%d", (int)e->count);
    if (e->bytes >= 0) {
        char b[16];
        sim_vt_bytes(b, sizeof b, e->bytes);
        PUT(" %s", b);
    }
    if (e->offset >= 0)
        PUT(" off=%lld", (long long)e->offset);
    if (e->err)
        PUT(" %s", err_name(e->err));
    if (e->detail[0])
        PUT(" %s", e->detail);
#undef PUT
    /* Clip (never split UTF-8) and drop control characters that a detail might carry. */
    sim_vt_clip(buf, size, tmp, (int)size, false);
}

/* ---- sampling ---------------------------------------------------------------------------- */

static int64_t conf_int(const sim_scenario *s, const char *key, int64_t def) {
    for (int i = 0; s && i < s->n_producer; i++)
        if (!strcmp(s->producer[i].key, key))
            return strtoll(s->producer[i].value, NULL, 10);
    return def;
}

static int part_cmp(const void *a, const void *b) {
    const kp_snap_meta_partition *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

static void fill_sorting(sim_view_model *m, const kp_snap *snap) {
    m->n_parts = m->n_parts_total = 0;
    m->pool.used = snap->buffer_used;
    m->pool.total = snap->buffer_total;
    m->pool.waiters = snap->buffer_waiters;
    /* Rows follow the producer's metadata (every partition it knows), sorted, so a partition
     * keeps its row whether or not its deque is empty. */
    int n = snap->n_meta;
    kp_snap_meta_partition *meta = NULL;
    if (n > 0) {
        meta = malloc((size_t)n * sizeof *meta);
        if (meta) {
            memcpy(meta, snap->meta, (size_t)n * sizeof *meta);
            qsort(meta, (size_t)n, sizeof *meta, part_cmp);
        } else {
            n = 0;
        }
    }
    int rows = n > 0 ? n : snap->n_partitions;
    m->n_parts_total = rows;
    for (int i = 0; i < rows && m->n_parts < SIM_VM_MAX_PARTS; i++) {
        sim_vm_partition *p = &m->parts[m->n_parts++];
        memset(p, 0, sizeof *p);
        const kp_snap_partition *d = NULL;
        if (n > 0) {
            copy_name(p->topic, sizeof p->topic, meta[i].topic);
            p->partition = meta[i].partition;
            p->leader = meta[i].leader;
            for (int j = 0; j < snap->n_partitions; j++)
                if (snap->partitions[j].partition == p->partition &&
                    !strcmp(snap->partitions[j].topic, p->topic)) {
                    d = &snap->partitions[j];
                    break;
                }
        } else {
            d = &snap->partitions[i];
            copy_name(p->topic, sizeof p->topic, d->topic);
            p->partition = d->partition;
            p->leader = d->leader;
        }
        if (!d)
            continue;
        p->in_flight = d->in_flight;
        p->n_batches_total = d->n_batches;
        /* The tail side is shown (the batch filling now); older ones count as "+N". */
        int first = d->n_batches > SIM_VM_MAX_BATCHES ? d->n_batches - SIM_VM_MAX_BATCHES : 0;
        for (int j = first; j < d->n_batches; j++) {
            const kp_snap_batch *b = &d->batches[j];
            sim_vm_batch *vb = &p->batches[p->n_batches++];
            vb->batch_id = b->batch_id;
            vb->records = b->record_count;
            vb->bytes = b->bytes;
            vb->raw_bytes = b->raw_bytes;
            vb->attempts = b->attempts;
            vb->sealed = b->sealed;
            vb->backing_off = b->in_retry || b->backoff_left_ms > 0;
            vb->linger_left_ms = b->linger_ms - b->age_ms;
        }
    }
    free(meta);
}

static void fill_nodes(sim_view_feed *f, sim_view_model *m, const kp_snap *snap, mb_cluster *c,
                       int brokers) {
    m->n_nodes = 0;
    for (int id = 1; id <= brokers && id < NODE_IDS && m->n_nodes < SIM_VM_MAX_NODES; id++) {
        sim_vm_node *n = &m->nodes[m->n_nodes++];
        node_state *st = &f->node[id];
        memset(n, 0, sizeof *n);
        n->id = id;
        n->up = c ? mb_broker_is_up(c, id) : true;
        n->requests_total = c ? mb_broker_request_count(c, id, KW_API_PRODUCE) : 0;
        if (n->requests_total < 0)
            n->requests_total = 0;
        n->errors_total = st->errors;
        n->rtt_ms = st->rtt_ms;
        n->drop_pending = st->drop_pending;
        n->has_last = st->has_last;
        n->last = st->last;
        for (int j = 0; snap && j < snap->n_nodes; j++) {
            const kp_snap_node *sn = &snap->nodes[j];
            if (sn->node_id != id)
                continue;
            for (int q = 0; q < sn->n_in_flight; q++) {
                const kp_snap_request *rq = &sn->in_flight[q];
                if (rq->api_key != KW_API_PRODUCE)
                    continue;
                n->n_inflight_total++;
                if (n->n_inflight < SIM_VM_MAX_INFLIGHT) {
                    sim_vm_request *vr = &n->inflight[n->n_inflight++];
                    vr->correlation_id = rq->correlation_id;
                    vr->batches = rq->batch_count;
                    vr->bytes = rq->bytes;
                    vr->age_ms = rq->age_ms;
                }
            }
        }
    }
}

static uint64_t isr_signature(const int32_t *isr, int n) {
    uint64_t sig = 0;
    for (int i = 0; i < n; i++)
        if (isr[i] >= 0 && isr[i] < 64)
            sig |= 1ull << isr[i];
    return sig;
}

static void fill_map(sim_view_feed *f, sim_view_model *m, mb_cluster *c, const sim_scenario *s) {
    /* Rows are in scenario order, the order part_index() counts in. */
    m->n_map = m->n_map_total = 0;
    for (int t = 0; t < s->cluster.n_topics; t++) {
        const sim_topic_spec *ts = &s->cluster.topics[t];
        for (int p = 0; p < ts->partitions; p++) {
            m->n_map_total++;
            if (m->n_map >= SIM_VM_MAX_PARTS)
                continue;
            mb_partition_info info;
            if (mb_partition_info_get(c, ts->name, p, &info) != MB_OK)
                continue;
            int idx = m->n_map++;
            sim_vm_map_row *row = &m->map[idx];
            memset(row, 0, sizeof *row);
            copy_name(row->topic, sizeof row->topic, ts->name);
            row->partition = p;
            row->leader = info.leader;
            row->epoch = info.leader_epoch;
            row->high_watermark = info.high_watermark;
            row->n_replicas =
                info.n_replicas < SIM_VM_MAX_REPLICAS ? info.n_replicas : SIM_VM_MAX_REPLICAS;
            memcpy(row->replicas, info.replicas, (size_t)row->n_replicas * sizeof(int32_t));
            row->n_isr = info.n_isr < SIM_VM_MAX_REPLICAS ? info.n_isr : SIM_VM_MAX_REPLICAS;
            memcpy(row->isr, info.isr, (size_t)row->n_isr * sizeof(int32_t));
            row->log_end_offset = info.log_end_offset;
            for (int q = 0; q < row->n_replicas; q++)
                row->replica_end[q] = info.replica_log_end[q];
            const trunc_state *tr = &f->trunc[idx];
            row->trunc_from = tr->from;
            row->trunc_to = tr->to;
            row->trunc_acked = tr->from >= 0 ? tr->acked : -1;
            row->trunc_node = tr->node;
            row->trunc_pending = false;
            /* Before the cut: a replica (the old leader) holding offsets the leader does not
             * have will lose them when it rejoins; how many were acknowledged is known now. */
            if (tr->from < 0 || tr->to <= tr->from) {
                for (int q = 0; q < row->n_replicas; q++) {
                    if (row->replicas[q] == info.leader || info.leader < 0 ||
                        row->replica_end[q] <= info.log_end_offset)
                        continue;
                    row->trunc_from = info.log_end_offset;
                    row->trunc_to = row->replica_end[q];
                    row->trunc_node = row->replicas[q];
                    row->trunc_pending = true;
                    row->trunc_acked = acked_in(f, idx, row->replicas[q], info.log_end_offset,
                                                row->replica_end[q], false);
                }
            }
            /* A change in leader, epoch or ISR lights the row up for a few seconds. */
            map_state *ms = &f->map[idx];
            uint64_t sig = isr_signature(info.isr, info.n_isr);
            if (ms->seen &&
                (ms->leader != info.leader || ms->epoch != info.leader_epoch || ms->isr_sig != sig))
                ms->changed_wall_ms = f->wall_ms;
            ms->seen = true;
            ms->leader = info.leader;
            ms->epoch = info.leader_epoch;
            ms->isr_sig = sig;
            row->changed_ago_ms = ms->changed_wall_ms < 0 ? -1 : f->wall_ms - ms->changed_wall_ms;
        }
    }
}

/* The cluster's consumer groups for the map's "Consumers" lines, with each group's committed
 * lag over the partitions the map shows (only those with a commit count), and the first
 * broker's address, where a class points kcat -G or courier consume -G. */
static void fill_groups(sim_view_model *m, mb_cluster *c) {
    const char *boot = mb_cluster_bootstrap(c);
    size_t n = boot ? strcspn(boot, ",") : 0;
    snprintf(m->bootstrap, sizeof m->bootstrap, "%.*s", (int)n, boot ? boot : "");
    mb_group_info gi[SIM_VM_MAX_GROUPS];
    int total = mb_groups_list(c, gi, SIM_VM_MAX_GROUPS);
    m->n_groups_total = total > 0 ? total : 0;
    m->n_groups = total < SIM_VM_MAX_GROUPS ? m->n_groups_total : SIM_VM_MAX_GROUPS;
    for (int i = 0; i < m->n_groups; i++) {
        sim_vm_group *g = &m->groups[i];
        memset(g, 0, sizeof *g);
        copy_name(g->group_id, sizeof g->group_id, gi[i].group_id);
        copy_name(g->state, sizeof g->state, gi[i].state);
        g->generation = gi[i].generation;
        g->members = gi[i].members;
        g->coordinator = gi[i].coordinator;
        copy_name(g->assignment, sizeof g->assignment, gi[i].assignment);
        g->lag = -1;
        for (int k = 0; k < m->n_map; k++) {
            int64_t off = -1;
            const sim_vm_map_row *row = &m->map[k];
            if (mb_group_committed(c, gi[i].group_id, row->topic, row->partition, &off) != MB_OK ||
                off < 0)
                continue;
            int64_t lag = row->high_watermark - off;
            g->lag = (g->lag < 0 ? 0 : g->lag) + (lag > 0 ? lag : 0);
        }
    }
}

/* A cluster Courier does not own (--bootstrap): the map as its Metadata and ListOffsets last
 * said (sim/foreign.h, polled every second); no replica positions or truncations are known. */
static void fill_map_foreign(sim_view_feed *f, sim_view_model *m, struct sim_foreign *fc) {
    sim_foreign_partition rows[SIM_VM_MAX_PARTS];
    int n = sim_foreign_map(fc, rows, SIM_VM_MAX_PARTS, NULL, 0, NULL);
    const char *topic = sim_runner_scenario(f->r)->workload.topic;
    m->n_map = m->n_map_total = 0;
    for (int i = 0; i < n; i++) {
        const sim_foreign_partition *fp = &rows[i];
        sim_vm_map_row *row = &m->map[m->n_map];
        memset(row, 0, sizeof *row);
        copy_name(row->topic, sizeof row->topic, topic);
        row->partition = fp->partition;
        row->leader = fp->leader;
        row->epoch = fp->leader_epoch;
        row->high_watermark = fp->high_watermark;
        row->log_end_offset = fp->high_watermark;
        row->n_replicas = fp->n_replicas < SIM_VM_MAX_REPLICAS ? fp->n_replicas
                                                                : SIM_VM_MAX_REPLICAS;
        memcpy(row->replicas, fp->replicas, (size_t)row->n_replicas * sizeof(int32_t));
        for (int q = 0; q < row->n_replicas; q++)
            row->replica_end[q] = -1;
        row->n_isr = fp->n_isr < SIM_VM_MAX_REPLICAS ? fp->n_isr : SIM_VM_MAX_REPLICAS;
        memcpy(row->isr, fp->isr, (size_t)row->n_isr * sizeof(int32_t));
        row->trunc_from = row->trunc_to = row->trunc_acked = -1;
        row->trunc_node = -1;
        map_state *ms = &f->map[m->n_map];
        uint64_t sig = isr_signature(fp->isr, fp->n_isr);
        if (ms->seen &&
            (ms->leader != fp->leader || ms->epoch != fp->leader_epoch || ms->isr_sig != sig))
            ms->changed_wall_ms = f->wall_ms;
        ms->seen = true;
        ms->leader = fp->leader;
        ms->epoch = fp->leader_epoch;
        ms->isr_sig = sig;
        row->changed_ago_ms = ms->changed_wall_ms < 0 ? -1 : f->wall_ms - ms->changed_wall_ms;
        m->n_map++;
        m->n_map_total++;
    }
}

/* Requests per simulated second over roughly the last simulated second of samples. */
static double request_rate(sim_view_feed *f, int64_t sim_ms, uint64_t requests) {
    f->hist[(f->hist_head + f->hist_len) % HISTORY] = (sample_point){sim_ms, requests};
    if (f->hist_len < HISTORY)
        f->hist_len++;
    else
        f->hist_head = (f->hist_head + 1) % HISTORY;
    const sample_point *old = &f->hist[f->hist_head];
    for (int i = 0; i < f->hist_len; i++) {
        const sample_point *sp = &f->hist[(f->hist_head + i) % HISTORY];
        if (sim_ms - sp->sim_ms <= 1000) {
            old = sp;
            break;
        }
    }
    if (sim_ms - old->sim_ms >= 100)
        f->req_rate = (double)(requests - old->requests) * 1000.0 / (double)(sim_ms - old->sim_ms);
    return f->req_rate; /* paused: the last rate stays on screen */
}

bool sim_view_feed_follow(sim_view_feed *f, const char *query) {
    sim_vm_parcel *pc = &f->parcel;
    memset(pc, 0, sizeof *pc);
    pc->record_id = -1;
    pc->partition = -1;
    pc->batch_id = -1;
    pc->batch_pos = -1;
    pc->corr_id = -1;
    pc->node = -1;
    pc->offset = -1;
    if (!query)
        return false;
    while (*query == ' ' || *query == '#')
        query++;
    if (!*query)
        return false;
    char *end;
    long long id = strtoll(query, &end, 10);
    if (end != query && *end == '\0' && id >= 0) {
        pc->record_id = id;
    } else {
        copy_name(pc->key, sizeof pc->key, query);
        for (int i = 0; i < f->n_desk; i++)
            if (!strcmp(f->desk[i].key, pc->key)) {
                pc->record_id = (int64_t)f->desk[i].record_id;
                break;
            }
    }
    pc->active = true;
    f->has_parcel_row = false;
    memset(f->mates, 0, sizeof f->mates);
    for (int i = 0; i < KEY_MATES; i++)
        f->mates[i].record_id = f->mates[i].batch_id = -1;
    f->max_written_mate = -1;
    memset(f->early, 0, sizeof f->early);
    f->early_head = 0;
    /* What the desk still shows of it counts as its first stop. */
    sim_vm_desk_row *row = pc->record_id >= 0 ? desk_row(f, pc->record_id, false) : NULL;
    if (row) {
        f->parcel_row = *row;
        f->has_parcel_row = true;
        copy_name(pc->topic, sizeof pc->topic, row->topic);
        pc->partition = row->partition;
        if (!pc->key[0])
            copy_name(pc->key, sizeof pc->key, row->key);
    }
    return true;
}

/* What the events built (desk, trace tail, the step's event, the followed parcel) into m: the
 * live sample and a replay (sim_view_feed_apply_folded) share this. */
static void copy_folded(sim_view_feed *f, sim_view_model *m) {
    m->n_desk = f->n_desk;
    memcpy(m->desk, f->desk, (size_t)f->n_desk * sizeof f->desk[0]);
    if (f->parcel.active && f->has_parcel_row &&
        !desk_row(f, (int64_t)f->parcel_row.record_id, false)) {
        /* the followed parcel keeps a place at the desk: the first row */
        if (m->n_desk < SIM_VM_MAX_DESK)
            m->n_desk++;
        memmove(&m->desk[1], &m->desk[0], (size_t)(m->n_desk - 1) * sizeof m->desk[0]);
        m->desk[0] = f->parcel_row;
    }
    m->n_trace = f->trace_len;
    for (int i = 0; i < f->trace_len; i++) {
        const sim_event *te = &f->trace[(f->trace_head + i) % SIM_VM_MAX_TRACE];
        if (m->lang == SIM_LANG_ZH) {
            /* in Chinese the trace reads as the step explanations do (the raw event line is
             * English field names: the JSONL trace keeps them) */
            char text[SIM_VM_LINE + 32];
            int64_t ms = te->t_us / 1000;
            int at = snprintf(text, sizeof text, "%4lld.%03lld ", (long long)(ms / 1000),
                              (long long)(ms % 1000));
            if (at > 0 && (size_t)at < sizeof text)
                sim_vt_explain(text + at, sizeof text - (size_t)at, SIM_LANG_ZH, te);
            sim_vt_clip(m->trace[i], sizeof m->trace[i], text, (int)sizeof m->trace[i], false);
        } else {
            sim_view_feed_format_event(te, m->trace[i], sizeof m->trace[i]);
        }
        m->trace_seq[i] = te->seq;
    }
    m->has_step_event = f->has_step_event;
    if (f->has_step_event)
        m->step_event = f->step_event;
    m->parcel = f->parcel;
}

/* Folds what the bus's ring holds now, bounded so a flood cannot hold the view; event times
 * become run time, as the header's t= is. Returns the events published when the ring was last
 * read (sim_bus_ring_read_upto): the header's count, which then never runs ahead of the events
 * folded — a step's event published during a sample would otherwise be counted in this frame
 * and explained only in the next (the step line one event behind the counter). */
static uint64_t drain_ring(sim_view_feed *f, sim_bus *bus) {
    uint64_t published = 0;
    int64_t start_us = 0;
    if (f->r) {
        sim_progress p0;
        sim_runner_progress(f->r, &p0);
        start_us = p0.start_us;
    }
    if (bus) {
        size_t budget = SIM_VIEW_FEED_MAX_EVENTS_PER_SAMPLE, got;
        while (budget > 0 && (got = sim_bus_ring_read_upto(
                                  bus, f->chunk, budget < READ_CHUNK ? budget : READ_CHUNK,
                                  &published)) > 0) {
            for (size_t i = 0; i < got; i++) {
                f->chunk[i].t_us -= start_us;
                fold(f, &f->chunk[i]);
                if (f->parcel.active && f->chunk[i].record_id == f->parcel.record_id &&
                    f->parcel.record_id >= 0) {
                    sim_vm_desk_row *pr = desk_row(f, f->parcel.record_id, false);
                    if (pr) {
                        f->parcel_row = *pr;
                        f->has_parcel_row = true;
                    }
                }
            }
            /* Only the newest events can stay in the trace tail: copy just those. */
            for (size_t i = got > SIM_VM_MAX_TRACE ? got - SIM_VM_MAX_TRACE : 0; i < got; i++)
                trace_push(f, &f->chunk[i]);
            budget -= got;
        }
    }
    return published;
}

/* Lost, duplicated and reordered come from reading the cluster's logs, as the audit does:
 * live about once a second (and at once after a truncation or a leader change), a last time
 * when the run is over. */
static void sample_audit(sim_view_feed *f, bool finished, int64_t wall_ms) {
    bool due = f->audit_soon || wall_ms >= f->audit_next_wall_ms;
    if ((finished && !f->audit_done) || (!finished && due)) {
        sim_audit a;
        int64_t t0 = monotonic_ms();
        if (sim_runner_audit(f->r, &a) == 0) {
            f->lost = a.lost;
            f->duplicated = a.duplicated;
            f->reordered = a.reordered;
        }
        /* Reading every log costs in proportion to the run: a big run is audited less often,
         * so the view never spends more than about 5% of its time on it. */
        int64_t cost = monotonic_ms() - t0;
        f->audit_soon = false;
        f->audit_next_wall_ms = wall_ms + (cost * 20 > AUDIT_EVERY_MS ? cost * 20 : AUDIT_EVERY_MS);
        if (finished)
            f->audit_done = true;
    }
}

void sim_view_feed_sample(sim_view_feed *f, sim_view_model *m, int64_t wall_ms) {
    f->wall_ms = wall_ms;
    sim_bus *bus = f->r ? sim_runner_bus(f->r) : NULL;

    /* 1. Events: what the ring holds now. The gate's state is read first: an event it let
     * through by then is in the ring (published under the gate's lock), so the trace line
     * marked as the step's release is always among the lines drawn. */
    sim_bus_step_info gi;
    memset(&gi, 0, sizeof gi);
    if (bus)
        sim_bus_step_state(bus, &gi);
    uint64_t published = drain_ring(f, bus);
    copy_folded(f, m);
    if (!f->r) {
        fill_nodes(f, m, NULL, NULL, m->n_nodes > 0 ? m->n_nodes : 0);
        return;
    }

    /* 2. The run: progress, clock, gate. */
    const sim_scenario *s = sim_runner_scenario(f->r);
    sim_progress pr;
    sim_runner_progress(f->r, &pr);
    sim_vm_status *st = &m->status;
    copy_name(st->scenario, sizeof st->scenario, s->name);
    st->paused = pr.paused;
    st->stepping = pr.stepping;
    st->finished = pr.state == SIM_RUN_DONE;
    st->speed = pr.speed;
    st->sim_ms = pr.elapsed_ms;
    st->sim_us = pr.elapsed_us;
    /* Held events are not published (sim/bus.h): the total moves by exactly one per step. */
    st->step_waiting = gi.held;
    st->steps = gi.on ? gi.steps : 0;
    st->running_to = gi.running_to;
    st->last_released = gi.last_released;
    st->events = published;
    st->events_dropped = sim_bus_ring_dropped(bus);
    m->batch_size = conf_int(s, "batch.size", 16384);
    m->linger_ms = conf_int(s, "linger.ms", 5);

    /* 3. The producer: deques, pool, requests on the road, metrics. */
    kp_producer *p = sim_runner_producer(f->r);
    mb_cluster *c = sim_runner_cluster(f->r);
    kp_snap snap;
    memset(&snap, 0, sizeof snap);
    bool have_snap = p && kp_snapshot(p, &snap) == KW_ERR_NONE;
    if (have_snap)
        fill_sorting(m, &snap);
    fill_nodes(f, m, have_snap ? &snap : NULL, c, s->cluster.brokers);
    if (have_snap)
        kp_snapshot_free(&snap);

    /* 4. The cluster: the dispatcher's map. */
    if (c) {
        fill_map(f, m, c, s);
        fill_groups(m, c);
    } else if (sim_runner_foreign(f->r))
        fill_map_foreign(f, m, sim_runner_foreign(f->r));

    /* 5. The footer. */
    sim_vm_footer *ft = &m->footer;
    ft->sent = pr.sent;
    ft->acked = pr.acknowledged;
    ft->failed = pr.failed;
    ft->records_per_s = pr.ack_rate;
    ft->requests_per_s = request_rate(f, pr.elapsed_ms, sim_bus_count(bus, "request.sent"));
    if (p) {
        kp_metrics km;
        kp_metrics_get(p, &km);
        ft->records_per_request = km.records_per_request_avg;
        ft->retries = (int64_t)km.record_retry_total;
    }
    sample_audit(f, st->finished, wall_ms);
    ft->lost = f->lost;
    ft->duplicated = f->duplicated;
    ft->reordered = f->reordered;

    /* 6. A recording in progress keeps what the view drew, tagged with the last event folded. */
    sim_record *rec = sim_runner_recorder(f->r);
    if (rec) {
        /* The cluster's address is for joining it live: a replay's cluster is gone (and the
         * port would differ on every recording), so it is not recorded. */
        char boot[sizeof m->bootstrap];
        memcpy(boot, m->bootstrap, sizeof boot);
        m->bootstrap[0] = '\0';
        sim_record_view_sample(rec, m, f->last_seq);
        memcpy(m->bootstrap, boot, sizeof boot);
    }
}

/* ---- replay hooks (sim/recording.c) ------------------------------------------------------ */

uint64_t sim_view_feed_last_seq(const sim_view_feed *f) {
    return f->last_seq;
}

size_t sim_view_feed_state_size(const sim_view_feed *f) {
    return sizeof *f + f->n_acks * sizeof f->acks[0];
}

void sim_view_feed_save(const sim_view_feed *f, void *buf) {
    memcpy(buf, f, sizeof *f);
    if (f->n_acks)
        memcpy((char *)buf + sizeof *f, f->acks, f->n_acks * sizeof f->acks[0]);
}

bool sim_view_feed_load(sim_view_feed *f, const void *buf) {
    sim_view_feed saved;
    memcpy(&saved, buf, sizeof saved);
    if (saved.n_acks > f->cap_acks) {
        ack_range *a = realloc(f->acks, saved.n_acks * sizeof *a);
        if (!a)
            return false;
        f->acks = a;
        f->cap_acks = saved.n_acks;
    }
    sim_runner *r = f->r;
    sim_event *chunk = f->chunk;
    ack_range *acks = f->acks;
    size_t cap = f->cap_acks;
    memcpy(f, &saved, sizeof saved);
    f->r = r;
    f->chunk = chunk;
    f->acks = acks;
    f->cap_acks = cap;
    if (f->n_acks)
        memcpy(f->acks, (const char *)buf + sizeof *f, f->n_acks * sizeof f->acks[0]);
    return true;
}

void sim_view_feed_apply_folded(sim_view_feed *f, sim_view_model *m) {
    copy_folded(f, m);
    for (int i = 0; i < m->n_nodes; i++) {
        sim_vm_node *n = &m->nodes[i];
        if (n->id <= 0 || n->id >= NODE_IDS)
            continue;
        const node_state *st = &f->node[n->id];
        n->errors_total = st->errors;
        n->rtt_ms = st->rtt_ms;
        n->drop_pending = st->drop_pending;
        n->has_last = st->has_last;
        n->last = st->last;
    }
}
