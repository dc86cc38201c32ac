/* courier run — play a scenario: the mock cluster and the producer over loopback, the
 * workload and the fault timeline, then the audit. Headless (a one-line progress display on a
 * terminal) or in the live view.
 *
 * Exit codes: 0 the audit meets the scenario's `expect` (or there is none), 1 it does not
 * (each unmet line is printed) or the run could not start, 2 bad usage or a bad scenario. */
#include "sim/cmd.h"

#include "sim/foreign.h"
#include "sim/json_file.h"
#include "sim/record.h"
#include "sim/runner.h"
#include "sim/sig.h"
#include "sim/view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { O_HEADLESS = 1, O_VIEW, O_TRACE, O_REPORT, O_SEED, O_SPEED, O_LANG, O_BOOTSTRAP, O_RECORD };
static const char *const report_choices[] = {"text", "json", NULL};
static const sim_opt run_opts[] = {
    {O_HEADLESS, 0, "headless", SIM_OPT_FLAG, NULL, 0, 0, NULL, false,
     "no view: a one-line progress display, then the report"},
    {O_VIEW, 0, "view", SIM_OPT_FLAG, NULL, 0, 0, NULL, false,
     "the live view (default when --headless is not given)"},
    {O_TRACE, 0, "trace", SIM_OPT_STRING, "FILE", 0, 0, NULL, false,
     "write every event as one JSON line (docs/trace.md)"},
    {O_REPORT, 0, "report", SIM_OPT_ENUM, NULL, 0, 0, report_choices, false,
     "the audit as text (default) or json"},
    SIM_OPT_SEED_OPT(O_SEED),
    SIM_OPT_SPEED(O_SPEED),
    SIM_OPT_LANG(O_LANG),
    {O_BOOTSTRAP, 0, "bootstrap", SIM_OPT_STRING, "HOST:PORT[,...]", 0, 0, NULL, false,
     "play against a cluster Courier does not own (real Kafka, Redpanda, librdkafka's mock): "
     "the scenario's cluster section is ignored, the topic is used or created, only network "
     "faults are played (through a built-in proxy); docs/real-cluster.md"},
    {O_RECORD, 0, "record", SIM_OPT_STRING, "FILE", 0, 0, NULL, false,
     "write a recording for courier replay: every event and what the view drew "
     "(docs/replay.md)"},
    {0},
};

const sim_cmd_spec sim_cmd_run_spec = {
    .name = "run",
    .summary = "play a scenario (a built-in lab by name, or a file) and print the audit",
    .operands = "SCENARIO",
    .min_operands = 1,
    .max_operands = 1,
    .description =
        "Plays a scenario (docs/scenarios.md): a mock Kafka cluster and the producer over "
        "loopback TCP, the workload and the fault timeline, then prints the audit.\n\n"
        "SCENARIO is a file (scenarios/min-isr.json) or the name of a built-in lab "
        "(min-isr), looked up in ./scenarios, then in the installed share folder; "
        "`courier labs` lists them.",
    .footer = "Ctrl-C (or SIGTERM) stops the workload, lets in-flight requests finish (a few "
              "seconds at most) and prints the partial audit.\n\n"
              "Exit code: 0 expectations met, 1 unmet (the unmet lines are printed), 2 bad "
              "usage or a bad scenario file.",
    .opts = run_opts,
    .main = sim_cmd_run,
};

static const char *state_name(sim_run_state s) {
    switch (s) {
    case SIM_RUN_NEW:
        return "starting";
    case SIM_RUN_SENDING:
        return "sending";
    case SIM_RUN_DRAINING:
        return "draining";
    default:
        return "done";
    }
}

/* One progress line, overwritten in place (a terminal only). */
static void progress_line(sim_runner *r) {
    sim_progress p;
    sim_runner_progress(r, &p);
    char total[32] = "";
    if (p.planned > 0)
        snprintf(total, sizeof total, "/%lld", (long long)p.planned);
    char eta[32] = "";
    if (p.eta_s >= 0)
        snprintf(eta, sizeof eta, "  ETA %.0f s", p.eta_s);
    fprintf(stdout, "\r[%s] sent %lld%s  acked %lld  failed %lld  %.0f rec/s  %.1f s%s%s\033[K",
            p.stopping ? "stopping" : state_name(p.state), (long long)p.sent, total,
            (long long)p.acknowledged, (long long)p.failed, p.ack_rate,
            (double)p.elapsed_ms / 1000.0, eta, p.paused ? "  (paused)" : "");
    fflush(stdout);
}

