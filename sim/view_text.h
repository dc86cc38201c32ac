/* sim/view_text.h — curses-free text for the live view: numbers, gauges, batch boxes, the
 * English/Chinese labels, and one styled line per row of each panel.
 *
 * Everything here is a pure function of its arguments (no curses, no locale, no clock), so the
 * way a batch box or a broker lane reads is unit-tested (tests/test_sim_view_text.c) and
 * sim/view.c only copies finished lines to the screen, mapping styles to colours.
 *
 * Widths are display columns of UTF-8 text: ASCII is one column, CJK ideographs and full-width
 * forms are two. No function ever writes more columns than it is given or splits a UTF-8
 * sequence; control characters in data (keys, topic names) are shown as '?'.
 */
#ifndef COURIER_SIM_VIEW_TEXT_H
#define COURIER_SIM_VIEW_TEXT_H

#include "sim/view_model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- display width and clipping ---------------------------------------------------------- */

/* Display columns of the UTF-8 string `s` (invalid bytes count one column each). */
int sim_vt_width(const char *s);

/* Copies at most `cols` display columns of `src` into `dst` (NUL-terminated, never more than
 * dstsize - 1 bytes), replacing control characters with '?'. When `src` is cut and `mark` is
 * true, the last column holds '~' to show it. Returns the columns written. */
int sim_vt_clip(char *dst, size_t dstsize, const char *src, int cols, bool mark);

/* ---- numbers ----------------------------------------------------------------------------- */

/* Counts the class watches (HW, acked, lost...): exact below 100 000, then as sim_vt_num. */
void sim_vt_count(char *dst, size_t dstsize, int64_t v);
/* Counts: 999 → "999", 1234 → "1.2k", 12345 → "12k", 1234567 → "1.2M", then G. */
void sim_vt_num(char *dst, size_t dstsize, int64_t v);
/* Bytes in binary units: 512 → "512B", 1536 → "1.5K", 16384 → "16K", 33554432 → "32M". */
void sim_vt_bytes(char *dst, size_t dstsize, int64_t v);
/* Durations: 0 → "0ms", 850 → "850ms", 1200 → "1.2s", 75000 → "75s", 720000 → "12m". */
void sim_vt_ms(char *dst, size_t dstsize, int64_t ms);
/* Rates (per second): 12.34 → "12.3", 1234.0 → "1.2k" (as sim_vt_num above 1000). */
void sim_vt_rate(char *dst, size_t dstsize, double v);
/* Broker ids as "1,2,0" ("-" when count is 0). */
void sim_vt_ids(char *dst, size_t dstsize, const int32_t *ids, int count);

/* ---- gauges and boxes -------------------------------------------------------------------- */

/* A gauge exactly `cols` columns wide: "[####------]". used is clamped to [0, total];
 * total <= 0 draws an empty gauge. cols < 3 writes "". */
void sim_vt_gauge(char *dst, size_t dstsize, int cols, int64_t used, int64_t total);

/* One batch box as it sits in a deque, at most `cols` columns:
 *   open tail   "[12r 8.0K/16K 3ms]"   (records, bytes / batch.size, linger left)
 *   sealed      "[12r 16K/16K S]"      (ready, waiting for a truck)
 *   retry       "[12r 16K R!!]"        (backing off; one '!' per attempt, "!9" past 3)
 * When the long form does not fit, a short one ("[12r S]", then "[12]") is used; "" if even
 * that does not fit. Returns the columns written. */
int sim_vt_batch_box(char *dst, size_t dstsize, const sim_vm_batch *b, int64_t batch_size,
                     int cols);

/* ---- labels ------------------------------------------------------------------------------ */

