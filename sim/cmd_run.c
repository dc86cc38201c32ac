/* courier run — play a scenario: the mock cluster and the producer over loopback, the
 * workload and the fault timeline, then the audit. Headless (a one-line progress display on a
 * terminal) or in the live view.
 *
 * Exit codes: 0 the audit meets the scenario's `expect` (or there is none), 1 it does not
 * (each unmet line is printed) or the run could not start, 2 bad usage or a bad scenario. */
#include "sim/cmd.h"

#include "sim/foreign.h"
#include "sim/runner.h"
#include "sim/view.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

static void usage(FILE *out) {
    fprintf(out,
            "usage: courier run SCENARIO.json [--headless | --view] [--trace FILE.jsonl]\n"
            "                  [--report text|json] [--seed N] [--speed X] [--lang en|zh]\n"
            "                  [--bootstrap HOST:PORT[,...]]\n"
            "\n"
            "Plays a scenario (docs/scenarios.md): a mock Kafka cluster and the producer over\n"
            "loopback TCP, the workload and the fault timeline, then prints the audit.\n"
            "\n"
            "  --headless        no view: a one-line progress display, then the report\n"
            "  --view            the live view (default when --headless is not given)\n"
            "  --trace FILE      write every event as one JSON line (docs/trace.md)\n"
            "  --report FORMAT   text (default) or json\n"
            "  --seed N          override the workload's seed\n"
            "  --speed X         simulation speed, 0.01..1000 (default 1): 10 runs ten times\n"
            "                    faster; linger, timeouts, lags and the rate all scale\n"
            "  --lang en|zh      view labels (default en)\n"
            "  --bootstrap LIST  play against a cluster Courier does not own (real Kafka,\n"
            "                    Redpanda, librdkafka's mock): the scenario's cluster section\n"
            "                    is ignored, the topic must exist, only network faults are\n"
            "                    played (through a built-in proxy); docs/real-cluster.md\n"
            "\n"
            "Ctrl-C stops the workload, lets in-flight requests finish (a few seconds at most)\n"
            "and prints the partial audit.\n"
            "Exit code: 0 expectations met, 1 unmet (the unmet lines are printed), 2 bad usage\n"
            "or a bad scenario file.\n");
}

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

