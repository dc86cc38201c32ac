/* The docs tell the truth about the code they describe:
 * - every producer key in docs/config.md's table is accepted by kp_conf_set() with its
 *   documented default, that default is the one kp_conf_new() has, and every key the code's
 *   key table holds is documented; the cluster and workload keys are keys the loader knows;
 * - every `courier run scenarios/X.json` a lab page gives names a scenario that exists, has an
 *   `expect`, and is one the end-to-end suite (tests/test_sim_run.c) runs and checks; every
 *   built-in scenario has a lab page;
 * - `courier --help` and each `courier <command> --help` list exactly the commands and options
 *   README.md documents, and every option a doc page uses on a command line exists;
 * - the C functions (`name_with_underscores()`) and source paths the pages cite exist.
 * Docs are read relative to the repository root (the runner runs from there). */
#include "producer/kp.h"
#include "sim/scenario.h"
#include "tests/test_sim_util.h"
#include "tests/tu.h"

#include <ctype.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------------------------ */

/* Reads a whole file into a NUL-terminated malloc'd buffer (NULL when it cannot). */
static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 4096 + 1 > cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        if (got == 0)
            break;
        n += got;
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

/* A small set of strings. */
#define SET_MAX 128
typedef struct strset {
    int n;
    char v[SET_MAX][64];
} strset;

static bool set_has(const strset *s, const char *x) {
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], x))
            return true;
    return false;
}

static void set_add(strset *s, const char *x, size_t len) {
    char tmp[64];
    if (len >= sizeof tmp)
        len = sizeof tmp - 1;
    memcpy(tmp, x, len);
    tmp[len] = '\0';
    if (!set_has(s, tmp) && s->n < SET_MAX)
        snprintf(s->v[s->n++], sizeof s->v[0], "%s", tmp);
}

/* True when c may be part of an option name. */
static bool optchar(char c) {
    return isalnum((unsigned char)c) || c == '-';
}

/* Adds every option token (-x or --name, preceded by start, space, '[', '|' or '(') found in
 * [p, end) to s. */
static void scan_options(const char *p, const char *end, strset *s) {
    for (const char *q = p; q < end; q++) {
        if (*q != '-' || (q > p && !strchr(" \t[|(`", q[-1])))
            continue;
        const char *t = q + (q + 1 < end && q[1] == '-' ? 2 : 1);
        if (t >= end || !isalpha((unsigned char)*t))
            continue;
        const char *e = t;
        while (e < end && optchar(*e))
            e++;
        if (t - q == 1 && e - t != 1)
            continue; /* a single dash takes a single letter: -X, -b */
        set_add(s, q, (size_t)(e - q));
        q = e - 1;
    }
}

/* The options a `courier <cmd> --help` text describes: the tokens of the usage block (up to
 * the first line that is neither the usage line nor its indented continuation) and the first
 * token of every indented line that starts with a dash. Words in prose ("kcat -P style") are
 * not options. */
static void help_options(const char *help, strset *s) {
    bool in_usage = false;
    for (const char *line = help; *line;) {
        const char *eol = strchr(line, '\n');
        if (!eol)
            eol = line + strlen(line);
        const char *t = line;
        while (t < eol && (*t == ' ' || *t == '\t'))
            t++;
        if (!strncmp(line, "usage:", 6))
            in_usage = true;
        else if (in_usage && !(t > line && *t == '['))
            in_usage = false;
        if (in_usage) {
            scan_options(line, eol, s);
        } else if (t > line && *t == '-') {
            const char *e = t;
            while (e < eol && *e != ' ')
                e++;
            scan_options(t, e, s);
        }
        line = *eol ? eol + 1 : eol;
    }
}

/* The section of a markdown text from the line starting with `heading` up to the next heading
 * of the same level ("## "), as [*start, *end). False when there is no such heading. */
