/* The road: Java's NetworkClient + Selector in one small poll loop. Non-blocking sockets,
 * one connection per broker, requests framed and queued in order, responses matched by
 * correlation id (Kafka answers in order on a connection), at most
 * max.in.flight.requests.per.connection outstanding, request.timeout.ms enforced by closing
 * the connection, and a reconnect backoff that doubles up to reconnect.backoff.max.ms.
 * A wakeup eventfd lets the producing threads interrupt poll().
 * @locality sender thread (kp_net_wakeup: any thread) */
#include "producer/kp_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* What our ApiVersions request says we are (ApiVersionsRequest v3+ ClientSoftwareName/Version;
 * a broker checks them against [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?). */
#define KP_CLIENT_SOFTWARE_NAME "courier-producer"
#ifndef KP_CLIENT_SOFTWARE_VERSION
#define KP_CLIENT_SOFTWARE_VERSION "0.2.0"
#endif
/* The ApiVersions version of a new connection's first ask (librdkafka's choice). */
#define KP_API_VERSIONS_FIRST 3

#define KP_MAX_FRAME (100 * 1024 * 1024)

kw_err kp_net_init(kp_net *n, struct kp_producer *p) {
    memset(n, 0, sizeof *n);
    n->p = p;
    n->next_corr = 1;
    pthread_mutex_init(&n->lock, NULL); /* first: kp_net_destroy() may follow a failure */
    n->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (n->wake_fd < 0)
        return KW_ERR__TRANSPORT;
    return KW_ERR_NONE;
}

static void free_reqs(kp_conn *c) {
    kp_req *r = c->head;
    while (r) {
        kp_req *nx = r->next;
        free(r);
        r = nx;
    }
    c->head = c->tail = NULL;
    c->n_in_flight = 0;
}

void kp_net_destroy(kp_net *n) {
    for (int32_t i = 0; i < n->n_conns; i++) {
        kp_conn *c = n->conns[i];
        if (c->fd >= 0)
            close(c->fd);
        free_reqs(c);
        kw_wbuf_free(&c->out);
        free(c->in);
        free(c);
    }
    free(n->conns);
    if (n->wake_fd >= 0)
        close(n->wake_fd);
    pthread_mutex_destroy(&n->lock);
}

/* The producing threads call this for every record that fills a batch or opens one (Java's
 * `batchIsFull || newBatchCreated`); under load that is nearly every record, so the eventfd
 * write (a system call and a reschedule of the sender) happens only when no wakeup is pending,
 * as java.nio's EPollSelectorImpl.wakeup() writes its pipe once per select (interruptTriggered).
 * The acq_rel exchange pairs with the sender's in kp_net_poll: a caller that finds the flag set
 * is seen by the round that clears it. */
void kp_net_wakeup(kp_net *n) {
    if (atomic_exchange_explicit(&n->wake_pending, true, memory_order_acq_rel))
        return;
    uint64_t one = 1;
    ssize_t rc = write(n->wake_fd, &one, sizeof one);
    (void)rc;
}

kp_conn *kp_net_find(kp_net *n, int32_t node_id) {
    for (int32_t i = 0; i < n->n_conns; i++)
        if (n->conns[i]->node_id == node_id)
            return n->conns[i];
    return NULL;
}

kp_conn *kp_net_conn(kp_net *n, int32_t node_id, const char *host, int32_t port) {
    kp_conn *c = kp_net_find(n, node_id);
    if (c) {
        if (c->state == KP_CONN_DOWN && (strcmp(c->host, host) || c->port != port)) {
            /* kp_net_snapshot() reads host and port from other threads under the lock */
            pthread_mutex_lock(&n->lock);
            snprintf(c->host, sizeof c->host, "%s", host);
            c->port = port;
            pthread_mutex_unlock(&n->lock);
        }
        return c;
    }
    pthread_mutex_lock(&n->lock);
    if (!kw_grow(&n->conns, n->n_conns, &n->cap_conns, sizeof *n->conns, 8)) {
        pthread_mutex_unlock(&n->lock);
        return NULL;
    }
    pthread_mutex_unlock(&n->lock);
    c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->node_id = node_id;
    snprintf(c->host, sizeof c->host, "%s", host);
    c->port = port;
    c->fd = -1;
    c->state = KP_CONN_DOWN;
    c->last_attempt_ms = INT64_MIN / 2;
    kw_wbuf_init(&c->out);
    for (int i = 0; i < 32; i++)
        c->versions[i] = -1;
    pthread_mutex_lock(&n->lock);
    n->conns[n->n_conns++] = c;
    pthread_mutex_unlock(&n->lock);
    return c;
}

