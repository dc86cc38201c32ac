/* protocol/kw_clock.c — the default clock: CLOCK_MONOTONIC at speed 1; timestamps from
 * CLOCK_REALTIME.
 *
 * The simulator hands producer and cluster a clock of its own that it can pause and scale;
 * everyone else uses this one, where simulated time is wall time.
 */
#include "protocol/kw.h"

#include <time.h>

static int64_t monotonic_now_us(void *opaque) {
    (void)opaque;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* At speed 1, waiting `sim_us` of simulated time takes `sim_us` of wall time. */
static int64_t monotonic_wall_us(void *opaque, int64_t sim_us) {
    (void)opaque;
    return sim_us;
}

int64_t kw_realtime_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const kw_clock monotonic_clock = {monotonic_now_us, monotonic_wall_us, NULL, NULL};

const kw_clock *kw_clock_monotonic(void) {
    return &monotonic_clock;
}