int sim_cmd_run(int argc, char **argv) {
    const char *path = NULL, *trace = NULL, *report = "text", *lang = "en", *bootstrap = NULL;
    bool headless = false, view = false;
    sim_run_opts o = {.speed = 1.0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--headless")) {
            headless = true;
        } else if (!strcmp(a, "--view")) {
            view = true;
        } else if (!strcmp(a, "--trace") || !strcmp(a, "--report") || !strcmp(a, "--seed") ||
                   !strcmp(a, "--speed") || !strcmp(a, "--lang") || !strcmp(a, "--bootstrap")) {
            if (!val) {
                fprintf(stderr, "courier run: %s needs a value (try courier run --help)\n", a);
                return 2;
            }
            i++;
            if (!strcmp(a, "--trace")) {
                trace = val;
            } else if (!strcmp(a, "--bootstrap")) {
                bootstrap = val;
            } else if (!strcmp(a, "--report")) {
                if (strcmp(val, "text") && strcmp(val, "json")) {
                    fprintf(stderr, "courier run: --report: '%s' is not text or json\n", val);
                    return 2;
                }
                report = val;
            } else if (!strcmp(a, "--lang")) {
                if (strcmp(val, "en") && strcmp(val, "zh")) {
                    fprintf(stderr, "courier run: --lang: '%s' is not en or zh\n", val);
                    return 2;
                }
                lang = val;
            } else if (!strcmp(a, "--seed")) {
                char *end;
                errno = 0;
                unsigned long long v = strtoull(val, &end, 10);
                if (!*val || *end || errno || val[0] == '-') {
                    fprintf(stderr, "courier run: --seed: '%s' is not a non-negative integer\n",
                            val);
                    return 2;
                }
                o.seed_set = true;
                o.seed = v;
            } else {
                char *end;
                errno = 0;
                double v = strtod(val, &end);
                if (!*val || *end || errno || !isfinite(v) || v < SIM_CLOCK_MIN_SPEED ||
                    v > SIM_CLOCK_MAX_SPEED) {
                    fprintf(stderr, "courier run: --speed: '%s' is not a number in %g..%g\n", val,
                            SIM_CLOCK_MIN_SPEED, SIM_CLOCK_MAX_SPEED);
                    return 2;
                }
                o.speed = v;
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "courier run: unknown option '%s' (try courier run --help)\n", a);
            return 2;
        } else if (path) {
            fprintf(stderr, "courier run: one scenario at a time ('%s' and '%s')\n", path, a);
            return 2;
        } else {
            path = a;
        }
    }
    if (!path) {
        fprintf(stderr, "courier run: which scenario? (courier run SCENARIO.json; see "
                        "scenarios/)\n");
        return 2;
    }
    if (headless && view) {
        fprintf(stderr, "courier run: --headless and --view exclude each other\n");
        return 2;
    }

    char err[1024];
    sim_scenario *s;
    if (sim_scenario_load(path, &s, err, sizeof err)) {
        fprintf(stderr, "courier run: %s\n", err);
        return 2;
    }
    if (bootstrap && sim_foreign_refuse(s, bootstrap, "courier run: ")) {
        sim_scenario_free(s);
        return 2;
    }
    if (!headless && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
        fprintf(stderr, "courier run: the view needs a terminal on stdin and stdout (use "
                        "--headless for scripts)\n");
        sim_scenario_free(s);
        return 2;
    }
    o.trace_path = trace;
    o.bootstrap = bootstrap;
    o.ring_capacity = headless ? 0 : SIM_VIEW_RING_CAPACITY;
    sim_runner *r;
    if (sim_runner_new(s, &o, &r, err, sizeof err)) {
        fprintf(stderr, "courier run: %s: %s\n", path, err);
        sim_scenario_free(s);
        return 2;
    }
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    interrupted = 0;

    int rc = 0;
    if (sim_runner_start(r, err, sizeof err)) {
        fprintf(stderr, "courier run: cannot start: %s\n", err);
        rc = 1;
    } else if (headless) {
        bool tty = isatty(STDOUT_FILENO) && !strcmp(report, "text");
        bool stopping = false;
        while (!sim_runner_wait(r, 200)) {
            if (interrupted && !stopping) {
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
    } else {
        sim_view_opts vo = {.lang = !strcmp(lang, "zh") ? SIM_LANG_ZH : SIM_LANG_EN};
        if (sim_view_main(r, &vo)) {
            rc = 2;
        }
        sim_runner_stop(r);
        sim_runner_wait(r, -1);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (rc == 0) {
        sim_audit a;
        sim_runner_audit(r, &a);
        if (!strcmp(report, "json")) {
            sim_audit_print_json(&a, s, stdout);
        } else {
            sim_audit_print_text(&a, s, stdout);
            if (sim_runner_foreign(r))
                sim_foreign_print_map(sim_runner_foreign(r), stdout);
        }
        int unmet = sim_audit_check(&a, s, stderr);
        if (a.log_read_error) {
            /* lost/duplicated/reordered cannot be trusted: the run did not pass */
            fprintf(stderr, "courier run: audit incomplete, the logs could not be read: %s\n",
                    a.log_error);
            unmet++;
        }
        if (!strcmp(report, "text") && s->n_expect)
            fprintf(stdout, "expect: %s\n", unmet ? "UNMET (see above)" : "all met");
        fflush(stdout);
        rc = unmet ? 1 : 0;
    }
    sim_runner_destroy(r);
    sim_scenario_free(s);
    return rc;
}
