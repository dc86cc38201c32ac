/* sim/view.c — the live view: the courier company on one screen (ncurses).
 *
 * Screen manager and panels in htop's manner: a frame timer samples the run into a
 * sim_view_model (sim/view_feed.c), then each panel — front desk (收件员), sorting room
 * (分拣员), trucks (运输车), dispatcher's map (调度员), the trace pane and the footer — draws
 * itself from that model with lines written by sim/view_text.c. This file owns the terminal,
 * the layout, the keys and the prompts; it is the only file that includes curses.
 *
 * Every key that changes the cluster goes through sim_runner_fault(), exactly as a timeline
 * entry would, so it is also an event in the trace. The view thread is exempt from the step
 * gate, so it never waits for the pipeline.
 *
 * @locality the thread that calls sim_view_main() (the program's main thread).
 */
#include "sim/view.h"

#include "protocol/kw.h"
#include "sim/record.h"
#include "sim/view_feed.h"
#include "sim/view_text.h"
#include "sim/sig.h"

#include <curses.h>
#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <term.h>
#include <time.h>
#include <unistd.h>

#define MESSAGE_MS 6000 /* how long a message stays in the footer */
#define FAULT_COUNT 3   /* requests / responses an `e` or `d` key affects */
#define QUIT_WAIT_MS 30000

static int64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- styles ------------------------------------------------------------------------------ */

static attr_t g_attr[SIM_ST__COUNT];

/* Maps each line style to colours when the terminal has them, to plain attributes when not. */
static void init_styles(bool want_color) {
    if (want_color && has_colors() && start_color() != ERR) {
        short bg = COLOR_BLACK;
        if (use_default_colors() == OK)
            bg = -1;
        init_pair(1, COLOR_BLACK, COLOR_CYAN);
        init_pair(2, COLOR_CYAN, bg);
        init_pair(3, COLOR_WHITE, bg);
        init_pair(4, COLOR_GREEN, bg);
        init_pair(5, COLOR_YELLOW, bg);
        init_pair(6, COLOR_RED, bg);
        init_pair(7, COLOR_BLACK, COLOR_YELLOW);
        init_pair(8, COLOR_BLUE, bg);
        g_attr[SIM_ST_NORMAL] = A_NORMAL;
        g_attr[SIM_ST_TITLE] = COLOR_PAIR(1) | A_BOLD;
        g_attr[SIM_ST_HEADER] = COLOR_PAIR(2) | A_BOLD;
        g_attr[SIM_ST_DIM] = COLOR_PAIR(3) | A_DIM;
        g_attr[SIM_ST_OK] = COLOR_PAIR(4);
        g_attr[SIM_ST_WARN] = COLOR_PAIR(5) | A_BOLD;
        g_attr[SIM_ST_ERR] = COLOR_PAIR(6) | A_BOLD;
        g_attr[SIM_ST_HILITE] = COLOR_PAIR(7);
        g_attr[SIM_ST_BOX] = COLOR_PAIR(8) | A_BOLD;
    } else {
        g_attr[SIM_ST_NORMAL] = A_NORMAL;
        g_attr[SIM_ST_TITLE] = A_REVERSE;
        g_attr[SIM_ST_HEADER] = A_BOLD;
        g_attr[SIM_ST_DIM] = A_DIM;
        g_attr[SIM_ST_OK] = A_NORMAL;
        g_attr[SIM_ST_WARN] = A_BOLD;
        g_attr[SIM_ST_ERR] = A_BOLD | A_UNDERLINE;
        g_attr[SIM_ST_HILITE] = A_REVERSE;
        g_attr[SIM_ST_BOX] = A_NORMAL;
    }
}

/* Copies one finished line to the screen at (y, x), style run by style run. */
static void draw_line(int y, int x, const sim_vt_line *l) {
    size_t pos = 0;
    move(y, x);
    while (pos < l->len) {
        sim_vt_style st = sim_vt_line_style_at(l, pos);
        size_t end = pos + 1;
        while (end < l->len && sim_vt_line_style_at(l, end) == st)
            end++;
        attrset((int)g_attr[st]);
        addnstr(l->text + pos, (int)(end - pos));
        pos = end;
    }
    attrset(A_NORMAL);
}

/* ---- panels: each draws itself from the model into its rectangle ------------------------- */

/* The row the last step touched: the whole line in the highlight style. */
static void hilite(sim_vt_line *l) {
    l->n_spans = 1;
    l->spans[0].start = 0;
    l->spans[0].end = l->len;
    l->spans[0].style = SIM_ST_HILITE;
}

/* The event of the last step, when the class is stepping (its row is highlighted). */
static const sim_event *step_event(const sim_view_model *m) {
    if (!m->has_step_event || !(m->status.stepping || m->status.paused) || m->status.finished)
        return NULL;
    return &m->step_event;
}

static bool same_tp(const sim_event *e, const char *topic, int32_t partition) {
    return e && e->partition == partition && e->topic[0] && !strcmp(e->topic, topic);
}

