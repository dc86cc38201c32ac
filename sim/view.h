/* sim/view.h — the live view (ncurses): `courier demo` and `courier run --view`.
 *
 * The view is a reader: it samples the run (producer snapshot, cluster inspection, the bus's
 * event ring) on a timer, at most 20 frames a second, and draws four rooms — front desk,
 * sorting room, trucks, dispatcher's map — plus a footer with rates and the audit so far.
 * It never reaches into producer or broker structs and never stalls the pipeline; the one
 * deliberate wait is step mode, where the bus's gate holds the emitting threads.
 * Every key that changes the cluster goes through sim_runner_fault(), so it is a trace event.
 *
 * Only sim/view.c includes curses.
 */
#ifndef COURIER_SIM_VIEW_H
#define COURIER_SIM_VIEW_H

#include "sim/runner.h"
#include "sim/view_lang.h"

#include <stdbool.h>
#include <stdio.h>

/* Ring capacity (events) the runner should be created with for the view
 * (sim_run_opts.ring_capacity). The view drains the ring every frame, so this bounds the
 * events it looks at to ~80k a second at 20 fps: plenty for a class-speed run (a few thousand
 * a second), while a flat-out run lets the bus drop the surplus (counted on screen) instead
 * of paying for it. Measured with bench_view: a 64k ring cost an unthrottled run 20-40%
 * (emitters blocked on the bus lock while the view copied); 4096, read 256 at a time, is
 * within the noise. */
#define SIM_VIEW_RING_CAPACITY 4096

typedef struct sim_view_opts {
    sim_view_lang lang;  /* labels: SIM_LANG_EN (default) or SIM_LANG_ZH (needs UTF-8) */
    int fps;             /* frames per second, 1..20 (0 = 20) */
    bool no_color;       /* plain characters and attributes even when colours exist */
    bool exit_when_done; /* leave the loop when the run is done (bench, scripted runs);
                            default: stay until `q` */
    FILE *term_in;       /* terminal to draw on: NULL = stdin/stdout (the real tty); the */
    FILE *term_out;      /* bench hands in a pseudo-terminal */
} sim_view_opts;

/* Runs the view on a started runner (sim_runner_start() done; created with
 * ring_capacity > 0, e.g. SIM_VIEW_RING_CAPACITY) until `q` (or Ctrl-C, or the run ending
 * with exit_when_done). On leaving: step mode off, clock resumed, the screen restored; if the
 * run is not done it is stopped (sim_runner_stop) and waited for, so the caller can take the
 * audit at once. The caller prints the audit (sim_runner_audit + sim_audit_print_*).
 * Returns 0, or 2 with a message on stderr when the terminal cannot be used (not a tty,
 * smaller than the view can draw on is fine: it says so on screen; --lang zh without a UTF-8
 * locale is refused). */
int sim_view_main(sim_runner *r, const sim_view_opts *o);

/* --- another source of models: a recording (sim/cmd_replay.c) ---------------------------- */

/* Keys as the view hands them to a source (printable keys are their character). */
enum {
    SIM_VIEW_KEY_LEFT = 0x10000,
    SIM_VIEW_KEY_RIGHT,
    SIM_VIEW_KEY_UP,
    SIM_VIEW_KEY_DOWN,
    SIM_VIEW_KEY_PGUP,
    SIM_VIEW_KEY_PGDN,
    SIM_VIEW_KEY_HOME,
    SIM_VIEW_KEY_END,
    SIM_VIEW_KEY_ENTER,
    SIM_VIEW_KEY_BACKSPACE,
};

typedef struct sim_view_model sim_view_model; /* sim/view_model.h */

/* Where the view's models come from when no run is live. `sample` fills m each frame, leaving
 * the fields the view owns (lang, show_trace, show_help) as they are; `key` gets each key
 * first and returns true when it used it (the view then handles q, t, ? and h itself). */
typedef struct sim_view_source {
    void *opaque;
    void (*sample)(void *opaque, sim_view_model *m, int64_t wall_ms);
    bool (*key)(void *opaque, int key, sim_view_model *m);
} sim_view_source;

/* The same view (panels, layout, keys q t ? h) over models from `src` instead of a run.
 * Returns as sim_view_main. */
int sim_view_main_source(const sim_view_source *src, const sim_view_opts *o);

#endif