static bool md_section(const char *text, const char *heading, const char **start,
                       const char **end) {
    const char *p = text;
    size_t hl = strlen(heading);
    while (p && *p) {
        if (!strncmp(p, heading, hl)) {
            *start = p;
            const char *q = strstr(p + hl, "\n## ");
            *end = q ? q + 1 : p + strlen(p);
            return true;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return false;
}

/* Reads a backticked cell: `p` points at the cell's first character after '|'. Copies the
 * text between the first pair of backticks into out; false when the cell has none. */
static bool cell_code(const char *p, const char *eol, char *out, size_t size) {
    const char *bar = memchr(p, '|', (size_t)(eol - p));
    const char *cend = bar ? bar : eol;
    const char *a = memchr(p, '`', (size_t)(cend - p));
    if (!a)
        return false;
    const char *b = memchr(a + 1, '`', (size_t)(cend - a - 1));
    if (!b)
        return false;
    snprintf(out, size, "%.*s", (int)(b - a - 1), a + 1);
    return true;
}

/* ---- (1) docs/config.md ------------------------------------------------------------------- */

/* Every row of the producer table: the key is accepted by kp_conf_set() with its documented
 * default, and the default is what a fresh config holds (kp_conf_get). `""` means empty. */
static void test_config_producer_table_matches_kp_conf(void) {
    char *doc = slurp("docs/config.md");
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    const char *s, *e;
    CU_ASSERT_TRUE_FATAL(md_section(doc, "## Producer keys", &s, &e));
    kp_conf *fresh = kp_conf_new();
    kp_conf *set = kp_conf_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(fresh);
    CU_ASSERT_PTR_NOT_NULL_FATAL(set);
    strset documented = {0};
    int rows = 0;
    for (const char *line = s; line < e;) {
        const char *eol = strchr(line, '\n');
        if (!eol || eol > e)
            eol = e;
        char key[64], def[256];
        if (!strncmp(line, "| `", 3) && cell_code(line + 1, eol, key, sizeof key)) {
            const char *c2 = memchr(line + 1, '|', (size_t)(eol - line - 1));
            CU_ASSERT_PTR_NOT_NULL_FATAL(c2);
            bool has_def = cell_code(c2 + 1, eol, def, sizeof def);
            if (!has_def)
                fprintf(stderr, "\n    docs/config.md: %s: default is not in backticks", key);
            CU_ASSERT_TRUE(has_def);
            if (!strcmp(def, "\"\""))
                def[0] = '\0';
            CU_ASSERT_FALSE(set_has(&documented, key)); /* each key once */
            set_add(&documented, key, strlen(key));
            rows++;
            char got[256] = "", err[256] = "";
            kw_err ge = kp_conf_get(fresh, key, got, sizeof got);
            kw_err se = kp_conf_set(set, key, def, err, sizeof err);
            if (ge != KW_ERR_NONE || strcmp(got, def) != 0)
                fprintf(stderr, "\n    docs/config.md: %s: documented default '%s', code has '%s'",
                        key, def, ge == KW_ERR_NONE ? got : "(unknown key)");
            if (se != KW_ERR_NONE)
                fprintf(stderr, "\n    docs/config.md: kp_conf_set(%s, '%s'): %s", key, def, err);
            CU_ASSERT_EQUAL(ge, KW_ERR_NONE);
            CU_ASSERT_STRING_EQUAL(got, def);
            CU_ASSERT_EQUAL(se, KW_ERR_NONE);
        }
        line = eol < e ? eol + 1 : e;
    }
    CU_ASSERT_TRUE(rows >= 20);

    /* The other way round: every key of producer/config.c's table ({"name", T_...}) is
     * documented, and really is accepted (so the scan below reads the right table). */
    char *src = slurp("producer/config.c");
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    int code_keys = 0;
    for (const char *p = strstr(src, "{\""); p; p = strstr(p + 2, "{\"")) {
        const char *q = strchr(p + 2, '"');
        if (!q || strncmp(q, "\", T_", 5) != 0)
            continue;
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)(q - p - 2), p + 2);
        code_keys++;
        char buf[256];
        CU_ASSERT_EQUAL(kp_conf_get(fresh, key, buf, sizeof buf), KW_ERR_NONE);
        if (!set_has(&documented, key))
            fprintf(stderr, "\n    docs/config.md: producer key %s is not documented", key);
        CU_ASSERT_TRUE(set_has(&documented, key));
    }
    CU_ASSERT_TRUE(code_keys >= 20);
    CU_ASSERT_EQUAL(code_keys, rows);
    free(src);
    kp_conf_destroy(fresh);
    kp_conf_destroy(set);
    free(doc);
}

