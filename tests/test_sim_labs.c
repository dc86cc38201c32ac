/* The lab pages print what their shipped recordings hold (issue 19):
 * - every lab and "Try this" variation listed in tests/labs/labs.txt has a recording
 *   (scenarios/recordings/NAME.rec, at most 20 MB) and an audit block on its page between the
 *   markers `make docs-numbers` writes, and `courier replay REC --headless` prints that block
 *   byte for byte;
 * - a recording the current build refuses (its format or the view model changed) fails with
 *   the instruction to regenerate: `make recordings docs-numbers`.
 * - every screen capture in docs/ and README.md (a fenced block whose first line is the view's
 *   title bar) has the current layout: its header lines are the ones sim/view_text.c draws
 *   now at the capture's width (the desk, trucks and trace headers byte for byte, the map's
 *   header rebuilt from the nodes it names, the sorting room and parcel history by their label
 *   and width), in the order the view stacks its rooms.
 * - every prose figure of the docs, <!-- lab:NAME EXPR | FMT -->VALUE<!-- /lab -->, equals its
 *   recording's value: an audit field (EXPR `a.requests`, `a.failed_by.TIMED_OUT`) is checked
 *   here against `courier replay REC --headless --report json`; every figure (the ones counted
 *   from the recorded events too) by `tests/labs/labs.py docs-numbers --check`;
 * - every capture is followed by the line naming its source (`courier replay
 *   scenarios/recordings/NAME.rec`, the keys, the event), NAME.rec exists, and
 *   tests/labs/captures.txt lists it: no capture in docs/ is hand-made.
 * Files are read relative to the repository root (the runner runs from there). */
#include "sim/view_text.h"
#include "tests/test_sim_util.h"
#include "tests/tu.h"

#include <cjson/cJSON.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define LABS_MAX 64
#define OUT_MAX (64 * 1024)

typedef struct lab {
    char name[64];
    char page[64];
} lab;

/* Reads a whole file into a NUL-terminated malloc'd buffer (NULL when it cannot). */
static char *labs_slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return NULL;
    }
    long n = ftell(f);
    rewind(f);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf) {
        size_t got = fread(buf, 1, (size_t)n, f);
        buf[got] = '\0';
    }
    fclose(f);
    return buf;
}

/* tests/labs/labs.txt: "name | page | scenario | speed | jq", '#' comments. */
static int labs_read(lab *out, int max) {
    FILE *f = fopen("tests/labs/labs.txt", "r");
    if (!f)
        return -1;
    char line[1024];
    int n = 0;
    while (n < max && fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (sscanf(line, "%63s | %63s |", out[n].name, out[n].page) == 2)
            n++; /* page "-": a recording for the docs' captures only, no audit block */
    }
    fclose(f);
    return n;
}

/* The audit block of lab `name` on its page (malloc'd), NULL when the markers are missing. */
static char *labs_page_block(const char *page_text, const char *name) {
    char begin[256], end[128];
    snprintf(begin, sizeof begin,
             "<!-- audit: %.63s (make docs-numbers writes this block from "
             "scenarios/recordings/%.63s.rec) -->\n```\n",
             name, name);
    snprintf(end, sizeof end, "```\n<!-- end of audit: %.63s -->", name);
    const char *b = strstr(page_text, begin);
    if (!b)
        return NULL;
    b += strlen(begin);
    const char *e = strstr(b, end);
    if (!e)
        return NULL;
    size_t len = (size_t)(e - b);
    char *s = malloc(len + 1);
    if (s) {
        memcpy(s, b, len);
        s[len] = '\0';
    }
    return s;
}