/* The followed parcel's mark: ">#12" plus what this room knows of it. */
static void parcel_mark(sim_vt_line *l, const sim_vm_parcel *pc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void parcel_mark(sim_vt_line *l, const sim_vm_parcel *pc, const char *fmt, ...) {
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    bool bad = pc->lost || pc->duplicated || pc->reordered || pc->err;
    char tail[192];
    snprintf(tail, sizeof tail, " >#%lld%s", (long long)pc->record_id, buf);
    /* the mark goes at the end of the row, over the least useful columns if need be */
    int w = sim_vt_width(tail);
    if (l->cols + w > l->limit) {
        int keep = l->limit - w;
        if (keep < 0)
            keep = 0;
        char cut[SIM_VT_LINE_BYTES];
        sim_vt_clip(cut, sizeof cut, l->text, keep, false);
        l->len = strlen(cut);
        l->cols = sim_vt_width(cut);
        for (int i = 0; i < l->n_spans; i++)
            if (l->spans[i].end > l->len)
                l->spans[i].end = l->len;
    }
    sim_vt_line_add(l, bad ? SIM_ST_ERR : SIM_ST_HILITE, "%s", tail);
}

/* Draws "+N more" on the last row when a list has more items than rows. Returns the rows
 * left for items. */
static int list_rows(const sim_vt_rect *r, int items, sim_view_lang lang) {
    int rows = r->h - 1;
    if (items > rows && rows >= 1) {
        sim_vt_line l;
        sim_vt_line_init(&l, r->w);
        sim_vt_line_add(&l, SIM_ST_DIM, "  +%d %s", items - (rows - 1),
                        sim_vt_label_text(lang, SIM_L_MORE));
        draw_line(r->y + r->h - 1, r->x, &l);
        rows--;
    }
    return rows;
}

static void draw_desk(const sim_vt_rect *r, const sim_view_model *m) {
    sim_vt_line l;
    if (r->h == 0)
        return;
    sim_vt_line_init(&l, r->w);
    sim_vt_row_header(&l, m->lang, SIM_L_DESK, NULL);
    draw_line(r->y, r->x, &l);
    if (m->n_desk == 0) {
        sim_vt_line_init(&l, r->w);
        sim_vt_line_add(&l, SIM_ST_DIM, "%s", sim_vt_label_text(m->lang, SIM_L_NO_RECORDS));
        draw_line(r->y + 1, r->x, &l);
        return;
    }
    const sim_event *se = step_event(m);
    const sim_vm_parcel *pc = &m->parcel;
    for (int i = 0; i < m->n_desk && i < r->h - 1; i++) {
        const sim_vm_desk_row *d = &m->desk[i];
        sim_vt_line_init(&l, r->w);
        sim_vt_row_desk(&l, m->lang, d);
        if (se && se->record_id >= 0 && (uint64_t)se->record_id == d->record_id)
            hilite(&l);
        if (pc->active && pc->record_id >= 0 && (uint64_t)pc->record_id == d->record_id)
            parcel_mark(&l, pc, "%s", pc->err ? " !" : "");
        draw_line(r->y + 1 + i, r->x, &l);
    }
}

static void draw_sorting(const sim_vt_rect *r, const sim_view_model *m) {
    sim_vt_line l;
    if (r->h == 0)
        return;
    /* The header carries the buffer pool gauge: memory is the room's shared shelf. */
    sim_vt_line_init(&l, r->w);
    sim_vt_line_add(&l, SIM_ST_HEADER, "== %s ", sim_vt_label_text(m->lang, SIM_L_SORTING));
    sim_vt_row_pool(&l, m->lang, &m->pool);
    sim_vt_line_add(&l, SIM_ST_HEADER, " ");
    sim_vt_line_fill(&l, SIM_ST_HEADER, '=');
    draw_line(r->y, r->x, &l);
    if (m->n_parts_total == 0) {
        sim_vt_line_init(&l, r->w);
        sim_vt_line_add(&l, SIM_ST_DIM, "%s", sim_vt_label_text(m->lang, SIM_L_NO_PARTS));
        draw_line(r->y + 1, r->x, &l);
        return;
    }
    int rows = list_rows(r, m->n_parts_total, m->lang);
    int cols = 0;
    for (int i = 0; i < m->n_parts && i < rows; i++)
        if (sim_vt_tp_cols(m->parts[i].topic, m->parts[i].partition) > cols)
            cols = sim_vt_tp_cols(m->parts[i].topic, m->parts[i].partition);
    const sim_event *se = step_event(m);
    if (se && sim_event_room(se) != SIM_ROOM_SORTING && sim_event_room(se) != SIM_ROOM_DESK)
        se = NULL;
    const sim_vm_parcel *pc = &m->parcel;
    for (int i = 0; i < m->n_parts && i < rows; i++) {
        const sim_vm_partition *p = &m->parts[i];
        sim_vt_line_init(&l, r->w);
        sim_vt_row_partition(&l, m->lang, p, m->batch_size, cols + 1);
        /* the producer's belief against the cluster's truth: a stale leader is the moment a
         * NOT_LEADER_OR_FOLLOWER is on its way */
        for (int j = 0; j < m->n_map; j++)
            if (m->map[j].partition == p->partition && !strcmp(m->map[j].topic, p->topic) &&
                p->leader >= 0 && m->map[j].leader >= 0 && m->map[j].leader != p->leader)
                sim_vt_line_add(&l, SIM_ST_WARN, " %s%d",
                                sim_vt_label_text(m->lang, SIM_L_STALE), (int)m->map[j].leader);
        if (se && same_tp(se, p->topic, p->partition))
            hilite(&l);
        if (pc->active && pc->batch_id >= 0 && pc->partition == p->partition &&
            !strcmp(pc->topic, p->topic))
            parcel_mark(&l, pc, " b%lld:%d", (long long)pc->batch_id, (int)pc->batch_pos + 1);
        draw_line(r->y + 1 + i, r->x, &l);
    }
}

static void draw_trucks(const sim_vt_rect *r, const sim_view_model *m) {
    sim_vt_line l;
    if (r->h == 0)
        return;
    sim_vt_line_init(&l, r->w);
    sim_vt_row_header(&l, m->lang, SIM_L_TRUCKS, NULL);
    draw_line(r->y, r->x, &l);
    int rows = list_rows(r, m->n_nodes, m->lang);
    const sim_event *se = step_event(m);
    if (se && sim_event_room(se) != SIM_ROOM_TRUCKS)
        se = NULL;
    const sim_vm_parcel *pc = &m->parcel;
    for (int i = 0; i < m->n_nodes && i < rows; i++) {
        const sim_vm_node *n = &m->nodes[i];
        bool mine = pc->active && pc->corr_id >= 0 && pc->node == n->id;
        char mark[64] = "";
        if (mine)
            snprintf(mark, sizeof mark, " >#%lld@#%d%s", (long long)pc->record_id,
                     (int)pc->corr_id, pc->acked ? " ok" : "");
        sim_vt_line_init(&l, r->w);
        /* the lane gives way to the parcel's mark as it does to its last answer: trucks
         * become +N…, `last #N OK` stays whole */
        if (mine && r->w - sim_vt_width(mark) >= 40)
            l.limit = r->w - sim_vt_width(mark);
        sim_vt_row_node_mark(&l, m->lang, n, mine ? pc->corr_id : -1);
        l.limit = r->w;
        if (se && se->node == n->id)
            hilite(&l);
        if (mine)
            parcel_mark(&l, pc, "@#%d%s", (int)pc->corr_id, pc->acked ? " ok" : "");
        draw_line(r->y + 1 + i, r->x, &l);
    }
}

/* The map's last rows: one "Consumers" line per consumer group, when the panel has room for
 * them beside its header and one partition; returns the rows left for the partitions. */
static sim_vt_rect draw_consumers(const sim_vt_rect *r, const sim_view_model *m) {
    sim_vt_rect rest = *r;
    int n = m->n_groups;
    if (n > r->h - 2)
        n = r->h - 2;
    for (int i = 0; i < n; i++) {
        sim_vt_line l;
        sim_vt_line_init(&l, r->w);
        sim_vt_row_consumers(&l, m->lang, &m->groups[i]);
        draw_line(r->y + r->h - n + i, r->x, &l);
    }
    rest.h -= n > 0 ? n : 0;
    return rest;
}

static void draw_map(const sim_vt_rect *whole, const sim_view_model *m) {
    sim_vt_line l;
    if (whole->h == 0)
        return;
    sim_vt_rect shown = draw_consumers(whole, m);
    const sim_vt_rect *r = &shown;
    sim_vt_line_init(&l, r->w);
    sim_vt_row_map_header_at(&l, m->lang, m->nodes, m->n_nodes, m->bootstrap);
    draw_line(r->y, r->x, &l);
    if (m->n_map_total == 0) {
        sim_vt_line_init(&l, r->w);
        sim_vt_line_add(&l, SIM_ST_DIM, "%s", sim_vt_label_text(m->lang, SIM_L_NO_PARTS));
        draw_line(r->y + 1, r->x, &l);
        return;
    }
    int rows = list_rows(r, m->n_map_total, m->lang);
    int cols = 0;
    for (int i = 0; i < m->n_map && i < rows; i++)
        if (sim_vt_tp_cols(m->map[i].topic, m->map[i].partition) > cols)
            cols = sim_vt_tp_cols(m->map[i].topic, m->map[i].partition);
    const sim_event *se = step_event(m);
    if (se && sim_event_room(se) != SIM_ROOM_MAP)
        se = NULL;
    const sim_vm_parcel *pc = &m->parcel;
    for (int i = 0; i < m->n_map && i < rows; i++) {
        const sim_vm_map_row *mr = &m->map[i];
        sim_vt_line_init(&l, r->w);
        sim_vt_row_map(&l, m->lang, mr, cols + 1);
        if (se && same_tp(se, mr->topic, mr->partition))
            hilite(&l);
        if (pc->active && pc->offset >= 0 && pc->partition == mr->partition &&
            !strcmp(pc->topic, mr->topic)) {
            char to[48];
            sim_vt_ids(to, sizeof to, pc->replicated, pc->n_replicated);
            bool zh = m->lang == SIM_LANG_ZH;
            parcel_mark(&l, pc, "@%lld+%s%s%s%s", (long long)pc->offset, to,
                        pc->lost ? (zh ? " 丢失" : " LOST") : "",
                        pc->duplicated ? (zh ? " 重复" : " DUP") : "",
                        pc->reordered ? (zh ? " 乱序" : " REORD") : "");
        }
        draw_line(r->y + 1 + i, r->x, &l);
    }
}

static void draw_trace(const sim_vt_rect *r, const sim_view_model *m) {
    sim_vt_line l;
    if (r->h == 0)
        return;
    sim_vt_line_init(&l, r->w);
    sim_vt_row_header(&l, m->lang, SIM_L_TRACE, NULL);
    draw_line(r->y, r->x, &l);
    int rows = r->h - 1;
    int first = m->n_trace > rows ? m->n_trace - rows : 0;
    for (int i = first; i < m->n_trace; i++) {
        sim_vt_line_init(&l, r->w);
        /* the event the last step let through is marked: the class sees which line moved */
        bool released = m->status.last_released && m->trace_seq[i] == m->status.last_released;
        bool bad = strstr(m->trace[i], "down") || strstr(m->trace[i], "fault") ||
                   strstr(m->trace[i], "_ERROR") || strstr(m->trace[i], "NOT_") ||
                   strstr(m->trace[i], "TIMED_OUT") || strstr(m->trace[i], "truncated");
        sim_vt_line_add(&l, released ? SIM_ST_HILITE : SIM_ST_DIM, "%s", released ? ">" : " ");
        sim_vt_add_cut(&l, released ? SIM_ST_HILITE : bad ? SIM_ST_WARN : SIM_ST_NORMAL,
                       m->trace[i]);
        draw_line(r->y + 1 + (i - first), r->x, &l);
    }
}

/* The followed parcel's history: each stop with its simulated time, loss in red. */
static void draw_history(const sim_vt_rect *r, const sim_view_model *m) {
    sim_vt_line l;
    const sim_vm_parcel *pc = &m->parcel;
    if (r->h == 0)
        return;
    char title[96];
    if (pc->record_id >= 0)
        snprintf(title, sizeof title, "#%lld%s%s", (long long)pc->record_id,
                 pc->key[0] ? " " : "", pc->key);
    else
        snprintf(title, sizeof title, "%s", pc->key);
    sim_vt_line_init(&l, r->w);
    sim_vt_line_add(&l, SIM_ST_HEADER, "== %s %s %s ", sim_vt_label_text(m->lang, SIM_L_HISTORY),
                    sim_vt_label_text(m->lang, SIM_L_FOLLOW), title);
    sim_vt_line_fill(&l, SIM_ST_HEADER, '=');
    draw_line(r->y, r->x, &l);
    int rows = r->h - 1;
    int first = pc->n_history > rows ? pc->n_history - rows : 0;
    for (int i = first; i < pc->n_history; i++) {
        const sim_event *e = &pc->history[i];
        char text[SIM_VT_LINE_BYTES];
        sim_vt_explain(text, sizeof text, m->lang, e);
        bool bad = e->err || !strcmp(e->kind, "log.truncated");
        sim_vt_line_init(&l, r->w);
        int64_t ms = e->t_us / 1000;
        sim_vt_line_add(&l, SIM_ST_DIM, "%4lld.%03lld ", (long long)(ms / 1000),
                        (long long)(ms % 1000));
        sim_vt_add_cut(&l, bad ? SIM_ST_ERR : SIM_ST_NORMAL, text);
        draw_line(r->y + 1 + (i - first), r->x, &l);
    }
}

/* The help box: page 1 the keys, page 2 the legend of every symbol and the errors. */
static void draw_help(int rows, int cols, sim_view_lang lang, int page) {
    const char *rows_text[64];
    static char wrapped[64][SIM_VT_WRAP_BYTES];
    int n = 0;
    if (page == 3) {
        /* the errors, one sentence each (what it means, what the producer does), wrapped */
        int inner = (cols > 104 ? 104 : cols) - 4;
        for (int i = 0; i < sim_vt_error_count() && n < 60; i++) {
            int32_t code = sim_vt_error_code(i);
            const char *name = kw_err_name((kw_err)code);
            char one[SIM_VT_WRAP_BYTES];
            snprintf(one, sizeof one, "%s: %s", name ? name : "?", sim_vt_error_text(lang, code));
            int k = sim_vt_wrap(one, inner, 4, &wrapped[n], 64 - n < 3 ? 64 - n : 3);
            for (int j = 0; j < k; j++, n++)
                rows_text[n] = wrapped[n];
        }
    } else {
        const char *const *h = page == 2 ? sim_vt_legend_lines(lang) : sim_vt_help_lines(lang);
        for (; h[n] && n < 32; n++)
            rows_text[n] = h[n];
    }
    /* the header (t=, ev) and the bottom line stay visible above and below the box; what
     * does not fit a small screen is counted on the last line */
    char more[64];
    if (n > rows - 4 && rows - 4 > 1) {
        snprintf(more, sizeof more, "+%d %s", n - (rows - 5), sim_vt_label_text(lang, SIM_L_MORE));
        n = rows - 5;
        rows_text[n++] = more;
    }
    if (n > rows - 4)
        n = rows - 4 > 0 ? rows - 4 : 0;
    int w = 0;
    for (int i = 0; i < n; i++)
        if (sim_vt_width(rows_text[i]) > w)
            w = sim_vt_width(rows_text[i]);
    w += 4;
    if (w > cols)
        w = cols;
    int hh = n + 2;
    int y0 = (rows - hh) / 2, x0 = (cols - w) / 2;
    if (y0 < 1)
        y0 = 1;
    for (int i = 0; i < hh && y0 + i < rows; i++) {
        sim_vt_line l;
        sim_vt_line_init(&l, w);
        if (i == 0 || i == hh - 1) {
            if (i == 0)
                sim_vt_line_add(&l, SIM_ST_TITLE, "+ %s ",
                                sim_vt_label_text(lang, page == 3   ? SIM_L_ERRORS_PAGE
                                                        : page == 2 ? SIM_L_LEGEND
                                                                    : SIM_L_HELP));
            else
                sim_vt_line_add(&l, SIM_ST_TITLE, "+");
            l.limit = w - 1;
            sim_vt_line_fill(&l, SIM_ST_TITLE, '-');
            l.limit = w;
            sim_vt_line_add(&l, SIM_ST_TITLE, "+");
        } else {
            sim_vt_line_add(&l, SIM_ST_TITLE, "| ");
            l.limit = w - 1;
            sim_vt_add_cut(&l, SIM_ST_TITLE, rows_text[i - 1]);
            l.limit = w;
            if (w - 1 > l.cols)
                sim_vt_line_add(&l, SIM_ST_TITLE, "%*s", w - 1 - l.cols, "");
            sim_vt_line_add(&l, SIM_ST_TITLE, "|");
        }
        draw_line(y0 + i, x0, &l);
    }
}

/* One frame: layout for the current size, every panel, the footer, the help on top. */
static void draw_frame(const sim_view_model *m) {
    int rows = LINES, cols = COLS;
    sim_vt_layout lay;
    sim_vt_line l;
    erase();
    sim_vt_layout_compute(&lay, rows, cols, m);
    if (lay.too_small) {
        sim_vt_line_init(&l, cols);
        sim_vt_line_add(&l, SIM_ST_WARN, "%s (%dx%d)", sim_vt_label_text(m->lang, SIM_L_TOO_SMALL),
                        cols, rows);
        draw_line(0, 0, &l);
        if (rows > 1) {
            sim_vt_line_init(&l, cols);
            sim_vt_line_add(&l, SIM_ST_NORMAL, "%s %llu  q",
                            sim_vt_label_text(m->lang, SIM_L_EVENTS),
                            (unsigned long long)m->status.events);
            draw_line(1, 0, &l);
        }
        refresh();
        return;
    }
    sim_vt_line_init(&l, lay.title.w);
    sim_vt_row_title(&l, m);
    draw_line(lay.title.y, lay.title.x, &l);
    draw_desk(&lay.desk, m);
    draw_sorting(&lay.sorting, m);
    draw_trucks(&lay.trucks, m);
    draw_map(&lay.map, m);
    if (m->parcel.active)
        draw_history(&lay.trace, m);
    else
        draw_trace(&lay.trace, m);
    sim_vt_line_init(&l, lay.footer.w);
    sim_vt_row_footer(&l, m);
    draw_line(lay.footer.y, 0, &l);
    /* The last cell of the screen is left alone: writing it would scroll some terminals. */
    sim_vt_line_init(&l, lay.footer.w - 1);
    sim_vt_row_keys(&l, m);
    draw_line(lay.footer.y + 1, 0, &l);
    if (m->show_help)
        draw_help(rows, cols, m->lang, m->show_help);
    refresh();
}

/* ---- keys and prompts -------------------------------------------------------------------- */

typedef enum prompt_kind {
    PROMPT_NONE,
    PROMPT_DOWN,          /* k: broker id */
    PROMPT_UP,            /* u: broker id */
    PROMPT_LEADER_PART,   /* l: partition, then */
    PROMPT_LEADER_BROKER, /*    the new leader */
    PROMPT_ERROR,         /* e: which error */
    PROMPT_DROP,          /* d: broker id */
    PROMPT_RTT,           /* r: broker id */
    PROMPT_FOLLOW,        /* /: a parcel number or key, then Enter */
} prompt_kind;

typedef struct ui {
    sim_runner *r;
    sim_view_feed *feed;
    const sim_scenario *s;
    sim_view_model *m;
    prompt_kind prompt;
    char input[SIM_VM_NAME];
    int room; /* the selected room (sim_room): `n` runs to its next event */
    int leader_partition;
    int64_t message_until; /* wall ms; 0 = the message is a prompt and stays */
    bool quit;
} ui;

static const struct {
    kw_err code;
    const char *name;
} g_inject[] = {
    {KW_ERR_NOT_LEADER_OR_FOLLOWER, "NOT_LEADER_OR_FOLLOWER"},
    {KW_ERR_NOT_ENOUGH_REPLICAS, "NOT_ENOUGH_REPLICAS"},
    {KW_ERR_REQUEST_TIMED_OUT, "REQUEST_TIMED_OUT"},
};

static const char *workload_topic(const ui *u) {
    if (u->s->workload.topic[0])
        return u->s->workload.topic;
    return u->s->cluster.n_topics > 0 ? u->s->cluster.topics[0].name : "";
}

static int topic_partitions(const ui *u) {
    const char *t = workload_topic(u);
    for (int i = 0; i < u->s->cluster.n_topics; i++)
        if (!strcmp(u->s->cluster.topics[i].name, t))
            return u->s->cluster.topics[i].partitions;
    return 0;
}

static void say(ui *u, int64_t for_ms, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(ui *u, int64_t for_ms, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(u->m->message, sizeof u->m->message, fmt, ap);
    va_end(ap);
    u->message_until = for_ms > 0 ? wall_ms() + for_ms : 0;
    u->m->message_is_prompt = for_ms <= 0;
}

/* say() in the class's language: both formats take the same arguments in the same order. */
#define SAY(u, ms, en, zh, ...)                                                                    \
    do {                                                                                           \
        if ((u)->m->lang == SIM_LANG_ZH)                                                           \
            say(u, ms, zh, __VA_ARGS__);                                                           \
        else                                                                                       \
            say(u, ms, en, __VA_ARGS__);                                                           \
    } while (0)

static void ask(ui *u, prompt_kind p) {
    int brokers = u->s->cluster.brokers;
    u->prompt = p;
    u->input[0] = '\0';
    switch (p) {
    case PROMPT_DOWN:
        SAY(u, 0, "broker DOWN: which id (1..%d)? [Esc cancels]",
            "让 broker 宕机: 编号 (1..%d)? [Esc 取消]", brokers);
        break;
    case PROMPT_UP:
        SAY(u, 0, "broker UP: which id (1..%d)? [Esc cancels]", "恢复 broker: 编号 (1..%d)? [Esc 取消]",
            brokers);
        break;
    case PROMPT_LEADER_PART:
        SAY(u, 0, "move leader: partition of %s (0..%d)%s? [Esc cancels]",
            "移动首领: %s 的分区 (0..%d)%s? [Esc 取消]", workload_topic(u),
            topic_partitions(u) - 1, topic_partitions(u) > 10 ? " + Enter" : "");
        break;
    case PROMPT_LEADER_BROKER:
        SAY(u, 0, "move leader of %s-%d to broker (1..%d)? [Esc cancels]",
            "把 %s-%d 的首领移到 broker (1..%d)? [Esc 取消]", workload_topic(u),
            u->leader_partition, brokers);
        break;
    case PROMPT_ERROR:
        SAY(u, 0, "error for the next %d Produce: 1 %s 2 %s 3 %s",
            "给后续 %d 个 Produce 注入错误: 1 %s 2 %s 3 %s", FAULT_COUNT, g_inject[0].name,
            g_inject[1].name, g_inject[2].name);
        break;
    case PROMPT_DROP:
        SAY(u, 0, "drop the next %d responses of broker (1..%d)? [Esc cancels]",
            "丢弃 broker 的后续 %d 个响应, 编号 (1..%d)? [Esc 取消]", FAULT_COUNT, brokers);
        break;
    case PROMPT_RTT:
        SAY(u, 0, "RTT +100/+500/0 ms (cycles) on broker (1..%d)? [Esc cancels]",
            "往返延迟 +100/+500/0 毫秒 (轮换), broker 编号 (1..%d)? [Esc 取消]", brokers);
        break;
    case PROMPT_FOLLOW:
        SAY(u, 0, "follow parcel: number or key, then Enter: %s",
            "跟踪包裹: 编号或键, 再按回车: %s", u->input);
        break;
    case PROMPT_NONE:
        break;
    }
}

/* Applies a fault through the runner (same checks and trace event as the timeline). */
static void apply_fault(ui *u, const sim_fault *f) {
    char err[256], desc[128];
    sim_fault_describe(f, desc, sizeof desc);
    int rc = sim_runner_fault_in_turn(u->r, f, err, sizeof err);
    if (rc == 1) /* held: the class sees it happen in order, one step at a time */
        SAY(u, MESSAGE_MS, "fault queued, s lets it happen: %s", "故障已排队, 按 s 让它发生: %s",
            desc);
    else if (rc == 0)
        SAY(u, MESSAGE_MS, "fault: %s", "故障: %s", desc);
    else
        SAY(u, MESSAGE_MS, "fault refused: %s", "故障被拒绝: %s", err);
}

static sim_fault fault_of(sim_fault_kind kind) {
    sim_fault f;
    memset(&f, 0, sizeof f);
    f.kind = kind;
    f.broker = -1;
    f.partition = -1;
    return f;
}

static int32_t current_rtt(const ui *u, int broker) {
    for (int i = 0; i < u->m->n_nodes; i++)
        if (u->m->nodes[i].id == broker)
            return u->m->nodes[i].rtt_ms;
    return 0;
}

/* The prompt's answer is complete: act on it. */
static void answer(ui *u, int value) {
    prompt_kind p = u->prompt;
    u->prompt = PROMPT_NONE;
    sim_fault f;
    switch (p) {
    case PROMPT_DOWN:
        f = fault_of(SIM_FAULT_BROKER_DOWN);
        f.broker = value;
        apply_fault(u, &f);
        break;
    case PROMPT_UP:
        f = fault_of(SIM_FAULT_BROKER_UP);
        f.broker = value;
        apply_fault(u, &f);
        break;
    case PROMPT_LEADER_PART:
        u->leader_partition = value;
        ask(u, PROMPT_LEADER_BROKER);
        break;
    case PROMPT_LEADER_BROKER:
        f = fault_of(SIM_FAULT_MOVE_LEADER);
        snprintf(f.topic, sizeof f.topic, "%s", workload_topic(u));
        f.partition = u->leader_partition;
        f.broker = value;
        apply_fault(u, &f);
        break;
    case PROMPT_ERROR:
        if (value < 1 || value > (int)(sizeof g_inject / sizeof g_inject[0])) {
            SAY(u, MESSAGE_MS, "no error %d (choose 1..3)", "没有错误 %d (请选 1..3)", value);
            break;
        }
        f = fault_of(SIM_FAULT_INJECT_ERROR);
        f.api = KW_API_PRODUCE;
        f.code = g_inject[value - 1].code;
        f.count = FAULT_COUNT;
        apply_fault(u, &f);
        break;
    case PROMPT_DROP:
        f = fault_of(SIM_FAULT_DROP_RESPONSES);
        f.broker = value;
        f.count = FAULT_COUNT;
        apply_fault(u, &f);
        break;
    case PROMPT_RTT: {
        int32_t cur = current_rtt(u, value);
        f = fault_of(SIM_FAULT_RTT);
        f.broker = value;
        f.ms = cur == 0 ? 100 : cur < 500 ? 500 : 0;
        apply_fault(u, &f);
        break;
    }
    case PROMPT_FOLLOW:
    case PROMPT_NONE:
        break;
    }
}

/* The largest value a prompt accepts, to answer on one digit when that is unambiguous. */
static int prompt_max(const ui *u) {
    switch (u->prompt) {
    case PROMPT_LEADER_PART:
        return topic_partitions(u) - 1;
    case PROMPT_ERROR:
        return 3;
    default:
        return u->s->cluster.brokers;
    }
}

/* The `/` prompt takes a number or a key, up to Enter. */
static void follow_key(ui *u, int ch) {
    size_t n = strlen(u->input);
    if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n > 0) {
        u->input[n - 1] = '\0';
    } else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
        u->prompt = PROMPT_NONE;
        if (sim_view_feed_follow(u->feed, u->input))
            SAY(u, MESSAGE_MS, "following %s: its stops are marked >#N in every room",
                "跟踪 %s: 各房间用 >#N 标出它", u->input);
        else
            SAY(u, MESSAGE_MS, "following nothing%s", "取消跟踪%s", "");
        return;
    } else if (ch >= 0x21 && ch < 0x7f && n + 1 < sizeof u->input) {
        u->input[n] = (char)ch;
        u->input[n + 1] = '\0';
    }
    SAY(u, 0, "follow parcel: number or key, then Enter: %s", "跟踪包裹: 编号或键, 再按回车: %s",
        u->input);
}