/* A key the producer does not have is refused: the check above would catch nothing if
 * kp_conf_set accepted anything. */
static void test_config_unknown_key_is_refused(void) {
    kp_conf *c = kp_conf_new();
    char err[256] = "";
    CU_ASSERT_NOT_EQUAL(kp_conf_set(c, "lingr.ms", "5", err, sizeof err), KW_ERR_NONE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "lingr.ms"));
    kp_conf_destroy(c);
}

/* The cluster and workload keys docs/config.md lists are keys the scenario loader knows
 * (each is a string literal in sim/scenario.c). */
static void test_config_cluster_and_workload_keys_are_loader_keys(void) {
    char *doc = slurp("docs/config.md");
    char *src = slurp("sim/scenario.c");
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    const char *sections[] = {"## Cluster keys", "## Workload keys"};
    for (size_t k = 0; k < 2; k++) {
        const char *s, *e;
        CU_ASSERT_TRUE_FATAL(md_section(doc, sections[k], &s, &e));
        int rows = 0;
        for (const char *line = s; line < e;) {
            const char *eol = strchr(line, '\n');
            if (!eol || eol > e)
                eol = e;
            char key[64];
            /* only the first table of the section (the courier broker table that follows
             * takes the broker's own names) */
            if (rows > 0 && line[0] != '|')
                break;
            if (!strncmp(line, "| `", 3) && cell_code(line + 1, eol, key, sizeof key)) {
                const char *name = strncmp(key, "topics[].", 9) ? key : key + 9;
                char quoted[80];
                snprintf(quoted, sizeof quoted, "\"%s\"", name);
                if (!strstr(src, quoted))
                    fprintf(stderr, "\n    docs/config.md: %s is not a key of sim/scenario.c", key);
                CU_ASSERT_PTR_NOT_NULL(strstr(src, quoted));
                rows++;
            }
            line = eol < e ? eol + 1 : e;
        }
        CU_ASSERT_TRUE(rows >= 6);
    }
    free(src);
    free(doc);
}

/* ---- (2) labs ----------------------------------------------------------------------------- */

/* The globs the end-to-end suite runs every scenario of (tests/test_sim_run.c: each
 * glob("...") call), into *out. False when there is none. */
static bool e2e_globs(strset *out) {
    char *src = slurp("tests/test_sim_run.c");
    if (!src)
        return false;
    for (const char *g = strstr(src, "glob(\""); g; g = strstr(g + 1, "glob(\"")) {
        const char *a = g + 6;
        const char *q = strchr(a, '"');
        if (q)
            set_add(out, a, (size_t)(q - a));
    }
    free(src);
    return out->n > 0;
}

static bool matches_any(const strset *pats, const char *path) {
    for (int i = 0; i < pats->n; i++)
        if (fnmatch(pats->v[i], path, FNM_PATHNAME) == 0)
            return true;
    return false;
}

