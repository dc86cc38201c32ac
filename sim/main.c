/* courier — the Kafka producer teaching simulator. Dispatches to the subcommands. */
#include "sim/cmd.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out, "usage: courier <command> [options]\n"
                 "\n"
                 "commands:\n"
                 "  demo                 the live view on the built-in default scenario\n"
                 "  run SCENARIO.json    play a scenario (view or --headless) and print the audit\n"
                 "  broker               run the mock Kafka cluster for third-party clients\n"
                 "  produce              produce stdin lines to a Kafka cluster (kcat -P style)\n"
                 "  proxy                a fault-injecting TCP proxy in front of any Kafka cluster\n"
                 "\n"
                 "`courier <command> --help` describes each command. Docs: docs/README.md\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "demo"))
        return sim_cmd_demo(argc - 1, argv + 1);
    if (!strcmp(cmd, "run"))
        return sim_cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "broker"))
        return sim_cmd_broker(argc - 1, argv + 1);
    if (!strcmp(cmd, "produce"))
        return sim_cmd_produce(argc - 1, argv + 1);
    if (!strcmp(cmd, "proxy"))
        return sim_cmd_proxy(argc - 1, argv + 1);
    fprintf(stderr, "courier: unknown command '%s' (try courier --help)\n", cmd);
    return 2;
}
