/* sim/kconn.h — one blocking Kafka connection for the simulator's own questions to a cluster
 * it does not own (the proxy's broker discovery, the foreign cluster's map): connect, send
 * one request, wait for its answer, with a deadline. Not for the pipeline: the producer has
 * its own non-blocking network client.
 *
 * Threads: a connection belongs to the thread that opened it. */
#ifndef COURIER_SIM_KCONN_H
#define COURIER_SIM_KCONN_H

#include "protocol/kw.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sim_kconn sim_kconn;

/* The blocking socket steps, each bounded by a deadline on CLOCK_MONOTONIC in ms
 * (sim_kconn_now_ms()); sim_kconn and the reader's connections (sim/reader.c) are built on
 * them. */
typedef enum sim_io {
    SIM_IO_OK = 0,
    SIM_IO_ERROR = -1,   /* a socket error: `why` or errno says which */
    SIM_IO_TIMEOUT = -2, /* the deadline passed */
    SIM_IO_CLOSED = -3,  /* the peer closed the connection */
} sim_io;

int64_t sim_kconn_now_ms(void);
/* Connects to host:port (each address it resolves to in turn), non-blocking with TCP_NODELAY;
 * *fd on SIM_IO_OK. On SIM_IO_ERROR `why` says what failed ("cannot resolve: ...",
 * "connect: Connection refused"). */
sim_io sim_io_connect(const char *host, int port, int64_t deadline, int *fd, char *why,
                      size_t whysize);
/* Sends or receives exactly n bytes. */
sim_io sim_io_send_all(int fd, const void *p, size_t n, int64_t deadline);
sim_io sim_io_recv_all(int fd, void *p, size_t n, int64_t deadline);

/* Splits "HOST:PORT" (the last ':' separates; "[v6]:port" accepted) into host and port.
 * Returns 0, or -1 with errbuf naming the bad address. */
int sim_kconn_split(const char *addr, char *host, size_t hostsize, int *port, char *errbuf,
                    size_t errsize);

/* Connects to the first reachable address of a comma-separated bootstrap list, each attempt
 * bounded by timeout_ms. Returns 0 and *out, or -1 with errbuf ("cannot connect to
 * h:p: Connection refused"). */
int sim_kconn_open(const char *bootstrap, int timeout_ms, sim_kconn **out, char *errbuf,
                   size_t errsize);
/* Connects to one host and port. */
int sim_kconn_open_host(const char *host, int port, int timeout_ms, sim_kconn **out, char *errbuf,
                        size_t errsize);

/* Sends one request (the body already encoded in `body` at api/version) and waits up to
 * timeout_ms for its answer. On success returns 0 and *rb reads the response body (after the
 * response header); it stays valid until the next call on this connection. Returns -1 with
 * errbuf on a socket error, a timeout or a mismatched correlation id (the connection is then
 * unusable: close it). */
int sim_kconn_call(sim_kconn *c, int16_t api_key, int16_t api_version, const kw_wbuf *body,
                   int timeout_ms, kw_rbuf *rb, char *errbuf, size_t errsize);

/* The highest version of api_key that both this codec (protocol/) and the broker speak,
 * asking the broker once (ApiVersions v0, which every broker answers). Returns 0 and
 * *version, or -1 with errbuf (no common version, or no answer). */
int sim_kconn_pick_version(sim_kconn *c, int16_t api_key, int16_t *version, char *errbuf,
                           size_t errsize);

/* The address this connection reached, "host:port". */
const char *sim_kconn_peer(const sim_kconn *c);

void sim_kconn_close(sim_kconn *c);

#endif
