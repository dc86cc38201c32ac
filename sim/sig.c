/* SIGINT and SIGTERM, taken in one place (see sig.h). */
#include "sim/sig.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/signalfd.h>
#include <time.h>

static atomic_bool g_caught;

static void stop_set(sigset_t *s) {
    sigemptyset(s);
    sigaddset(s, SIGINT);
    sigaddset(s, SIGTERM);
}

void sim_signals_block(void) {
    sigset_t s;
    stop_set(&s);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int sim_signals_wait(int timeout_ms) {
    sigset_t s;
    stop_set(&s);
    int sig;
    if (timeout_ms < 0) {
        siginfo_t info;
        do
            sig = sigwaitinfo(&s, &info);
        while (sig < 0 && errno == EINTR);
    } else {
        struct timespec ts = {.tv_sec = timeout_ms / 1000,
                              .tv_nsec = (long)(timeout_ms % 1000) * 1000000L};
        sig = sigtimedwait(&s, NULL, &ts);
    }
    if (sig <= 0)
        return 0;
    atomic_store(&g_caught, true);
    return sig;
}

bool sim_signals_caught(void) {
    if (atomic_load(&g_caught))
        return true;
    return sim_signals_wait(0) != 0;
}

int sim_signals_fd(void) {
    static int fd = -2;
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&lock);
    if (fd == -2) {
        sigset_t s;
        stop_set(&s);
        fd = signalfd(-1, &s, SFD_CLOEXEC | SFD_NONBLOCK);
        if (fd < 0)
            fd = -1;
    }
    int r = fd;
    pthread_mutex_unlock(&lock);
    return r;
}
