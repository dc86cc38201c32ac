/* Test utilities: suite registration with per-test deadlines, condition waits. */
#include "tests/tu.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static CU_pSuite current_suite;
static const char *volatile current_test = "(none)";
static unsigned deadline_s = TU_DEFAULT_DEADLINE_S;

static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "\n*** test deadline passed; hung test: ";
    ssize_t rc = write(2, msg, sizeof msg - 1);
    rc = write(2, current_test, strlen(current_test));
    rc = write(2, "\n", 1);
    (void)rc;
    _exit(3);
}

static int64_t test_started_ms;

static void before_each(void) {
    const CU_pTest t = CU_get_current_test();
    current_test = t && t->pName ? t->pName : "(unknown)";
    test_started_ms = tu_now_ms();
    alarm(deadline_s);
}

/* A test that took a second or more says how long, so slow tests are seen where they run (CI
 * has a time budget). */
static void after_each(void) {
    alarm(0);
    int64_t ms = tu_now_ms() - test_started_ms;
    if (ms >= 1000)
        printf("(%.1f s) ", (double)ms / 1000.0);
}

void tu_suite(const char *name) {
    static int once;
    if (!once) {
        once = 1;
        const char *d = getenv("TU_DEADLINE");
        if (d && atoi(d) > 0)
            deadline_s = (unsigned)atoi(d);
        signal(SIGALRM, on_alarm);
        signal(SIGPIPE, SIG_IGN);
    }
    current_suite = CU_add_suite_with_setup_and_teardown(name, NULL, NULL, before_each, after_each);
    if (!current_suite) {
        fprintf(stderr, "tu_suite(%s): %s\n", name, CU_get_error_msg());
        exit(2);
    }
}

void tu_test(const char *name, void (*fn)(void)) {
    if (!current_suite || !CU_add_test(current_suite, name, fn)) {
        fprintf(stderr, "tu_test(%s): %s\n", name, CU_get_error_msg());
        exit(2);
    }
}

int64_t tu_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool tu_wait_until(bool (*pred)(void *arg), void *arg, int timeout_ms) {
    int64_t end = tu_now_ms() + timeout_ms;
    for (;;) {
        if (pred(arg))
            return true;
        if (tu_now_ms() >= end)
            return false;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

const char *tu_courier_path(void) {
    const char *p = getenv("COURIER");
    return p && *p ? p : "./courier";
}