static void prompt_key(ui *u, int ch) {
    size_t n = strlen(u->input);
    if (ch == 27) { /* Esc */
        u->prompt = PROMPT_NONE;
        SAY(u, MESSAGE_MS, "cancelled%s", "已取消%s", "");
        return;
    }
    if (u->prompt == PROMPT_FOLLOW) {
        follow_key(u, ch);
        return;
    }
    if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n > 0) {
        u->input[n - 1] = '\0';
        return;
    }
    if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
        if (n > 0)
            answer(u, atoi(u->input));
        return;
    }
    if (ch >= '0' && ch <= '9' && n + 1 < sizeof u->input) {
        u->input[n] = (char)ch;
        u->input[n + 1] = '\0';
        /* One digit is the whole answer when no valid answer has two. */
        if (prompt_max(u) <= 9 || atoi(u->input) * 10 > prompt_max(u))
            answer(u, atoi(u->input));
    }
}

/* Multiplies the simulation speed by factor (the clock keeps it within its bounds) and says
 * the speed it now runs at. */
static void change_speed(ui *u, double factor) {
    sim_clock *c = sim_runner_clock(u->r);
    sim_runner_set_speed(u->r, sim_clock_speed(c) * factor);
    SAY(u, MESSAGE_MS, "speed x%.3g", "速度 x%.3g", sim_clock_speed(c));
}

