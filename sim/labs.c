/* The built-in labs: `courier labs` lists them with their one-line question, `courier run NAME`
 * finds one by name. The table below is docs/labs/README.md's, one row per scenario;
 * tests/test_sim_cli.c checks it against scenarios/ and that page, so the three cannot drift. */
#include "sim/cmd.h"

#include "courier_version.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct lab_row {
    const char *scenario; /* file name under scenarios/ without .json ("more/..." allowed) */
    const char *page;     /* docs/labs/PAGE.md */
    const char *question; /* as in docs/labs/README.md's "the question" column */
    const char *question_zh;
} lab_row;

static const lab_row lab_table[] = {
    {"batching-linger0", "batching", "what does `linger.ms` buy?", "`linger.ms` 换来了什么？"},
    {"batching-linger50", "batching", "what does `linger.ms` buy?", "`linger.ms` 换来了什么？"},
    {"keyed-partitioning", "partitioning", "where does each record go?", "每条记录去往哪个分区？"},
    {"sticky-partitioning", "partitioning", "where does each record go?", "每条记录去往哪个分区？"},
    {"acks1-leader-crash", "acks-leader-crash", "is \"acknowledged\" safe?", "“已确认”就安全吗？"},
    {"acks-all-leader-crash", "acks-leader-crash", "is \"acknowledged\" safe?",
     "“已确认”就安全吗？"},
    {"retries-reorder", "retries-ordering", "what do retries do to order?", "重试会打乱顺序吗？"},
    {"idempotent-retries", "idempotence", "and with idempotence?", "开启幂等之后呢？"},
    {"buffer-full", "buffer-full", "what if the sorting room is full?", "分拣室满了会怎样？"},
    {"min-isr", "min-isr", "what if too few replicas are in sync?", "同步副本太少会怎样？"},
    {"metadata-failover", "metadata-failover", "how does the producer follow a moved leader?",
     "leader 搬走后，生产者如何跟上？"},
    {"demo", "demo", "everything at once", "全部一起来"},
    {"compression-none-linger0", "compression", "what does `compression.type` buy?",
     "`compression.type` 换来了什么？"},
    {"compression-none-linger20", "compression", "what does `compression.type` buy?",
     "`compression.type` 换来了什么？"},
    {"compression-gzip-linger0", "compression", "what does `compression.type` buy?",
     "`compression.type` 换来了什么？"},
    {"compression-gzip-linger20", "compression", "what does `compression.type` buy?",
     "`compression.type` 换来了什么？"},
    {"compression-lz4-linger0", "compression", "what does `compression.type` buy?",
     "`compression.type` 换来了什么？"},
    {"compression-lz4-linger20", "compression", "what does `compression.type` buy?",
     "`compression.type` 换来了什么？"},
    {"compression-zstd-linger0", "compression", "what does `compression.type` buy?",
     "`compression.type` 换来了什么？"},
    {"compression-zstd-linger20", "compression", "what does `compression.type` buy?",
     "`compression.type` 换来了什么？"},
    {"more/isolated-leader", "isolated-leader", "does a cut-off leader keep accepting writes?",
     "被隔离的 leader 还会继续接受写入吗？"},
    {"epoch-bump", "idempotence", "what if a sequence is lost?", "序号丢了会怎样？"},
    {"more/unknown-producer-id", "idempotence", "what if a sequence is lost?",
     "序号丢了会怎样？"},
};
#define N_LABS (sizeof lab_table / sizeof lab_table[0])

/* ---- where the scenarios are --------------------------------------------------------------- */

static bool is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* The folders that may hold the built-in scenarios, in search order: ./scenarios, the share
 * folder next to the binary (BIN/../share/courier/scenarios: an installed copy, also when it
 * was installed with DESTDIR and moved), the compiled-in PREFIX/share/courier/scenarios. */
static int search_dirs(char dirs[3][PATH_MAX]) {
    int n = 0;
    snprintf(dirs[n++], PATH_MAX, "scenarios");
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(dirs[n++], PATH_MAX, "%.*s/../share/courier/scenarios", PATH_MAX - 40, exe);
        }
    }
    snprintf(dirs[n++], PATH_MAX, "%s/scenarios", COURIER_DATADIR);
    return n;
}

const char *sim_scenarios_dir(char *out, size_t size) {
    char dirs[3][PATH_MAX];
    int n = search_dirs(dirs);
    for (int i = 0; i < n; i++)
        if (is_dir(dirs[i])) {
            snprintf(out, size, "%s", dirs[i]);
            return out;
        }
    return NULL;
}

