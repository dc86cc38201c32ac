/* courier replay — a recording played back: the audit again (headless), the run's story as an
 * HTML page, or the live view's screens at any event, forwards and backwards.
 *
 *   courier replay FILE.rec [--headless] [--report text|json] [--html FILE.html] [--lang en|zh]
 *
 * Exit codes: 0 played (and the recorded audit meets the scenario's `expect`), 1 it does not,
 * 2 bad usage or a bad recording (the message names the byte). */
#include "sim/cmd.h"

#include "sim/recording.h"
#include "sim/report_html.h"
#include "sim/view.h"
#include "sim/view_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { O_HEADLESS = 1, O_REPORT, O_HTML, O_LANG };
static const char *const report_choices[] = {"text", "json", NULL};
static const sim_opt replay_opts[] = {
    {O_HEADLESS, 0, "headless", SIM_OPT_FLAG, NULL, 0, 0, NULL, false,
     "no view: print the audit of the recorded run, as courier run printed it"},
    {O_REPORT, 0, "report", SIM_OPT_ENUM, NULL, 0, 0, report_choices, false,
     "with --headless: the audit as text (default; in --lang) or json"},
    {O_HTML, 0, "html", SIM_OPT_STRING, "FILE", 0, 0, NULL, false,
     "write the run's story as one self-contained HTML page (inline SVG)"},
    SIM_OPT_LANG(O_LANG),
    {0},
};

const sim_cmd_spec sim_cmd_replay_spec = {
    .name = "replay",
    .summary = "play back a recording: the view at any event, the audit, an HTML report",
    .operands = "FILE.rec",
    .min_operands = 1,
    .max_operands = 1,
    .description = "Plays back a recording made with courier run --record (docs/replay.md): "
                   "without options, the live view on the recording, at any event, forwards "
                   "and backwards.",
    .footer = "Keys in the view: left/right one event, PgUp/PgDn one simulated second, "
              "Home/End, g go to a time (12.5s) or an event number, [ ] the previous/next "
              "fault, error or truncation, / follow a parcel, space play, +/- play speed, t "
              "trace, ? help, q quit.\n\n"
              "Exit code: 0 played (with --headless: the recorded audit meets the scenario's "
              "expect), 1 unmet, 2 bad usage or a bad recording (the message names the byte).",
    .opts = replay_opts,
    .main = sim_cmd_replay,
};

/* ---- the replay view: a model source over the recording ---------------------------------- */

typedef struct replay {
    sim_recording *rec;
    uint64_t first, last;
    uint64_t pos; /* the event shown (its effects included) */
    bool playing;
    double speed;      /* simulated seconds per wall second while playing */
    double play_t_us;  /* simulated time the play head is at */
    int64_t last_wall; /* wall ms of the previous frame while playing */
    int prompt;        /* 'g' (a time or an event number) or '/' (a parcel), 0 = none */
    char input[24];
    char note[96]; /* the last key's result */
    sim_view_model tmp;
} replay;

static void go(replay *p, uint64_t seq) {
    if (seq < p->first)
        seq = p->first;
    if (seq > p->last)
        seq = p->last;
    p->pos = seq;
    p->play_t_us = (double)sim_recording_t_us(p->rec, seq);
}

static void replay_sample(void *opaque, sim_view_model *m, int64_t wall_ms) {
    replay *p = opaque;
    if (p->playing) {
        if (p->last_wall > 0)
            p->play_t_us += (double)(wall_ms - p->last_wall) * 1000.0 * p->speed;
        p->last_wall = wall_ms;
        uint64_t to = sim_recording_seq_at(p->rec, (int64_t)p->play_t_us);
        if (to > p->pos)
            p->pos = to;
        if (p->pos >= p->last) {
            p->pos = p->last;
            p->playing = false;
            snprintf(p->note, sizeof p->note, "end of the recording");
        }
    }
    sim_view_model *t = &p->tmp;
    if (sim_recording_model_at(p->rec, p->pos, t) != 0) {
        snprintf(m->message, sizeof m->message, "event %llu cannot be decoded",
                 (unsigned long long)p->pos);
        return;
    }
    /* The view's own fields stay the view's. */
    t->lang = m->lang;
    t->show_trace = m->show_trace;
    t->show_help = m->show_help;
    *m = *t;
    int64_t t_us = sim_recording_t_us(p->rec, p->pos);
    m->status.sim_ms = t_us / 1000;
    m->status.sim_us = t_us;
    m->status.events = p->pos;
    m->status.paused = !p->playing;
    m->status.stepping = false;
    m->status.step_waiting = 0;
    m->status.speed = p->speed;
    m->status.finished = p->pos == p->last;
    if (p->prompt == 'g')
        snprintf(m->message, sizeof m->message,
                 "go to (12.5s = a time, 1234 = an event; Enter, Esc): %s_", p->input);
    else if (p->prompt == '/')
        snprintf(m->message, sizeof m->message,
                 "follow which parcel (a record number or a key; Enter, Esc): %s_", p->input);
    else if (snprintf(m->message, sizeof m->message,
                 "REPLAY event %llu/%llu t=%.3fs %s| <- -> PgUp PgDn Home End g [ ] / space +-%s%s",
                 (unsigned long long)p->pos, (unsigned long long)p->last, (double)t_us / 1e6,
                 p->playing ? "playing " : "", p->note[0] ? " | " : "", p->note) < 0)
        m->message[0] = '\0';
}

