/* The simulation clock (the company's wall clock, which the teacher may stop or speed up).
 *
 * Simulated time is piecewise linear in wall time: at the last change (pause, resume, speed)
 * we remember the pair (base_wall, base_sim); afterwards sim = base_sim + (wall - base_wall) *
 * speed, or just base_sim while paused. Every change rebases, so time never jumps. */
#include "sim/clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct sim_clock {
    kw_clock kw;          /* handed out by sim_clock_kw(); opaque = this */
    sim_wall_fn wall;     /* immutable */
    void *wall_opaque;    /* immutable */
    pthread_mutex_t lock; /* guards everything below */
    double speed;
    bool paused;
    int64_t base_wall_us;
    int64_t base_sim_us;
    int64_t last_sim_us; /* monotonic guard: now never goes backwards */
    int64_t epoch_base_us; /* immutable: the real-time clock when simulated time was 0 */
};

static int64_t monotonic_wall_us(void *opaque) {
    (void)opaque;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double clamp_speed(double s) {
    if (!(s >= SIM_CLOCK_MIN_SPEED)) /* also catches NaN */
        return SIM_CLOCK_MIN_SPEED;
    if (s > SIM_CLOCK_MAX_SPEED)
        return SIM_CLOCK_MAX_SPEED;
    return s;
}

static int64_t kw_now_cb(void *opaque) {
    return sim_clock_now_us(opaque);
}

static int64_t kw_wall_cb(void *opaque, int64_t sim_us) {
    return sim_clock_wall_us(opaque, sim_us);
}

static int64_t kw_epoch_cb(void *opaque) {
    return sim_clock_epoch_us(opaque);
}

sim_clock *sim_clock_new_with_wall(double speed, sim_wall_fn wall, void *wall_opaque) {
    sim_clock *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->wall = wall ? wall : monotonic_wall_us;
    c->wall_opaque = wall_opaque;
    pthread_mutex_init(&c->lock, NULL);
    c->speed = clamp_speed(speed);
    c->base_wall_us = c->wall(c->wall_opaque);
    c->kw.now_us = kw_now_cb;
    c->kw.wall_us = kw_wall_cb;
    c->kw.epoch_us = kw_epoch_cb;
    c->kw.opaque = c;
    c->epoch_base_us = kw_realtime_us();
    return c;
}

sim_clock *sim_clock_new(double speed) {
    return sim_clock_new_with_wall(speed, NULL, NULL);
}

void sim_clock_destroy(sim_clock *c) {
    if (!c)
        return;
    pthread_mutex_destroy(&c->lock);
    free(c);
}

const kw_clock *sim_clock_kw(sim_clock *c) {
    return &c->kw;
}

/* @locks c->lock MUST be held. */
static int64_t now_locked(sim_clock *c) {
    int64_t t = c->base_sim_us;
    if (!c->paused) {
        int64_t dw = c->wall(c->wall_opaque) - c->base_wall_us;
        if (dw > 0)
            t += (int64_t)((double)dw * c->speed);
    }
    if (t < c->last_sim_us)
        t = c->last_sim_us;
    c->last_sim_us = t;
    return t;
}

/* Makes the current instant the new base. @locks c->lock MUST be held. */
static void rebase_locked(sim_clock *c) {
    c->base_sim_us = now_locked(c);
    c->base_wall_us = c->wall(c->wall_opaque);
}

int64_t sim_clock_now_us(sim_clock *c) {
    pthread_mutex_lock(&c->lock);
    int64_t t = now_locked(c);
    pthread_mutex_unlock(&c->lock);
    return t;
}

int64_t sim_clock_epoch_us(sim_clock *c) {
    return c->epoch_base_us + sim_clock_now_us(c);
}

int64_t sim_clock_wall_us(sim_clock *c, int64_t sim_us) {
    if (sim_us <= 0)
        return 0;
    pthread_mutex_lock(&c->lock);
    bool paused = c->paused;
    double speed = c->speed;
    pthread_mutex_unlock(&c->lock);
    if (paused)
        return SIM_CLOCK_PAUSED_POLL_US;
    int64_t w = (int64_t)((double)sim_us / speed);
    return w > 0 ? w : 1;
}

void sim_clock_pause(sim_clock *c) {
    pthread_mutex_lock(&c->lock);
    if (!c->paused) {
        rebase_locked(c);
        c->paused = true;
    }
    pthread_mutex_unlock(&c->lock);
}

void sim_clock_resume(sim_clock *c) {
    pthread_mutex_lock(&c->lock);
    if (c->paused) {
        c->base_wall_us = c->wall(c->wall_opaque);
        c->paused = false;
    }
    pthread_mutex_unlock(&c->lock);
}

bool sim_clock_paused(sim_clock *c) {
    pthread_mutex_lock(&c->lock);
    bool p = c->paused;
    pthread_mutex_unlock(&c->lock);
    return p;
}

void sim_clock_set_speed(sim_clock *c, double speed) {
    pthread_mutex_lock(&c->lock);
    rebase_locked(c);
    c->speed = clamp_speed(speed);
    pthread_mutex_unlock(&c->lock);
}

double sim_clock_speed(sim_clock *c) {
    pthread_mutex_lock(&c->lock);
    double s = c->speed;
    pthread_mutex_unlock(&c->lock);
    return s;
}

static void sleep_wall_us(int64_t us) {
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

bool sim_clock_sleep_until(sim_clock *c, int64_t until_sim_us, atomic_bool *cancel) {
    for (;;) {
        if (cancel && atomic_load(cancel))
            return false;
        int64_t left = until_sim_us - sim_clock_now_us(c);
        if (left <= 0)
            return true;
        int64_t w = sim_clock_wall_us(c, left);
        if (w > SIM_CLOCK_PAUSED_POLL_US)
            w = SIM_CLOCK_PAUSED_POLL_US;
        sleep_wall_us(w);
    }
}
