/* sim/cmd.h — the `courier` subcommands. Each returns the process exit code
 * (0 ok, 1 failure or unmet expectation, 2 bad usage or bad input). */
#ifndef COURIER_SIM_CMD_H
#define COURIER_SIM_CMD_H

int sim_cmd_broker(int argc, char **argv);  /* sim/cmd_broker.c: standalone mock cluster */
int sim_cmd_produce(int argc, char **argv); /* sim/cmd_produce.c: kcat -P style producer */
int sim_cmd_run(int argc, char **argv);     /* sim/cmd_run.c: play a scenario */
int sim_cmd_demo(int argc, char **argv);    /* sim/cmd_demo.c: live view, default scenario */
int sim_cmd_proxy(int argc, char **argv);   /* sim/cmd_proxy.c: fault proxy for any cluster */

#endif