/* A run-to key: events go through one by one until the one asked for. */
static void run_to(ui *u, sim_run_to_what what) {
    if (u->m->status.finished) {
        SAY(u, MESSAGE_MS, "the run is over: nothing left to step (q quits)%s",
            "运行已结束: 没有可单步的事件 (q 退出)%s", "");
        return;
    }
    sim_runner_run_to(u->r, what, u->room);
    u->m->message[0] = '\0';
}

/* R: records the rest of the run into ./courier-SCENARIO-YYYYmmdd-HHMMSS.rec (sim/record.h),
 * for `courier replay`. */
static void start_recording(ui *u) {
    sim_record *rec = u->r ? sim_runner_recorder(u->r) : NULL;
    char path[256], err[512];
    if (!rec) {
        SAY(u, MESSAGE_MS, "no recording here (courier run SCENARIO --record FILE records)%s",
            "此处不能录制 (用 courier run SCENARIO --record FILE)%s", "");
    } else if (sim_record_active(rec, path, sizeof path)) {
        SAY(u, MESSAGE_MS, "recording to %s (until the run ends)", "正在录制到 %s (直到运行结束)",
            path);
    } else {
        char stamp[32];
        time_t now = time(NULL);
        struct tm tmv;
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime_r(&now, &tmv));
        snprintf(path, sizeof path, "courier-%.64s-%s.rec", u->s ? u->s->name : "run", stamp);
        if (sim_record_start(rec, path, err, sizeof err) == 0)
            SAY(u, MESSAGE_MS, "recording from here to %s (courier replay %s)",
                "从这里开始录制到 %s (courier replay %s)", path, path);
        else
            SAY(u, MESSAGE_MS, "cannot record: %s", "无法录制: %s", err);
    }
}