typedef enum sim_vt_label {
    SIM_L_APP,     /* "Courier" */
    SIM_L_DESK,    /* Front desk / 收件员 */
    SIM_L_SORTING, /* Sorting room / 分拣员 */
    SIM_L_TRUCKS,  /* Trucks / 运输车 */
    SIM_L_MAP,     /* Dispatcher's map / 调度员 */
    SIM_L_TRACE,   /* Trace / 事件日志 */
    SIM_L_HELP,    /* Keys / 按键 */
    SIM_L_RUNNING,
    SIM_L_PAUSED,
    SIM_L_STEP,
    SIM_L_FINISHED,
    SIM_L_SPEED,
    SIM_L_EVENTS,
    SIM_L_DROPPED,
    SIM_L_POOL,    /* buffer pool */
    SIM_L_WAITING, /* threads waiting for memory */
    SIM_L_HELD,    /* events held at the step gate */
    SIM_L_PARTITION,
    SIM_L_KEY,
    SIM_L_SIZE,
    SIM_L_LEADER,
    SIM_L_REPLICAS,
    SIM_L_ISR,
    SIM_L_EPOCH,
    SIM_L_HW,
    SIM_L_NODE,
    SIM_L_UP,
    SIM_L_DOWN,
    SIM_L_INFLIGHT,
    SIM_L_IDLE,
    SIM_L_REQUESTS,
    SIM_L_ERRORS,
    SIM_L_RTT,
    SIM_L_DROP,
    SIM_L_INJECT,
    SIM_L_LAST, /* last response */
    SIM_L_OK,
    SIM_L_EMPTY,       /* an empty deque */
    SIM_L_MORE,        /* "+%d more" prefix word */
    SIM_L_RATE_REC,    /* records/s */
    SIM_L_RATE_REQ,    /* requests/s */
    SIM_L_REC_PER_REQ, /* records/request */
    SIM_L_SENT,
    SIM_L_ACKED,
    SIM_L_FAILED,
    SIM_L_RETRIES,
    SIM_L_LOST,
    SIM_L_DUPLICATED,
    SIM_L_KEYS_SHORT, /* the one-line key help in the footer */
    SIM_L_NO_PARTS,   /* "no partitions yet (waiting for metadata)" */
    SIM_L_NO_RECORDS, /* "no records yet" */
    SIM_L_TOO_SMALL,  /* "terminal too small: need 80x24" */
    SIM_L_RUN_TO,     /* the state word while a run-to key lets events through */
    SIM_L_LEO,        /* log end offset */
    SIM_L_CUT,        /* a truncation that happened */
    SIM_L_TO_CUT,     /* a truncation to come (the old leader's extra offsets) */
    SIM_L_ACKED_LOST, /* "acked, lost" */
    SIM_L_REORDERED,
    SIM_L_BATCHES_UNIT, /* "bt" in a truck token "#45:3bt/48K/12ms" */
    SIM_L_STEP_MARK,    /* the marker in front of a step's explanation */
    SIM_L_LEGEND,       /* the legend page's title */
    SIM_L_HISTORY,      /* the parcel history panel's title */
    SIM_L_FOLLOW,       /* "following" */
    SIM_L_STALE,        /* the producer's leader is stale: "(map: L" */
    SIM_L_ERRORS_PAGE,  /* the help's third page: the errors */
    SIM_L__COUNT
} sim_vt_label;

/* The label in the language asked for (UTF-8, static storage; never NULL). */
const char *sim_vt_label_text(sim_view_lang lang, sim_vt_label label);
/* The name of a front-desk stage ("appended" / "已入批"). */
const char *sim_vt_stage_text(sim_view_lang lang, sim_vm_stage stage);
/* The full help text, one key per line, NULL-terminated array. */
const char *const *sim_vt_help_lines(sim_view_lang lang);
/* The legend (`?` twice): every symbol of every room, NULL-terminated; the errors follow it
 * (sim_vt_error_text). */
const char *const *sim_vt_legend_lines(sim_view_lang lang);

/* ---- styled lines ------------------------------------------------------------------------ */