static void test_lab_commands_name_scenarios_the_e2e_suite_checks(void) {
    strset patterns = {0};
    CU_ASSERT_TRUE_FATAL(e2e_globs(&patterns));
    glob_t labs;
    CU_ASSERT_EQUAL_FATAL(glob("docs/labs/*.md", 0, NULL, &labs), 0);
    strset named = {0};
    int pages = 0;
    for (size_t i = 0; i < labs.gl_pathc; i++) {
        const char *page = labs.gl_pathv[i];
        if (strstr(page, "/README.md"))
            continue;
        pages++;
        char *text = slurp(page);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        int commands = 0;
        for (const char *p = strstr(text, "courier run "); p; p = strstr(p + 1, "courier run ")) {
            const char *a = p + strlen("courier run ");
            const char *b = a;
            while (*b && !isspace((unsigned char)*b) && *b != '`')
                b++;
            char path[256];
            snprintf(path, sizeof path, "%.*s", (int)(b - a), a);
            if (strncmp(path, "scenarios/", 10) != 0)
                continue; /* variations on a copy (/tmp/x.json) are the reader's own files */
            commands++;
            set_add(&named, path, strlen(path));
            bool exists = access(path, R_OK) == 0;
            bool member = matches_any(&patterns, path);
            if (!exists || !member)
                fprintf(stderr, "\n    %s: courier run %s: %s", page, path,
                        !exists ? "no such file" : "not run by tests/test_sim_run.c");
            CU_ASSERT_TRUE(exists);
            CU_ASSERT_TRUE(member);
            sim_scenario *sc = NULL;
            char err[512] = "";
            CU_ASSERT_EQUAL(sim_scenario_load(path, &sc, err, sizeof err), 0);
            if (sc) {
                CU_ASSERT_TRUE(sc->n_expect > 0); /* the lab states its own outcome */
                sim_scenario_free(sc);
            }
        }
        if (commands == 0)
            fprintf(stderr, "\n    %s: no `courier run scenarios/X.json` command", page);
        CU_ASSERT_TRUE(commands > 0);
        free(text);
    }
    globfree(&labs);
    CU_ASSERT_TRUE(pages >= 8);

    /* Every scenario the end-to-end suite runs (the built-in ones) has a lab page. */
    int builtin = 0;
    for (int k = 0; k < patterns.n; k++) {
        glob_t sc;
        if (glob(patterns.v[k], 0, NULL, &sc) != 0)
            continue;
        for (size_t i = 0; i < sc.gl_pathc; i++) {
            builtin++;
            if (!set_has(&named, sc.gl_pathv[i]))
                fprintf(stderr, "\n    %s: no lab page runs it", sc.gl_pathv[i]);
            CU_ASSERT_TRUE(set_has(&named, sc.gl_pathv[i]));
        }
        globfree(&sc);
    }
    CU_ASSERT_TRUE(builtin >= 11);
}

/* ---- (3) --help against the docs ---------------------------------------------------------- */

/* README.md's command table: rows "| `courier CMD ...` | options |". */
static int readme_commands(const char *readme, char cmds[][32], strset *opts, int max) {
    int n = 0;
    for (const char *p = strstr(readme, "\n| `courier "); p && n < max;
         p = strstr(p + 1, "\n| `courier ")) {
        const char *a = p + strlen("\n| `courier ");
        const char *b = a;
        while (isalpha((unsigned char)*b))
            b++;
        snprintf(cmds[n], 32, "%.*s", (int)(b - a), a);
        const char *eol = strchr(a, '\n');
        if (!eol)
            eol = a + strlen(a);
        const char *bar = memchr(a, '|', (size_t)(eol - a)); /* the options column */
        memset(&opts[n], 0, sizeof opts[n]);
        if (bar)
            scan_options(bar, eol, &opts[n]);
        n++;
    }
    return n;
}

static void test_help_lists_the_commands_and_options_readme_documents(void) {
    char *readme = slurp("README.md");
    CU_ASSERT_PTR_NOT_NULL_FATAL(readme);
    static char out[65536];
    char *top[] = {"courier", "--help", NULL};
    CU_ASSERT_EQUAL_FATAL(ts_run_courier(top, out, sizeof out, NULL, 0, -1), 0);

    /* courier --help: the "commands:" block, one "  name ..." line each. */
    strset help_cmds = {0};
    const char *c = strstr(out, "commands:\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    for (const char *line = strchr(c, '\n') + 1; !strncmp(line, "  ", 2);) {
        const char *a = line + 2, *b = a;
        while (isalpha((unsigned char)*b))
            b++;
        set_add(&help_cmds, a, (size_t)(b - a));
        const char *eol = strchr(line, '\n');
        if (!eol)
            break;
        line = eol + 1;
    }
    CU_ASSERT_TRUE(help_cmds.n >= 4);

    static char cmds[16][32];
    static strset opts[16];
    int n = readme_commands(readme, cmds, opts, 16);
    CU_ASSERT_EQUAL(n, help_cmds.n);
    for (int i = 0; i < help_cmds.n; i++) {
        bool found = false;
        for (int k = 0; k < n; k++)
            found = found || !strcmp(cmds[k], help_cmds.v[i]);
        if (!found)
            fprintf(stderr, "\n    README.md: command %s (in courier --help) missing",
                    help_cmds.v[i]);
        CU_ASSERT_TRUE(found);
    }

    /* Each command: its --help options and README's row are the same set. */
    for (int k = 0; k < n; k++) {
        CU_ASSERT_TRUE(set_has(&help_cmds, cmds[k]));
        char *argv[] = {"courier", cmds[k], "--help", NULL};
        int rc = ts_run_courier(argv, out, sizeof out, NULL, 0, -1);
        CU_ASSERT_EQUAL(rc, 0);
        strset h = {0};
        help_options(out, &h);
        CU_ASSERT_TRUE(h.n > 0);
        for (int i = 0; i < opts[k].n; i++) {
            if (!set_has(&h, opts[k].v[i]))
                fprintf(stderr, "\n    README.md: courier %s %s: not in its --help", cmds[k],
                        opts[k].v[i]);
            CU_ASSERT_TRUE(set_has(&h, opts[k].v[i]));
        }
        for (int i = 0; i < h.n; i++) {
            if (!strcmp(h.v[i], "--help") || !strcmp(h.v[i], "-h"))
                continue;
            if (!set_has(&opts[k], h.v[i]))
                fprintf(stderr, "\n    README.md: courier %s --help lists %s, README does not",
                        cmds[k], h.v[i]);
            CU_ASSERT_TRUE(set_has(&opts[k], h.v[i]));
        }
    }
    free(readme);
}

