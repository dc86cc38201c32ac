/* The `courier` command line (see cli.h): the table-driven option parser, the help and man
 * pages generated from the same tables, and the escaping of user input in messages. */
#include "sim/cli.h"
#include "sim/cmd.h"
#include "sim/version.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const sim_cmd_spec *const sim_commands[] = {
    &sim_cmd_demo_spec,
    &sim_cmd_run_spec,
    &sim_cmd_labs_spec,
    &sim_cmd_broker_spec,
    &sim_cmd_produce_spec,
    &sim_cmd_consume_spec,
    &sim_cmd_proxy_spec,
    &sim_cmd_replay_spec,
    NULL,
};

const char *const sim_lang_choices[] = {"en", "zh", NULL};

/* The producer keys `courier produce -X` completes (tests/test_sim_cli.c checks that the
 * producer knows each one). */
const char *const sim_producer_keys[] = {
    "client.id",
    "acks",
    "linger.ms",
    "batch.size",
    "buffer.memory",
    "max.block.ms",
    "max.request.size",
    "retries",
    "retry.backoff.ms",
    "retry.backoff.max.ms",
    "delivery.timeout.ms",
    "request.timeout.ms",
    "max.in.flight.requests.per.connection",
    "enable.idempotence",
    "metadata.max.age.ms",
    "reconnect.backoff.ms",
    "reconnect.backoff.max.ms",
    "partitioner",
    "partitioner.ignore.keys",
    "key.serializer",
    "value.serializer",
    "compression.type",
    "compression.gzip.level",
    "compression.zstd.level",
    NULL,
};

const sim_cmd_spec *sim_command_find(const char *name) {
    for (int i = 0; sim_commands[i]; i++)
        if (!strcmp(sim_commands[i]->name, name))
            return sim_commands[i];
    return NULL;
}

/* ---- escaping ------------------------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 when it is not valid (overlong
 * forms, surrogates and values over U+10FFFF are not valid). */
static size_t utf8_len(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    unsigned cp = c & (0x3fu >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    if (cp >= 0x80 && cp <= 0x9f) /* C1 controls (0x9b is CSI on some terminals) */
        return 0;
    return len;
}

char *sim_escape_n(const char *s, size_t len, char *out, size_t size) {
    if (size == 0)
        return out;
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        char piece[8];
        size_t plen;
        unsigned c = p[i];
        size_t u = c >= 0x80 ? utf8_len(p + i, len - i) : 0;
        if (u > 0) {
            memcpy(piece, p + i, u);
            plen = u;
            i += u;
        } else {
            i++;
            if (c == '\n')
                plen = (size_t)snprintf(piece, sizeof piece, "\\n");
            else if (c == '\t')
                plen = (size_t)snprintf(piece, sizeof piece, "\\t");
            else if (c == '\r')
                plen = (size_t)snprintf(piece, sizeof piece, "\\r");
            else if (c == 0x1b)
                plen = (size_t)snprintf(piece, sizeof piece, "\\e");
            else if (c < 0x20 || c >= 0x7f)
                plen = (size_t)snprintf(piece, sizeof piece, "\\x%02x", c);
            else {
                piece[0] = (char)c;
                plen = 1;
            }
        }
        if (o + plen + 1 > size || (i < len && o + plen + 4 > size)) {
            /* no room for this piece (and "..." after it): cut here */
            size_t keep = size >= 4 ? size - 4 : 0;
            if (o > keep) {
                o = keep;
                /* never cut inside a UTF-8 sequence: out[o] was written, back to its lead */
                while (o > 0 && ((unsigned char)out[o] & 0xc0) == 0x80)
                    o--;
            }
            if (size >= 4) {
                memcpy(out + o, "...", 3);
                o += 3;
            }
            break;
        }
        memcpy(out + o, piece, plen);
        o += plen;
    }
    out[o] = '\0';
    return out;
}

char *sim_escape(const char *s, char *out, size_t size) {
    return sim_escape_n(s ? s : "", s ? strlen(s) : 0, out, size);
}

