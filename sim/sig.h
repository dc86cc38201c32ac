/* sim/sig.h — SIGINT and SIGTERM, taken in one place.
 *
 * main() blocks both before any thread exists, so every thread the program creates (the
 * producer's sender, the brokers' loops, the runner's workers) inherits the mask and none of
 * them can take the signal: it stays pending for the process until the command's own loop
 * takes it with sim_signals_wait() (sigtimedwait). No handler, no flag set on the wrong thread,
 * no pause() left asleep. SIGPIPE is ignored (a peer closing a socket is an error return). */
#ifndef COURIER_SIM_SIG_H
#define COURIER_SIM_SIG_H

#include <stdbool.h>

/* Blocks SIGINT and SIGTERM in the calling thread and ignores SIGPIPE. Call it in main()
 * before creating any thread. */
void sim_signals_block(void);

/* Waits up to timeout_ms (< 0: without limit, 0: only looks) for SIGINT or SIGTERM and takes
 * it. Returns the signal's number, or 0 when none came (or the wait was interrupted by another
 * signal, e.g. SIGWINCH). Once one was taken, sim_signals_caught() stays true. */
int sim_signals_wait(int timeout_ms);

/* True once SIGINT or SIGTERM was taken (looks for a pending one without waiting). */
bool sim_signals_caught(void);

/* A file descriptor (signalfd) that becomes readable when SIGINT or SIGTERM is pending, for
 * poll() loops; call sim_signals_wait(0) to take the signal. -1 when it cannot be made. The
 * descriptor is opened once and stays open. */
int sim_signals_fd(void);

#endif