static void test_lab_recordings_replay_the_audit_on_their_page(void) {
    lab labs[LABS_MAX];
    int n = labs_read(labs, LABS_MAX);
    CU_ASSERT_TRUE_FATAL(n >= 30);
    static char out[OUT_MAX], err[4096];
    for (int i = 0; i < n; i++) {
        char rec[256], page[256];
        snprintf(rec, sizeof rec, "scenarios/recordings/%.63s.rec", labs[i].name);
        snprintf(page, sizeof page, "docs/labs/%.63s", labs[i].page);
        struct stat st;
        if (stat(rec, &st) != 0) {
            fprintf(stderr, "\n    %s: missing: run make recordings docs-numbers", rec);
            CU_FAIL("a lab has no recording");
            continue;
        }
        CU_ASSERT_TRUE(st.st_size > 0 && st.st_size <= 20L * 1024 * 1024);
        if (strcmp(labs[i].page, "-") == 0)
            continue;
        char *text = labs_slurp(page);
        CU_ASSERT_PTR_NOT_NULL(text);
        char *block = text ? labs_page_block(text, labs[i].name) : NULL;
        if (!block) {
            fprintf(stderr, "\n    %s: no audit block for %s: run make docs-numbers", page,
                    labs[i].name);
            CU_FAIL("a lab page has no audit block");
            free(text);
            continue;
        }
        char *argv[] = {"courier", "replay", rec, "--headless", NULL};
        int rc = ts_run_courier(argv, out, sizeof out, err, sizeof err, -1);
        if (strncmp(out, "== audit: ", 10) != 0) {
            fprintf(stderr,
                    "\n    courier replay %s --headless refused it (exit %d: %.300s): the "
                    "recording format or the view model changed; run make recordings "
                    "docs-numbers",
                    rec, rc, err);
            CU_FAIL("a lab recording is refused: run make recordings docs-numbers");
        } else if (strcmp(out, block) != 0) {
            fprintf(stderr,
                    "\n    %s: the audit of %s differs from courier replay %s --headless: run "
                    "make docs-numbers (or, when the build changed the recording format or the "
                    "audit, make recordings docs-numbers)",
                    page, labs[i].name, rec);
            CU_FAIL("a lab page's audit differs from its recording");
        }
        free(block);
        free(text);
    }
}


/* ---- prose figures ------------------------------------------------------------------------- */

#define FIG_LABS 64

typedef struct fig_json {
    char name[64];
    cJSON *audit;
} fig_json;

/* `courier replay scenarios/recordings/NAME.rec --headless --report json`, parsed (cached). */
static cJSON *fig_audit(fig_json *cache, int *n, const char *name) {
    for (int i = 0; i < *n; i++)
        if (strcmp(cache[i].name, name) == 0)
            return cache[i].audit;
    if (*n >= FIG_LABS)
        return NULL;
    static char out[OUT_MAX], err[4096];
    char rec[256];
    snprintf(rec, sizeof rec, "scenarios/recordings/%.63s.rec", name);
    char *argv[] = {"courier", "replay", rec, "--headless", "--report", "json", NULL};
    out[0] = '\0';
    ts_run_courier(argv, out, sizeof out, err, sizeof err, -1);
    snprintf(cache[*n].name, sizeof cache[*n].name, "%s", name);
    cache[*n].audit = cJSON_Parse(out);
    return cache[(*n)++].audit;
}

/* An audit field's figure as the page prints it (FMT "" or "," or ".Nf"); false when the
 * expression is not a plain field (a.x, a.x.y, a.x["y"]) or the format is another one. */
static bool fig_expected(cJSON *audit, const char *expr, const char *fmt, char *buf, size_t n) {
    if (strncmp(expr, "a.", 2) != 0 || !audit)
        return false;
    char path[128];
    snprintf(path, sizeof path, "%s", expr + 2);
    cJSON *v = audit;
    for (char *tok = path; tok && *tok;) {
        size_t len = strcspn(tok, ".[");
        char key[64];
        if (len == 0 || len >= sizeof key)
            return false;
        memcpy(key, tok, len);
        key[len] = '\0';
        for (size_t k = 0; k < len; k++)
            if (!(key[k] == '_' || (key[k] >= 'a' && key[k] <= 'z') ||
                  (key[k] >= 'A' && key[k] <= 'Z') || (key[k] >= '0' && key[k] <= '9')))
                return false;
        v = cJSON_GetObjectItemCaseSensitive(v, key);
        if (!v)
            return false;
        tok += len;
        if (*tok == '.')
            tok++;
        else if (strncmp(tok, "[\"", 2) == 0) {
            char *e = strstr(tok, "\"]");
            if (!e || (size_t)(e - tok - 2) >= sizeof key)
                return false;
            memcpy(key, tok + 2, (size_t)(e - tok - 2));
            key[e - tok - 2] = '\0';
            v = cJSON_GetObjectItemCaseSensitive(v, key);
            if (!v)
                return false;
            tok = e + 2;
            if (*tok == '.')
                tok++;
        } else if (*tok)
            return false;
    }
    if (!cJSON_IsNumber(v))
        return false;
    double d = v->valuedouble;
    int prec = 0;
    if (fmt[0] == '\0' || strcmp(fmt, ",") == 0) {
        if (d != (double)(long long)d)
            return false; /* Python's shortest repr of a fraction: labs.py checks those */
        char digits[32];
        snprintf(digits, sizeof digits, "%lld", (long long)d);
        if (fmt[0] == '\0') {
            snprintf(buf, n, "%s", digits);
            return true;
        }
        size_t len = strlen(digits), o = 0, lead = digits[0] == '-';
        for (size_t k = 0; k < len && o + 2 < n; k++) {
            if (k > lead && (len - k) % 3 == 0)
                buf[o++] = ',';
            buf[o++] = digits[k];
        }
        buf[o] = '\0';
        return true;
    }
    if (sscanf(fmt, ".%df", &prec) == 1 && prec >= 0 && prec <= 6) {
        snprintf(buf, n, "%.*f", prec, d);
        return true;
    }
    return false;
}