/* The keys that hold and release time: space (pause / resume), s (one event), n f x T (run to
 * the next event of the room, fault, error, truncation). */
static void time_key(ui *u, int ch) {
    const sim_vm_status *st = &u->m->status;
    switch (ch) {
    case ' ':
        /* space always toggles: held (paused or stepping) runs again, running holds */
        if (st->finished) {
            SAY(u, MESSAGE_MS, "the run is over: q quits and prints the audit%s",
                "运行已结束: q 退出并打印审计%s", "");
        } else if (st->stepping || st->paused) {
            sim_runner_resume(u->r);
            SAY(u, MESSAGE_MS, "resumed%s", "继续运行%s", "");
        } else {
            sim_runner_pause(u->r);
            SAY(u, MESSAGE_MS, "paused: simulated time stands still (s steps, space resumes)%s",
                "已暂停: 模拟时间静止 (s 单步, 空格继续)%s", "");
        }
        break;
    case 's':
        if (st->finished) {
            SAY(u, MESSAGE_MS, "the run is over: nothing left to step (q quits)%s",
                "运行已结束: 没有可单步的事件 (q 退出)%s", "");
        } else {
            sim_runner_step_once(u->r);
            u->m->message[0] = '\0'; /* the bottom line is the step's explanation */
        }
        break;
    case 'n':
        run_to(u, SIM_RUN_TO_ROOM);
        break;
    case 'f':
        run_to(u, SIM_RUN_TO_FAULT);
        break;
    case 'x':
        run_to(u, SIM_RUN_TO_ERROR);
        break;
    case 'T':
        run_to(u, SIM_RUN_TO_LOSS);
        break;
    default:
        break;
    }
}

