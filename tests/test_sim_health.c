/* Code health that must stay true (issue 18): no function outside tests/ is longer than 120
 * lines, as counted by .ci/long-functions (which the tests below first check on a file made
 * for it, so that a broken counter cannot pass). Run from the repository root. */
#include "tests/tu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_FUNCTION_LINES 120

/* Runs `sh .ci/long-functions ARGS` and returns its exit code (-1 when it did not run); its
 * output goes to out (truncated to size). */
static int long_functions(const char *args, char *out, size_t size) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "sh .ci/long-functions %s 2>&1", args);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A C file holding a `lines`-line function `name` (clang-format's layout) and a short one. */
static void write_fixture(FILE *f, const char *name, int lines) {
    fprintf(f, "static int helper(int a);\n"
               "static int helper(int a) {\n    return a + 1;\n}\n\n");
    fprintf(f, "int %s(int a,\n        int b) {\n", name);
    for (int i = 0; i < lines - 4; i++)
        fprintf(f, "    a += b * %d;\n", i);
    fprintf(f, "    return a;\n}\n");
}

/* The counter finds a function's first and last line, and --max flags it (exit 1). */
static void test_counter_measures_a_known_function(void) {
    char path[] = "/tmp/courier_long_fn_XXXXXX.c";
    int fd = mkstemps(path, 2);
    CU_ASSERT_FATAL(fd >= 0);
    FILE *f = fdopen(fd, "w");
    CU_ASSERT_FATAL(f != NULL);
    write_fixture(f, "too_long", MAX_FUNCTION_LINES + 5);
    fclose(f);
    char args[256], out[4096];
    snprintf(args, sizeof args, "--top 5 %s", path);
    CU_ASSERT_EQUAL(long_functions(args, out, sizeof out), 0);
    char want[256];
    snprintf(want, sizeof want, "%d too_long %s\n3 helper %s\n", MAX_FUNCTION_LINES + 5, path,
             path);
    if (strcmp(out, want))
        fprintf(stderr, "\n    .ci/long-functions said:\n%s    expected:\n%s", out, want);
    CU_ASSERT_STRING_EQUAL(out, want);
    snprintf(args, sizeof args, "--max %d %s", MAX_FUNCTION_LINES, path);
    CU_ASSERT_EQUAL(long_functions(args, out, sizeof out), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "too_long"));
    unlink(path);
}

/* Every function of protocol/, producer/, mockbroker/, sim/ and bench/ fits in 120 lines. */
static void test_no_function_over_120_lines(void) {
    char out[8192], args[64];
    /* the tree is read: the longest functions are listed, and one of them is long */
    CU_ASSERT_EQUAL_FATAL(long_functions("--top 1", out, sizeof out), 0);
    CU_ASSERT_TRUE(atoi(out) > 50);
    snprintf(args, sizeof args, "--max %d", MAX_FUNCTION_LINES);
    int rc = long_functions(args, out, sizeof out);
    if (rc != 0)
        fprintf(stderr, "\n    functions over %d lines (lines, name, file):\n%s",
                MAX_FUNCTION_LINES, out);
    CU_ASSERT_EQUAL(rc, 0);
}

void suite_sim_health(void);
void suite_sim_health(void) {
    tu_suite("sim_health");
    tu_test("test_counter_measures_a_known_function", test_counter_measures_a_known_function);
    tu_test("test_no_function_over_120_lines", test_no_function_over_120_lines);
}