/* `g`: "12.5s" (or "12.5 s") is a simulated time, "1234" or "#1234" an event number. */
static void go_input(replay *p) {
    char *end;
    const char *in = p->input[0] == '#' ? p->input + 1 : p->input;
    double v = strtod(in, &end);
    while (*end == ' ')
        end++;
    if (end == in || v < 0) {
        snprintf(p->note, sizeof p->note, "'%s' is not a time or an event number", p->input);
    } else if (*end == 's' && end[1] == '\0' && p->input[0] != '#') {
        go(p, sim_recording_seq_at(p->rec, (int64_t)(v * 1e6)));
        snprintf(p->note, sizeof p->note, "at %.3f s", v);
    } else if (*end == '\0') {
        go(p, (uint64_t)v);
        snprintf(p->note, sizeof p->note, "at event %llu", (unsigned long long)p->pos);
    } else {
        snprintf(p->note, sizeof p->note, "'%s' is not a time or an event number", p->input);
    }
}

static void describe_mark(replay *p) {
    sim_event e;
    if (sim_recording_event(p->rec, p->pos, &e) == 0)
        snprintf(p->note, sizeof p->note, "%s%s%.60s", e.kind, e.detail[0] ? " " : "", e.detail);
}

static bool replay_key(void *opaque, int key, sim_view_model *m) {
    (void)m;
    replay *p = opaque;
    if (p->prompt) {
        size_t n = strlen(p->input);
        if (key == SIM_VIEW_KEY_ENTER) {
            if (p->prompt == 'g') {
                go_input(p);
            } else if (sim_recording_follow(p->rec, p->input) != 0) {
                snprintf(p->note, sizeof p->note, "out of memory following a parcel");
            } else {
                snprintf(p->note, sizeof p->note, "%s%.40s", p->input[0] ? "following " : "",
                         p->input[0] ? p->input : "following no parcel");
            }
            p->prompt = 0;
        } else if (key == 27) {
            p->prompt = 0;
        } else if (key == SIM_VIEW_KEY_BACKSPACE) {
            if (n > 0)
                p->input[n - 1] = '\0';
        } else if (key > 0x20 && key < 0x7f && n + 1 < sizeof p->input) {
            p->input[n] = (char)key;
            p->input[n + 1] = '\0';
        }
        return true;
    }
    uint64_t mark;
    int64_t t = sim_recording_t_us(p->rec, p->pos);
    p->note[0] = '\0';
    switch (key) {
    case SIM_VIEW_KEY_LEFT:
        go(p, p->pos > p->first ? p->pos - 1 : p->first);
        break;
    case SIM_VIEW_KEY_RIGHT:
        go(p, p->pos + 1);
        break;
    case SIM_VIEW_KEY_PGUP: {
        uint64_t to = sim_recording_seq_at(p->rec, t - 1000000);
        go(p, to < p->pos ? to : (p->pos > p->first ? p->pos - 1 : p->first));
        break;
    }
    case SIM_VIEW_KEY_PGDN: {
        uint64_t to = sim_recording_seq_at(p->rec, t + 1000000);
        go(p, to > p->pos ? to : p->pos + 1);
        break;
    }
    case SIM_VIEW_KEY_HOME:
        go(p, p->first);
        break;
    case SIM_VIEW_KEY_END:
        go(p, p->last);
        break;
    case 'g':
    case '/':
        p->prompt = key;
        p->playing = false;
        p->input[0] = '\0';
        break;
    case '[':
        if ((mark = sim_recording_prev_mark(p->rec, p->pos)) != 0) {
            go(p, mark);
            describe_mark(p);
        } else {
            snprintf(p->note, sizeof p->note, "no fault, error or truncation before");
        }
        break;
    case ']':
        if ((mark = sim_recording_next_mark(p->rec, p->pos)) != 0) {
            go(p, mark);
            describe_mark(p);
        } else {
            snprintf(p->note, sizeof p->note, "no fault, error or truncation after");
        }
        break;
    case ' ':
        p->playing = !p->playing && p->pos < p->last;
        p->last_wall = 0;
        p->play_t_us = (double)t;
        break;
    case '+':
    case '=':
        if (p->speed < 1000)
            p->speed *= 2;
        snprintf(p->note, sizeof p->note, "play speed x%g", p->speed);
        break;
    case '-':
    case '_':
        if (p->speed > 0.01)
            p->speed /= 2;
        snprintf(p->note, sizeof p->note, "play speed x%g", p->speed);
        break;
    default:
        return false;
    }
    return true;
}