char *sim_format_number(double v, char *out, size_t size) {
    if (!isfinite(v)) {
        snprintf(out, size, "%s", isnan(v) ? "nan" : v < 0 ? "-inf" : "inf");
    } else if (v == floor(v) && fabs(v) < 9007199254740992.0) {
        snprintf(out, size, "%.0f", v);
    } else {
        /* the shortest %g that reads back as the same double */
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(out, size, "%.*g", prec, v);
            if (strtod(out, NULL) == v)
                break;
        }
    }
    return out;
}

/* ---- deciding one argument ---------------------------------------------------------------- */

typedef enum { NUM_NOT, NUM_DIGITS, NUM_DECIMAL } num_shape;

/* The shape of text: [+-]digits (NUM_DIGITS), a decimal number with a fraction or exponent
 * (NUM_DECIMAL), or not a number at all (no hex, no inf/nan, no spaces). */
static num_shape shape_of(const char *s) {
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    size_t digits = strspn(p, "0123456789");
    p += digits;
    bool decimal = false;
    if (*p == '.') {
        size_t frac = strspn(p + 1, "0123456789");
        if (digits == 0 && frac == 0)
            return NUM_NOT;
        p += 1 + frac;
        decimal = true;
    } else if (digits == 0) {
        return NUM_NOT;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        size_t exp = strspn(p, "0123456789");
        if (exp == 0)
            return NUM_NOT;
        p += exp;
        decimal = true;
    }
    if (*p)
        return NUM_NOT;
    return decimal ? NUM_DECIMAL : NUM_DIGITS;
}

static void range_text(const sim_opt *o, char *out, size_t size) {
    char lo[40], hi[40];
    if (o->kind == SIM_OPT_SEED)
        snprintf(out, size, "0..18446744073709551615");
    else
        snprintf(out, size, "%s..%s", sim_format_number(o->lo, lo, sizeof lo),
                 sim_format_number(o->hi, hi, sizeof hi));
}

int sim_cli_decide(const sim_opt *o, const char *text, sim_cli_arg *out, char *errbuf,
                   size_t errsize) {
    char q[160], range[64];
    sim_escape(text, q, sizeof q);
    memset(out, 0, sizeof *out);
    out->opt = o;
    out->text = text;
    switch (o->kind) {
    case SIM_OPT_FLAG:
        return 0;
    case SIM_OPT_STRING:
        if (!*text) {
            snprintf(errbuf, errsize, "the %s is empty", o->arg ? o->arg : "value");
            return -1;
        }
        return 0;
    case SIM_OPT_ENUM: {
        char list[128] = "";
        size_t n = 0;
        for (int i = 0; o->choices[i]; i++) {
            if (!strcmp(o->choices[i], text)) {
                out->choice = i;
                return 0;
            }
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s",
                                  !i                  ? ""
                                  : o->choices[i + 1] ? ", "
                                                      : " or ",
                                  o->choices[i]);
            if (n >= sizeof list)
                n = sizeof list - 1;
        }
        snprintf(errbuf, errsize, "'%s' is not %s", q, list);
        return -1;
    }
    case SIM_OPT_INT:
    case SIM_OPT_SEED:
    case SIM_OPT_DOUBLE:
        break;
    }
    range_text(o, range, sizeof range);
    num_shape sh = shape_of(text);
    if (sh == NUM_NOT) {
        snprintf(errbuf, errsize, "'%s' is not a number (%s)", q, range);
        return -1;
    }
    if (o->kind == SIM_OPT_DOUBLE) {
        errno = 0;
        double v = strtod(text, NULL);
        if (errno == ERANGE || !isfinite(v) || v < o->lo || v > o->hi) {
            snprintf(errbuf, errsize, "%s is out of range (%s)", q, range);
            return -1;
        }
        out->d = v;
        return 0;
    }
    if (sh == NUM_DECIMAL) {
        snprintf(errbuf, errsize, "%s is not a whole number in decimal digits (%s)", q, range);
        return -1;
    }
    errno = 0;
    if (o->kind == SIM_OPT_SEED) {
        unsigned long long v = strtoull(text, NULL, 10);
        if (errno == ERANGE || text[0] == '-') {
            /* "-0" is zero, any other negative number is out of range */
            if (!(text[0] == '-' && strspn(text + 1, "0") == strlen(text + 1))) {
                snprintf(errbuf, errsize, "%s is out of range (%s)", q, range);
                return -1;
            }
            v = 0;
        }
        out->u = (uint64_t)v;
        return 0;
    }
    long long v = strtoll(text, NULL, 10);
    if (errno == ERANGE || (double)v < o->lo || (double)v > o->hi) {
        snprintf(errbuf, errsize, "%s is out of range (%s)", q, range);
        return -1;
    }
    out->i = (int64_t)v;
    return 0;
}