static void test_doc_figures_equal_their_recordings(void) {
    glob_t g;
    if (glob("docs/*.md", 0, NULL, &g) != 0)
        CU_FAIL_FATAL("no docs/*.md");
    glob("docs/labs/*.md", GLOB_APPEND, NULL, &g);
    glob("README.md", GLOB_APPEND, NULL, &g);
    static fig_json cache[FIG_LABS];
    int ncache = 0, figures = 0, checked = 0, bad = 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char *text = labs_slurp(g.gl_pathv[i]);
        for (const char *p = text ? strstr(text, "<!-- lab:") : NULL; p;
             p = strstr(p + 1, "<!-- lab:")) {
            const char *close = strstr(p, " -->"), *end = close ? strstr(close, "<!-- /lab -->") : NULL;
            if (!end) {
                fprintf(stderr, "\n    %s: a figure without its <!-- /lab -->", g.gl_pathv[i]);
                bad++;
                break;
            }
            if (p > text && p[-1] == '`')
                continue; /* `<!-- lab:...`: an example in a code span */
            figures++;
            char head[512], name[64] = "", fmt[16] = "", value[128];
            size_t hl = (size_t)(close - p) - 9;
            if (hl >= sizeof head || (size_t)(end - close - 4) >= sizeof value)
                continue;
            memcpy(head, p + 9, hl);
            head[hl] = '\0';
            memcpy(value, close + 4, (size_t)(end - close - 4));
            value[end - close - 4] = '\0';
            char *sp = strchr(head, ' ');
            if (!sp)
                continue;
            *sp = '\0';
            snprintf(name, sizeof name, "%.63s", head);
            char *expr = sp + 1, *bar = strstr(expr, " | ");
            if (bar) {
                snprintf(fmt, sizeof fmt, "%s", bar + 3);
                *bar = '\0';
            }
            char want[128];
            if (!fig_expected(fig_audit(cache, &ncache, name), expr, fmt, want, sizeof want))
                continue;
            checked++;
            if (strcmp(want, value) != 0) {
                fprintf(stderr, "\n    %s: figure %s %s: the page says \"%s\", the recording %s",
                        g.gl_pathv[i], name, expr, value, want);
                bad++;
            }
        }
        free(text);
    }
    globfree(&g);
    for (int i = 0; i < ncache; i++)
        cJSON_Delete(cache[i].audit);
    fprintf(stderr, "\n    %d figures, %d audit fields checked here", figures, checked);
    CU_ASSERT_TRUE(figures >= 40);
    CU_ASSERT_TRUE(checked >= 20);
    CU_ASSERT_EQUAL(bad, 0);
    /* every figure, the ones counted from the recorded events too, by labs.py's evaluator: a
     * check of the pages, not of the code, so the release build's run is enough (under a
     * sanitizer its 36 replays took 47 s of CI time) */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    fprintf(stderr, "\n    labs.py docs-numbers --check: NOT RUN under a sanitizer (the release "
                    "build runs it)");
    return;
#endif
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "COURIER='%s' python3 tests/labs/labs.py docs-numbers --check 2>&1",
             tu_courier_path());
    FILE *f = popen(cmd, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char line[1024];
    while (fgets(line, sizeof line, f))
        fprintf(stderr, "\n    %s", strtok(line, "\n") ? line : "");
    int st = pclose(f);
    if (st != 0)
        fprintf(stderr, "\n    labs.py docs-numbers --check failed (status %d): run make "
                        "docs-numbers (or make recordings docs-numbers)", st);
    CU_ASSERT_EQUAL(st, 0);
}