/* docs/scenarios.md's option table (first column `--flag`) is what `courier run --help` says. */
static void test_run_help_has_the_options_scenarios_md_lists(void) {
    char *doc = slurp("docs/scenarios.md");
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    static char out[65536];
    char *argv[] = {"courier", "run", "--help", NULL};
    CU_ASSERT_EQUAL_FATAL(ts_run_courier(argv, out, sizeof out, NULL, 0, -1), 0);
    strset h = {0};
    help_options(out, &h);
    int rows = 0;
    for (const char *p = strstr(doc, "\n| `--"); p; p = strstr(p + 1, "\n| `--")) {
        const char *a = p + 4, *b = a;
        while (optchar(*b))
            b++;
        char flag[64];
        snprintf(flag, sizeof flag, "%.*s", (int)(b - a), a);
        if (!set_has(&h, flag))
            fprintf(stderr, "\n    docs/scenarios.md: %s not in courier run --help", flag);
        CU_ASSERT_TRUE(set_has(&h, flag));
        rows++;
    }
    CU_ASSERT_TRUE(rows >= 5);
    free(doc);
}

/* Every option used on a `courier CMD ...` command line in the pages this suite owns exists in
 * that command's --help (a typo such as --speeed would send a class to an error). */
static void test_doc_command_lines_use_real_options(void) {
    const char *cmds[] = {"run", "demo", "broker", "produce"};
    strset help[4];
    static char out[65536];
    for (int k = 0; k < 4; k++) {
        char *argv[] = {"courier", (char *)cmds[k], "--help", NULL};
        CU_ASSERT_EQUAL(ts_run_courier(argv, out, sizeof out, NULL, 0, -1), 0);
        memset(&help[k], 0, sizeof help[k]);
        help_options(out, &help[k]);
    }
    glob_t g;
    const char *pats[] = {"README.md",      "docs/README.md",       "docs/tour*.md",
                          "docs/config.md", "docs/architecture.md", "docs/labs/*.md"};
    int flags = 0, used = 0;
    for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++) {
        if (glob(pats[i], flags, NULL, &g) == 0)
            flags = GLOB_APPEND;
    }
    CU_ASSERT_TRUE_FATAL(flags == GLOB_APPEND);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char *text = slurp(g.gl_pathv[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        for (const char *p = strstr(text, "courier "); p; p = strstr(p + 1, "courier ")) {
            const char *a = p + 8;
            int k = -1;
            for (int j = 0; j < 4; j++)
                if (!strncmp(a, cmds[j], strlen(cmds[j])) && a[strlen(cmds[j])] == ' ')
                    k = j;
            if (k < 0)
                continue;
            /* up to the end of the line, a comment, a pipe, a backtick or a table cell */
            const char *e = a;
            while (*e && *e != '\n' && *e != '#' && *e != '|' && *e != '`' && *e != ';' &&
                   *e != '&' && *e != ')')
                e++;
            strset s = {0};
            scan_options(a, e, &s);
            for (int j = 0; j < s.n; j++) {
                used++;
                if (!strcmp(s.v[j], "--help"))
                    continue;
                if (!set_has(&help[k], s.v[j]))
                    fprintf(stderr, "\n    %s: courier %s %s: no such option", g.gl_pathv[i],
                            cmds[k], s.v[j]);
                CU_ASSERT_TRUE(set_has(&help[k], s.v[j]));
            }
        }
        free(text);
    }
    CU_ASSERT_TRUE(used >= 10);
    globfree(&g);
}