/* ---- parsing a command line ---------------------------------------------------------------- */

static const sim_opt *find_long(const sim_opt *opts, const char *name, size_t len) {
    for (const sim_opt *o = opts; o->id; o++)
        if (o->long_name && strlen(o->long_name) == len && !strncmp(o->long_name, name, len))
            return o;
    return NULL;
}

static const sim_opt *find_short(const sim_opt *opts, char c) {
    for (const sim_opt *o = opts; o->id; o++)
        if (o->short_name && o->short_name == c)
            return o;
    return NULL;
}

/* "--seed" or "-s" for messages. */
static const char *spelling(const sim_opt *o, char *buf, size_t size) {
    if (o->long_name)
        snprintf(buf, size, "--%s", o->long_name);
    else
        snprintf(buf, size, "-%c", o->short_name);
    return buf;
}

void sim_cli_args_free(sim_cli_args *a) {
    free(a->v);
    free(a->operands);
    memset(a, 0, sizeof *a);
}

int sim_cli_parse(const sim_cmd_spec *cmd, int argc, char **argv, sim_cli_args *out, char *errbuf,
                  size_t errsize) {
    memset(out, 0, sizeof *out);
    size_t n = argc > 0 ? (size_t)argc : 1;
    out->v = calloc(n, sizeof *out->v);
    out->operands = calloc(n, sizeof *out->operands);
    if (!out->v || !out->operands) {
        sim_cli_args_free(out);
        snprintf(errbuf, errsize, "out of memory");
        return -1;
    }
    bool only_operands = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char q[160], sp[64];
        if (only_operands || a[0] != '-' || !a[1]) {
            out->operands[out->n_operands++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            only_operands = true;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            out->help = true;
            continue;
        }
        const sim_opt *o;
        const char *val = NULL; /* attached: --x=VAL or -xVAL */
        if (a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
            o = find_long(cmd->opts, a + 2, len);
            if (eq)
                val = eq + 1;
        } else {
            o = find_short(cmd->opts, a[1]);
            if (a[2])
                val = a + 2;
        }
        if (!o) {
            snprintf(errbuf, errsize, "unknown option '%s'", sim_escape(a, q, sizeof q));
            goto fail;
        }
        spelling(o, sp, sizeof sp);
        if (o->kind == SIM_OPT_FLAG) {
            if (val) {
                snprintf(errbuf, errsize, "%s takes no value ('%s')", sp,
                         sim_escape(a, q, sizeof q));
                goto fail;
            }
        } else if (!val) {
            if (i + 1 >= argc) {
                snprintf(errbuf, errsize, "%s needs a value (%s)", sp, o->arg ? o->arg : "");
                goto fail;
            }
            val = argv[++i];
        }
        sim_cli_arg *r = &out->v[out->n++];
        char why[256];
        if (sim_cli_decide(o, val ? val : "", r, why, sizeof why)) {
            snprintf(errbuf, errsize, "%s: %s", sp, why);
            goto fail;
        }
        if (o->kind == SIM_OPT_FLAG)
            r->text = NULL;
    }
    if (out->help)
        return 0;
    if ((int)out->n_operands < cmd->min_operands) {
        snprintf(errbuf, errsize, "which %s? (courier %s %s)",
                 cmd->operands ? cmd->operands : "operand", cmd->name,
                 cmd->operands ? cmd->operands : "");
        goto fail;
    }
    if ((int)out->n_operands > cmd->max_operands) {
        char q[160];
        sim_escape(out->operands[cmd->max_operands], q, sizeof q);
        if (cmd->max_operands == 0)
            snprintf(errbuf, errsize, "unexpected argument '%s'", q);
        else
            snprintf(errbuf, errsize, "one %s at a time ('%s' is one too many)",
                     cmd->operands ? cmd->operands : "operand", q);
        goto fail;
    }
    return 0;
fail:
    sim_cli_args_free(out);
    return -1;
}

