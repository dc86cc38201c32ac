/* courier — the Kafka producer teaching simulator. Dispatches to the subcommands listed in
 * sim_commands[] (sim/cli.c). */
#include "sim/cli.h"
#include "sim/cmd.h"
#include "sim/group_member.h"
#include "sim/sig.h"
#include "sim/version.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    /* Before any thread exists: every thread inherits the mask, so SIGINT and SIGTERM wait
     * for the command's one place that takes them (sim/sig.h). */
    sim_signals_block();
    if (argc < 2) {
        sim_cli_print_usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        const sim_cmd_spec *c = argc > 2 ? sim_command_find(argv[2]) : NULL;
        if (c)
            sim_cli_print_help(stdout, c);
        else
            sim_cli_print_usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V") || !strcmp(cmd, "version")) {
        printf("courier %s\n", sim_version());
        return 0;
    }
    /* For the build and the shell completion: the commands, a man page, a command's options,
     * the producer's keys. */
    if (!strcmp(cmd, "--commands")) {
        for (int i = 0; sim_commands[i]; i++)
            printf("%s\n", sim_commands[i]->name);
        return 0;
    }
    if (!strcmp(cmd, "--producer-keys")) {
        for (int i = 0; sim_producer_keys[i]; i++)
            printf("%s=\n", sim_producer_keys[i]);
        return 0;
    }
    if (!strcmp(cmd, "--consumer-keys")) { /* courier consume -G -X */
        for (int i = 0; sim_gm_keys[i]; i++)
            printf("%s=\n", sim_gm_keys[i]);
        return 0;
    }
    if (!strcmp(cmd, "--man") || !strcmp(cmd, "--options")) {
        const sim_cmd_spec *c = argc > 2 ? sim_command_find(argv[2]) : NULL;
        if (argc > 2 && !c) {
            char q[160];
            fprintf(stderr, "courier: %s: unknown command '%s'\n", cmd,
                    sim_escape(argv[2], q, sizeof q));
            return 2;
        }
        if (!strcmp(cmd, "--man"))
            sim_cli_print_man(stdout, c);
        else if (c)
            sim_cli_print_options(stdout, c);
        return 0;
    }
    const sim_cmd_spec *c = sim_command_find(cmd);
    if (c)
        return c->main(argc - 1, argv + 1);
    char q[160];
    fprintf(stderr, "courier: unknown command '%s' (try courier --help)\n",
            sim_escape(cmd, q, sizeof q));
    return 2;
}
