/* One room's CUnit runner. `runner [SUITE[:TEST]]` runs everything or one suite/test.
 * Exits with the number of failed tests (0 = all passed), as CU_basic_run_tests' own return
 * value does not count failures. When a test failed, the failures are listed again after the
 * summary, and the summary repeated, so that a log's last lines (all CI keeps) name them. */
#include "tests/tu.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

void tu_register_all(void);

int main(int argc, char **argv) {
    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
        return 2;
    }
    /* CUnit writes "Test: name ..." to stdout, the tests their diagnostics to stderr: with
     * stdout unbuffered the two stay in order in a log (and a log's timestamps are true). */
    setvbuf(stdout, NULL, _IONBF, 0);
    tu_register_all();
    CU_basic_set_mode(CU_BRM_VERBOSE);
    if (argc > 1) {
        char name[256];
        snprintf(name, sizeof name, "%s", argv[1]);
        char *test = strchr(name, ':');
        if (test)
            *test++ = '\0';
        CU_pSuite s = CU_get_suite(name);
        if (!s) {
            fprintf(stderr, "no suite named %s\n", name);
            CU_cleanup_registry();
            return 2;
        }
        if (test) {
            CU_pTest t = CU_get_test(s, test);
            if (!t) {
                fprintf(stderr, "no test %s in suite %s\n", test, name);
                CU_cleanup_registry();
                return 2;
            }
            CU_basic_run_test(s, t);
        } else {
            CU_basic_run_suite(s);
        }
    } else {
        CU_basic_run_tests();
    }
    unsigned failed = CU_get_number_of_tests_failed() + CU_get_number_of_suites_failed();
    if (failed) {
        printf("\nThe failures again:\n");
        for (CU_pFailureRecord f = CU_get_failure_list(); f; f = f->pNext)
            printf("  %s: %s: %s:%u: %s\n", f->pSuite ? f->pSuite->pName : "?",
                   f->pTest ? f->pTest->pName : "(suite setup)",
                   f->strFileName ? f->strFileName : "?", f->uiLineNumber,
                   f->strCondition ? f->strCondition : "");
        printf("\n");
        CU_print_run_results(stdout);
        printf("\n");
        fflush(stdout);
    }
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