static int replay_view(sim_recording *rec, const sim_view_opts *vo) {
    replay *p = calloc(1, sizeof *p);
    if (!p) {
        fprintf(stderr, "courier replay: out of memory\n");
        return 2;
    }
    p->rec = rec;
    p->first = sim_recording_first_seq(rec);
    p->last = sim_recording_last_seq(rec);
    p->speed = 1.0;
    if (p->last == 0) {
        fprintf(stderr, "courier replay: the recording holds no event\n");
        free(p);
        return 2;
    }
    go(p, p->first);
    sim_view_source src = {.opaque = p, .sample = replay_sample, .key = replay_key};
    int rc = sim_view_main_source(&src, vo);
    free(p);
    return rc;
}

/* The audit as courier run printed it, from the recorded audit and scenario. */
static int print_audit(sim_recording *rec, const char *report, bool zh) {
    const sim_scenario *s = sim_recording_scenario(rec);
    sim_audit a;
    if (!sim_recording_audit(rec, &a)) {
        fprintf(stderr, "courier replay: the recording has no audit (the run ended before it "
                        "was taken)\n");
        return 1;
    }
    if (!strcmp(report, "json"))
        sim_audit_print_json(&a, s, stdout);
    else
        sim_audit_print_text_lang(&a, s, zh, stdout);
    int unmet = sim_audit_check_lang(&a, s, zh, stderr);
    /* The audit is the one the run took (it read logs a recording does not hold); the events
     * recorded with it must tell the same story. */
    char why[256];
    if (sim_recording_check_audit(rec, why, sizeof why) < 0) {
        fprintf(stderr, "courier replay: the recording disagrees with itself: %s\n", why);
        unmet++;
    }
    if (a.log_read_error) {
        fprintf(stderr, "courier replay: audit incomplete, the logs could not be read: %s\n",
                a.log_error);
        unmet++;
    }
    if (!strcmp(report, "text") && s->n_expect)
        sim_audit_print_verdict(unmet, zh, stdout);
    fflush(stdout);
    return unmet ? 1 : 0;
}

int sim_cmd_replay(int argc, char **argv) {
    sim_cli_args args;
    int prc = sim_cli_begin(&sim_cmd_replay_spec, argc, argv, &args);
    if (prc >= 0)
        return prc;
    const char *report = "text", *html = NULL, *lang = "en";
    bool headless = false;
    for (size_t i = 0; i < args.n; i++) {
        const sim_cli_arg *a = &args.v[i];
        switch (a->opt->id) {
        case O_HEADLESS:
            headless = true;
            break;
        case O_REPORT:
            report = a->text;
            break;
        case O_HTML:
            html = a->text;
            break;
        case O_LANG:
            lang = a->text;
            break;
        }
    }
    char path[4096];
    snprintf(path, sizeof path, "%s", args.operands[0]);
    sim_cli_args_free(&args);
    bool view = !headless && !html;
    if (view && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
        fprintf(stderr, "courier replay: the view needs a terminal on stdin and stdout (use "
                        "--headless or --html for scripts)\n");
        return 2;
    }
    char err[1024];
    sim_recording *rec;
    if (sim_recording_open(path, &rec, err, sizeof err)) {
        fprintf(stderr, "courier replay: %s\n", err);
        return 2;
    }
    int rc = 0;
    if (html) {
        if (sim_report_html_write(rec, html, err, sizeof err)) {
            fprintf(stderr, "courier replay: %s\n", err);
            rc = 1;
        } else if (!headless) {
            fprintf(stderr, "courier replay: wrote %s\n", html);
        }
    }
    if (rc == 0 && headless)
        rc = print_audit(rec, report, !strcmp(lang, "zh"));
    if (rc == 0 && view) {
        sim_view_opts vo = {.lang = !strcmp(lang, "zh") ? SIM_LANG_ZH : SIM_LANG_EN};
        rc = replay_view(rec, &vo);
    }
    sim_recording_close(rec);
    return rc;
}
