/* A depot's front door: one broker's event loop. Each broker thread owns a listening socket,
 * a wakeup eventfd and its client connections, and runs a poll() loop (as librdkafka's mock
 * and Redis's ae): read frames, hand each to its API handler, queue the answers in request
 * order, write them when they are ready (after the injected RTT, unless dropped).
 *
 * A malformed or oversized frame, an unknown API or version closes that one connection with a
 * logged reason; the broker keeps serving everyone else. When the broker is taken down the
 * thread closes its listener and connections and waits, reopening on the same port when it
 * comes back up.
 *
 * @locality broker thread, except mb_broker_listen (cluster creation) and mb_broker_wake. */
#include "mockbroker/mb_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MB_READ_CHUNK 65536
#define MB_KEEP_IN_BUF ((size_t)4 << 20) /* a connection keeps a receive buffer this large */
#define MB_MAX_POLL_WAIT_US 100000 /* re-read the (pausable) clock at least this often */

int mb_broker_listen(mb_broker *b, char *errbuf, size_t errsize) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(errbuf, errsize, "broker %d: socket: %s", b->id, strerror(errno));
        return MB_ERR_IO;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)b->port);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 128) < 0) {
        snprintf(errbuf, errsize, "broker %d: cannot listen on 127.0.0.1:%d: %s", b->id, b->port,
                 strerror(errno));
        close(fd);
        return MB_ERR_IO;
    }
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    if (b->port != ntohs(sa.sin_port))
        b->port = ntohs(sa.sin_port); /* only at creation: the port never changes after */
    b->listen_fd = fd;
    return MB_OK;
}

void mb_broker_wake(mb_broker *b) {
    uint64_t one = 1;
    if (b->wake_fd >= 0) {
        ssize_t rc = write(b->wake_fd, &one, sizeof one);
        (void)rc; /* EAGAIN: the counter is already non-zero, the thread will wake */
    }
}

/* ---- slots ------------------------------------------------------------------------------- */

size_t mb_resp_begin(mb_slot *s) {
    size_t start = kw_frame_begin(&s->out);
    kw_response_header h = {.correlation_id = s->correlation_id};
    kw_response_header_encode(&s->out, &h, kw_response_header_version(s->api_key, s->api_version));
    return start;
}

void mb_resp_end(mb_slot *s, size_t start, int64_t now) {
    kw_frame_end(&s->out, start);
    s->state = MB_SLOT_READY;
    s->ready_us = now;
}

void mb_slot_make_pending(mb_broker *b, mb_slot *s, int64_t deadline_us, mb_resume_fn fn,
                          void *pend, void (*pend_free)(void *)) {
    s->state = MB_SLOT_PENDING;
    s->deadline_us = deadline_us;
    s->resume = fn;
    s->pend = pend;
    s->pend_free = pend_free;
    atomic_fetch_add(&b->n_pending, 1);
}

static void slot_free(mb_broker *b, mb_slot *s) {
    if (s->state == MB_SLOT_PENDING)
        atomic_fetch_sub(&b->n_pending, 1);
    if (s->pend && s->pend_free)
        s->pend_free(s->pend);
    kw_wbuf_free(&s->out);
    free(s);
}

/* ---- connections ------------------------------------------------------------------------- */

static void conn_close(mb_broker *b, mb_conn *cn, mb_evbuf *eb) {
    mb_event *ev = mb_ev_add(b->c, eb, MB_EV_CONNECTION_CLOSED, b->id);
    mb_ev_detail(eb, ev, "%s: %s", cn->peer, cn->dead_reason[0] ? cn->dead_reason : "closed");
    close(cn->fd);
    while (cn->head) {
        mb_slot *s = cn->head;
        cn->head = s->next;
        slot_free(b, s);
    }
    free(cn->in);
    kw_wbuf_free(&cn->out);
    if (cn->arena)
        kw_arena_destroy(cn->arena);
    free(cn);
    atomic_fetch_sub(&b->n_conns, 1);
}

/* Marks a connection for closing; level 0 reasons (protocol violations) are logged. */
static void conn_kill(mb_broker *b, mb_conn *cn, int level, const char *reason) {
    if (cn->dead)
        return;
    cn->dead = true;
    snprintf(cn->dead_reason, sizeof cn->dead_reason, "%s", reason);
    if (level <= 1)
        mb_logf(b->c, level, "broker %d: closing connection from %s: %s", b->id, cn->peer, reason);
}