static void emit_conn(kp_net *n, kp_conn *c, kp_event_kind kind, kw_err err, const char *detail) {
    if (!kp_has_sink(n->p))
        return;
    kp_event ev = kp_ev(n->p, kind);
    ev.node_id = c->node_id;
    ev.err = err;
    ev.detail = detail;
    kp_emit(n->p, &ev);
}

/* Closes the connection and fails its in-flight requests with err (handlers run here). */
static void conn_close(kp_net *n, kp_conn *c, kw_err err, const char *why) {
    struct kp_producer *p = n->p;
    int64_t now = kp_now_ms(p);
    pthread_mutex_lock(&n->lock);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    bool was_up = c->state == KP_CONN_READY;
    c->state = KP_CONN_DOWN;
    kw_wbuf_reset(&c->out);
    c->out_pos = 0;
    c->in_len = 0;
    c->failures++;
    int64_t b = p->conf.reconnect_backoff_ms;
    for (int32_t i = 1; i < c->failures && b < p->conf.reconnect_backoff_max_ms; i++)
        b *= 2;
    if (b > p->conf.reconnect_backoff_max_ms)
        b = p->conf.reconnect_backoff_max_ms;
    c->backoff_ms = b;
    c->last_attempt_ms = now;
    kp_req *r = c->head;
    c->head = c->tail = NULL;
    c->n_in_flight = 0;
    c->n_noresp = 0;
    pthread_mutex_unlock(&n->lock);
    atomic_store(&p->md.need_update, true);
    if (was_up || r)
        kp_log(p, 6, "connection to node %d (%s:%d) closed: %s", (int)c->node_id, c->host,
               (int)c->port, why);
    emit_conn(n, c, KP_EV_CONNECTION_DOWN, err, why);
    /* Whatever closed the connection (a bad frame, a correlation id out of order, a reset),
     * its requests failed in transit, as Java's NetworkClient reports a disconnect: retriable.
     * Only a request timeout and a forced close keep their own codes. */
    kw_err req_err =
        (err == KW_ERR__TIMED_OUT || err == KW_ERR__INTERRUPTED) ? err : KW_ERR__TRANSPORT;
    while (r) {
        kp_req *nx = r->next;
        if (r->handler)
            r->handler(p, r, req_err, NULL, now);
        free(r);
        r = nx;
    }
}

static void send_api_versions(kp_net *n, kp_conn *c, int16_t version);

