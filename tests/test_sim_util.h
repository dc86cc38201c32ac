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
    char opath[] = "/tmp/courier-test-out-XXXXXX", epath[] = "/tmp/courier-test-err-XXXXXX";
    int ofd = mkstemp(opath);
    if (ofd < 0)
        return -100;
    unlink(opath);
    int efd = ofd;
    if (err) {
        efd = mkstemp(epath);
        if (efd < 0) {
            close(ofd);
            return -100;
        }
        unlink(epath);
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

#endif