/* ---- screen captures ---------------------------------------------------------------------- */

/* Rooms in the order the one-column layout stacks them (sim_vt_layout_compute). */
enum { CAP_DESK = 1, CAP_SORTING, CAP_TRUCKS, CAP_MAP, CAP_TRACE, CAP_HISTORY };

static bool starts(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Which room header `line` (display width `w`) is, as the view draws it now; 0 when none. */
static int cap_header_room(const char *line, int w, char *why, size_t whysize) {
    static const sim_vt_label plain[] = {SIM_L_DESK, SIM_L_TRUCKS, SIM_L_TRACE};
    static const int plain_room[] = {CAP_DESK, CAP_TRUCKS, CAP_TRACE};
    for (int lang = 0; lang < 2; lang++) {
        sim_vt_line l;
        for (int k = 0; k < 3; k++) {
            sim_vt_line_init(&l, w);
            sim_vt_row_header(&l, (sim_view_lang)lang, plain[k], NULL);
            if (strcmp(l.text, line) == 0)
                return plain_room[k];
        }
        char pre[256];
        /* the map: rebuilt from the node list the capture shows ("node 1:UP 2:DOWN") */
        snprintf(pre, sizeof pre, "== %s ", sim_vt_label_text((sim_view_lang)lang, SIM_L_MAP));
        if (starts(line, pre)) {
            static sim_vm_node nodes[SIM_VM_MAX_NODES];
            memset(nodes, 0, sizeof nodes);
            int n = 0;
            for (const char *p = strchr(line + strlen(pre), ' '); p && n < SIM_VM_MAX_NODES;
                 p = strchr(p + 1, ' ')) {
                int id = 0, used = 0;
                if (sscanf(p + 1, "%d:%n", &id, &used) == 1 && used > 0) {
                    nodes[n].id = id;
                    nodes[n].up = strncmp(p + 1 + used, "UP", 2) == 0 ||
                                  strncmp(p + 1 + used, "\xe5\x9c\xa8", 3) == 0; /* 在线 */
                    n++;
                }
            }
            sim_vt_line_init(&l, w);
            sim_vt_row_map_header(&l, (sim_view_lang)lang, nodes, n);
            if (strcmp(l.text, line) == 0)
                return CAP_MAP;
            snprintf(why, whysize, "map header drawn now: \"%s\"", l.text);
            return 0;
        }
        snprintf(pre, sizeof pre, "== %s %s [", sim_vt_label_text((sim_view_lang)lang, SIM_L_SORTING),
                 sim_vt_label_text((sim_view_lang)lang, SIM_L_POOL));
        if (starts(line, pre))
            return CAP_SORTING;
        snprintf(pre, sizeof pre, "== %s %s ", sim_vt_label_text((sim_view_lang)lang, SIM_L_HISTORY),
                 sim_vt_label_text((sim_view_lang)lang, SIM_L_FOLLOW));
        if (starts(line, pre))
            return CAP_HISTORY;
    }
    snprintf(why, whysize, "no header the view draws now");
    return 0;
}

/* Checks one capture (the block's text); returns the number of problems, printed. */
static int cap_check(const char *where, const char *block) {
    char lines[64][SIM_VT_LINE_BYTES];
    int n = 0;
    for (const char *p = block; *p && n < 64;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len >= SIM_VT_LINE_BYTES)
            len = SIM_VT_LINE_BYTES - 1;
        memcpy(lines[n], p, len);
        lines[n][len] = '\0';
        n++;
        p = e ? e + 1 : p + len;
    }
    int bad = 0, last_room = 0, w = 0;
    for (int i = 0; i < n; i++)
        if (starts(lines[i], "== ") && sim_vt_width(lines[i]) > w)
            w = sim_vt_width(lines[i]);
    if (w < SIM_VT_MIN_COLS) {
        fprintf(stderr, "\n    %s: capture without a full-width room header", where);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        if (!starts(lines[i], "== "))
            continue;
        char why[SIM_VT_LINE_BYTES + 64] = "";
        int room = cap_header_room(lines[i], w, why, sizeof why);
        if (room == 0 || sim_vt_width(lines[i]) != w) {
            fprintf(stderr, "\n    %s: header \"%s\" (%d columns of %d): %s", where, lines[i],
                    sim_vt_width(lines[i]), w, why[0] ? why : "not the screen's width");
            bad++;
        } else if (room < last_room && !(room == CAP_HISTORY || last_room == CAP_HISTORY)) {
            fprintf(stderr, "\n    %s: header \"%s\" out of the view's room order", where,
                    lines[i]);
            bad++;
        }
        last_room = room;
    }
    return bad;
}