/* The command line of courier run, decided. */
typedef struct run_args {
    const char *trace, *report, *lang, *bootstrap, *record;
    bool headless;
    sim_run_opts o;
    char path[4096]; /* the scenario file (a lab's name resolved) */
} run_args;

/* Parses the command line into *ra. Returns -1 to go on, else the exit code (--help: 0, bad
 * usage: 2, after printing why). */
static int parse_run_args(int argc, char **argv, run_args *ra) {
    sim_cli_args args;
    int prc = sim_cli_begin(&sim_cmd_run_spec, argc, argv, &args);
    if (prc >= 0)
        return prc;
    memset(ra, 0, sizeof *ra);
    ra->report = "text";
    ra->lang = "en";
    ra->o.speed = 1.0;
    bool view = false;
    for (size_t i = 0; i < args.n; i++) {
        const sim_cli_arg *a = &args.v[i];
        switch (a->opt->id) {
        case O_HEADLESS:
            ra->headless = true;
            break;
        case O_VIEW:
            view = true;
            break;
        case O_TRACE:
            ra->trace = a->text;
            break;
        case O_BOOTSTRAP:
            ra->bootstrap = a->text;
            break;
        case O_RECORD:
            ra->record = a->text;
            break;
        case O_REPORT:
            ra->report = a->text;
            break;
        case O_LANG:
            ra->lang = a->text;
            break;
        case O_SEED:
            ra->o.seed_set = true;
            ra->o.seed = a->u;
            break;
        case O_SPEED:
            ra->o.speed = a->d;
            break;
        }
    }
    const char *name = args.operands[0];
    sim_cli_args_free(&args);
    if (ra->headless && view) {
        fprintf(stderr, "courier run: --headless and --view exclude each other\n");
        return 2;
    }
    char err[1024];
    if (sim_lab_find(name, ra->path, sizeof ra->path, err, sizeof err)) {
        fprintf(stderr, "courier run: %s\n", err);
        return 2;
    }
    return -1;
}

/* The recorder: --record writes a file; the view without --record gets a dormant one that its
 * R key can start mid-run; headless without --record gets none. The recording keeps the
 * scenario's own text, so a replay needs nothing else. Returns 0, or 2 after saying why. */
static int open_recorder(const run_args *ra, sim_record **rec) {
    char err[1024];
    size_t len = 0;
    *rec = NULL;
    if (!ra->record && ra->headless)
        return 0;
    char *text = sim_read_text_file(ra->path, (size_t)16 << 20, "scenario", &len, err, sizeof err);
    if (ra->record) {
        if (!text || sim_record_open(rec, ra->record, text, len, ra->headless, err, sizeof err)) {
            fprintf(stderr, "courier run: %s\n", err);
            free(text);
            return 2;
        }
    } else if (text) {
        sim_record_new_dormant(rec, text, len, false); /* out of memory: no R key, *rec NULL */
    }
    free(text);
    return 0;
}

/* Headless: waits for the run, redrawing the progress line on a terminal; the first Ctrl-C or
 * SIGTERM stops the workload and lets in-flight requests finish. */
static void wait_headless(sim_runner *r, const run_args *ra) {
    bool tty = isatty(STDOUT_FILENO) && !strcmp(ra->report, "text");
    bool stopping = false;
    while (!sim_runner_wait(r, 200)) {
        if (!stopping && sim_signals_caught()) {
            stopping = true;
            sim_runner_stop(r);
        }
        if (tty)
            progress_line(r);
    }
    if (tty) {
        progress_line(r);
        fprintf(stdout, "\n");
    }
}

/* The live view until it quits, then the run stopped and waited for. 0, or 2 when the view
 * could not start. */
static int run_in_view(sim_runner *r, const run_args *ra) {
    sim_view_opts vo = {.lang = !strcmp(ra->lang, "zh") ? SIM_LANG_ZH : SIM_LANG_EN};
    int rc = sim_view_main(r, &vo) ? 2 : 0;
    sim_runner_stop(r);
    sim_runner_wait(r, -1);
    return rc;
}

/* The audit printed (text or JSON), checked against the scenario's expectations, and the
 * recording finished with it. 0 when every expectation holds, else 1. */