static void accept_all(mb_broker *b, mb_evbuf *eb) {
    for (;;) {
        struct sockaddr_in sa;
        socklen_t sl = sizeof sa;
        int fd = accept4(b->listen_fd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        mb_conn *cn = calloc(1, sizeof *cn);
        if (!cn || !(cn->arena = kw_arena_new())) {
            free(cn);
            close(fd);
            mb_logf(b->c, 0, "broker %d: out of memory accepting a connection", b->id);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        cn->fd = fd;
        char ip[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip);
        snprintf(cn->peer, sizeof cn->peer, "%s:%d", ip, ntohs(sa.sin_port));
        kw_wbuf_init(&cn->out);
        cn->next = b->conns;
        b->conns = cn;
        atomic_fetch_add(&b->n_conns, 1);
        mb_event *ev = mb_ev_add(b->c, eb, MB_EV_CONNECTION_OPENED, b->id);
        mb_ev_detail(eb, ev, "%s", cn->peer);
    }
}

/* Answers an ApiVersions request of a version we do not serve as Kafka does
 * (ApiVersionsRequest.getErrorResponse, RequestContext.apiVersion): error UNSUPPORTED_VERSION in
 * a v0 body that lists only the ApiVersions range, so the client retries with the highest
 * version of it we serve (KIP-511; Java's NetworkClient and franz-go do). */
static void answer_unsupported_api_versions(mb_req *r) {
    mb_slot *s = r->slot;
    s->api_version = 0;
    size_t start = mb_resp_begin(s);
    kw_api_versions_resp resp = {0};
    resp.error_code = KW_ERR_UNSUPPORTED_VERSION;
    resp.n_api_keys = 1;
    resp.api_keys = (kw_api_range *)kw_api_supported(KW_API_API_VERSIONS);
    kw_api_versions_resp_encode(&s->out, 0, &resp);
    s->error = KW_ERR_UNSUPPORTED_VERSION;
    mb_resp_end(s, start, r->now);
}

/* Handles one frame; false when the connection must close. */
static bool handle_frame(mb_broker *b, mb_conn *cn, const uint8_t *p, size_t len, mb_evbuf *eb) {
    mb_req r = {0};
    r.b = b;
    r.conn = cn;
    r.eb = eb;
    r.now = mb_now(b->c);
    r.arena = cn->arena;
    kw_arena_reset(cn->arena);
    kw_rbuf_init(&r.rb, p, len, "request header");
    if (kw_request_header_decode(&r.rb, &r.hdr) != KW_ERR_NONE) {
        char reason[200];
        snprintf(reason, sizeof reason, "malformed request header: %s", r.rb.errmsg);
        conn_kill(b, cn, 0, reason);
        return false;
    }
    int16_t key = r.hdr.api_key, ver = r.hdr.api_version;
    atomic_fetch_add_explicit(&b->req_total, 1, memory_order_relaxed);
    if (key >= 0 && key < 64)
        atomic_fetch_add_explicit(&b->req_count[key], 1, memory_order_relaxed);
    mb_event *ev = mb_ev_add(b->c, eb, MB_EV_REQUEST_RECEIVED, b->id);
    if (ev) {
        ev->api_key = key;
        ev->api_version = ver;
        ev->correlation_id = r.hdr.correlation_id;
        ev->bytes = (int64_t)len + 4;
        char cid[64];
        mb_ev_detail(eb, ev, "%s v%d from %s (client %s)", kw_api_name(key), ver, cn->peer,
                     kw_slice_cstr(r.hdr.client_id, cid, sizeof cid));
    }
    mb_slot *s = calloc(1, sizeof *s);
    if (!s) {
        conn_kill(b, cn, 0, "out of memory");
        return false;
    }
    kw_wbuf_init(&s->out);
    s->correlation_id = r.hdr.correlation_id;
    s->api_key = key;
    s->api_version = ver;
    s->state = MB_SLOT_NONE;
    r.slot = s;
    /* Queue first so that pipelined answers keep request order. */
    if (cn->tail)
        cn->tail->next = s;
    else
        cn->head = s;
    cn->tail = s;

    const mb_handler *h = mb_handler_get(key);
    char reason[256];
    if (key == KW_API_API_VERSIONS && h && (ver < h->min_version || ver > h->max_version)) {
        answer_unsupported_api_versions(&r);
        return true;
    }
    if (!h || ver < h->min_version || ver > h->max_version) {
        snprintf(reason, sizeof reason, "unsupported API %s (key %d) version %d", kw_api_name(key),
                 key, ver);
        conn_kill(b, cn, 0, reason);
        return false;
    }
    char ctx[64];
    snprintf(ctx, sizeof ctx, "%s v%d request", kw_api_name(key), ver);
    size_t hdr_len = r.rb.pos;
    kw_rbuf_init(&r.rb, p + hdr_len, len - hdr_len, ctx);
    reason[0] = '\0';
    if (h->fn(&r, reason, sizeof reason) < 0) {
        conn_kill(b, cn, 0, reason[0] ? reason : "request refused");
        return false;
    }
    return true;
}

/* Reads what the socket has and handles every whole frame. */
static void conn_read(mb_broker *b, mb_conn *cn, mb_evbuf *eb) {
    int32_t max_frame = b->c->conf.socket_request_max_bytes;
    for (int rounds = 0; rounds < 16 && !cn->dead; rounds++) {
        if (cn->in_cap - cn->in_len < MB_READ_CHUNK / 4) {
            size_t ncap = cn->in_cap ? cn->in_cap * 2 : MB_READ_CHUNK;
            uint8_t *n = realloc(cn->in, ncap);
            if (!n) {
                conn_kill(b, cn, 0, "out of memory for the receive buffer");
                return;
            }
            cn->in = n;
            cn->in_cap = ncap;
        }
        size_t room = cn->in_cap - cn->in_len;
        ssize_t got = recv(cn->fd, cn->in + cn->in_len, room, 0);
        if (got == 0) {
            conn_kill(b, cn, 2, "closed by the client");
            return;
        }
        if (got < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EINTR)
                continue;
            char reason[120];
            snprintf(reason, sizeof reason, "recv: %s", strerror(errno));
            conn_kill(b, cn, 2, reason);
            return;
        }
        cn->in_len += (size_t)got;
        size_t pos = 0;
        while (!cn->dead && atomic_load(&b->want_up)) {
            int32_t flen;
            char err[160];
            int rc =
                kw_frame_peek(cn->in + pos, cn->in_len - pos, max_frame, &flen, err, sizeof err);
            if (rc < 0) {
                conn_kill(b, cn, 0, err);
                break;
            }
            if (rc == 0) {
                /* Make room for a large frame in one piece: once its 4 size bytes are in,
                 * kw_frame_peek has told its size. */
                if (cn->in_len - pos >= 4) {
                    size_t need = 4 + (size_t)flen;
                    if (need > cn->in_cap) {
                        memmove(cn->in, cn->in + pos, cn->in_len - pos);
                        cn->in_len -= pos;
                        pos = 0;
                        uint8_t *n = realloc(cn->in, need + MB_READ_CHUNK);
                        if (!n) {
                            conn_kill(b, cn, 0, "out of memory for a large frame");
                            break;
                        }
                        cn->in = n;
                        cn->in_cap = need + MB_READ_CHUNK;
                    }
                }
                break;
            }
            bool ok = handle_frame(b, cn, cn->in + pos + 4, (size_t)flen, eb);
            /* Deliver this request's events before its answer can leave, so a sink (and the
             * trace) sees request.received before response.sent. No lock is held here. */
            mb_evbuf_flush(b->c, eb);
            if (!ok)
                break;
            pos += 4 + (size_t)flen;
        }
        if (pos > 0) {
            memmove(cn->in, cn->in + pos, cn->in_len - pos);
            cn->in_len -= pos;
        }
        /* A short read emptied the socket: poll (level-triggered) says when more comes,
         * which saves the recv that would only return EAGAIN. */
        bool drained = (size_t)got < room;
        /* Give the buffer back after a frame larger than MB_KEEP_IN_BUF; one up to that size
         * is kept for the next, since librdkafka sends Produce requests of a few MB, and
         * a fresh buffer for each cost a page fault per 4 KiB (perf, 1 KB records). */
        if (cn->in_len == 0 && cn->in_cap > MB_KEEP_IN_BUF) {
            free(cn->in);
            cn->in = NULL;
            cn->in_cap = 0;
        }
        if (drained)
            return;
    }
}

/* Moves ready answers (in order) to the output buffer and writes it. Returns the earliest
 * cluster time a held (RTT) answer becomes due, or INT64_MAX. */
static int64_t conn_flush(mb_broker *b, mb_conn *cn, int64_t now, mb_evbuf *eb) {
    int64_t due = INT64_MAX;
    int64_t rtt = atomic_load(&b->rtt_us);
    while (cn->head && !cn->dead) {
        mb_slot *s = cn->head;
        if (s->state == MB_SLOT_PENDING)
            break;
        if (s->state == MB_SLOT_READY) {
            if (rtt > 0 && now < s->ready_us + rtt) {
                due = s->ready_us + rtt;
                break;
            }
            /* A dropped response stalls its connection: TCP delivers in order, so nothing
             * sent after it may reach the client. As with a real lost answer, the client
             * sees silence until request.timeout.ms, then reconnects. The requests are
             * still processed (appended), which is what makes retries duplicate. */
            bool drop = cn->stalled;
            if (!drop) {
                int left = atomic_load(&b->drop_next);
                while (left > 0 &&
                       !(drop = atomic_compare_exchange_weak(&b->drop_next, &left, left - 1)))
                    ;
                cn->stalled = drop;
            }
            mb_event *ev =
                mb_ev_add(b->c, eb, drop ? MB_EV_RESPONSE_DROPPED : MB_EV_RESPONSE_SENT, b->id);
            if (ev) {
                ev->api_key = s->api_key;
                ev->api_version = s->api_version;
                ev->correlation_id = s->correlation_id;
                ev->error = s->error;
                ev->bytes = (int64_t)s->out.len;
            }
            if (!drop) {
                if (cn->out.len == cn->out_pos) {
                    /* Empty output: take the slot's buffer as it is. */
                    kw_wbuf tmp = cn->out;
                    cn->out = s->out;
                    s->out = tmp;
                    kw_wbuf_reset(&s->out);
                    cn->out_pos = 0;
                } else {
                    kw_wbuf_append(&cn->out, s->out.p, s->out.len);
                }
            }
        }
        cn->head = s->next;
        if (!cn->head)
            cn->tail = NULL;
        slot_free(b, s);
    }
    if (cn->out.oom)
        conn_kill(b, cn, 0, "out of memory for responses");
    mb_evbuf_flush(b->c, eb); /* response.sent is told before the bytes go out */
    while (!cn->dead && cn->out_pos < cn->out.len) {
        ssize_t n = send(cn->fd, cn->out.p + cn->out_pos, cn->out.len - cn->out_pos, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                char reason[120];
                snprintf(reason, sizeof reason, "send: %s", strerror(errno));
                conn_kill(b, cn, 2, reason);
            }
            break;
        }
        cn->out_pos += (size_t)n;
    }
    if (cn->out_pos == cn->out.len) {
        if (cn->out.cap > 4 * MB_READ_CHUNK)
            kw_wbuf_free(&cn->out);
        else
            kw_wbuf_reset(&cn->out);
        cn->out_pos = 0;
    }
    return due;
}

