/* sim/cli.h — the `courier` command line: one table-driven option parser for every command.
 *
 * Each command declares its options in a table of sim_opt (spelling, argument kind and range,
 * one help line) and itself in a sim_cmd_spec. The parser, `--help`, the man pages
 * (`courier --man CMD`) and the bash completion (`courier --options CMD`) all read the same
 * tables, so they cannot drift, and an option spelled the same way is decided the same way by
 * every command that has it (tests/test_sim_cli.c checks it over all commands).
 *
 * Adding a command: write its spec next to its main function (see sim/cmd_run.c), declare the
 * spec in sim/cmd.h and list it in sim_commands[] (sim/cli.c). */
#ifndef COURIER_SIM_CLI_H
#define COURIER_SIM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum sim_opt_kind {
    SIM_OPT_FLAG,   /* no argument */
    SIM_OPT_INT,    /* a whole decimal number in [lo, hi] (as int64_t) */
    SIM_OPT_DOUBLE, /* a finite number in [lo, hi] */
    SIM_OPT_SEED,   /* a whole decimal number 0..18446744073709551615 (uint64_t) */
    SIM_OPT_ENUM,   /* one of choices[] */
    SIM_OPT_STRING, /* any text (may be empty only when allow_empty) */
} sim_opt_kind;

typedef struct sim_opt {
    int id;                     /* the command's own identifier for the option (not 0) */
    char short_name;            /* 'b' for -b, or 0 */
    const char *long_name;      /* "brokers" for --brokers, or NULL */
    sim_opt_kind kind;          /* the argument */
    const char *arg;            /* the argument's name in help: "N", "FILE" (not for flags) */
    double lo, hi;              /* SIM_OPT_INT / SIM_OPT_DOUBLE: the accepted range */
    const char *const *choices; /* SIM_OPT_ENUM: NULL-terminated */
    bool repeat;                /* may be given more than once (otherwise the last one wins) */
    const char *help;           /* one line, the same in --help and the man page */
} sim_opt;

typedef struct sim_cmd_spec {
    const char *name;     /* "run" */
    const char *summary;  /* one line: courier --help, the man page's NAME */
    const char *operands; /* after the options in the synopsis: "SCENARIO", or NULL */
    int min_operands, max_operands;
    const char *description; /* paragraphs separated by "\n\n" (plain text) */
    const char *footer;      /* after the options: exit codes, keys (plain text), or NULL */
    const sim_opt *opts;     /* terminated by an entry with id 0 */
    int (*main)(int argc, char **argv);
} sim_cmd_spec;

/* Every command, in the order of `courier --help`; NULL-terminated. */
extern const sim_cmd_spec *const sim_commands[];
const sim_cmd_spec *sim_command_find(const char *name);

/* The producer configuration keys (Kafka's names), NULL-terminated: -X completion. */
extern const char *const sim_producer_keys[];

/* One option as given on the command line, decided. */
typedef struct sim_cli_arg {
    const sim_opt *opt;
    const char *text; /* the argument as given (NULL for flags) */
    int64_t i;        /* SIM_OPT_INT */
    double d;         /* SIM_OPT_DOUBLE */
    uint64_t u;       /* SIM_OPT_SEED */
    int choice;       /* SIM_OPT_ENUM: index into choices */
} sim_cli_arg;

typedef struct sim_cli_args {
    sim_cli_arg *v; /* the options in command-line order */
    size_t n;
    const char **operands;
    size_t n_operands;
    bool help; /* -h / --help was given */
} sim_cli_args;

/* Decides one option's argument `text` by the option's kind and range. On error returns -1
 * and one sentence in errbuf that quotes the text (escaped) and says what is wrong with it. */
int sim_cli_decide(const sim_opt *o, const char *text, sim_cli_arg *out, char *errbuf,
                   size_t errsize);

/* Parses argv[1..argc) (argv[0] is the command's name) against cmd's table: -x VALUE,
 * --long VALUE, --long=VALUE, -xVALUE, `--` ends the options. On success returns 0 and fills
 * *out (free with sim_cli_args_free). On error returns -1 with one sentence in errbuf
 * ("--seed: 1e3 is not a whole number"); *out is then empty. */
int sim_cli_parse(const sim_cmd_spec *cmd, int argc, char **argv, sim_cli_args *out, char *errbuf,
                  size_t errsize);
void sim_cli_args_free(sim_cli_args *a);

/* What commands call first: parses; on --help prints the help to stdout and returns 0; on an
 * error prints "courier CMD: <error> (try courier CMD --help)" to stderr and returns 2;
 * otherwise returns -1 and the caller goes on with *out. */
int sim_cli_begin(const sim_cmd_spec *cmd, int argc, char **argv, sim_cli_args *out);

/* The last value of option id in a (NULL when it was not given). */
const sim_cli_arg *sim_cli_last(const sim_cli_args *a, int id);

/* The help of a command (`courier CMD --help`) and of the program (`courier --help`). */
void sim_cli_print_help(FILE *f, const sim_cmd_spec *cmd);
void sim_cli_print_usage(FILE *f);
/* The man page of a command (cmd NULL: courier(1)), in man(7) roff. */
void sim_cli_print_man(FILE *f, const sim_cmd_spec *cmd);
/* For the completion: every spelling of cmd's options, one a line, "--lang=en|zh" style
 * choices after a tab. */
void sim_cli_print_options(FILE *f, const sim_cmd_spec *cmd);

/* Writes s into out (size bytes, NUL-terminated) with control bytes, backslash, quotes and
 * invalid UTF-8 escaped (\n, \t, \e, \xNN), so quoting user input in a message cannot drive
 * the terminal. Truncates with "..." when out is too small. Returns out. */
char *sim_escape(const char *s, char *out, size_t size);
/* The same for s[0..len) (s may hold NUL bytes). */
char *sim_escape_n(const char *s, size_t len, char *out, size_t size);

/* Formats a number as a reader would have written it: integers exactly when |v| < 2^53,
 * otherwise in %g with at most 17 significant digits (never 309 digits). Returns out. */
char *sim_format_number(double v, char *out, size_t size);

#endif