int sim_cli_begin(const sim_cmd_spec *cmd, int argc, char **argv, sim_cli_args *out) {
    char err[512];
    if (sim_cli_parse(cmd, argc, argv, out, err, sizeof err)) {
        fprintf(stderr, "courier %s: %s (try courier %s --help)\n", cmd->name, err, cmd->name);
        return 2;
    }
    if (out->help) {
        sim_cli_print_help(stdout, cmd);
        sim_cli_args_free(out);
        return 0;
    }
    return -1;
}

const sim_cli_arg *sim_cli_last(const sim_cli_args *a, int id) {
    for (size_t i = a->n; i-- > 0;)
        if (a->v[i].opt->id == id)
            return &a->v[i];
    return NULL;
}

/* ---- help ---------------------------------------------------------------------------------- */

/* "-b, --brokers N" / "--lang en|zh" */
static void opt_label(const sim_opt *o, char *out, size_t size) {
    size_t n = 0;
    if (o->short_name)
        n += (size_t)snprintf(out + n, size - n, "-%c%s", o->short_name, o->long_name ? ", " : "");
    if (o->long_name && n < size)
        n += (size_t)snprintf(out + n, size - n, "--%s", o->long_name);
    if (o->kind == SIM_OPT_ENUM) {
        for (int i = 0; o->choices[i] && n < size; i++)
            n += (size_t)snprintf(out + n, size - n, "%s%s", i ? "|" : " ", o->choices[i]);
    } else if (o->kind != SIM_OPT_FLAG && n < size) {
        snprintf(out + n, size - n, " %s", o->arg ? o->arg : "VALUE");
    }
}

/* The range appended to a numeric option's help line. */
static void opt_range(const sim_opt *o, char *out, size_t size) {
    out[0] = '\0';
    if (o->kind == SIM_OPT_INT || o->kind == SIM_OPT_DOUBLE) {
        char r[64];
        range_text(o, r, sizeof r);
        snprintf(out, size, " [%s]", r);
    }
}

/* Writes text filled to 79 columns, each line after the first indented by `indent` (the first
 * starts at column `col`). Words are never split. */
static void put_filled(FILE *f, const char *text, size_t len, int col, int indent) {
    const char *p = text, *end = text + len;
    bool first = true;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\n'))
            p++;
        const char *w = p;
        while (p < end && *p != ' ' && *p != '\n')
            p++;
        int wl = (int)(p - w);
        if (wl == 0)
            break;
        if (!first && col + 1 + wl > 79) {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
        } else if (!first) {
            fputc(' ', f);
            col++;
        }
        fwrite(w, 1, (size_t)wl, f);
        col += wl;
        first = false;
    }
}

/* Paragraphs separated by blank lines: filled, except those whose lines start with two spaces
 * (kept as written). */
static void put_paragraphs(FILE *f, const char *text) {
    const char *p = text;
    while (*p) {
        const char *end = strstr(p, "\n\n");
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 2 && p[0] == ' ' && p[1] == ' ')
            fwrite(p, 1, len, f);
        else
            put_filled(f, p, len, 0, 0);
        fputs("\n", f);
        p += len;
        if (*p)
            fputs("\n", f);
        while (*p == '\n')
            p++;
    }
}

static void synopsis(FILE *f, const sim_cmd_spec *cmd) {
    fprintf(f, "usage: courier %s [options]%s%s\n", cmd->name, cmd->operands ? " " : "",
            cmd->operands ? cmd->operands : "");
}

