/* courier produce — not built yet (placeholder until its room lands). */
#include "sim/cmd.h"

#include <stdio.h>

int sim_cmd_produce(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "courier produce: not built yet\n");
    return 1;
}