static void key(ui *u, int ch) {
    if (u->m->show_help) { /* ? again turns the page, any other key closes the help */
        u->m->show_help = ch == '?' && u->m->show_help < 3 ? u->m->show_help + 1 : 0;
        return;
    }
    if (u->prompt != PROMPT_NONE) {
        prompt_key(u, ch);
        return;
    }
    switch (ch) {
    case 'q':
    case 'Q':
        u->quit = true;
        break;
    case ' ':
    case 's':
    case 'n':
    case 'f':
    case 'x':
    case 'T':
        time_key(u, ch);
        break;
    case '\t':
        u->room = (u->room + 1) % SIM_ROOM_SIM;
        SAY(u, MESSAGE_MS, "room: %s (n runs to its next event)", "房间: %s (n 快进到它的下一个事件)",
            sim_vt_room_name(u->m->lang, u->room));
        break;
    case '/':
        ask(u, PROMPT_FOLLOW);
        break;
    case '+':
    case '=':
        change_speed(u, 2.0);
        break;
    case '-':
    case '_':
        change_speed(u, 0.5);
        break;
    case 'k':
        ask(u, PROMPT_DOWN);
        break;
    case 'u':
        ask(u, PROMPT_UP);
        break;
    case 'l':
        if (topic_partitions(u) <= 0)
            SAY(u, MESSAGE_MS, "no topic to move a leader of%s", "没有可移动首领的主题%s", "");
        else if (topic_partitions(u) == 1) {
            u->prompt = PROMPT_LEADER_PART; /* one partition: nothing to ask */
            answer(u, 0);
        } else {
            ask(u, PROMPT_LEADER_PART);
        }
        break;
    case 'e':
        ask(u, PROMPT_ERROR);
        break;
    case 'd':
        ask(u, PROMPT_DROP);
        break;
    case 'r':
        ask(u, PROMPT_RTT);
        break;
    case 'R':
        start_recording(u);
        break;
    case 't':
        u->m->show_trace = !u->m->show_trace;
        break;
    case '?':
    case 'h':
        u->m->show_help = 1;
        break;
    default:
        break;
    }
}