/* Re-checks pending answers. Returns the earliest deadline among those still waiting. */
static int64_t conn_resume(mb_broker *b, mb_conn *cn, int64_t now, mb_evbuf *eb) {
    int64_t due = INT64_MAX;
    for (mb_slot *s = cn->head; s; s = s->next) {
        if (s->state != MB_SLOT_PENDING)
            continue;
        s->resume(b, s, now, eb);
        if (s->state != MB_SLOT_PENDING) {
            atomic_fetch_sub(&b->n_pending, 1);
            if (s->pend && s->pend_free)
                s->pend_free(s->pend);
            s->pend = NULL;
        } else if (s->deadline_us < due) {
            due = s->deadline_us;
        }
    }
    return due;
}

static void close_all(mb_broker *b, const char *reason, mb_evbuf *eb) {
    while (b->conns) {
        mb_conn *cn = b->conns;
        b->conns = cn->next;
        if (!cn->dead)
            snprintf(cn->dead_reason, sizeof cn->dead_reason, "%s", reason);
        conn_close(b, cn, eb);
    }
}

/* How long the event loop may sleep in poll(): until the next timer (cluster time wait_until,
 * INT64_MAX for none) in wall time, at most MB_MAX_POLL_WAIT_US, rounded up to whole ms. */
static int poll_timeout_ms(mb_cluster *c, int64_t wait_until) {
    int64_t wait_us = MB_MAX_POLL_WAIT_US;
    if (wait_until != INT64_MAX) {
        int64_t sim = wait_until - mb_now(c);
        int64_t w = c->clock->wall_us(c->clock->opaque, sim > 0 ? sim : 0);
        if (w < wait_us)
            wait_us = w;
    }
    int timeout_ms = (int)((wait_us + 999) / 1000);
    if (wait_us > 0 && timeout_ms == 0)
        timeout_ms = 1;
    return timeout_ms;
}

