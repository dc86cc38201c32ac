/* One blocking Kafka connection (see sim/kconn.h): the simulator's own short questions to a
 * cluster, each with a deadline, one request in flight at a time. */
#include "sim/kconn.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct sim_kconn {
    int fd;
    int32_t next_corr;
    char peer[300];
    uint8_t *in; /* the last response frame */
    size_t in_cap;
    bool have_versions;
    int n_ranges;
    kw_api_range ranges[128]; /* what the broker said in ApiVersions */
};

int64_t sim_kconn_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sim_kconn_split(const char *addr, char *host, size_t hostsize, int *port, char *errbuf,
                    size_t errsize) {
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr || !colon[1]) {
        snprintf(errbuf, errsize, "'%.100s' is not HOST:PORT", addr);
        return -1;
    }
    const char *h = addr;
    size_t hl = (size_t)(colon - addr);
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    char *end;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (*end || errno || p < 1 || p > 65535) {
        snprintf(errbuf, errsize, "'%.100s': the port is not a number in 1..65535", addr);
        return -1;
    }
    if (hl == 0 || hl >= hostsize) {
        snprintf(errbuf, errsize, "'%.100s': bad host", addr);
        return -1;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (int)p;
    return 0;
}

/* Waits for fd to be ready for `events` until deadline (monotonic ms); 0 ready, -1 timeout. */
static int wait_fd(int fd, short events, int64_t deadline) {
    for (;;) {
        int64_t left = deadline - sim_kconn_now_ms();
        if (left <= 0)
            return -1;
        struct pollfd pf = {.fd = fd, .events = events};
        int n = poll(&pf, 1, (int)(left > 1000 ? 1000 : left));
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

sim_io sim_io_connect(const char *host, int port, int64_t deadline, int *fd_out, char *why,
                      size_t whysize) {
    *fd_out = -1;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int gai = getaddrinfo(host, ps, &hints, &res);
    if (gai) {
        snprintf(why, whysize, "cannot resolve: %s", gai_strerror(gai));
        return SIM_IO_ERROR;
    }
    sim_io rc = SIM_IO_ERROR;
    int fd = -1, last_err = ECONNREFUSED;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            last_err = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
            last_err = errno;
        } else if (wait_fd(fd, POLLOUT, deadline) < 0) {
            rc = SIM_IO_TIMEOUT;
        } else {
            int e = 0;
            socklen_t el = sizeof e;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
            if (!e)
                break;
            last_err = e;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        if (rc == SIM_IO_TIMEOUT)
            snprintf(why, whysize, "connect: no answer");
        else
            snprintf(why, whysize, "connect: %s", strerror(last_err));
        return rc;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *fd_out = fd;
    return SIM_IO_OK;
}

int sim_kconn_open_host(const char *host, int port, int timeout_ms, sim_kconn **out, char *errbuf,
                        size_t errsize) {
    *out = NULL;
    int fd;
    char why[200];
    if (sim_io_connect(host, port, sim_kconn_now_ms() + timeout_ms, &fd, why, sizeof why)) {
        snprintf(errbuf, errsize, "cannot connect to %.100s:%d: %s", host, port, why);
        return -1;
    }
    sim_kconn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        snprintf(errbuf, errsize, "out of memory");
        return -1;
    }
    c->fd = fd;
    c->next_corr = 1;
    snprintf(c->peer, sizeof c->peer, "%.255s:%d", host, port);
    *out = c;
    return 0;
}

int sim_kconn_open(const char *bootstrap, int timeout_ms, sim_kconn **out, char *errbuf,
                   size_t errsize) {
    *out = NULL;
    char list[1024];
    snprintf(list, sizeof list, "%s", bootstrap ? bootstrap : "");
    char *save = NULL;
    int tried = 0;
    for (char *a = strtok_r(list, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
        while (*a == ' ')
            a++;
        char host[256];
        int port;
        if (sim_kconn_split(a, host, sizeof host, &port, errbuf, errsize))
            return -1;
        tried++;
        if (sim_kconn_open_host(host, port, timeout_ms, out, errbuf, errsize) == 0)
            return 0;
    }
    if (!tried)
        snprintf(errbuf, errsize, "an empty bootstrap list");
    return -1;
}

sim_io sim_io_send_all(int fd, const void *buf, size_t n, int64_t deadline) {
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            if (wait_fd(fd, POLLOUT, deadline) < 0)
                return SIM_IO_TIMEOUT;
        } else {
            return SIM_IO_ERROR;
        }
    }
    return SIM_IO_OK;
}

sim_io sim_io_recv_all(int fd, void *buf, size_t n, int64_t deadline) {
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = recv(fd, p, n, 0);
        if (r > 0) {
            p += r;
            n -= (size_t)r;
        } else if (r == 0) {
            return SIM_IO_CLOSED;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            if (wait_fd(fd, POLLIN, deadline) < 0)
                return SIM_IO_TIMEOUT;
        } else {
            return SIM_IO_ERROR;
        }
    }
    return SIM_IO_OK;
}