/* ---- the loop ---------------------------------------------------------------------------- */

/* Makes sure multi-byte labels can be drawn: the user's locale, else C.UTF-8. */
static bool utf8_locale(void) {
    setlocale(LC_ALL, "");
    const char *cs = nl_langinfo(CODESET);
    if (cs && (!strcmp(cs, "UTF-8") || !strcmp(cs, "utf8")))
        return true;
    if (setlocale(LC_CTYPE, "C.UTF-8") || setlocale(LC_CTYPE, "en_US.UTF-8")) {
        cs = nl_langinfo(CODESET);
        return cs && !strcmp(cs, "UTF-8");
    }
    return false;
}

/* A key in the source's terms (sim/view.h), or the character itself. */
static int source_key(int ch) {
    switch (ch) {
    case KEY_LEFT:
        return SIM_VIEW_KEY_LEFT;
    case KEY_RIGHT:
        return SIM_VIEW_KEY_RIGHT;
    case KEY_UP:
        return SIM_VIEW_KEY_UP;
    case KEY_DOWN:
        return SIM_VIEW_KEY_DOWN;
    case KEY_PPAGE:
        return SIM_VIEW_KEY_PGUP;
    case KEY_NPAGE:
        return SIM_VIEW_KEY_PGDN;
    case KEY_HOME:
        return SIM_VIEW_KEY_HOME;
    case KEY_END:
        return SIM_VIEW_KEY_END;
    case KEY_ENTER:
    case '\n':
    case '\r':
        return SIM_VIEW_KEY_ENTER;
    case KEY_BACKSPACE:
    case 127:
    case 8:
        return SIM_VIEW_KEY_BACKSPACE;
    default:
        return ch;
    }
}

static int view_loop(sim_runner *r, const sim_view_source *src, const sim_view_opts *o);

int sim_view_main(sim_runner *r, const sim_view_opts *o) {
    return view_loop(r, NULL, o);
}

int sim_view_main_source(const sim_view_source *src, const sim_view_opts *o) {
    return view_loop(NULL, src, o);
}

/* The view needs a terminal on stdin and stdout that can place the cursor, and a UTF-8
 * locale for Chinese. Says why not on stderr and returns false. */
