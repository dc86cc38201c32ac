/* Test utilities shared by every room's CUnit runner.
 *
 * Each tests/test_<room>_<topic>.c defines `void suite_<room>_<topic>(void)` which calls
 * tu_suite() once and tu_test() per test; the Makefile generates the registry from the file
 * names. Every test runs under a deadline (alarm): a hung test fails the run, naming itself. */
#ifndef COURIER_TESTS_TU_H
#define COURIER_TESTS_TU_H

#include <CUnit/CUnit.h>
#include <stdbool.h>
#include <stdint.h>

/* Seconds a single test may take before the runner fails it (override: TU_DEADLINE env). */
#define TU_DEFAULT_DEADLINE_S 120

/* Adds a suite named `name`; the following tu_test() calls go into it. */
void tu_suite(const char *name);
/* Adds a test to the current suite. */
void tu_test(const char *name, void (*fn)(void));

/* Monotonic wall-clock milliseconds (tests only: the code under test reads its own clock). */
int64_t tu_now_ms(void);

/* Waits until pred(arg) is true or timeout_ms passes, polling every millisecond or so.
 * Returns true when the predicate became true. Tests use this instead of sleeping. */
bool tu_wait_until(bool (*pred)(void *arg), void *arg, int timeout_ms);

/* Path of the courier binary under test ($COURIER, set by make). */
const char *tu_courier_path(void);

#endif