int sim_lab_find(const char *name, char *out, size_t size, char *errbuf, size_t errsize) {
    size_t len = strlen(name);
    bool json = len > 5 && !strcmp(name + len - 5, ".json");
    char dirs[3][PATH_MAX];
    int n = search_dirs(dirs);
    if (!is_file(name) && !strncmp(name, "scenarios/", 10)) {
        /* the docs' `courier run scenarios/min-isr.json`, run outside the checkout: the same
         * file in the installed share folder */
        for (int i = 1; i < n; i++) {
            char p[PATH_MAX];
            int w = snprintf(p, sizeof p, "%s/%s", dirs[i], name + 10);
            if (w > 0 && (size_t)w < sizeof p && is_file(p) && strlen(p) < size) {
                snprintf(out, size, "%s", p);
                return 0;
            }
        }
    }
    if (is_file(name) || strchr(name, '/') || json) {
        /* a path: as given (the loader says what is wrong with it) */
        snprintf(out, size, "%s", name);
        return 0;
    }
    for (int i = 0; i < n; i++) {
        static const char *const sub[] = {"", "more/"};
        for (int k = 0; k < 2; k++) {
            char p[PATH_MAX];
            int w = snprintf(p, sizeof p, "%s/%s%s.json", dirs[i], sub[k], name);
            if (w > 0 && (size_t)w < sizeof p && is_file(p) && strlen(p) < size) {
                snprintf(out, size, "%s", p);
                return 0;
            }
        }
    }
    char q[160];
    size_t o = (size_t)snprintf(errbuf, errsize,
                                "'%s' is neither a scenario file nor a built-in lab (looked in ",
                                sim_escape(name, q, sizeof q));
    for (int i = 0; i < n && o < errsize; i++)
        o += (size_t)snprintf(errbuf + o, errsize - o, "%s%s", i ? ", " : "", dirs[i]);
    if (o < errsize)
        snprintf(errbuf + o, errsize - o, "); `courier labs` lists the labs");
    return -1;
}

/* ---- courier labs -------------------------------------------------------------------------- */

enum { O_LANG = 1, O_NAMES };
static const sim_opt labs_opts[] = {
    SIM_OPT_LANG(O_LANG),
    {O_NAMES, 0, "names", SIM_OPT_FLAG, NULL, 0, 0, NULL, false,
     "only the names, one a line (for scripts and the shell completion)"},
    {0},
};

const sim_cmd_spec sim_cmd_labs_spec = {
    .name = "labs",
    .summary = "list the built-in labs and the question each one answers",
    .description = "Lists the built-in labs (scenarios): the name to give `courier run`, the "
                   "lab's page under docs/labs/ and the question it answers. Each lab page "
                   "explains the run, the audit and a variation to try.",
    .footer = "Exit code: 0.",
    .opts = labs_opts,
    .main = sim_cmd_labs,
};

/* Writes s without the Markdown backticks. */
static void put_plain(FILE *f, const char *s) {
    for (; *s; s++)
        if (*s != '`')
            fputc(*s, f);
}

int sim_cmd_labs(int argc, char **argv) {
    sim_cli_args args;
    int prc = sim_cli_begin(&sim_cmd_labs_spec, argc, argv, &args);
    if (prc >= 0)
        return prc;
    const sim_cli_arg *lang = sim_cli_last(&args, O_LANG);
    bool zh = lang && lang->choice == 1;
    bool names = sim_cli_last(&args, O_NAMES) != NULL;
    sim_cli_args_free(&args);
    for (size_t i = 0; i < N_LABS; i++) {
        const char *name = lab_table[i].scenario;
        const char *slash = strrchr(name, '/');
        if (slash)
            name = slash + 1;
        if (names) {
            printf("%s\n", name);
            continue;
        }
        printf("%-24s %-20s ", name, lab_table[i].page);
        put_plain(stdout, zh ? lab_table[i].question_zh : lab_table[i].question);
        printf("\n");
    }
    if (!names) {
        char dir[PATH_MAX], abs[PATH_MAX];
        printf("\n%s: courier run NAME (--headless for the audit only); docs/labs/PAGE.md.\n",
               zh ? "运行" : "run");
        if (sim_scenarios_dir(dir, sizeof dir))
            printf("%s: %s\n", zh ? "场景目录" : "scenarios", realpath(dir, abs) ? abs : dir);
    }
    fflush(stdout);
    return 0;
}

int sim_labs_row(size_t i, const char **scenario, const char **page, const char **question) {
    if (i >= N_LABS)
        return -1;
    *scenario = lab_table[i].scenario;
    *page = lab_table[i].page;
    *question = lab_table[i].question;
    return 0;
}
