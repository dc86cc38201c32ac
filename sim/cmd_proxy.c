/* courier proxy — the fault proxy on its own: a loopback port in front of each broker of a
 * cluster (any Kafka), network faults per broker typed on stdin, until Ctrl-C.
 *
 * Prints "bootstrap: 127.0.0.1:P1,..." first (as `courier broker`); each stdin line is one
 * command (sim_proxy_command) answered with one line on stdout. Exit codes: 0 after SIGINT or
 * SIGTERM, 1 when the upstream cluster cannot be reached, 2 bad usage. */
#include "sim/cmd.h"
#include "sim/proxy.h"
#include "sim/sig.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { O_UPSTREAM = 1, O_RTT_MS, O_LISTEN };
static const sim_opt proxy_opts[] = {
    {O_UPSTREAM, 0, "upstream", SIM_OPT_STRING, "HOST:PORT[,...]", 0, 0, NULL, false,
     "the real cluster's bootstrap servers (required)"},
    {O_RTT_MS, 0, "rtt-ms", SIM_OPT_INT, "N", 0, 600000, NULL, false,
     "added round-trip time of every broker at start (default 0)"},
    {O_LISTEN, 0, "listen", SIM_OPT_STRING, "ADDR", 0, 0, NULL, false,
     "IPv4 address to listen on and advertise (default 127.0.0.1)"},
    {0},
};

const sim_cmd_spec sim_cmd_proxy_spec = {
    .name = "proxy",
    .summary = "a fault-injecting TCP proxy in front of any Kafka cluster",
    .description = "A fault-injecting TCP proxy in front of each broker of a Kafka cluster. "
                   "Prints \"bootstrap: ...\" (the proxied brokers) on its first line; point "
                   "clients there. Broker addresses in Metadata answers are rewritten so "
                   "clients stay on the proxy (docs/real-cluster.md).",
    .footer = "Commands on stdin, one a line, each answered with one line (ok: / error:):\n\n"
              "  rtt BROKER MS        answers of BROKER arrive MS ms later\n"
              "  drop BROKER N        BROKER's next N answers are lost (the connection stalls)\n"
              "  cut BROKER           close every connection to BROKER now\n"
              "  blackhole BROKER     accept, never answer\n"
              "  partition BROKER     unreachable: connections cut, new ones closed at once\n"
              "  heal [BROKER]        end every fault (of BROKER, or of all)\n"
              "  status, help\n\n"
              "BROKER is a node id or `all`. Ctrl-C (SIGINT) or SIGTERM stops the proxy. Exit "
              "code: 0 after SIGINT or SIGTERM, 1 when the upstream cluster cannot be reached, "
              "2 bad usage.",
    .opts = proxy_opts,
    .main = sim_cmd_proxy,
};

static void on_log(int level, const char *line, void *opaque) {
    (void)opaque;
    fprintf(stderr, "courier proxy: %s%s\n", level ? "warning: " : "", line);
}

/* The stdin reader: one command a line, one answer a line. Ends at EOF (the proxy keeps
 * serving until a signal). Signals are blocked here (inherited from main). */
typedef struct reader_ctx {
    sim_proxy *p;
    pthread_mutex_t lock; /* held while a command runs; guards closing and done */
    bool closing;         /* main is about to destroy the proxy: no more commands */
    bool done;            /* the reader saw EOF and returned */
} reader_ctx;

static void *stdin_main(void *arg) {
    reader_ctx *rc = arg;
    sim_proxy *p = rc->p;
    char line[512];
    while (fgets(line, sizeof line, stdin)) {
        pthread_mutex_lock(&rc->lock);
        bool closing = rc->closing;
        pthread_mutex_unlock(&rc->lock);
        if (closing)
            break;
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
        pthread_mutex_lock(&rc->lock);
        if (!rc->closing) {
            sim_proxy_command(p, line, reply, sizeof reply);
            printf("%s\n", reply);
            fflush(stdout);
        }
        pthread_mutex_unlock(&rc->lock);
    }
    pthread_mutex_lock(&rc->lock);
    rc->done = true;
    pthread_mutex_unlock(&rc->lock);
    return NULL;
}

/* All of the command line, in one place. Returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, sim_proxy_opts *o) {
    sim_cli_args args;
    int rc = sim_cli_begin(&sim_cmd_proxy_spec, argc, argv, &args);
    if (rc >= 0)
        return rc;
    for (size_t i = 0; i < args.n; i++) {
        const sim_cli_arg *a = &args.v[i];
        if (a->opt->id == O_UPSTREAM)
            o->upstream = a->text;
        else if (a->opt->id == O_LISTEN)
            o->listen_host = a->text;
        else if (a->opt->id == O_RTT_MS)
            o->rtt_ms = a->i;
    }
    sim_cli_args_free(&args);
    if (!o->upstream) {
        fprintf(stderr, "courier proxy: --upstream HOST:PORT is required (see --help)\n");
        return 2;
    }
    return -1;
}

int sim_cmd_proxy(int argc, char **argv) {
    sim_proxy_opts o = {.log_cb = on_log};
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    /* SIGINT and SIGTERM are blocked in every thread (main.c, sim/sig.h): taken below only. */
    sim_proxy *p;
    char err[512];
    if (sim_proxy_new(&o, &p, err, sizeof err)) {
        fprintf(stderr, "courier proxy: %s\n", err);
        return 1;
    }
    printf("bootstrap: %s\n", sim_proxy_bootstrap(p));
    fflush(stdout);
    static reader_ctx rctx;
    rctx.p = p;
    pthread_mutex_init(&rctx.lock, NULL);
    pthread_t reader;
    bool reading = pthread_create(&reader, NULL, stdin_main, &rctx) == 0;
    while (!sim_signals_wait(-1))
        ;
    /* No command may run once the proxy is gone. A reader that saw EOF is joined; one still
     * waiting in fgets on an open stdin cannot be, and is ended by the process exit (it
     * checks `closing` before touching the proxy). */
    pthread_mutex_lock(&rctx.lock);
    rctx.closing = true;
    bool done = rctx.done;
    pthread_mutex_unlock(&rctx.lock);
    if (reading && done)
        pthread_join(reader, NULL);
    else if (reading)
        pthread_detach(reader);
    sim_proxy_destroy(p);
    fflush(stdout);
    return 0;
}