/* ---- (4) code references ------------------------------------------------------------------ */

/* True when `name(` occurs in any C source or header of the four rooms. */
static bool defined_in_sources(const char *name) {
    static char *all;
    if (!all) {
        glob_t g;
        const char *pats[] = {"protocol/*.[ch]", "producer/*.[ch]", "mockbroker/*.[ch]",
                              "sim/*.[ch]"};
        int flags = 0;
        for (size_t i = 0; i < 4; i++)
            if (glob(pats[i], flags, NULL, &g) == 0)
                flags = GLOB_APPEND;
        size_t len = 0;
        for (size_t i = 0; i < g.gl_pathc; i++) {
            char *t = slurp(g.gl_pathv[i]);
            if (!t)
                continue;
            size_t tl = strlen(t);
            char *na = realloc(all, len + tl + 2);
            if (!na) {
                free(t);
                break;
            }
            all = na;
            memcpy(all + len, t, tl);
            len += tl;
            all[len++] = '\n';
            all[len] = '\0';
            free(t);
        }
        globfree(&g);
        if (!all)
            return false;
    }
    char pat[96];
    snprintf(pat, sizeof pat, "%s(", name);
    for (const char *p = strstr(all, pat); p; p = strstr(p + 1, pat))
        if (p == all || !(isalnum((unsigned char)p[-1]) || p[-1] == '_'))
            return true;
    return false;
}

/* The C functions (`snake_case()`) and the source paths (`producer/sender.c`) the tour, the
 * architecture page, the labs and the README cite exist. CamelCase names are Java's;
 * placeholders (`protocol/kw_msg_<name>.c`) and globs are not paths. */
static void test_cited_functions_and_files_exist(void) {
    glob_t g;
    const char *pats[] = {"README.md",      "docs/README.md",       "docs/tour*.md",
                          "docs/config.md", "docs/architecture.md", "docs/labs/*.md"};
    int flags = 0;
    for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++)
        if (glob(pats[i], flags, NULL, &g) == 0)
            flags = GLOB_APPEND;
    CU_ASSERT_TRUE_FATAL(flags == GLOB_APPEND);
    int funcs = 0, files = 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char *text = slurp(g.gl_pathv[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        for (const char *p = strchr(text, '`'); p; p = strchr(p + 1, '`')) {
            const char *a = p + 1;
            const char *b = strchr(a, '`');
            if (!b)
                break;
            char tok[128];
            snprintf(tok, sizeof tok, "%.*s", (int)(b - a), a);
            size_t tl = strlen(tok);
            bool ident = tl > 2 && !strcmp(tok + tl - 2, "()") && strchr(tok, '_');
            for (size_t k = 0; ident && k + 2 < tl; k++)
                ident = isalnum((unsigned char)tok[k]) || tok[k] == '_';
            if (ident) {
                tok[tl - 2] = '\0';
                funcs++;
                if (!defined_in_sources(tok))
                    fprintf(stderr, "\n    %s: `%s()` is not in the sources", g.gl_pathv[i], tok);
                CU_ASSERT_TRUE(defined_in_sources(tok));
            } else {
                const char *rooms[] = {"protocol/", "producer/",  "mockbroker/", "sim/",
                                       "tests/",    "scenarios/", "bench/"};
                for (size_t k = 0; k < sizeof rooms / sizeof rooms[0]; k++) {
                    if (strncmp(tok, rooms[k], strlen(rooms[k])) || strchr(tok, ' ') ||
                        strchr(tok, '*') || strchr(tok, '<') || !strchr(tok, '.'))
                        continue;
                    files++;
                    if (access(tok, F_OK) != 0)
                        fprintf(stderr, "\n    %s: `%s` does not exist", g.gl_pathv[i], tok);
                    CU_ASSERT_EQUAL(access(tok, F_OK), 0);
                }
            }
            p = b; /* continue after the closing backtick */
        }
        free(text);
    }
    globfree(&g);
    CU_ASSERT_TRUE(funcs >= 20);
    CU_ASSERT_TRUE(files >= 20);
}