/* The line after capture `nth` of `page` names its source, a shipped recording, and
 * tests/labs/captures.txt lists that capture with that recording; returns the problems. */
static int cap_source(const char *where, const char *page, int nth, const char *after) {
    static const char note[] = "*(The screen of `courier replay scenarios/recordings/";
    if (strncmp(after, note, strlen(note)) != 0) {
        fprintf(stderr, "\n    %s: capture without the line naming its source (a hand-made "
                        "capture? list it in tests/labs/captures.txt, run make docs-captures)",
                where);
        return 1;
    }
    char name[64];
    const char *n = after + strlen(note), *e = strstr(n, ".rec");
    if (!e || (size_t)(e - n) >= sizeof name || strchr(n, '\n') < e) {
        fprintf(stderr, "\n    %s: its source line names no recording", where);
        return 1;
    }
    memcpy(name, n, (size_t)(e - n));
    name[e - n] = '\0';
    char rec[128], want[256];
    snprintf(rec, sizeof rec, "scenarios/recordings/%s.rec", name);
    struct stat st;
    if (stat(rec, &st) != 0) {
        fprintf(stderr, "\n    %s: its source %s does not exist", where, rec);
        return 1;
    }
    snprintf(want, sizeof want, "%s | %d | %s | ", page, nth, name);
    char *list = labs_slurp("tests/labs/captures.txt");
    bool listed = false;
    for (const char *l = list; l && *l;) {
        if (strncmp(l, want, strlen(want)) == 0)
            listed = true;
        const char *nl = strchr(l, '\n');
        l = nl ? nl + 1 : l + strlen(l);
    }
    free(list);
    if (!listed) {
        fprintf(stderr, "\n    %s: tests/labs/captures.txt has no line \"%s...\"", where, want);
        return 1;
    }
    return 0;
}

static void test_doc_captures_have_the_current_layout(void) {
    glob_t g;
    int captures = 0, bad = 0;
    if (glob("docs/*.md", 0, NULL, &g) != 0)
        CU_FAIL_FATAL("no docs/*.md");
    glob("docs/labs/*.md", GLOB_APPEND, NULL, &g);
    glob("README.md", GLOB_APPEND, NULL, &g);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char *text = labs_slurp(g.gl_pathv[i]);
        if (!text)
            continue;
        /* every fenced block holding a room header ("== " but not an audit's "== audit") */
        bool in = false;
        int nth = 0;
        char *body = NULL;
        for (char *p = text; *p;) {
            char *e = strchr(p, '\n');
            if (!e)
                break;
            if (starts(p, "```")) {
                if (!in) {
                    body = e + 1;
                } else if (body) {
                    char save = *p;
                    *p = '\0';
                    bool cap = false;
                    for (char *q = body; q && *q; q = strchr(q, '\n'), q = q ? q + 1 : q)
                        if (starts(q, "== ") && !starts(q, "== audit"))
                            cap = true;
                    if (cap) {
                        char where[512];
                        int line = 1;
                        for (const char *q = text; q < body; q++)
                            line += *q == '\n';
                        snprintf(where, sizeof where, "%s:%d", g.gl_pathv[i], line);
                        bad += cap_check(where, body);
                        *p = save;
                        bad += cap_source(where, g.gl_pathv[i], nth++, e + 1);
                        captures++;
                    }
                    *p = save;
                }
                in = !in;
            }
            p = e + 1;
        }
        free(text);
    }
    globfree(&g);
    CU_ASSERT_TRUE(captures >= 10);
    CU_ASSERT_EQUAL(bad, 0);
}

void suite_sim_labs(void);
void suite_sim_labs(void) {
    tu_suite("sim_labs");
    tu_test("test_lab_recordings_replay_the_audit_on_their_page",
            test_lab_recordings_replay_the_audit_on_their_page);
    tu_test("test_doc_captures_have_the_current_layout", test_doc_captures_have_the_current_layout);
    tu_test("test_doc_figures_equal_their_recordings", test_doc_figures_equal_their_recordings);
}