static bool terminal_usable(const sim_view_opts *opts, FILE *in, FILE *out) {
    if (!isatty(fileno(in)) || !isatty(fileno(out))) {
        fprintf(stderr, "courier: the view needs a terminal on stdin and stdout "
                        "(use --headless for scripts)\n");
        return false;
    }
    bool utf8 = utf8_locale();
    if (opts->lang == SIM_LANG_ZH && !utf8) {
        fprintf(stderr, "courier: --lang zh needs a UTF-8 locale (try LANG=C.UTF-8)\n");
        return false;
    }
    /* A terminal that cannot place the cursor (TERM=dumb) would get a smear, not a screen:
     * ask its terminfo entry first, before anything is drawn. */
    int terr = 0;
    if (setupterm(NULL, fileno(out), &terr) != OK) {
        fprintf(stderr, "courier: no terminfo entry for this terminal (TERM=%s)\n",
                getenv("TERM") ? getenv("TERM") : "unset");
        return false;
    }
    const char *cup = tigetstr("cup");
    bool addressable = cup && cup != (const char *)-1;
    del_curterm(cur_term);
    if (!addressable) {
        fprintf(stderr,
                "courier: this terminal (TERM=%s) cannot place the cursor; the view needs "
                "one (e.g. TERM=xterm), or use --headless\n",
                getenv("TERM") ? getenv("TERM") : "unset");
        return false;
    }
    return true;
}

/* Curses on (in, out): keys unbuffered and unechoed, no cursor, the styles. NULL when the
 * terminal cannot be used (said on stderr). */
static SCREEN *open_screen(const sim_view_opts *opts, FILE *in, FILE *out) {
    SCREEN *scr = newterm(NULL, out, in);
    if (!scr) {
        fprintf(stderr, "courier: cannot use this terminal (TERM=%s)\n",
                getenv("TERM") ? getenv("TERM") : "unset");
        return NULL;
    }
    set_term(scr);
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    init_styles(!opts->no_color);
    return scr;
}

/* One frame: an expired message goes, the model is sampled from the feed (or the source),
 * then drawn. */
static void draw_tick(ui *u, const sim_view_source *src, int64_t now) {
    sim_view_model *m = u->m;
    if (u->message_until > 0 && now >= u->message_until) {
        m->message[0] = '\0';
        m->message_is_prompt = false;
        u->message_until = 0;
    }
    if (src)
        src->sample(src->opaque, m, now);
    else
        sim_view_feed_sample(u->feed, m, now);
    m->status.room = u->room;
    draw_frame(m);
}

/* A key goes to the view's own keys over a live run; over a source (a replay), to the source
 * first, and to the view only for the help and the keys that need no run. */
static void dispatch_key(ui *u, const sim_view_source *src, int ch) {
    sim_view_model *m = u->m;
    if (!src)
        key(u, ch);
    else if (m->show_help || !src->key(src->opaque, source_key(ch), m))
        if (m->show_help || (ch > 0 && ch < 128 && strchr("qQt?h", ch))) /* no run */
            key(u, ch);
}

/* After the view closes, a run still going is stopped, and waited for a bounded time. */
static void stop_run(sim_runner *r, sim_view_lang lang) {
    if (!r || sim_runner_wait(r, 0))
        return;
    fprintf(stderr, lang == SIM_LANG_ZH
                        ? "courier: 正在停止运行 (进行中的工作可能会完成)...\n"
                        : "courier: stopping the run (in-flight work may finish)...\n");
    sim_runner_stop(r);
    int64_t until = wall_ms() + QUIT_WAIT_MS;
    while (!sim_runner_wait(r, 200) && wall_ms() < until) {
    }
}

/* The view over a live run (r) or over a source (src): exactly one of them is set. */
static int view_loop(sim_runner *r, const sim_view_source *src, const sim_view_opts *o) {
    sim_view_opts opts;
    memset(&opts, 0, sizeof opts);
    if (o)
        opts = *o;
    if (opts.fps <= 0 || opts.fps > 20)
        opts.fps = 20;
    FILE *in = opts.term_in ? opts.term_in : stdin;
    FILE *out = opts.term_out ? opts.term_out : stdout;
    if (!terminal_usable(&opts, in, out))
        return 2;
    sim_view_model *m = calloc(1, sizeof *m);
    sim_view_feed *feed = src ? NULL : sim_view_feed_new(r);
    if (!m || (!feed && !src)) {
        free(m);
        sim_view_feed_destroy(feed);
        fprintf(stderr, "courier: out of memory starting the view\n");
        return 2;
    }
    m->lang = opts.lang;
    SCREEN *scr = open_screen(&opts, in, out);
    if (!scr) {
        free(m);
        sim_view_feed_destroy(feed);
        return 2;
    }
    /* A tall screen has room for the trace log from the start (t still toggles it). */
    m->show_trace = LINES >= 40;

    /* The view thread must never wait at the step gate: it is the one that opens it. */
    sim_bus_exempt_thread(true);

    ui u = {.r = r, .feed = feed, .s = r ? sim_runner_scenario(r) : NULL, .m = m};
    const int64_t frame_ms = 1000 / opts.fps;
    int64_t next_frame = 0;
    /* Ctrl-C and SIGTERM are blocked in every thread (sim/sig.h): getch wakes at least every
     * frame, and the loop takes them here. */
    while (!u.quit && !sim_signals_caught()) {
        int64_t now = wall_ms();
        if (now >= next_frame) {
            /* Scripted runs leave as soon as the run is over (before the feed reads the logs
             * for the final footer: the caller takes the audit itself). */
            if (opts.exit_when_done && r && sim_runner_wait(r, 0))
                break;
            draw_tick(&u, src, now);
            next_frame = now + frame_ms;
        }
        int64_t wait = next_frame - wall_ms();
        timeout((int)(wait < 0 ? 0 : wait > frame_ms ? frame_ms : wait));
        int ch = getch();
        if (ch == ERR)
            continue;
        if (ch == KEY_RESIZE) {
            next_frame = 0;
            continue;
        }
        dispatch_key(&u, src, ch);
        next_frame = 0; /* show the effect of a key at once */
    }

    /* Leave nothing held: no gate, a running clock, then the terminal as it was. */
    if (r) {
        sim_runner_set_step(r, false);
        sim_runner_resume(r);
    }
    endwin();
    delscreen(scr);
    sim_view_feed_destroy(feed);
    free(m);
    stop_run(r, opts.lang);
    return 0;
}