typedef enum sim_vt_style {
    SIM_ST_NORMAL = 0,
    SIM_ST_TITLE,  /* the top bar */
    SIM_ST_HEADER, /* a panel's title */
    SIM_ST_DIM,    /* greyed: a broker that is down, an empty deque */
    SIM_ST_OK,     /* acknowledged, up */
    SIM_ST_WARN,   /* retries, paused, waiting threads */
    SIM_ST_ERR,    /* errors, down */
    SIM_ST_HILITE, /* a map row that just changed */
    SIM_ST_BOX,    /* batch boxes */
    SIM_ST__COUNT
} sim_vt_style;

#define SIM_VT_LINE_BYTES 2048
#define SIM_VT_MAX_SPANS 32

/* One screen row: UTF-8 text no wider than `limit` columns, and style spans over byte ranges
 * (text outside every span is SIM_ST_NORMAL). */
typedef struct sim_vt_line {
    char text[SIM_VT_LINE_BYTES];
    size_t len; /* bytes in text */
    int cols;   /* display columns used */
    int limit;  /* columns available */
    int n_spans;
    struct {
        size_t start, end; /* byte offsets into text, start < end */
        sim_vt_style style;
    } spans[SIM_VT_MAX_SPANS];
} sim_vt_line;

/* Starts an empty line at most `limit` columns wide (clamped to what text can hold). */
void sim_vt_line_init(sim_vt_line *l, int limit);
/* Appends formatted text in `style`, clipped to the columns left. Returns the columns added. */
int sim_vt_line_add(sim_vt_line *l, sim_vt_style style, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends spaces up to column `col` (no-op when already there or past the limit). */
void sim_vt_line_pad(sim_vt_line *l, int col);
/* Appends `ch` (printable ASCII) in `style` up to the limit. */
void sim_vt_line_fill(sim_vt_line *l, sim_vt_style style, char ch);
/* The style of the byte at offset `at` (SIM_ST_NORMAL outside the spans). */
sim_vt_style sim_vt_line_style_at(const sim_vt_line *l, size_t at);

/* ---- panel rows (each fills `l`, already initialised with the panel's width) -------------- */

/* Top bar: name, scenario, RUNNING/PAUSED/STEP, speed, simulation time, event counter. */
void sim_vt_row_title(sim_vt_line *l, const sim_view_model *m);
/* A panel header: "== Front desk <extra> =====" filled to the width (extra may be NULL). */
void sim_vt_row_header(sim_vt_line *l, sim_view_lang lang, sim_vt_label room, const char *extra);
/* The map's header, with the cluster's nodes: "== Dispatcher's map node 1:UP 2:DOWN ===". */
void sim_vt_row_map_header(sim_vt_line *l, sim_view_lang lang, const sim_vm_node *nodes,
                           int n_nodes);
/* The same, ending with where clients reach the cluster ("bootstrap 127.0.0.1:40123") when
 * `bootstrap` is not empty and it fits. */
void sim_vt_row_map_header_at(sim_vt_line *l, sim_view_lang lang, const sim_vm_node *nodes,
                              int n_nodes, const char *bootstrap);
/* One front-desk record: "#1234 orders key=k17 → p3  120B  appended". */
void sim_vt_row_desk(sim_vt_line *l, sim_view_lang lang, const sim_vm_desk_row *r);
/* One partition deque: "orders-3 L1 <2 [20r 16K/16K S][12r 8.0K/16K 3ms]" — leader, batches
 * on the road ("<2"), then the deque from its head (oldest) to its tail (filling). */
void sim_vt_row_partition(sim_vt_line *l, sim_view_lang lang, const sim_vm_partition *p,
                          int64_t batch_size, int label_cols);
/* The buffer pool gauge: "pool [###-----] 1.2M/32M  waiting 2". */
void sim_vt_row_pool(sim_vt_line *l, sim_view_lang lang, const sim_vm_pool *pool);
/* One broker lane: "node 1 UP req 12 | #45:3bt/48K/12ms ... | last #44 OK": each truck
 * whole or not at all ("+2…"), the last answer visible at any width. */
void sim_vt_row_node(sim_vt_line *l, sim_view_lang lang, const sim_vm_node *n);
/* The same, with the truck whose corr id is mark_corr marked ('>' and highlighted). */
void sim_vt_row_node_mark(sim_vt_line *l, sim_view_lang lang, const sim_vm_node *n,
                          int32_t mark_corr);
#define SIM_VT_WRAP_BYTES 512
/* Wraps text at spaces into at most max_lines lines of `cols` columns, the lines after the
 * first indented by `indent` spaces; the last allowed line is cut at a word with "…" when the
 * text does not fit. Returns the lines written. */
int sim_vt_wrap(const char *text, int cols, int indent, char (*out)[SIM_VT_WRAP_BYTES],
                int max_lines);
/* Appends text, cut at a token boundary with "…" when it does not fit. */
void sim_vt_add_cut(sim_vt_line *l, sim_vt_style style, const char *text);
/* Short name of a room (sim_room) for the header: "desk" / "收件". */
const char *sim_vt_room_name(sim_view_lang lang, int room);
/* One map row: "orders-3 L1 e2 ISR 1,2 HW 1234 LEO 1240 2@1234 3@1180" — leader, epoch,
 * ISR, high watermark, the leader's log end, each follower's log end; then a truncation:
 * "cut 1:546–630 85 acked lost", or before it happens "to cut 1:546–630 85 acked". */
void sim_vt_row_map(sim_vt_line *l, sim_view_lang lang, const sim_vm_map_row *r, int label_cols);
/* The map's "Consumers" line for one group: "consumers grp Stable gen 3 coord 2 lag 0:
 * courier t[0,1,2] rdkafka t[3,4,5]" (members cut at a token with "…" when narrow). */
void sim_vt_row_consumers(sim_vt_line *l, sim_view_lang lang, const sim_vm_group *g);
/* Columns of a row's "topic-partition" label (topic cut to 10 columns): the widest label of
 * a panel, passed as label_cols to the two functions around, lines its columns up. */
int sim_vt_tp_cols(const char *topic, int32_t partition);
/* Footer line 1: rates and the audit so far. */
void sim_vt_row_footer(sim_vt_line *l, const sim_view_model *m);
/* Footer line 2: the message if there is one, else the key help. */
void sim_vt_row_keys(sim_vt_line *l, const sim_view_model *m);

/* ---- explanations ------------------------------------------------------------------------ */

/* One sentence saying what an event means, in the class's language ("broker 2 appended 2
 * records to parcels-1 at offsets 546–547"); offset ranges are inclusive. Unknown kinds give
 * "kind detail". */
void sim_vt_explain(char *dst, size_t size, sim_view_lang lang, const sim_event *e);
/* One sentence per error: what it means and what the producer does about it (never NULL). */
const char *sim_vt_error_text(sim_view_lang lang, int32_t err);
/* The errors sim_vt_error_text() explains by name (the legend lists them): count and codes. */
int sim_vt_error_count(void);
int32_t sim_vt_error_code(int i);

/* ---- layout ------------------------------------------------------------------------------ */

typedef struct sim_vt_rect {
    int y, x, h, w; /* h == 0: not shown */
} sim_vt_rect;

typedef struct sim_vt_layout {
    bool too_small; /* below 80x24: only a message is drawn */
    sim_vt_rect title, desk, sorting, trucks, map, trace, footer;
} sim_vt_layout;

#define SIM_VT_MIN_COLS 80
#define SIM_VT_MIN_ROWS 24

/* Places the panels on a rows x cols screen for model `m`: the title on top, the footer (two
 * rows) at the bottom, the four rooms in between (one column below 140 columns, two above),
 * and the trace pane when m->show_trace. Each room gets its header row plus as many rows as it
 * has content, shrinking the biggest first when space is short, never below one content row.
 * Rects never overlap and never leave the screen. */
void sim_vt_layout_compute(sim_vt_layout *out, int rows, int cols, const sim_view_model *m);

#endif