static void conn_start(kp_net *n, kp_conn *c, int64_t now) {
    c->last_attempt_ms = now;
    char port[16];
    snprintf(port, sizeof port, "%d", (int)c->port);
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(c->host, port, &hints, &res);
    if (rc != 0) {
        hints.ai_family = AF_UNSPEC;
        rc = getaddrinfo(c->host, port, &hints, &res);
    }
    if (rc != 0 || !res) {
        char why[256];
        snprintf(why, sizeof why, "cannot resolve %s:%s: %s", c->host, port, gai_strerror(rc));
        conn_close(n, c, KW_ERR__TRANSPORT, why);
        return;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        freeaddrinfo(res);
        conn_close(n, c, KW_ERR__TRANSPORT, strerror(errno));
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    pthread_mutex_lock(&n->lock);
    c->fd = fd;
    c->state = KP_CONN_CONNECTING;
    pthread_mutex_unlock(&n->lock);
    c->in_len = 0;
    rc = connect(fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (rc == 0) {
        send_api_versions(n, c, KP_API_VERSIONS_FIRST);
    } else if (errno != EINPROGRESS) {
        char why[256];
        snprintf(why, sizeof why, "connect to %s:%d: %s", c->host, (int)c->port, strerror(errno));
        conn_close(n, c, KW_ERR__TRANSPORT, why);
    }
}

bool kp_net_ready(kp_net *n, kp_conn *c, int64_t now_ms) {
    if (c->state == KP_CONN_READY)
        return c->n_in_flight < n->p->conf.max_in_flight;
    if (c->state == KP_CONN_DOWN && now_ms - c->last_attempt_ms >= c->backoff_ms)
        conn_start(n, c, now_ms);
    return false;
}

int16_t kp_net_version(const kp_conn *c, int16_t api_key) {
    if (c->state != KP_CONN_READY || api_key < 0 || api_key >= 32)
        return -1;
    return c->versions[api_key];
}

static void on_api_versions(struct kp_producer *p, kp_req *req, kw_err err, kw_rbuf *body,
                            int64_t now) {
    (void)now;
    kp_net *n = &p->net;
    kp_conn *c = req->ctx;
    if (err != KW_ERR_NONE)
        return; /* connection already closed */
    kw_arena *a = kw_arena_new();
    kw_api_versions_resp resp;
    memset(&resp, 0, sizeof resp);
    err = a ? kw_api_versions_resp_decode(body, req->api_version, a, &resp) : KW_ERR__NO_MEMORY;
    char why[256];
    if (resp.error_code == KW_ERR_UNSUPPORTED_VERSION && req->api_version > 0) {
        /* As Java's NetworkClient.handleApiVersionsResponse: the broker does not serve our
         * ApiVersions version; ask again at the highest one it lists for ApiVersions (Kafka
         * lists only that entry, KIP-511), or at v0 when it lists none — also when the body
         * did not parse but led with error 35 (librdkafka 2.0's mock answers v3 in a body that
         * is neither v0 nor v3, tests/vectors/README.md; librdkafka itself retries v0). */
        int16_t retry = 0;
        for (int32_t j = 0; j < resp.n_api_keys; j++)
            if (resp.api_keys[j].api_key == KW_API_API_VERSIONS)
                retry = resp.api_keys[j].max_version;
        if (retry >= req->api_version)
            retry = (int16_t)(req->api_version - 1);
        if (retry < 0)
            retry = 0;
        kw_arena_destroy(a);
        send_api_versions(n, c, retry);
        return;
    }
    if (err != KW_ERR_NONE || resp.error_code != 0) {
        snprintf(why, sizeof why, "ApiVersions failed: %s",
                 err != KW_ERR_NONE ? body->errmsg : kw_err_name((kw_err)resp.error_code));
        kw_arena_destroy(a);
        conn_close(n, c, err != KW_ERR_NONE ? err : (kw_err)resp.error_code, why);
        return;
    }
    /* Every API: the highest version both sides speak (Java's ApiVersions.latestUsableVersion). */
    for (size_t i = 0; i < kw_supported_api_count; i++) {
        const kw_api_range *ours = &kw_supported_apis[i];
        int16_t key = ours->api_key;
        if (key < 0 || key >= 32)
            continue;
        /* Produce v0-2 carry message formats 0/1, which we never write (advertised only for
         * librdkafka's sake, KAFKA-18659): our floor is v3, as Java 4.x's. */
        int16_t our_min = key == KW_API_PRODUCE && ours->min_version < 3 ? 3 : ours->min_version;
        c->versions[key] = -1;
        for (int32_t j = 0; j < resp.n_api_keys; j++) {
            if (resp.api_keys[j].api_key != key)
                continue;
            int16_t hi = resp.api_keys[j].max_version < ours->max_version
                             ? resp.api_keys[j].max_version
                             : ours->max_version;
            int16_t lo = resp.api_keys[j].min_version > our_min ? resp.api_keys[j].min_version
                                                                : our_min;
            if (hi >= lo)
                c->versions[key] = hi;
        }
    }
    kw_arena_destroy(a);
    if (c->versions[KW_API_PRODUCE] < 0 || c->versions[KW_API_METADATA] < 0) {
        snprintf(why, sizeof why, "broker %s:%d shares no Produce/Metadata version with us",
                 c->host, (int)c->port);
        conn_close(n, c, KW_ERR_UNSUPPORTED_VERSION, why);
        return;
    }
    pthread_mutex_lock(&n->lock);
    c->state = KP_CONN_READY;
    pthread_mutex_unlock(&n->lock);
    c->failures = 0;
    c->backoff_ms = 0;
    emit_conn(n, c, KP_EV_CONNECTION_UP, KW_ERR_NONE, NULL);
}

static kp_req *queue_request(kp_net *n, kp_conn *c, int16_t api_key, int16_t version,
                             const kw_wbuf *body, bool expect, kp_resp_handler h, void *ctx,
                             int64_t now_ms);
static void conn_write(kp_net *n, kp_conn *c);

/* Asks the broker which versions it serves. The first ask is ApiVersions v3 with our software
 * name and version, as librdkafka and Java 3.x send (KIP-511); on_api_versions asks again at a
 * lower version when the broker answers UNSUPPORTED_VERSION. */
static void send_api_versions(kp_net *n, kp_conn *c, int16_t version) {
    pthread_mutex_lock(&n->lock);
    c->state = KP_CONN_NEGOTIATING;
    pthread_mutex_unlock(&n->lock);
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_api_versions_req req = {kw_slice_str(KP_CLIENT_SOFTWARE_NAME),
                               kw_slice_str(KP_CLIENT_SOFTWARE_VERSION)};
    kw_api_versions_req_encode(&body, version, &req);
    queue_request(n, c, KW_API_API_VERSIONS, version, &body, true, on_api_versions, c,
                  kp_now_ms(n->p));
    kw_wbuf_free(&body);
    conn_write(n, c);
}

static kp_req *queue_request(kp_net *n, kp_conn *c, int16_t api_key, int16_t version,
                             const kw_wbuf *body, bool expect, kp_resp_handler h, void *ctx,
                             int64_t now_ms) {
    kp_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    /* Compact the output buffer when much of it is already written. */
    if (c->out_pos > 0 && c->out_pos == c->out.len) {
        kw_wbuf_reset(&c->out);
        c->out_pos = 0;
    } else if (c->out_pos > (1 << 20)) {
        size_t left = c->out.len - c->out_pos;
        memmove(c->out.p, c->out.p + c->out_pos, left);
        for (kp_req *q = c->head; q; q = q->next)
            q->end_offset = q->end_offset > c->out_pos ? q->end_offset - c->out_pos : 0;
        c->out.len = left;
        c->out_pos = 0;
    }
    r->correlation_id = n->next_corr++;
    if (n->next_corr == INT32_MAX)
        n->next_corr = 1;
    r->api_key = api_key;
    r->api_version = version;
    r->sent_ms = now_ms;
    r->sent_us = kp_now_us(n->p);
    r->expect_response = expect;
    r->handler = h;
    r->ctx = ctx;
    r->node_id = c->node_id;
    kw_request_header hdr = {api_key, version, r->correlation_id,
                             kw_slice_str(n->p->conf.client_id)};
    kw_frame_request(&c->out, &hdr, body->p, body->len);
    if (c->out.oom) {
        free(r);
        return NULL;
    }
    r->end_offset = c->out.len;
    pthread_mutex_lock(&n->lock);
    if (c->tail)
        c->tail->next = r;
    else
        c->head = r;
    c->tail = r;
    c->n_in_flight++;
    if (!expect)
        c->n_noresp++;
    pthread_mutex_unlock(&n->lock);
    return r;
}

kp_req *kp_net_send(kp_net *n, kp_conn *c, int16_t api_key, int16_t version, const kw_wbuf *body,
                    bool expect_response, kp_resp_handler h, void *ctx, int64_t now_ms) {
    if (c->state != KP_CONN_READY)
        return NULL;
    kp_req *r = queue_request(n, c, api_key, version, body, expect_response, h, ctx, now_ms);
    /* Written by the next kp_net_poll (at once: the sender polls without waiting after it
     * sent something). Writing here could close the connection and run the request's handler
     * while the caller still holds its context. */
    if (r)
        n->bytes_out += (int64_t)body->len;
    return r;
}

/* Takes request r (after prev, or the head) off the connection's in-flight list. */
static void req_unlink(kp_net *n, kp_conn *c, kp_req *prev, kp_req *r) {
    pthread_mutex_lock(&n->lock);
    if (prev)
        prev->next = r->next;
    else
        c->head = r->next;
    if (c->tail == r)
        c->tail = prev;
    c->n_in_flight--;
    if (!r->expect_response)
        c->n_noresp--;
    pthread_mutex_unlock(&n->lock);
}

/* Completes requests that expect no response (acks=0) once fully written. */
static void complete_written(kp_net *n, kp_conn *c) {
    kp_req *prev = NULL;
    kp_req *r = c->head;
    while (r) {
        if (r->expect_response || r->end_offset > c->out_pos) {
            prev = r;
            r = r->next;
            continue;
        }
        req_unlink(n, c, prev, r);
        if (r->handler)
            r->handler(n->p, r, KW_ERR_NONE, NULL, kp_now_ms(n->p));
        free(r);
        r = prev ? prev->next : c->head; /* read after the handler, which may queue more */
    }
}

/* Writes what the socket takes. Requests that expect no response are completed later, by
 * kp_net_poll (never inside kp_net_send, whose caller still holds the request's context). */
static void conn_write(kp_net *n, kp_conn *c) {
    if (c->fd < 0 || c->state == KP_CONN_CONNECTING)
        return;
    while (c->out_pos < c->out.len) {
        ssize_t w = send(c->fd, c->out.p + c->out_pos, c->out.len - c->out_pos, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            char why[160];
            snprintf(why, sizeof why, "send: %s", strerror(errno));
            conn_close(n, c, KW_ERR__TRANSPORT, why);
            return;
        }
        c->out_pos += (size_t)w;
    }
}

static void conn_read(kp_net *n, kp_conn *c) {
    for (;;) {
        if (c->in_cap - c->in_len < 65536) {
            size_t nc = c->in_cap ? c->in_cap * 2 : 262144;
            uint8_t *ni = realloc(c->in, nc);
            if (!ni) {
                conn_close(n, c, KW_ERR__NO_MEMORY, "out of memory for the receive buffer");
                return;
            }
            c->in = ni;
            c->in_cap = nc;
        }
        ssize_t r = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (r == 0) {
            conn_close(n, c, KW_ERR__TRANSPORT, "closed by the broker");
            return;
        }
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            char why[160];
            snprintf(why, sizeof why, "recv: %s", strerror(errno));
            conn_close(n, c, KW_ERR__TRANSPORT, why);
            return;
        }
        c->in_len += (size_t)r;
        n->bytes_in += r;
        if ((size_t)r < 65536)
            break;
    }
    size_t off = 0;
    while (c->fd >= 0) {
        int32_t flen;
        char errbuf[160];
        int rc =
            kw_frame_peek(c->in + off, c->in_len - off, KP_MAX_FRAME, &flen, errbuf, sizeof errbuf);
        if (rc < 0) {
            conn_close(n, c, (kw_err)rc, errbuf);
            return;
        }
        if (rc == 0)
            break;
        const uint8_t *payload = c->in + off + 4;
        kp_req *r = c->head;
        kp_req *prev = NULL;
        while (r && !r->expect_response) {
            prev = r;
            r = r->next;
        }
        char why[200];
        if (!r) {
            conn_close(n, c, KW_ERR__MALFORMED, "response with no request in flight");
            return;
        }
        kw_rbuf rb;
        kw_rbuf_init(&rb, payload, (size_t)flen, kw_api_name(r->api_key));
        kw_response_header h;
        kw_response_header_decode(&rb, &h, kw_response_header_version(r->api_key, r->api_version));
        if (rb.err != KW_ERR_NONE || h.correlation_id != r->correlation_id) {
            snprintf(why, sizeof why, "response correlation id %d, expected %d (%s)",
                     (int)h.correlation_id, (int)r->correlation_id, rb.errmsg);
            conn_close(n, c, KW_ERR__MALFORMED, why);
            return;
        }
        req_unlink(n, c, prev, r);
        off += 4 + (size_t)flen;
        if (r->handler)
            r->handler(n->p, r, KW_ERR_NONE, &rb, kp_now_ms(n->p));
        free(r);
    }
    if (c->fd < 0)
        return;
    if (off > 0) {
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
}

void kp_net_poll(kp_net *n, int64_t timeout_ms) {
    struct kp_producer *p = n->p;
    struct pollfd stackfds[64];
    kp_conn *stackconns[64];
    struct pollfd *fds = stackfds;
    kp_conn **cs = stackconns;
    int32_t cap = n->n_conns + 1;
    if (cap > 64) {
        fds = malloc((size_t)cap * sizeof *fds);
        cs = malloc((size_t)cap * sizeof *cs);
        if (!fds || !cs) {
            free(fds == stackfds ? NULL : fds);
            free(cs == stackconns ? NULL : cs);
            fds = stackfds;
            cs = stackconns;
            cap = 64;
        }
    }
    int nf = 0;
    fds[nf].fd = n->wake_fd;
    fds[nf].events = POLLIN;
    cs[nf++] = NULL;
    for (int32_t i = 0; i < n->n_conns && nf < cap; i++) {
        kp_conn *c = n->conns[i];
        if (c->fd < 0)
            continue;
        fds[nf].fd = c->fd;
        fds[nf].events = POLLIN;
        if (c->state == KP_CONN_CONNECTING || c->out_pos < c->out.len)
            fds[nf].events |= POLLOUT;
        cs[nf++] = c;
    }
    int wait_ms = 0;
    if (timeout_ms > 0) {
        int64_t us = p->clock->wall_us(p->clock->opaque, timeout_ms * 1000);
        if (us < 0)
            us = 0;
        int64_t ms = (us + 999) / 1000;
        wait_ms = ms > 1000 ? 1000 : (int)ms;
    }
    int rc = poll(fds, (nfds_t)nf, wait_ms);
    if (rc > 0) {
        if (fds[0].revents & POLLIN) {
            /* Read the eventfd first, then clear the flag: a wakeup that comes in between
             * found the flag set and skipped its write, and this round (which follows the
             * exchange) sees what it changed; one after the exchange writes again. */
            uint64_t v;
            ssize_t rr = read(n->wake_fd, &v, sizeof v);
            (void)rr;
            atomic_exchange_explicit(&n->wake_pending, false, memory_order_acq_rel);
        }
        for (int i = 1; i < nf; i++) {
            kp_conn *c = cs[i];
            short re = fds[i].revents;
            if (!re || c->fd != fds[i].fd)
                continue;
            if (c->state == KP_CONN_CONNECTING) {
                int soerr = 0;
                socklen_t sl = sizeof soerr;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
                if (soerr) {
                    char why[200];
                    snprintf(why, sizeof why, "connect to %s:%d: %s", c->host, (int)c->port,
                             strerror(soerr));
                    conn_close(n, c, KW_ERR__TRANSPORT, why);
                    continue;
                }
                send_api_versions(n, c, KP_API_VERSIONS_FIRST);
                continue;
            }
            if (re & POLLIN)
                conn_read(n, c);
            if (c->fd >= 0 && (re & POLLOUT))
                conn_write(n, c);
            if (c->fd >= 0 && (re & (POLLERR | POLLHUP)) && !(re & POLLIN))
                conn_close(n, c, KW_ERR__TRANSPORT, "socket error");
        }
    }
    if (fds != stackfds)
        free(fds);
    if (cs != stackconns)
        free(cs);

    for (int32_t i = 0; i < n->n_conns; i++)
        if (n->conns[i]->n_noresp > 0 && n->conns[i]->fd >= 0)
            complete_written(n, n->conns[i]);

    /* request.timeout.ms: the oldest request waiting for an answer decides. */
    int64_t now = kp_now_ms(p);
    for (int32_t i = 0; i < n->n_conns; i++) {
        kp_conn *c = n->conns[i];
        if (c->fd < 0)
            continue;
        if (c->state == KP_CONN_CONNECTING) {
            if (now - c->last_attempt_ms >= p->conf.request_timeout_ms)
                conn_close(n, c, KW_ERR__TIMED_OUT, "connection setup timed out");
            continue;
        }
        kp_req *r = c->head;
        while (r && !r->expect_response)
            r = r->next;
        if (r && now - r->sent_ms >= p->conf.request_timeout_ms) {
            if (kp_has_sink(p)) {
                kp_event ev = kp_ev(p, KP_EV_REQUEST_TIMED_OUT);
                ev.api_key = r->api_key;
                ev.node_id = c->node_id;
                ev.correlation_id = r->correlation_id;
                ev.err = KW_ERR__TIMED_OUT;
                kp_emit(p, &ev);
            }
            char why[160];
            snprintf(why, sizeof why, "%s request (correlation id %d) timed out after %d ms",
                     kw_api_name(r->api_key), (int)r->correlation_id,
                     (int)p->conf.request_timeout_ms);
            conn_close(n, c, KW_ERR__TIMED_OUT, why);
        }
    }
}

kp_conn *kp_net_least_loaded(kp_net *n, int64_t now_ms) {
    kp_conn *best = NULL;
    for (int32_t i = 0; i < n->n_conns; i++) {
        kp_conn *c = n->conns[i];
        if (c->state == KP_CONN_READY && c->n_in_flight < n->p->conf.max_in_flight &&
            (!best || c->n_in_flight < best->n_in_flight))
            best = c;
    }
    if (best)
        return best;
    /* Nothing ready: make sure something is connecting. Prefer known brokers (ids >= 0). */
    for (int32_t i = 0; i < n->n_conns; i++)
        if (n->conns[i]->state == KP_CONN_CONNECTING || n->conns[i]->state == KP_CONN_NEGOTIATING)
            return NULL;
    kp_conn *cand = NULL;
    for (int pass = 0; pass < 2 && !cand; pass++)
        for (int32_t i = 0; i < n->n_conns; i++) {
            kp_conn *c = n->conns[i];
            if ((pass == 0) != (c->node_id >= 0))
                continue;
            if (c->state == KP_CONN_DOWN && now_ms - c->last_attempt_ms >= c->backoff_ms &&
                (!cand || c->last_attempt_ms < cand->last_attempt_ms))
                cand = c;
        }
    if (cand)
        conn_start(n, cand, now_ms);
    return NULL;
}

int32_t kp_net_in_flight_api(kp_net *n, int16_t api_key) {
    pthread_mutex_lock(&n->lock);
    int32_t t = 0;
    for (int32_t i = 0; i < n->n_conns; i++)
        for (kp_req *r = n->conns[i]->head; r; r = r->next)
            t += r->api_key == api_key;
    pthread_mutex_unlock(&n->lock);
    return t;
}

int32_t kp_net_in_flight(kp_net *n) {
    pthread_mutex_lock(&n->lock);
    int32_t t = 0;
    for (int32_t i = 0; i < n->n_conns; i++)
        t += n->conns[i]->n_in_flight;
    pthread_mutex_unlock(&n->lock);
    return t;
}

void kp_net_close_all(kp_net *n, kw_err err) {
    for (int32_t i = 0; i < n->n_conns; i++)
        if (n->conns[i]->fd >= 0 || n->conns[i]->head)
            conn_close(n, n->conns[i], err, "producer closing");
}

kw_err kp_net_snapshot(kp_net *n, kp_snap *out, int64_t now_ms) {
    pthread_mutex_lock(&n->lock);
    out->nodes = calloc((size_t)(n->n_conns ? n->n_conns : 1), sizeof *out->nodes);
    if (!out->nodes) {
        pthread_mutex_unlock(&n->lock);
        return KW_ERR__NO_MEMORY;
    }
    out->n_nodes = 0;
    for (int32_t i = 0; i < n->n_conns; i++) {
        kp_conn *c = n->conns[i];
        kp_snap_node *sn = &out->nodes[out->n_nodes++];
        sn->node_id = c->node_id;
        snprintf(sn->host, sizeof sn->host, "%s", c->host);
        sn->port = c->port;
        sn->state = c->state;
        sn->in_flight =
            calloc((size_t)(c->n_in_flight ? c->n_in_flight : 1), sizeof *sn->in_flight);
        if (!sn->in_flight)
            continue;
        for (kp_req *r = c->head; r && sn->n_in_flight < c->n_in_flight; r = r->next) {
            kp_snap_request *sr = &sn->in_flight[sn->n_in_flight++];
            sr->correlation_id = r->correlation_id;
            sr->api_key = r->api_key;
            sr->batch_count = r->batch_count;
            sr->bytes = r->bytes;
            sr->age_ms = now_ms - r->sent_ms;
        }
    }
    pthread_mutex_unlock(&n->lock);
    return KW_ERR_NONE;
}
