/* courier proxy — the fault proxy on its own: a loopback port in front of each broker of a
 * cluster (any Kafka), network faults per broker typed on stdin, until Ctrl-C.
 *
 *   courier proxy --upstream HOST:PORT[,...] [--rtt-ms N] [--listen ADDR]
 *
 * Prints "bootstrap: 127.0.0.1:P1,..." first (as `courier broker`); each stdin line is one
 * command (sim_proxy_command) answered with one line on stdout. Exit codes: 0 after SIGINT or
 * SIGTERM, 1 when the upstream cluster cannot be reached, 2 bad usage. */
#include "sim/cmd.h"
#include "sim/proxy.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: courier proxy --upstream HOST:PORT[,...] [--rtt-ms N] [--listen ADDR]\n"
            "\n"
            "A fault-injecting TCP proxy in front of each broker of a Kafka cluster. Prints\n"
            "\"bootstrap: ...\" (the proxied brokers) on its first line; point clients there.\n"
            "Broker addresses in Metadata answers are rewritten so clients stay on the proxy.\n"
            "\n"
            "  --upstream LIST   the real cluster's bootstrap servers\n"
            "  --rtt-ms N        added round-trip time of every broker at start (default 0)\n"
            "  --listen ADDR     IPv4 address to listen on and advertise (default 127.0.0.1)\n"
            "\n"
            "Commands on stdin, one a line, each answered with one line (ok: / error:):\n"
            "  rtt BROKER MS        answers of BROKER arrive MS ms later\n"
            "  drop BROKER N        BROKER's next N answers are lost (the connection stalls)\n"
            "  cut BROKER           close every connection to BROKER now\n"
            "  blackhole BROKER     accept, never answer\n"
            "  partition BROKER     unreachable: connections cut, new ones closed at once\n"
            "  heal [BROKER]        end every fault (of BROKER, or of all)\n"
            "  status, help\n"
            "BROKER is a node id or `all`. Ctrl-C (SIGINT) or SIGTERM stops the proxy.\n");
}

static void on_log(int level, const char *line, void *opaque) {
    (void)opaque;
    fprintf(stderr, "courier proxy: %s%s\n", level ? "warning: " : "", line);
}

/* The stdin reader: one command a line, one answer a line. Ends at EOF (the proxy keeps
 * serving until a signal). Signals are blocked here (inherited from main). */
static void *stdin_main(void *arg) {
    sim_proxy *p = arg;
    char line[512];
    while (fgets(line, sizeof line, stdin)) {
        if (!strchr(line, '\n') && !feof(stdin)) { /* an over-long line: skip the rest */
            int ch;
            while ((ch = getchar()) != EOF && ch != '\n')
                ;
            printf("error: a line longer than %zu bytes\n", sizeof line - 2);
            fflush(stdout);
            continue;
        }
        if (line[strspn(line, " \t\r\n")] == '\0')
            continue;
        char reply[2048];
        sim_proxy_command(p, line, reply, sizeof reply);
        printf("%s\n", reply);
        fflush(stdout);
    }
    return NULL;
}

/* All of the command line, in one place. Returns 0, 1 for --help, 2 for bad usage. */
static int parse_args(int argc, char **argv, sim_proxy_opts *o) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 1;
        } else if (!strcmp(a, "--upstream") || !strcmp(a, "--rtt-ms") || !strcmp(a, "--listen")) {
            if (!v) {
                fprintf(stderr, "courier proxy: %s needs a value (see --help)\n", a);
                return 2;
            }
            i++;
            if (!strcmp(a, "--upstream")) {
                o->upstream = v;
            } else if (!strcmp(a, "--listen")) {
                o->listen_host = v;
            } else {
                char *end;
                errno = 0;
                long long ms = strtoll(v, &end, 10);
                if (end == v || *end || errno || ms < 0 || ms > 600000) {
                    fprintf(stderr, "courier proxy: --rtt-ms: '%s' is not a number in 0..600000\n",
                            v);
                    return 2;
                }
                o->rtt_ms = ms;
            }
        } else {
            fprintf(stderr, "courier proxy: unknown option '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (!o->upstream) {
        fprintf(stderr, "courier proxy: --upstream HOST:PORT is required (see --help)\n");
        return 2;
    }
    return 0;
}

int sim_cmd_proxy(int argc, char **argv) {
    sim_proxy_opts o = {.log_cb = on_log};
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    /* Signals are waited for here only: every thread started below inherits the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    sim_proxy *p;
    char err[512];
    if (sim_proxy_new(&o, &p, err, sizeof err)) {
        fprintf(stderr, "courier proxy: %s\n", err);
        return 1;
    }
    printf("bootstrap: %s\n", sim_proxy_bootstrap(p));
    fflush(stdout);
    pthread_t reader;
    bool reading = pthread_create(&reader, NULL, stdin_main, p) == 0;
    if (reading)
        pthread_detach(reader); /* may sit in fgets forever; the process exit ends it */
    int sig = 0;
    sigwait(&sigs, &sig);
    sim_proxy_destroy(p);
    fflush(stdout);
    return 0;
}
