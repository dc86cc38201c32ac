/* sim/clock.h — the simulation clock: one kw_clock that the simulator hands to both the
 * producer and the mock cluster, so it can pause and scale time (DESIGN.md "Time").
 *
 * Simulated time runs at `speed` times wall time and stands still while paused: no linger,
 * backoff, request timeout or replication lag advances, so a class can stop for ten minutes
 * and resume without spurious timeouts. Waiters convert simulated durations back to wall time
 * through kw_clock.wall_us (scaled by 1/speed; a short poll interval while paused).
 *
 * Thread safety: every function may be called from any thread; one mutex guards the state. */
#ifndef COURIER_SIM_CLOCK_H
#define COURIER_SIM_CLOCK_H

#include "protocol/kw.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct sim_clock sim_clock;

#define SIM_CLOCK_MIN_SPEED 0.01
#define SIM_CLOCK_MAX_SPEED 1000.0
/* Wall microseconds a waiter sleeps while the clock is paused before it re-checks. */
#define SIM_CLOCK_PAUSED_POLL_US 20000

/* A source of wall time in microseconds (monotonic). Tests hand in a fake one so that pause
 * and speed can be checked without sleeping. */
typedef int64_t (*sim_wall_fn)(void *opaque);

/* Creates a clock reading CLOCK_MONOTONIC, starting at simulated time 0, running at `speed`
 * (clamped to SIM_CLOCK_MIN_SPEED..SIM_CLOCK_MAX_SPEED), not paused. NULL when out of memory. */
sim_clock *sim_clock_new(double speed);
/* The same with a caller-supplied wall source (tests). */
sim_clock *sim_clock_new_with_wall(double speed, sim_wall_fn wall, void *wall_opaque);
void sim_clock_destroy(sim_clock *c);

/* The kw_clock view of this clock (valid as long as the sim_clock lives): hand it to
 * kp/mb. now_us = simulated µs; wall_us(sim) = wall µs to wait for `sim` µs to pass. */
const kw_clock *sim_clock_kw(sim_clock *c);

/* Simulated microseconds since the clock was created (pauses excluded, scaled by speed). */
int64_t sim_clock_now_us(sim_clock *c);
/* Microseconds since the Unix epoch at the current simulated instant: the real-time clock at
 * the clock's creation plus simulated time, so a paused or scaled run still stamps records
 * with plausible dates that advance with simulated time (CreateTime, LogAppendTime). */
int64_t sim_clock_epoch_us(sim_clock *c);
/* Wall microseconds to wait for `sim_us` simulated microseconds (SIM_CLOCK_PAUSED_POLL_US
 * while paused; 0 for sim_us <= 0). */
int64_t sim_clock_wall_us(sim_clock *c, int64_t sim_us);

/* Stops simulated time (idempotent). */
void sim_clock_pause(sim_clock *c);
/* Lets simulated time run again from where it stopped (idempotent). */
void sim_clock_resume(sim_clock *c);
bool sim_clock_paused(sim_clock *c);
/* Changes the speed (clamped); simulated time stays continuous across the change. */
void sim_clock_set_speed(sim_clock *c, double speed);
double sim_clock_speed(sim_clock *c);

/* Sleeps until simulated time reaches `until_sim_us` or *cancel becomes true (checked at
 * least every 20 ms of wall time, also while paused). Returns true when the time was reached,
 * false when cancelled. `cancel` may be NULL. */
bool sim_clock_sleep_until(sim_clock *c, int64_t until_sim_us, atomic_bool *cancel);

#endif
