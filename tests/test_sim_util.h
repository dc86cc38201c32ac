/* Helpers shared by the simulator's test files (header-only, static): running the courier
 * binary under test as a child process. */
#ifndef COURIER_TESTS_SIM_UTIL_H
#define COURIER_TESTS_SIM_UTIL_H

#include "tests/tu.h"

#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Reads what a child wrote to fd (from its start) into buf, NUL-terminated. */
static inline void ts_read_back(int fd, char *buf, size_t size) {
    ssize_t n = pread(fd, buf, size - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
}

/* A temp file already unlinked, for a child's output (-1 when none could be made). */
static inline int ts_tmpfd(void) {
    char path[] = "/tmp/courier-test-out-XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0)
        unlink(path);
    return fd;
}

/* Starts courier with argv (argv[0] ignored), its stdout on ofd and stderr on efd; returns
 * the child's pid (-1 when fork failed). */
static inline pid_t ts_spawn_courier(char *const argv[], int ofd, int efd) {
    pid_t pid = fork();
    if (pid == 0) {
        dup2(ofd, 1);
        dup2(efd, 2);
        execv(tu_courier_path(), argv);
        _exit(127);
    }
    return pid;
}

/* Runs courier with argv (NULL-terminated; argv[0] ignored): stdout into out, stderr into err.
 * err NULL: stderr goes into out with stdout, in the order written; out NULL: stdout is
 * discarded. When sigint_after_ms >= 0 the child gets SIGINT once that many ms have passed (or
 * not at all if it exited before). Returns the exit code, -1 on a signal, -100 when it could
 * not run. */
static inline int ts_run_courier(char *const argv[], char *out, size_t outsize, char *err,
                                 size_t errsize, int sigint_after_ms) {
    int ofd = ts_tmpfd();
    if (ofd < 0)
        return -100;
    int efd = err ? ts_tmpfd() : ofd;
    if (efd < 0) {
        close(ofd);
        return -100;
    }
    pid_t pid = ts_spawn_courier(argv, ofd, efd);
    int st = 0;
    bool reaped = pid < 0;
    if (sigint_after_ms >= 0 && !reaped) {
        int64_t t = tu_now_ms() + sigint_after_ms;
        while (!reaped && tu_now_ms() < t) {
            reaped = waitpid(pid, &st, WNOHANG) == pid;
            if (!reaped)
                usleep(2000);
        }
        if (!reaped)
            kill(pid, SIGINT);
    }
    if (!reaped)
        waitpid(pid, &st, 0);
    if (out)
        ts_read_back(ofd, out, outsize);
    if (err)
        ts_read_back(efd, err, errsize);
    close(ofd);
    if (efd != ofd)
        close(efd);
    if (pid < 0)
        return -100;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* --- runs side by side -------------------------------------------------------------------- */
/* ts_run_side_by_side runs n courier runs, at most at_once at a time (a run at speed 1 or 2
 * mostly waits on its timers): argv_for(i) gives run i's argv (argv[0] ignored; it may point
 * into static storage, as it is used before the next call), and check(i, ...) is called in
 * this thread as each run ends, with its exit code (-1 on a signal, -100 when it could not
 * start), what it wrote to stdout and to stderr, and its wall time. */
typedef char *const *(*ts_argv_fn)(int i, void *opaque);
typedef void (*ts_check_fn)(int i, int rc, const char *out, const char *err, int64_t ms,
                            void *opaque);

typedef struct ts_job {
    int i;
    pid_t pid;
    int ofd, efd;
    int64_t t0;
} ts_job;

/* Reads a finished job's output, closes its files and hands it to check. */
static inline void ts_job_end(ts_job *j, int st, ts_check_fn check, void *opaque) {
    static char out[65536], err[65536];
    out[0] = err[0] = '\0';
    if (j->ofd >= 0) {
        ts_read_back(j->ofd, out, sizeof out);
        close(j->ofd);
    }
    if (j->efd >= 0) {
        ts_read_back(j->efd, err, sizeof err);
        close(j->efd);
    }
    int rc = j->pid <= 0 ? -100 : WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    check(j->i, rc, out, err, tu_now_ms() - j->t0, opaque);
}

static inline void ts_run_side_by_side(int n, int at_once, ts_argv_fn argv_for,
                                       ts_check_fn check, void *opaque) {
    ts_job jobs[16];
    if (at_once > 16)
        at_once = 16;
    if (at_once < 1)
        at_once = 1;
    int running = 0, next = 0;
    while (next < n || running > 0) {
        while (running < at_once && next < n) {
            ts_job *j = &jobs[running];
            *j = (ts_job){.i = next++, .pid = -1, .ofd = ts_tmpfd(), .efd = ts_tmpfd()};
            j->t0 = tu_now_ms();
            if (j->ofd >= 0 && j->efd >= 0)
                j->pid = ts_spawn_courier(argv_for(j->i, opaque), j->ofd, j->efd);
            if (j->pid <= 0) {
                ts_job_end(j, 0, check, opaque); /* could not start: rc -100 */
                continue;
            }
            running++;
        }
        if (running == 0)
            break;
        int st = 0;
        pid_t pid = waitpid(-1, &st, 0);
        if (pid < 0) { /* no child left: cannot happen while jobs run */
            for (int k = 0; k < running; k++) {
                jobs[k].pid = -1;
                ts_job_end(&jobs[k], 0, check, opaque);
            }
            break;
        }
        for (int k = 0; k < running; k++) {
            if (jobs[k].pid != pid)
                continue;
            ts_job_end(&jobs[k], st, check, opaque);
            jobs[k] = jobs[--running];
            break;
        }
    }
}

#endif