static int report_audit(sim_runner *r, const sim_scenario *s, sim_record *rec, const run_args *ra) {
    char err[1024];
    sim_audit a;
    sim_runner_audit(r, &a);
    bool zh = !strcmp(ra->lang, "zh");
    if (!strcmp(ra->report, "json")) {
        sim_audit_print_json(&a, s, stdout);
    } else {
        sim_audit_print_text_lang(&a, s, zh, stdout);
        if (sim_runner_foreign(r))
            sim_foreign_print_map(sim_runner_foreign(r), stdout);
    }
    int unmet = sim_audit_check_lang(&a, s, zh, stderr);
    if (a.log_read_error) {
        /* lost/duplicated/reordered cannot be trusted: the run did not pass */
        fprintf(stderr,
                zh ? "courier run: 审计不完整, 无法读取日志: %s\n"
                   : "courier run: audit incomplete, the logs could not be read: %s\n",
                a.log_error);
        unmet++;
    }
    if (!strcmp(ra->report, "text") && s->n_expect)
        sim_audit_print_verdict(unmet, zh, stdout);
    fflush(stdout);
    int rc = unmet ? 1 : 0;
    if (rec && sim_record_finish(rec, &a, err, sizeof err)) {
        fprintf(stderr,
                zh ? "courier run: 录制不完整: %s\n"
                   : "courier run: the recording is incomplete: %s\n",
                err);
        rc = 1;
    }
    return rc;
}

/* Starts the runner; says so when it created the topic on a foreign cluster. 0, or 1 when it
 * could not start. */
static int start_run(sim_runner *r, const sim_scenario *s, const run_args *ra) {
    char err[1024];
    if (sim_runner_start(r, err, sizeof err)) {
        fprintf(stderr, "courier run: cannot start: %s\n", err);
        return 1;
    }
    if (sim_runner_foreign(r) && sim_foreign_created_topic(sim_runner_foreign(r)))
        fprintf(stderr, "courier run: created topic %s on %s (%d partitions)\n", s->workload.topic,
                ra->bootstrap, sim_foreign_partition_count(sim_runner_foreign(r)));
    return 0;
}

/* The scenario loaded and checked against what this run can do (a foreign cluster plays only
 * network faults; the view needs a terminal). 0, or 2 after saying why. */
static int load_scenario(const run_args *ra, sim_scenario **s) {
    char err[1024];
    if (sim_scenario_load(ra->path, s, err, sizeof err)) {
        fprintf(stderr, "courier run: %s\n", err);
        return 2;
    }
    if (ra->bootstrap && sim_foreign_refuse(*s, ra->bootstrap, "courier run: ")) {
        sim_scenario_free(*s);
        return 2;
    }
    if (!ra->headless && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
        fprintf(stderr, "courier run: the view needs a terminal on stdin and stdout (use "
                        "--headless for scripts)\n");
        sim_scenario_free(*s);
        return 2;
    }
    return 0;
}

int sim_cmd_run(int argc, char **argv) {
    run_args ra;
    int rc = parse_run_args(argc, argv, &ra);
    if (rc >= 0)
        return rc;
    sim_scenario *s;
    if (load_scenario(&ra, &s))
        return 2;
    sim_record *rec;
    if (open_recorder(&ra, &rec)) {
        sim_scenario_free(s);
        return 2;
    }
    sim_run_opts o = ra.o;
    o.trace_path = ra.trace;
    o.bootstrap = ra.bootstrap;
    o.ring_capacity = ra.headless ? 0 : SIM_VIEW_RING_CAPACITY;
    o.recorder = rec;
    char err[1024];
    sim_runner *r;
    if (sim_runner_new(s, &o, &r, err, sizeof err)) {
        sim_record_destroy(rec);
        fprintf(stderr, "courier run: %s: %s\n", ra.path, err);
        sim_scenario_free(s);
        return 2;
    }
    rc = start_run(r, s, &ra);
    if (rc == 0 && ra.headless)
        wait_headless(r, &ra);
    else if (rc == 0)
        rc = run_in_view(r, &ra);
    if (rc == 0)
        rc = report_audit(r, s, rec, &ra);
    sim_runner_destroy(r);
    sim_record_destroy(rec);
    sim_scenario_free(s);
    return rc;
}