void sim_cli_print_help(FILE *f, const sim_cmd_spec *cmd) {
    synopsis(f, cmd);
    fputs("\n", f);
    put_paragraphs(f, cmd->description);
    fputs("\noptions:\n", f);
    int width = 14;
    for (const sim_opt *o = cmd->opts; o->id; o++) {
        char l[96];
        opt_label(o, l, sizeof l);
        if ((int)strlen(l) > width)
            width = (int)strlen(l);
    }
    if (width > 26)
        width = 26;
    fprintf(f, "  %-*s  %s\n", width, "-h, --help", "this help");
    for (const sim_opt *o = cmd->opts; o->id; o++) {
        char l[96], r[80], line[600];
        opt_label(o, l, sizeof l);
        opt_range(o, r, sizeof r);
        if ((int)strlen(l) > width)
            fprintf(f, "  %s\n  %-*s  ", l, width, "");
        else
            fprintf(f, "  %-*s  ", width, l);
        int n = snprintf(line, sizeof line, "%s%s", o->help, r);
        put_filled(f, line, n > 0 ? (size_t)n : 0, width + 4, width + 4);
        fputs("\n", f);
    }
    if (cmd->footer) {
        fputs("\n", f);
        put_paragraphs(f, cmd->footer);
    }
}

void sim_cli_print_usage(FILE *f) {
    fprintf(f, "usage: courier <command> [options]\n\ncommands:\n");
    for (int i = 0; sim_commands[i]; i++)
        fprintf(f, "  %-10s %s\n", sim_commands[i]->name, sim_commands[i]->summary);
    fprintf(f, "\n`courier <command> --help` describes each command (man courier-<command> "
               "too);\n`courier --version` prints the version. Docs: docs/README.md\n");
}

void sim_cli_print_options(FILE *f, const sim_cmd_spec *cmd) {
    fprintf(f, "-h\n--help\n");
    for (const sim_opt *o = cmd->opts; o->id; o++) {
        if (o->short_name)
            fprintf(f, "-%c", o->short_name);
        if (o->short_name && o->long_name)
            fprintf(f, "\n");
        if (o->long_name)
            fprintf(f, "--%s", o->long_name);
        if (o->kind == SIM_OPT_ENUM) {
            fprintf(f, "\t");
            for (int i = 0; o->choices[i]; i++)
                fprintf(f, "%s%s", i ? " " : "", o->choices[i]);
        } else if (o->kind == SIM_OPT_STRING && o->arg && strstr(o->arg, "FILE")) {
            fprintf(f, "\t@file");
        } else if (o->kind != SIM_OPT_FLAG) {
            fprintf(f, "\t@value");
        }
        fprintf(f, "\n");
    }
}

/* ---- man pages ------------------------------------------------------------------------------ */

/* Writes text for roff: backslashes and hyphens escaped, no line starting with '.' or '\''. */
static void roff_text(FILE *f, const char *s, size_t len) {
    bool bol = true;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (bol && (c == '.' || c == '\''))
            fputs("\\&", f);
        bol = c == '\n';
        if (c == '\\')
            fputs("\\e", f);
        else if (c == '-')
            fputs("\\-", f);
        else
            fputc(c, f);
    }
}

/* Paragraphs separated by blank lines; a paragraph whose lines start with two spaces is kept
 * as written (.nf), the others are filled. */
static void roff_paragraphs(FILE *f, const char *text) {
    const char *p = text;
    while (*p) {
        const char *end = strstr(p, "\n\n");
        size_t len = end ? (size_t)(end - p) : strlen(p);
        bool literal = len > 2 && p[0] == ' ' && p[1] == ' ';
        for (size_t i = 0; i + 1 < len && !literal; i++)
            if (p[i] == '\n' && p[i + 1] == ' ' && i + 2 < len && p[i + 2] == ' ')
                literal = true;
        fputs(".PP\n", f);
        if (literal)
            fputs(".nf\n", f);
        roff_text(f, p, len);
        fputs(literal ? "\n.fi\n" : "\n", f);
        p += len;
        while (*p == '\n')
            p++;
    }
}

static void man_header(FILE *f, const char *title, const char *name, const char *summary) {
    fprintf(f, ".TH %s 1 \"\" \"courier %s\" \"Courier manual\"\n.SH NAME\n", title, sim_version());
    roff_text(f, name, strlen(name));
    fputs(" \\- ", f);
    roff_text(f, summary, strlen(summary));
    fputs("\n", f);
}