/* True when path (a .c file) defines fn: a line at column 0 that names fn( and is not a
 * declaration (does not end with ';'). */
static bool defines_function(const char *path, const char *fn) {
    char *text = slurp(path);
    if (!text)
        return false;
    char pat[140];
    snprintf(pat, sizeof pat, "%s(", fn);
    bool found = false;
    for (char *line = text; line && *line && !found; line = strchr(line, '\n')) {
        if (*line == '\n')
            line++;
        char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len == 0 || isspace((unsigned char)line[0]) || line[0] == '/' || line[0] == '*' ||
            line[0] == '#')
            continue;
        char *hit = strstr(line, pat);
        if (!hit || (end && hit > end) || line[len - 1] == ';')
            continue;
        /* a whole name: the character before is not part of an identifier */
        found = hit == line || !(isalnum((unsigned char)hit[-1]) || hit[-1] == '_');
    }
    free(text);
    return found;
}

/* docs/tour.md names one function per pipeline stage, each defined in the file it names. */
static void test_tour_names_one_function_per_stage(void) {
    char *text = slurp("docs/tour.md");
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    const char *section = strstr(text, "## The pipeline, one function a stage");
    CU_ASSERT_PTR_NOT_NULL_FATAL(section);
    const char *stages[] = {"send",  "partition",   "append",          "ready",
                            "drain", "build request", "handle response", "retry",
                            "metadata refresh"};
    for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++) {
        char row[64];
        snprintf(row, sizeof row, "\n| %s |", stages[i]);
        const char *r = strstr(section, row);
        if (!r)
            fprintf(stderr, "\n    docs/tour.md: no row for the stage \"%s\"", stages[i]);
        CU_ASSERT_PTR_NOT_NULL(r);
        if (!r)
            continue;
        const char *eol = strchr(r + 1, '\n');
        /* the third and fourth cells: `fn()` and `file` */
        const char *cell = r + 1;
        for (int k = 0; k < 2 && cell; k++)
            cell = strchr(cell + 1, '|');
        char fn[96] = "", file[96] = "";
        CU_ASSERT_TRUE(cell && (!eol || cell < eol) &&
                       sscanf(cell, "| `%95[a-z_0-9]()` | `%95[^`]` |", fn, file) == 2);
        bool ok = fn[0] && file[0] && defines_function(file, fn);
        if (!ok)
            fprintf(stderr, "\n    docs/tour.md: stage \"%s\": `%s()` is not defined in `%s`",
                    stages[i], fn, file);
        CU_ASSERT_TRUE(ok);
    }
    free(text);
}

void suite_sim_docs(void);
void suite_sim_docs(void) {
    tu_suite("sim_docs");
    tu_test("test_config_producer_table_matches_kp_conf",
            test_config_producer_table_matches_kp_conf);
    tu_test("test_config_unknown_key_is_refused", test_config_unknown_key_is_refused);
    tu_test("test_config_cluster_and_workload_keys_are_loader_keys",
            test_config_cluster_and_workload_keys_are_loader_keys);
    tu_test("test_lab_commands_name_scenarios_the_e2e_suite_checks",
            test_lab_commands_name_scenarios_the_e2e_suite_checks);
    tu_test("test_help_lists_the_commands_and_options_readme_documents",
            test_help_lists_the_commands_and_options_readme_documents);
    tu_test("test_run_help_has_the_options_scenarios_md_lists",
            test_run_help_has_the_options_scenarios_md_lists);
    tu_test("test_doc_command_lines_use_real_options", test_doc_command_lines_use_real_options);
    tu_test("test_cited_functions_and_files_exist", test_cited_functions_and_files_exist);
    tu_test("test_tour_names_one_function_per_stage", test_tour_names_one_function_per_stage);
}