void *mb_broker_main(void *arg) {
    mb_broker *b = arg;
    mb_cluster *c = b->c;
    char tname[16];
    snprintf(tname, sizeof tname, "mb:broker-%d", b->id);
    pthread_setname_np(pthread_self(), tname);
    mb_evbuf eb;
    mb_evbuf_init(&eb);
    struct pollfd *pfd = NULL;
    mb_conn **pconn = NULL;
    size_t pcap = 0;
    int64_t wait_until = INT64_MAX; /* cluster time of the next timer */
    bool listen_failing = false;
    while (!atomic_load(&c->stopping)) {
        bool want_up = atomic_load(&b->want_up);
        bool listening = b->listen_fd >= 0;
        if (!want_up && listening) {
            close_all(b, "broker down", &eb);
            close(b->listen_fd);
            b->listen_fd = -1;
        } else if (want_up && !listening) {
            char err[200];
            if (mb_broker_listen(b, err, sizeof err) != MB_OK) {
                if (!listen_failing)
                    mb_logf(c, 1, "%s (retrying every 100 ms)", err);
                listen_failing = true;
            } else {
                listen_failing = false;
            }
        }
        mb_evbuf_flush(c, &eb);

        size_t n = 0, need = 2 + (size_t)atomic_load(&b->n_conns);
        if (need > pcap) {
            pcap = need * 2;
            struct pollfd *np = realloc(pfd, pcap * sizeof *np);
            mb_conn **nc = realloc(pconn, pcap * sizeof *nc);
            if (np)
                pfd = np;
            if (nc)
                pconn = nc;
            if (!np || !nc) {
                pcap = 0;
                mb_logf(c, 0, "broker %d: out of memory in the event loop", b->id);
                struct timespec ts = {0, 10000000};
                nanosleep(&ts, NULL);
                continue;
            }
        }
        pfd[n++] = (struct pollfd){.fd = b->wake_fd, .events = POLLIN};
        if (b->listen_fd >= 0)
            pfd[n++] = (struct pollfd){.fd = b->listen_fd, .events = POLLIN};
        size_t first_conn = n;
        for (mb_conn *cn = b->conns; cn; cn = cn->next) {
            pfd[n] = (struct pollfd){.fd = cn->fd, .events = POLLIN};
            if (cn->out_pos < cn->out.len)
                pfd[n].events |= POLLOUT;
            pconn[n++] = cn;
        }
        int pr = poll(pfd, (nfds_t)n, poll_timeout_ms(c, wait_until));
        if (pr < 0 && errno != EINTR) {
            mb_logf(c, 0, "broker %d: poll: %s", b->id, strerror(errno));
            break;
        }
        if (pr > 0 && (pfd[0].revents & POLLIN)) {
            uint64_t v;
            ssize_t rc = read(b->wake_fd, &v, sizeof v);
            (void)rc;
        }
        if (atomic_load(&c->stopping))
            break;
        if (!atomic_load(&b->want_up))
            continue; /* closes everything at the top of the loop */
        if (pr > 0 && first_conn == 2 && (pfd[1].revents & POLLIN)) /* pfd[1]: the listener */
            accept_all(b, &eb);
        for (size_t i = first_conn; pr > 0 && i < n; i++) {
            if (pfd[i].revents & (POLLIN | POLLERR | POLLHUP))
                conn_read(b, pconn[i], &eb);
        }
        int64_t now = mb_now(c);
        wait_until = INT64_MAX;
        for (mb_conn *cn = b->conns; cn; cn = cn->next) {
            if (cn->dead)
                continue;
            if (atomic_load(&b->n_pending) > 0) {
                int64_t d = conn_resume(b, cn, now, &eb);
                if (d < wait_until)
                    wait_until = d;
            }
            int64_t d = conn_flush(b, cn, now, &eb);
            if (d < wait_until)
                wait_until = d;
        }
        for (mb_conn **pp = &b->conns; *pp;) {
            mb_conn *cn = *pp;
            if (cn->dead) {
                *pp = cn->next;
                conn_close(b, cn, &eb);
            } else {
                pp = &cn->next;
            }
        }
        mb_evbuf_flush(c, &eb);
    }
    close_all(b, "cluster stopping", &eb);
    mb_evbuf_flush(c, &eb);
    mb_evbuf_free(&eb);
    free(pfd);
    free(pconn);
    return NULL;
}
