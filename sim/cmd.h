/* sim/cmd.h — the `courier` subcommands. Each returns the process exit code
 * (0 ok, 1 failure or unmet expectation, 2 bad usage or bad input). Each declares its options
 * in a sim_cmd_spec (sim/cli.h), listed in sim_commands[] (sim/cli.c). */
#ifndef COURIER_SIM_CMD_H
#define COURIER_SIM_CMD_H

#include "sim/cli.h"
#include "sim/clock.h"

#include <stddef.h>

int sim_cmd_broker(int argc, char **argv);  /* sim/cmd_broker.c: standalone mock cluster */
int sim_cmd_produce(int argc, char **argv); /* sim/cmd_produce.c: kcat -P style producer */
int sim_cmd_run(int argc, char **argv);     /* sim/cmd_run.c: play a scenario */
int sim_cmd_demo(int argc, char **argv);    /* sim/cmd_demo.c: live view, default scenario */
int sim_cmd_labs(int argc, char **argv);    /* sim/labs.c: list the built-in labs */
int sim_cmd_proxy(int argc, char **argv);   /* sim/cmd_proxy.c: fault proxy for any cluster */
int sim_cmd_consume(int argc, char **argv); /* sim/cmd_consume.c: kcat -C style reader */
int sim_cmd_replay(int argc, char **argv);  /* sim/cmd_replay.c: play back a recording */

extern const sim_cmd_spec sim_cmd_broker_spec;
extern const sim_cmd_spec sim_cmd_produce_spec;
extern const sim_cmd_spec sim_cmd_run_spec;
extern const sim_cmd_spec sim_cmd_demo_spec;
extern const sim_cmd_spec sim_cmd_labs_spec;
extern const sim_cmd_spec sim_cmd_proxy_spec;
extern const sim_cmd_spec sim_cmd_consume_spec;
extern const sim_cmd_spec sim_cmd_replay_spec;

/* The options several commands share, spelled and decided the same way everywhere. */
extern const char *const sim_lang_choices[]; /* "en", "zh" */
#define SIM_OPT_SPEED(id)                                                                      \
    {(id), 0, "speed", SIM_OPT_DOUBLE, "X", SIM_CLOCK_MIN_SPEED, SIM_CLOCK_MAX_SPEED, NULL,   \
     false,                                                                                    \
     "simulation speed (default 1): 10 runs ten times faster; linger, timeouts, lags and the " \
     "rate all scale"}
#define SIM_OPT_SEED_OPT(id)                                                                   \
    {(id), 0, "seed", SIM_OPT_SEED, "N", 0, 0, NULL, false,                                    \
     "the workload's random seed (a whole number, 0..18446744073709551615)"}
#define SIM_OPT_LANG(id)                                                                       \
    {(id), 0, "lang", SIM_OPT_ENUM, NULL, 0, 0, sim_lang_choices, false,                       \
     "labels in English or Chinese (default en)"}

/* The path of a built-in lab: `name` as given when it is a file, else NAME.json (or
 * more/NAME.json) under ./scenarios, then under the installed share folder (next to the
 * binary: BIN/../share/courier/scenarios, then the compiled-in PREFIX). Returns 0 and the
 * path in out, or -1 with one sentence in errbuf that says where it looked. */
int sim_lab_find(const char *name, char *out, size_t size, char *errbuf, size_t errsize);

/* The folder of the built-in scenarios (for `courier labs`), or NULL when none is found. */
const char *sim_scenarios_dir(char *out, size_t size);

/* Row i of the labs table (scenario name as "more/NAME" when it is in scenarios/more/, lab page,
 * the question as in docs/labs/README.md). Returns -1 past the last row. */
int sim_labs_row(size_t i, const char **scenario, const char **page, const char **question);

#endif
