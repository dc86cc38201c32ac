/* courier demo — the live view on the built-in default scenario, until `q`.
 *
 *   courier demo [--lang en|zh] [--speed X] [--seed N] [--fps N] [--no-color]
 *
 * The default scenario is embedded in the binary (sim/scenario.h); the view is sim/view.c.
 * After `q` the screen is restored and the audit is printed; the exit code is 0. */
#include "sim/cmd.h"
#include "sim/runner.h"
#include "sim/scenario.h"
#include "sim/view.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: courier demo [--lang en|zh] [--speed X] [--seed N] [--fps N] [--no-color]\n"
            "\n"
            "Opens the live view on the built-in default scenario and runs until q.\n"
            "Keys: space pause, s step, +/- speed, k/u broker down/up, l move leader,\n"
            "e inject error, d drop responses, r add RTT, t trace, ? help, q quit.\n");
}

static int parse_double(const char *flag, const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "courier demo: %s: '%s' is not a number in %g..%g\n", flag, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int sim_cmd_demo(int argc, char **argv) {
    sim_view_opts vo;
    memset(&vo, 0, sizeof vo);
    sim_run_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.speed = 1.0;
    ro.ring_capacity = SIM_VIEW_RING_CAPACITY;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--no-color")) {
            vo.no_color = true;
        } else if (!strcmp(a, "--lang") || !strcmp(a, "--speed") || !strcmp(a, "--seed") ||
                   !strcmp(a, "--fps")) {
            if (!v) {
                fprintf(stderr, "courier demo: %s needs a value\n", a);
                return 2;
            }
            i++;
            double d;
            if (!strcmp(a, "--lang")) {
                if (!strcmp(v, "zh"))
                    vo.lang = SIM_LANG_ZH;
                else if (!strcmp(v, "en"))
                    vo.lang = SIM_LANG_EN;
                else {
                    fprintf(stderr, "courier demo: --lang: '%s' is not en or zh\n", v);
                    return 2;
                }
            } else if (!strcmp(a, "--speed")) {
                if (parse_double(a, v, SIM_CLOCK_MIN_SPEED, SIM_CLOCK_MAX_SPEED, &d))
                    return 2;
                ro.speed = d;
            } else if (!strcmp(a, "--seed")) {
                if (parse_double(a, v, 0, 9007199254740992.0, &d))
                    return 2;
                if (d != (double)(uint64_t)d) {
                    fprintf(stderr, "courier demo: --seed: '%s' is not a whole number\n", v);
                    return 2;
                }
                ro.seed_set = true;
                ro.seed = (uint64_t)d;
            } else {
                if (parse_double(a, v, 1, 20, &d))
                    return 2;
                vo.fps = (int)d;
            }
        } else {
            fprintf(stderr, "courier demo: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }

    /* Refuse before starting a cluster: the view needs a terminal on both ends. */
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "courier demo: the view needs a terminal on stdin and stdout "
                        "(for scripts: courier run SCENARIO.json --headless)\n");
        return 2;
    }
    char err[512];
    sim_scenario *s = NULL;
    if (sim_scenario_parse(sim_default_scenario_json, strlen(sim_default_scenario_json),
                           sim_default_scenario_name, &s, err, sizeof err)) {
        fprintf(stderr, "courier demo: the built-in scenario does not load: %s\n", err);
        return 1;
    }
    sim_runner *r = NULL;
    if (sim_runner_new(s, &ro, &r, err, sizeof err)) {
        fprintf(stderr, "courier demo: %s\n", err);
        sim_scenario_free(s);
        return 1;
    }
    if (sim_runner_start(r, err, sizeof err)) {
        fprintf(stderr, "courier demo: cannot start: %s\n", err);
        sim_runner_destroy(r);
        sim_scenario_free(s);
        return 1;
    }
    int rc = sim_view_main(r, &vo);
    if (rc == 0) {
        sim_audit a;
        if (sim_runner_audit(r, &a) == 0)
            sim_audit_print_text(&a, s, stdout);
        else
            fprintf(stderr, "courier demo: the audit could not be computed\n");
    }
    sim_runner_destroy(r);
    sim_scenario_free(s);
    return rc;
}
