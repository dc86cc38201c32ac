/* sim/proxy.h — the fault proxy (a crooked stretch of road): a TCP proxy in front of each
 * broker of any Kafka cluster, with network faults per broker. Clients connect to the
 * proxy's loopback ports; the proxy forwards Kafka frames both ways and rewrites the broker
 * addresses in Metadata answers so the clients keep coming back through it.
 *
 *   sim_proxy *p;
 *   if (sim_proxy_new("kafka1:9092", &p, err, sizeof err)) ...
 *   printf("bootstrap: %s\n", sim_proxy_bootstrap(p));
 *   sim_proxy_set_rtt(p, 2, 150);
 *   sim_proxy_destroy(p);
 *
 * Faults, per broker (node id), as a network would do them to one client:
 *   rtt N        every answer of the broker arrives N ms later
 *   drop N       the broker's next N answers are lost; as over TCP, a connection that lost an
 *                answer delivers nothing after it (the client times out and reconnects); the
 *                requests themselves still reach the broker (so retries can duplicate)
 *   cut          every open connection to the broker is closed now (both sides)
 *   blackhole    open and new connections are accepted and held, and nothing is forwarded or
 *                answered (a silent host: the client sees timeouts)
 *   partition    open connections are cut and new ones closed at once (unreachable)
 *   heal         every fault of the broker (or of all brokers) ends; connections that were
 *                stalled stay stalled (the client reconnects, as it would after a real loss)
 *
 * Which versions are rewritten: every Metadata and FindCoordinator version protocol/
 * decodes; the proxied ApiVersions answers advertise those two APIs only up to those
 * versions, and leave out DescribeCluster (its answer carries broker addresses and protocol/
 * has no codec for it), so a client never gets an address it should not use. An ApiVersions request
 * newer than protocol/ reads is answered by the proxy itself with UNSUPPORTED_VERSION, as Kafka
 * does, and the client retries older.
 *
 * Threads: one event-loop thread (all sockets, a wakeup pipe), SIGINT/SIGTERM blocked in it.
 * Every function here may be called from any thread. */
#ifndef COURIER_SIM_PROXY_H
#define COURIER_SIM_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sim_proxy sim_proxy;

#define SIM_PROXY_MAX_NODES 64

/* Called from the proxy's thread for every fault change and notable event ("broker 2: answer
 * to Produce #17 dropped"); level 0 info, 1 warning. Must not call back into the proxy. */
typedef void sim_proxy_log_cb(int level, const char *line, void *opaque);

typedef struct sim_proxy_opts {
    const char *upstream;    /* bootstrap list of the real cluster, "host:port[,...]" */
    int64_t rtt_ms;          /* initial added RTT of every broker (0 = none) */
    const char *listen_host; /* address to bind and advertise (default 127.0.0.1) */
    sim_proxy_log_cb *log_cb;
    void *log_opaque;
} sim_proxy_opts;

/* Asks the upstream cluster for its brokers (Metadata, up to 10 s), binds one loopback port
 * per broker (port 0) and starts the proxy thread. Returns 0 and *out, or -1 with errbuf.
 * Brokers that appear later in Metadata answers get their port when they first appear. */
int sim_proxy_new(const sim_proxy_opts *o, sim_proxy **out, char *errbuf, size_t errsize);
/* "127.0.0.1:P1,127.0.0.1:P2,..." — the proxied brokers, in node id order. Valid until
 * sim_proxy_destroy. */
const char *sim_proxy_bootstrap(const sim_proxy *p);
/* Node ids known (sorted), up to max; returns how many. */
int sim_proxy_nodes(sim_proxy *p, int32_t *ids, int max);

/* Fault controls; node -1 means every broker. Return 0, or -1 when node is unknown or the
 * value is out of range. */
int sim_proxy_set_rtt(sim_proxy *p, int32_t node, int64_t rtt_ms);
int sim_proxy_drop_responses(sim_proxy *p, int32_t node, int32_t n);
int sim_proxy_cut(sim_proxy *p, int32_t node);
int sim_proxy_blackhole(sim_proxy *p, int32_t node);
int sim_proxy_partition(sim_proxy *p, int32_t node);
int sim_proxy_heal(sim_proxy *p, int32_t node);

/* One control line (`rtt 2 150`, `drop 1 3`, `cut 3`, `blackhole 2`, `partition 1`,
 * `heal [N]`, `status`, `help`); writes the one-line answer ("ok: broker 2 rtt 150 ms" or
 * "error: ...") into reply. Returns 0 when the line was applied. */
int sim_proxy_command(sim_proxy *p, const char *line, char *reply, size_t size);

/* Counters (for tests and the bench). */
typedef struct sim_proxy_stats {
    int64_t connections; /* client connections accepted */
    int64_t requests;    /* request frames forwarded */
    int64_t responses;   /* response frames delivered */
    int64_t dropped;     /* responses swallowed (drop, stall, black hole) */
    int64_t metadata_rewrites;
    int64_t cuts; /* connections closed by cut/partition */
} sim_proxy_stats;
void sim_proxy_get_stats(sim_proxy *p, sim_proxy_stats *out);

/* Stops the thread, closes every socket, frees the proxy. */
void sim_proxy_destroy(sim_proxy *p);

#endif