int sim_kconn_call(sim_kconn *c, int16_t api_key, int16_t api_version, const kw_wbuf *body,
                   int timeout_ms, kw_rbuf *rb, char *errbuf, size_t errsize) {
    int64_t deadline = sim_kconn_now_ms() + timeout_ms;
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    kw_request_header h = {api_key, api_version, c->next_corr++, kw_slice_str("courier-sim")};
    kw_frame_request(&wb, &h, body->p, body->len);
    int e = ENOMEM;
    sim_io rc = wb.oom ? SIM_IO_ERROR : sim_io_send_all(c->fd, wb.p, wb.len, deadline);
    if (rc == SIM_IO_ERROR && !wb.oom)
        e = errno;
    kw_wbuf_free(&wb);
    if (rc) {
        snprintf(errbuf, errsize, "%s: cannot send %s: %s", c->peer, kw_api_name(api_key),
                 rc == SIM_IO_TIMEOUT  ? "timed out"
                 : rc == SIM_IO_CLOSED ? "the connection was closed"
                                       : strerror(e));
        return -1;
    }
    uint8_t sz[4];
    if (sim_io_recv_all(c->fd, sz, 4, deadline)) {
        snprintf(errbuf, errsize, "%s: no answer to %s v%d within %d ms", c->peer,
                 kw_api_name(api_key), api_version, timeout_ms);
        return -1;
    }
    int32_t len;
    char ferr[160];
    if (kw_frame_peek(sz, 4, KW_DEFAULT_MAX_FRAME, &len, ferr, sizeof ferr) < 0) {
        snprintf(errbuf, errsize, "%s: %s", c->peer, ferr);
        return -1;
    }
    if ((size_t)len > c->in_cap) {
        uint8_t *n = realloc(c->in, (size_t)len);
        if (!n) {
            snprintf(errbuf, errsize, "out of memory");
            return -1;
        }
        c->in = n;
        c->in_cap = (size_t)len;
    }
    if (sim_io_recv_all(c->fd, c->in, (size_t)len, deadline)) {
        snprintf(errbuf, errsize, "%s: the answer to %s was cut short", c->peer,
                 kw_api_name(api_key));
        return -1;
    }
    kw_rbuf_init(rb, c->in, (size_t)len, kw_api_name(api_key));
    kw_response_header rh;
    kw_response_header_decode(rb, &rh, kw_response_header_version(api_key, api_version));
    if (rb->err || rh.correlation_id != h.correlation_id) {
        snprintf(errbuf, errsize, "%s: the answer to %s has correlation id %d, not %d", c->peer,
                 kw_api_name(api_key), (int)rh.correlation_id, (int)h.correlation_id);
        return -1;
    }
    return 0;
}

int sim_kconn_pick_version(sim_kconn *c, int16_t api_key, int16_t *version, char *errbuf,
                           size_t errsize) {
    if (!c->have_versions) {
        kw_wbuf body;
        kw_wbuf_init(&body);
        kw_api_versions_req req = {0};
        kw_api_versions_req_encode(&body, 0, &req);
        kw_rbuf rb;
        int rc = sim_kconn_call(c, KW_API_API_VERSIONS, 0, &body, 10000, &rb, errbuf, errsize);
        kw_wbuf_free(&body);
        if (rc)
            return -1;
        kw_arena *a = kw_arena_new();
        kw_api_versions_resp m;
        if (!a || kw_api_versions_resp_decode(&rb, 0, a, &m) != KW_ERR_NONE || m.error_code) {
            snprintf(errbuf, errsize, "%s: ApiVersions: %s", c->peer,
                     a ? (rb.err ? rb.errmsg : kw_err_name((kw_err)m.error_code)) : "no memory");
            kw_arena_destroy(a);
            return -1;
        }
        c->n_ranges = 0;
        for (int32_t i = 0; i < m.n_api_keys && c->n_ranges < 128; i++)
            c->ranges[c->n_ranges++] = m.api_keys[i];
        kw_arena_destroy(a);
        c->have_versions = true;
    }
    const kw_api_range *ours = kw_api_supported(api_key);
    for (int i = 0; ours && i < c->n_ranges; i++) {
        const kw_api_range *theirs = &c->ranges[i];
        if (theirs->api_key != api_key)
            continue;
        int16_t hi =
            ours->max_version < theirs->max_version ? ours->max_version : theirs->max_version;
        int16_t lo =
            ours->min_version > theirs->min_version ? ours->min_version : theirs->min_version;
        if (hi >= lo) {
            *version = hi;
            return 0;
        }
    }
    snprintf(errbuf, errsize, "%s: no %s version both sides speak", c->peer, kw_api_name(api_key));
    return -1;
}

const char *sim_kconn_peer(const sim_kconn *c) {
    return c->peer;
}

void sim_kconn_close(sim_kconn *c) {
    if (!c)
        return;
    close(c->fd);
    free(c->in);
    free(c);
}
