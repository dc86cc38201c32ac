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
 * Files are read relative to the repository root (the runner runs from there). */
#include "sim/view_text.h"
#include "tests/test_sim_util.h"
#include "tests/tu.h"

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
            n++;
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
}
