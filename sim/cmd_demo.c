/* courier demo — the live view on the built-in default scenario, until `q`.
 *
 * The default scenario is embedded in the binary (sim/scenario.h); the view is sim/view.c.
 * After `q` the screen is restored and the audit is printed; the exit code is 0. */
#include "sim/cmd.h"
#include "sim/foreign.h"
#include "sim/record.h"
#include "sim/runner.h"
#include "sim/scenario.h"
#include "sim/view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { O_LANG = 1, O_SPEED, O_SEED, O_FPS, O_NO_COLOR, O_BOOTSTRAP };
static const sim_opt demo_opts[] = {
    SIM_OPT_LANG(O_LANG),
    SIM_OPT_SPEED(O_SPEED),
    SIM_OPT_SEED_OPT(O_SEED),
    {O_FPS, 0, "fps", SIM_OPT_INT, "N", 1, 20, NULL, false,
     "frames per second of the view (default 20)"},
    {O_NO_COLOR, 0, "no-color", SIM_OPT_FLAG, NULL, 0, 0, NULL, false,
     "plain characters and attributes even when the terminal has colours"},
    {O_BOOTSTRAP, 0, "bootstrap", SIM_OPT_STRING, "HOST:PORT[,...]", 0, 0, NULL, false,
     "the demo's producer against a cluster Courier does not own (its topic parcels is used "
     "or created; the cluster-side faults of the built-in timeline are skipped); "
     "docs/real-cluster.md"},
    {0},
};

const sim_cmd_spec sim_cmd_demo_spec = {
    .name = "demo",
    .summary = "the live view on the built-in default scenario",
    .description = "Opens the live view on the built-in default scenario (a day at the "
                   "company: docs/labs/demo.md) and runs until q; then the screen is restored "
                   "and the audit is printed.",
    .footer = "Keys: space pause, s step, +/- speed, k/u broker down/up, l move leader,\n"
              "e inject error, d drop responses, r add RTT, t trace, ? help, q quit.\n\n"
              "Exit code: 0 after q (or Ctrl-C, SIGTERM), 1 when the run cannot start, 2 bad "
              "usage or no terminal.",
    .opts = demo_opts,
    .main = sim_cmd_demo,
};

int sim_cmd_demo(int argc, char **argv) {
    sim_cli_args args;
    int prc = sim_cli_begin(&sim_cmd_demo_spec, argc, argv, &args);
    if (prc >= 0)
        return prc;
    sim_view_opts vo;
    memset(&vo, 0, sizeof vo);
    sim_run_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.speed = 1.0;
    ro.ring_capacity = SIM_VIEW_RING_CAPACITY;
    for (size_t i = 0; i < args.n; i++) {
        const sim_cli_arg *a = &args.v[i];
        switch (a->opt->id) {
        case O_LANG:
            vo.lang = a->choice == 1 ? SIM_LANG_ZH : SIM_LANG_EN;
            break;
        case O_SPEED:
            ro.speed = a->d;
            break;
        case O_SEED:
            ro.seed_set = true;
            ro.seed = a->u;
            break;
        case O_FPS:
            vo.fps = (int)a->i;
            break;
        case O_NO_COLOR:
            vo.no_color = true;
            break;
        case O_BOOTSTRAP:
            ro.bootstrap = a->text;
            break;
        }
    }
    sim_cli_args_free(&args);

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
    if (ro.bootstrap)
        sim_foreign_keep_network_faults(s, ro.bootstrap, "courier demo: ");
    /* The view's R key records the rest of the run (sim/record.h): a recorder that keeps
     * nothing until then. */
    sim_record *rec = NULL;
    if (sim_record_new_dormant(&rec, sim_default_scenario_json, strlen(sim_default_scenario_json),
                               false) == 0)
        ro.recorder = rec;
    sim_runner *r = NULL;
    if (sim_runner_new(s, &ro, &r, err, sizeof err)) {
        fprintf(stderr, "courier demo: %s\n", err);
        sim_record_destroy(rec);
        sim_scenario_free(s);
        return 1;
    }
    if (sim_runner_start(r, err, sizeof err)) {
        fprintf(stderr, "courier demo: cannot start: %s\n", err);
        sim_runner_destroy(r);
        sim_record_destroy(rec);
        sim_scenario_free(s);
        return 1;
    }
    int rc = sim_view_main(r, &vo);
    if (rc == 0) {
        sim_audit a;
        if (sim_runner_audit(r, &a) == 0) {
            sim_audit_print_text_lang(&a, s, vo.lang == SIM_LANG_ZH, stdout);
            if (rec && sim_record_finish(rec, &a, err, sizeof err))
                fprintf(stderr,
                        vo.lang == SIM_LANG_ZH ? "courier demo: 录制不完整: %s\n"
                                               : "courier demo: the recording is incomplete: %s\n",
                        err);
        } else {
            fprintf(stderr, vo.lang == SIM_LANG_ZH ? "courier demo: 无法计算审计结果\n"
                                                   : "courier demo: the audit could not be computed\n");
        }
    }
    sim_runner_destroy(r);
    sim_record_destroy(rec);
    sim_scenario_free(s);
    return rc;
}