static void man_command(FILE *f, const sim_cmd_spec *cmd) {
    char title[64], name[64];
    snprintf(name, sizeof name, "courier-%s", cmd->name);
    size_t i = 0;
    for (; name[i] && i + 1 < sizeof title; i++)
        title[i] = (name[i] >= 'a' && name[i] <= 'z') ? (char)(name[i] - 32) : name[i];
    title[i] = '\0';
    man_header(f, title, name, cmd->summary);
    fprintf(f, ".SH SYNOPSIS\n.B courier %s\n[\\fIoptions\\fR]", cmd->name);
    if (cmd->operands) {
        fputs(" \\fI", f);
        roff_text(f, cmd->operands, strlen(cmd->operands));
        fputs("\\fR", f);
    }
    fputs("\n.SH DESCRIPTION\n", f);
    roff_paragraphs(f, cmd->description);
    fputs(".SH OPTIONS\n.TP\n.BR \\-h \", \" \\-\\-help\nthis help\n", f);
    for (const sim_opt *o = cmd->opts; o->id; o++) {
        fputs(".TP\n", f);
        bool any = false;
        if (o->short_name) {
            fprintf(f, "\\fB\\-%c\\fR", o->short_name);
            any = true;
        }
        if (o->long_name) {
            fprintf(f, "%s\\fB\\-\\-", any ? ", " : "");
            roff_text(f, o->long_name, strlen(o->long_name));
            fputs("\\fR", f);
        }
        if (o->kind == SIM_OPT_ENUM) {
            fputs(" ", f);
            for (int k = 0; o->choices[k]; k++)
                fprintf(f, "%s\\fB%s\\fR", k ? "|" : "", o->choices[k]);
        } else if (o->kind != SIM_OPT_FLAG) {
            fputs(" \\fI", f);
            const char *arg = o->arg ? o->arg : "VALUE";
            roff_text(f, arg, strlen(arg));
            fputs("\\fR", f);
        }
        fputs("\n", f);
        char r[80];
        opt_range(o, r, sizeof r);
        roff_text(f, o->help, strlen(o->help));
        roff_text(f, r, strlen(r));
        fputs("\n", f);
    }
    if (cmd->footer) {
        fputs(".SH NOTES\n", f);
        roff_paragraphs(f, cmd->footer);
    }
    fputs(".SH SEE ALSO\n.BR courier (1)\n", f);
}

static void man_program(FILE *f) {
    man_header(f, "COURIER", "courier", "the Kafka producer teaching simulator");
    fputs(".SH SYNOPSIS\n.B courier\n\\fIcommand\\fR [\\fIoptions\\fR]\n.br\n"
          ".B courier \\-\\-version\n.SH DESCRIPTION\n",
          f);
    roff_paragraphs(f, "Courier is a teaching simulator of the Apache Kafka producer: a real "
                       "producer pipeline and a mock Kafka cluster that talk the real Kafka wire "
                       "protocol over loopback TCP, a live view of every stage, and classroom "
                       "labs (built-in scenarios) that each answer one question about the "
                       "producer.");
    fputs(".SH COMMANDS\n", f);
    for (int i = 0; sim_commands[i]; i++) {
        fprintf(f, ".TP\n.B %s\n", sim_commands[i]->name);
        roff_text(f, sim_commands[i]->summary, strlen(sim_commands[i]->summary));
        fprintf(f, " (see\n.BR courier\\-%s (1)).\n", sim_commands[i]->name);
    }
    fputs(".TP\n.B version\nprint the version (also \\fB\\-\\-version\\fR).\n", f);
    fputs(".SH FILES\n.TP\n.I PREFIX/share/courier/scenarios/\nthe built-in labs; "
          "\\fBcourier run\\fR \\fINAME\\fR looks in ./scenarios first, then here.\n"
          ".TP\n.I PREFIX/share/doc/courier/\nthe documentation (README.md, docs/).\n",
          f);
    fputs(".SH SEE ALSO\n", f);
    for (int i = 0; sim_commands[i]; i++)
        fprintf(f, ".BR courier\\-%s (1)%s\n", sim_commands[i]->name,
                sim_commands[i + 1] ? "," : "");
}

void sim_cli_print_man(FILE *f, const sim_cmd_spec *cmd) {
    if (cmd)
        man_command(f, cmd);
    else
        man_program(f);
}
