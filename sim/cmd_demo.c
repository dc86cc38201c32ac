/* courier demo — not built yet (placeholder until its room lands). */
#include "sim/cmd.h"

#include <stdio.h>

int sim_cmd_demo(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "courier demo: not built yet\n");
    return 1;
}
