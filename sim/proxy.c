/* The fault proxy (a crooked stretch of road between the trucks and the brokers): see
 * sim/proxy.h for what it does. One event-loop thread, as the mock broker's (Redis's ae, the
 * librdkafka mock): listeners, client connections and their upstream connections, a wakeup
 * pipe for control calls, and a queue of answers held back by an added RTT.
 *
 * Per connection the proxy keeps the requests it forwarded (api, version, correlation id) in
 * order: Kafka answers in request order on a connection, so the head of that FIFO says how
 * to read the next answer (Metadata and ApiVersions are decoded and re-encoded, everything
 * else is copied as it is). Produce with acks=0 gets no answer, so it is not queued. */
#include "sim/proxy.h"

#include "protocol/kw.h"
#include "sim/kconn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* DescribeCluster answers carry broker addresses (Kafka's DescribeClusterResponse.json,
 * Brokers); the proxy has no codec to rewrite them, so it keeps the API out of ApiVersions.
 * Metadata and FindCoordinator answers are rewritten, at the versions protocol/ decodes. */
#define API_DESCRIBE_CLUSTER 60

#define READ_CHUNK 65536
#define BACKLOG_MAX (4u << 20) /* bytes queued towards one side before reading stops */

typedef struct pbuf {
    uint8_t *p;
    size_t len, pos, cap; /* bytes [pos, len) are pending */
} pbuf;

typedef struct pnode {
    int32_t id;
    char up_host[256]; /* the broker's real address */
    int up_port;
    int lfd;  /* our listener */
    int port; /* its port */
    /* faults, guarded by sim_proxy.lock */
    int64_t rtt_us;
    int32_t drop_next;
    bool blackhole, partitioned;
    unsigned cut_gen; /* bumped by cut/partition: older connections close */
} pnode;

typedef struct preq {
    int16_t api, ver;
    int32_t corr;
    uint8_t *synth; /* an answer the proxy wrote itself (whole frame), or NULL */
    size_t synth_len;
} preq;

typedef struct pdelay {
    int64_t due_us;
    uint8_t *frame;
    size_t len;
    struct pdelay *next;
} pdelay;

typedef struct pconn {
    int node; /* index in nodes[] */
    int cfd, ufd;
    bool connecting; /* upstream connect in progress */
    bool stalled;    /* an answer was lost: nothing more goes to the client */
    bool black;      /* in a black hole: nothing is forwarded either way */
    bool dead;
    unsigned cut_gen;
    pbuf cin, uin, cout, uout;
    preq *fifo;
    size_t fifo_head, fifo_n, fifo_cap;
    pdelay *dhead, *dtail;
    struct pconn *next;
} pconn;

/* Locks: `lock` guards nodes[] (addresses, faults), n_nodes and stats; the loop thread owns
 * the connections. */
struct sim_proxy {
    sim_proxy_opts o;
    char listen_host[64];
    char upstream[1024];
    char bootstrap[SIM_PROXY_MAX_NODES * 24];
    pthread_mutex_t lock;
    pnode nodes[SIM_PROXY_MAX_NODES];
    int n_nodes;
    sim_proxy_stats st;
    int wake[2];
    atomic_bool stop;
    pthread_t thread;
    bool thread_started;
    pconn *conns; /* loop thread only */
    kw_arena *arena;
};

static int64_t mono_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void plog(sim_proxy *p, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void plog(sim_proxy *p, int level, const char *fmt, ...) {
    if (!p->o.log_cb)
        return;
    char line[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    p->o.log_cb(level, line, p->o.log_opaque);
}

static void wake(sim_proxy *p) {
    char c = 1;
    ssize_t w = write(p->wake[1], &c, 1);
    (void)w; /* a full pipe already wakes the loop */
}

/* --- buffers ---------------------------------------------------------------------------- */

static bool pbuf_append(pbuf *b, const void *src, size_t n) {
    if (b->pos > 0 && b->pos == b->len)
        b->pos = b->len = 0;
    if (b->len + n > b->cap) {
        if (b->pos > 0) { /* slide the pending bytes down first */
            memmove(b->p, b->p + b->pos, b->len - b->pos);
            b->len -= b->pos;
            b->pos = 0;
        }
        if (b->len + n > b->cap) {
            size_t nc = b->cap ? b->cap : READ_CHUNK;
            while (nc < b->len + n)
                nc *= 2;
            uint8_t *np = realloc(b->p, nc);
            if (!np)
                return false;
            b->p = np;
            b->cap = nc;
        }
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
    return true;
}

static size_t pbuf_pending(const pbuf *b) {
    return b->len - b->pos;
}

/* Reads what the socket has into b (up to a few chunks). Returns 1 on data, 0 on EAGAIN,
 * -1 on EOF or error. */
static int pbuf_read(pbuf *b, int fd) {
    int got = 0;
    for (int i = 0; i < 4; i++) {
        if (b->pos > 0) { /* the part of a frame not consumed yet moves to the front */
            memmove(b->p, b->p + b->pos, b->len - b->pos);
            b->len -= b->pos;
            b->pos = 0;
        }
        if (b->cap - b->len < READ_CHUNK) {
            uint8_t *np = realloc(b->p, b->cap + READ_CHUNK * 2);
            if (!np)
                return -1;
            b->p = np;
            b->cap += READ_CHUNK * 2;
        }
        ssize_t r = recv(fd, b->p + b->len, b->cap - b->len, 0);
        if (r > 0) {
            b->len += (size_t)r;
            got = 1;
            if ((size_t)r < READ_CHUNK)
                break;
        } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            break;
        } else {
            return -1;
        }
    }
    return got;
}

/* Writes what b holds; -1 on a socket error. */
static int pbuf_flush(pbuf *b, int fd) {
    while (pbuf_pending(b) > 0) {
        ssize_t w = send(fd, b->p + b->pos, pbuf_pending(b), MSG_NOSIGNAL);
        if (w > 0)
            b->pos += (size_t)w;
        else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return 0;
        else
            return -1;
    }
    b->pos = b->len = 0;
    return 0;
}

static void pbuf_free(pbuf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* --- nodes ------------------------------------------------------------------------------ */

static int listen_on(const char *host, int *port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
        bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, 128)) {
        close(fd);
        return -1;
    }
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* Finds a node by id. @locks p->lock MUST be held. */
static int node_index(sim_proxy *p, int32_t id) {
    for (int i = 0; i < p->n_nodes; i++)
        if (p->nodes[i].id == id)
            return i;
    return -1;
}

/* Adds (or updates the address of) a broker and gives it a listener. Returns its index, or
 * -1 when the table is full or no port could be bound. @locks p->lock MUST be held. */
static int node_learn(sim_proxy *p, int32_t id, const char *host, int port) {
    int i = node_index(p, id);
    if (i < 0) {
        if (p->n_nodes >= SIM_PROXY_MAX_NODES)
            return -1;
        pnode *n = &p->nodes[p->n_nodes];
        memset(n, 0, sizeof *n);
        n->id = id;
        n->lfd = listen_on(p->listen_host, &n->port);
        if (n->lfd < 0)
            return -1;
        n->rtt_us = p->o.rtt_ms * 1000;
        i = p->n_nodes++;
    }
    snprintf(p->nodes[i].up_host, sizeof p->nodes[i].up_host, "%s", host);
    p->nodes[i].up_port = port;
    return i;
}

/* --- connections ------------------------------------------------------------------------ */

static void conn_close(sim_proxy *p, pconn *c, const char *why) {
    if (c->dead)
        return;
    c->dead = true;
    if (why)
        plog(p, 0, "broker %d: connection closed (%s)", (int)p->nodes[c->node].id, why);
    if (c->cfd >= 0)
        close(c->cfd);
    if (c->ufd >= 0)
        close(c->ufd);
    c->cfd = c->ufd = -1;
}

static void conn_free(pconn *c) {
    pbuf_free(&c->cin);
    pbuf_free(&c->uin);
    pbuf_free(&c->cout);
    pbuf_free(&c->uout);
    for (size_t i = 0; i < c->fifo_n; i++)
        free(c->fifo[(c->fifo_head + i) % c->fifo_cap].synth);
    free(c->fifo);
    for (pdelay *d = c->dhead, *nx; d; d = nx) {
        nx = d->next;
        free(d->frame);
        free(d);
    }
    free(c);
}

static bool fifo_push(pconn *c, preq r) {
    if (c->fifo_n == c->fifo_cap) {
        size_t nc = c->fifo_cap ? c->fifo_cap * 2 : 16;
        preq *nf = malloc(nc * sizeof *nf);
        if (!nf)
            return false;
        for (size_t i = 0; i < c->fifo_n; i++)
            nf[i] = c->fifo[(c->fifo_head + i) % c->fifo_cap];
        free(c->fifo);
        c->fifo = nf;
        c->fifo_cap = nc;
        c->fifo_head = 0;
    }
    c->fifo[(c->fifo_head + c->fifo_n) % c->fifo_cap] = r;
    c->fifo_n++;
    return true;
}

static preq fifo_pop(pconn *c) {
    preq r = c->fifo[c->fifo_head];
    c->fifo_head = (c->fifo_head + 1) % c->fifo_cap;
    c->fifo_n--;
    return r;
}

/* Starts the upstream connection of a new client connection (non-blocking). */
static int upstream_connect(sim_proxy *p, pconn *c) {
    char host[256], port[16];
    pthread_mutex_lock(&p->lock);
    snprintf(host, sizeof host, "%s", p->nodes[c->node].up_host);
    snprintf(port, sizeof port, "%d", p->nodes[c->node].up_port);
    pthread_mutex_unlock(&p->lock);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai || !res) {
        plog(p, 1, "broker %d: cannot resolve %s: %s", (int)p->nodes[c->node].id, host,
             gai_strerror(gai));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) < 0 && errno != EINPROGRESS) {
        plog(p, 1, "broker %d: cannot connect to %s:%s: %s", (int)p->nodes[c->node].id, host, port,
             strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->ufd = fd;
    c->connecting = true;
    return 0;
}

static void accept_on(sim_proxy *p, int ni) {
    for (;;) {
        int fd = accept4(p->nodes[ni].lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        pthread_mutex_lock(&p->lock);
        bool part = p->nodes[ni].partitioned, black = p->nodes[ni].blackhole;
        unsigned gen = p->nodes[ni].cut_gen;
        p->st.connections++;
        if (part)
            p->st.cuts++;
        pthread_mutex_unlock(&p->lock);
        if (part) { /* unreachable: closed at once */
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pconn *c = calloc(1, sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->node = ni;
        c->cfd = fd;
        c->ufd = -1;
        c->cut_gen = gen;
        c->black = black;
        c->next = p->conns;
        p->conns = c;
        if (!black && upstream_connect(p, c))
            conn_close(p, c, "cannot connect to the broker");
    }
}

/* --- answers ---------------------------------------------------------------------------- */

/* Hands one answer frame (size prefix included) towards the client through the faults of
 * its broker: lost (and the connection stalled), held back by the RTT, or queued now. Takes
 * ownership of frame. */
static void deliver(sim_proxy *p, pconn *c, uint8_t *frame, size_t len, const preq *rq) {
    pnode *n = &p->nodes[c->node];
    pthread_mutex_lock(&p->lock);
    bool drop = c->stalled || c->black || n->blackhole;
    bool newly = false;
    if (!drop && n->drop_next > 0) {
        n->drop_next--;
        drop = newly = true;
    }
    int64_t rtt = n->rtt_us;
    if (drop)
        p->st.dropped++;
    else
        p->st.responses++;
    pthread_mutex_unlock(&p->lock);
    if (drop) {
        if (newly)
            plog(p, 0, "broker %d: answer to %s #%d dropped (the connection stalls)", (int)n->id,
                 kw_api_name(rq->api), (int)rq->corr);
        c->stalled = true;
        free(frame);
        return;
    }
    if (rtt <= 0 && !c->dhead) {
        if (!pbuf_append(&c->cout, frame, len))
            conn_close(p, c, "out of memory");
        free(frame);
        return;
    }
    pdelay *d = malloc(sizeof *d);
    if (!d) {
        free(frame);
        conn_close(p, c, "out of memory");
        return;
    }
    d->due_us = mono_us() + (rtt > 0 ? rtt : 0);
    if (c->dtail && d->due_us < c->dtail->due_us) /* TCP order: never overtake */
        d->due_us = c->dtail->due_us;
    d->frame = frame;
    d->len = len;
    d->next = NULL;
    if (c->dtail)
        c->dtail->next = d;
    else
        c->dhead = d;
    c->dtail = d;
}

/* An answer to rq, read up to its body: a version protocol/ can re-encode (any, for
 * ApiVersions, whose ranges are read at every version), the response header in *h (its
 * version in *hv), the arena emptied for the body. 0, or -1 with why. */
static int answer_open(sim_proxy *p, const preq *rq, const char *context, const uint8_t *body,
                       size_t blen, kw_rbuf *rb, kw_response_header *h, int *hv, char *why,
                       size_t whysize) {
    const kw_api_range *r = kw_api_supported(rq->api);
    if (rq->api != KW_API_API_VERSIONS &&
        (!r || rq->ver < r->min_version || rq->ver > r->max_version)) {
        snprintf(why, whysize, "%s v%d is beyond what the proxy can rewrite", kw_api_name(rq->api),
                 rq->ver);
        return -1;
    }
    *hv = kw_response_header_version(rq->api, rq->ver);
    kw_rbuf_init(rb, body, blen, context);
    kw_response_header_decode(rb, h, *hv);
    kw_arena_reset(p->arena);
    return 0;
}

/* Starts the rewritten answer: its frame and response header. */
static size_t answer_begin(kw_wbuf *wb, const kw_response_header *h, int hv) {
    kw_wbuf_init(wb);
    size_t st = kw_frame_begin(wb);
    kw_response_header_encode(wb, h, hv);
    return st;
}

/* Ends the rewritten answer; returns its frame (the wbuf's memory, handed over), or NULL out
 * of memory. */
static uint8_t *answer_end(kw_wbuf *wb, size_t st, size_t *out_len, char *why, size_t whysize) {
    kw_frame_end(wb, st);
    if (wb->oom) {
        kw_wbuf_free(wb);
        snprintf(why, whysize, "out of memory");
        return NULL;
    }
    *out_len = wb->len;
    return wb->p;
}

/* The proxy's own port for a broker the cluster names (learning it on first sight). -1 with
 * why when there is none. */
static int broker_port(sim_proxy *p, int32_t node_id, kw_slice host, int32_t port, char *why,
                       size_t whysize) {
    char h[256];
    kw_slice_cstr(host, h, sizeof h);
    pthread_mutex_lock(&p->lock);
    int ni = node_learn(p, node_id, h, port);
    int ours = ni >= 0 ? p->nodes[ni].port : -1;
    pthread_mutex_unlock(&p->lock);
    if (ours < 0)
        snprintf(why, whysize, "no port for broker %d", (int)node_id);
    return ours;
}

/* Metadata: every broker's address becomes ours. Returns the new frame or NULL. */
static uint8_t *rewrite_metadata(sim_proxy *p, const preq *rq, const uint8_t *body, size_t blen,
                                 size_t *out_len, char *why, size_t whysize) {
    kw_rbuf rb;
    kw_response_header h;
    int hv;
    kw_metadata_resp m;
    if (answer_open(p, rq, "proxied Metadata response", body, blen, &rb, &h, &hv, why, whysize))
        return NULL;
    if (rb.err || kw_metadata_resp_decode(&rb, rq->ver, p->arena, &m) != KW_ERR_NONE) {
        snprintf(why, whysize, "%s", rb.errmsg);
        return NULL;
    }
    for (int32_t i = 0; i < m.n_brokers; i++) {
        kw_metadata_broker *b = &m.brokers[i];
        int port = broker_port(p, b->node_id, b->host, b->port, why, whysize);
        if (port < 0)
            return NULL;
        b->host = kw_slice_str(p->listen_host);
        b->port = port;
    }
    pthread_mutex_lock(&p->lock);
    p->st.metadata_rewrites++;
    pthread_mutex_unlock(&p->lock);
    kw_wbuf wb;
    size_t st = answer_begin(&wb, &h, hv);
    kw_metadata_resp_encode(&wb, rq->ver, &m);
    return answer_end(&wb, st, out_len, why, whysize);
}

/* FindCoordinator: the coordinator's address becomes ours. Returns the new frame or NULL. */
static uint8_t *rewrite_find_coordinator(sim_proxy *p, const preq *rq, const uint8_t *body,
                                         size_t blen, size_t *out_len, char *why, size_t whysize) {
    kw_rbuf rb;
    kw_response_header h;
    int hv;
    kw_find_coordinator_resp m;
    if (answer_open(p, rq, "proxied FindCoordinator response", body, blen, &rb, &h, &hv, why,
                    whysize))
        return NULL;
    if (rb.err || kw_find_coordinator_resp_decode(&rb, rq->ver, p->arena, &m) != KW_ERR_NONE) {
        snprintf(why, whysize, "%s", rb.errmsg);
        return NULL;
    }
    if (m.error_code == 0 && m.node_id >= 0) {
        int port = broker_port(p, m.node_id, m.host, m.port, why, whysize);
        if (port < 0)
            return NULL;
        m.host = kw_slice_str(p->listen_host);
        m.port = port;
    }
    kw_wbuf wb;
    size_t st = answer_begin(&wb, &h, hv);
    kw_find_coordinator_resp_encode(&wb, rq->ver, &m);
    return answer_end(&wb, st, out_len, why, whysize);
}

/* ApiVersions: advertise only what the proxy can carry (see sim/proxy.h). NULL with *why
 * empty means "forward as it is" (an error answer). */
static uint8_t *rewrite_api_versions(sim_proxy *p, const preq *rq, const uint8_t *body, size_t blen,
                                     size_t *out_len, char *why, size_t whysize) {
    why[0] = '\0';
    kw_rbuf rb;
    kw_response_header h;
    int hv;
    kw_api_versions_resp m;
    answer_open(p, rq, "proxied ApiVersions response", body, blen, &rb, &h, &hv, why, whysize);
    kw_err e = rb.err ? rb.err : kw_api_versions_resp_decode(&rb, rq->ver, p->arena, &m);
    if (e != KW_ERR_NONE || m.error_code != 0) {
        if (e == KW_ERR_NONE || m.error_code != 0)
            return NULL; /* an error answer carries no ranges worth capping */
        snprintf(why, whysize, "%s", rb.errmsg);
        return NULL;
    }
    int32_t k = 0;
    for (int32_t i = 0; i < m.n_api_keys; i++) {
        kw_api_range a = m.api_keys[i];
        if (a.api_key == API_DESCRIBE_CLUSTER)
            continue;
        if (a.api_key == KW_API_METADATA || a.api_key == KW_API_FIND_COORDINATOR) {
            const kw_api_range *ours = kw_api_supported(a.api_key);
            if (!ours)
                continue;
            if (a.max_version > ours->max_version)
                a.max_version = ours->max_version;
            if (a.min_version < ours->min_version)
                a.min_version = ours->min_version;
            if (a.min_version > a.max_version)
                continue;
        }
        m.api_keys[k++] = a;
    }
    m.n_api_keys = k;
    kw_wbuf wb;
    size_t st = answer_begin(&wb, &h, hv);
    kw_api_versions_resp_encode(&wb, rq->ver, &m);
    return answer_end(&wb, st, out_len, why, whysize);
}

/* An ApiVersions request newer than protocol/ reads: UNSUPPORTED_VERSION in a v0 body listing
 * only ApiVersions, as a Kafka broker answers (KIP-511). */
static uint8_t *synth_api_versions(int32_t corr, size_t *out_len) {
    const kw_api_range *av = kw_api_supported(KW_API_API_VERSIONS);
    kw_api_range one = *av;
    kw_api_versions_resp m = {
        .error_code = KW_ERR_UNSUPPORTED_VERSION, .n_api_keys = 1, .api_keys = &one};
    kw_wbuf wb;
    kw_response_header h = {corr};
    size_t st = answer_begin(&wb, &h, 0);
    kw_api_versions_resp_encode(&wb, 0, &m);
    char why[32];
    return answer_end(&wb, st, out_len, why, sizeof why);
}

/* Answers the proxy wrote itself go out as soon as every earlier answer has. */
static void flush_synth(sim_proxy *p, pconn *c) {
    while (!c->dead && c->fifo_n > 0 && c->fifo[c->fifo_head].synth) {
        preq r = fifo_pop(c);
        deliver(p, c, r.synth, r.synth_len, &r);
    }
}

/* The next whole frame in b (not consumed): 1 with *frame and *total (size prefix included),
 * 0 when more bytes are needed, -1 after closing c on a bad size. */
static int next_frame(sim_proxy *p, pconn *c, const pbuf *b, const uint8_t **frame, size_t *total) {
    int32_t flen;
    char ferr[160];
    int pk = kw_frame_peek(b->p + b->pos, pbuf_pending(b), KW_DEFAULT_MAX_FRAME, &flen, ferr,
                           sizeof ferr);
    if (pk < 0)
        conn_close(p, c, ferr);
    if (pk <= 0)
        return pk;
    *frame = b->p + b->pos;
    *total = 4 + (size_t)flen;
    return 1;
}

/* Every whole answer in uin: match it to its request, rewrite it if it names brokers, and
 * deliver it. */
static void on_upstream_frames(sim_proxy *p, pconn *c) {
    pbuf *b = &c->uin;
    const uint8_t *frame;
    size_t total;
    while (!c->dead && next_frame(p, c, b, &frame, &total) > 0) {
        kw_rbuf rb;
        kw_response_header rh;
        kw_rbuf_init(&rb, frame + 4, total - 4, "proxied answer");
        int32_t corr =
            kw_response_header_decode(&rb, &rh, 0) == KW_ERR_NONE ? rh.correlation_id : -1;
        if (c->fifo_n == 0 || c->fifo[c->fifo_head].corr != corr) {
            char why[96];
            snprintf(why, sizeof why, "an answer with correlation id %d that no request awaits",
                     (int)corr);
            conn_close(p, c, why);
            return;
        }
        preq rq = fifo_pop(c);
        uint8_t *out = NULL;
        size_t out_len = 0;
        char why[200] = "";
        if (rq.api == KW_API_METADATA)
            out = rewrite_metadata(p, &rq, frame + 4, total - 4, &out_len, why, sizeof why);
        else if (rq.api == KW_API_FIND_COORDINATOR)
            out = rewrite_find_coordinator(p, &rq, frame + 4, total - 4, &out_len, why, sizeof why);
        else if (rq.api == KW_API_API_VERSIONS)
            out = rewrite_api_versions(p, &rq, frame + 4, total - 4, &out_len, why, sizeof why);
        if (!out && why[0]) {
            char msg[260];
            snprintf(msg, sizeof msg, "%s answer not rewritten: %s", kw_api_name(rq.api), why);
            plog(p, 1, "broker %d: %s", (int)p->nodes[c->node].id, msg);
            conn_close(p, c, NULL);
            return;
        }
        if (!out) {
            out = malloc(total);
            if (!out) {
                conn_close(p, c, "out of memory");
                return;
            }
            memcpy(out, frame, total);
            out_len = total;
        }
        b->pos += total;
        deliver(p, c, out, out_len, &rq);
        flush_synth(p, c);
    }
}

/* --- requests --------------------------------------------------------------------------- */

/* True when a Produce request (its header and body) expects no answer (acks=0). */
static bool produce_acks0(kw_rbuf *rb, int16_t version) {
    int16_t acks = -1;
    return kw_produce_req_acks(rb, version, &acks) == KW_ERR_NONE && acks == 0;
}

/* Every whole request in cin: note it in the FIFO and pass it on (or answer it here, or
 * swallow it in a black hole). */
static void on_client_frames(sim_proxy *p, pconn *c) {
    pbuf *b = &c->cin;
    const uint8_t *frame;
    size_t total;
    while (!c->dead && next_frame(p, c, b, &frame, &total) > 0) {
        b->pos += total;
        kw_rbuf rb;
        kw_request_header h;
        kw_rbuf_init(&rb, frame + 4, total - 4, "proxied request");
        if (kw_request_header_decode(&rb, &h) != KW_ERR_NONE) {
            conn_close(p, c, "a request shorter than its header");
            return;
        }
        if (c->black) {
            pthread_mutex_lock(&p->lock);
            p->st.dropped++;
            pthread_mutex_unlock(&p->lock);
            continue;
        }
        preq rq = {.api = h.api_key, .ver = h.api_version, .corr = h.correlation_id};
        const kw_api_range *av = kw_api_supported(KW_API_API_VERSIONS);
        if (rq.api == KW_API_API_VERSIONS && rq.ver > av->max_version) {
            rq.synth = synth_api_versions(rq.corr, &rq.synth_len);
            if (!rq.synth || !fifo_push(c, rq)) {
                free(rq.synth);
                conn_close(p, c, "out of memory");
                return;
            }
            flush_synth(p, c);
            continue;
        }
        bool answered = !(rq.api == KW_API_PRODUCE && produce_acks0(&rb, rq.ver));
        if ((answered && !fifo_push(c, rq)) || !pbuf_append(&c->uout, frame, total)) {
            conn_close(p, c, "out of memory");
            return;
        }
        pthread_mutex_lock(&p->lock);
        p->st.requests++;
        pthread_mutex_unlock(&p->lock);
    }
}

/* --- the loop --------------------------------------------------------------------------- */

/* Applies what control calls changed: cut and partitioned connections close, connections of
 * a black-holed broker go silent. */
static void apply_faults(sim_proxy *p) {
    for (pconn *c = p->conns; c; c = c->next) {
        if (c->dead)
            continue;
        pthread_mutex_lock(&p->lock);
        pnode *n = &p->nodes[c->node];
        bool cut = c->cut_gen != n->cut_gen;
        bool black = n->blackhole;
        if (cut)
            p->st.cuts++;
        pthread_mutex_unlock(&p->lock);
        if (cut)
            conn_close(p, c, "cut");
        else if (black)
            c->black = true;
    }
}

static void conn_io(sim_proxy *p, pconn *c, short cre, short ure, int64_t now) {
    if (c->connecting && (ure & (POLLOUT | POLLERR | POLLHUP))) {
        int e = 0;
        socklen_t el = sizeof e;
        getsockopt(c->ufd, SOL_SOCKET, SO_ERROR, &e, &el);
        if (e) {
            char why[128];
            snprintf(why, sizeof why, "cannot connect to the broker: %s", strerror(e));
            conn_close(p, c, why);
            return;
        }
        c->connecting = false;
    }
    if (cre & (POLLIN | POLLHUP | POLLERR)) {
        if (pbuf_read(&c->cin, c->cfd) < 0) {
            conn_close(p, c, NULL); /* the client left */
            return;
        }
        on_client_frames(p, c);
    }
    if (c->dead)
        return;
    if (!c->connecting && c->ufd >= 0 && (ure & (POLLIN | POLLHUP | POLLERR))) {
        if (pbuf_read(&c->uin, c->ufd) < 0) {
            conn_close(p, c, "the broker closed the connection");
            return;
        }
        on_upstream_frames(p, c);
    }
    while (!c->dead && c->dhead && c->dhead->due_us <= now) {
        pdelay *d = c->dhead;
        c->dhead = d->next;
        if (!c->dhead)
            c->dtail = NULL;
        if (!pbuf_append(&c->cout, d->frame, d->len))
            conn_close(p, c, "out of memory");
        free(d->frame);
        free(d);
    }
    if (c->dead)
        return;
    if (!c->connecting && c->ufd >= 0 && pbuf_flush(&c->uout, c->ufd) < 0) {
        conn_close(p, c, "the broker closed the connection");
        return;
    }
    if (pbuf_flush(&c->cout, c->cfd) < 0)
        conn_close(p, c, NULL);
}

static void *loop_main(void *arg) {
    sim_proxy *p = arg;
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, NULL);
    struct pollfd *pf = NULL;
    pconn **who = NULL;
    size_t pf_cap = 0;
    while (!atomic_load(&p->stop)) {
        size_t nconn = 0;
        for (pconn *c = p->conns; c; c = c->next)
            nconn++;
        pthread_mutex_lock(&p->lock);
        int nn = p->n_nodes;
        pthread_mutex_unlock(&p->lock);
        size_t need = 1 + (size_t)nn + 2 * nconn;
        if (need > pf_cap) {
            size_t nc = need * 2;
            struct pollfd *npf = realloc(pf, nc * sizeof *npf);
            if (npf)
                pf = npf;
            pconn **nw = realloc(who, nc * sizeof *nw);
            if (nw)
                who = nw;
            if (!npf || !nw)
                break;
            pf_cap = nc;
        }
        size_t k = 0;
        pf[k++] = (struct pollfd){.fd = p->wake[0], .events = POLLIN};
        for (int i = 0; i < nn; i++)
            pf[k++] = (struct pollfd){.fd = p->nodes[i].lfd, .events = POLLIN};
        int64_t now = mono_us(), next_due = INT64_MAX;
        for (pconn *c = p->conns; c; c = c->next) {
            short ce = 0, ue = 0;
            if (pbuf_pending(&c->uout) < BACKLOG_MAX)
                ce |= POLLIN;
            if (pbuf_pending(&c->cout) > 0)
                ce |= POLLOUT;
            if (c->connecting || pbuf_pending(&c->uout) > 0)
                ue |= POLLOUT;
            if (!c->connecting && pbuf_pending(&c->cout) < BACKLOG_MAX)
                ue |= POLLIN;
            if (c->dhead && c->dhead->due_us < next_due)
                next_due = c->dhead->due_us;
            who[k] = c;
            pf[k++] = (struct pollfd){.fd = c->cfd, .events = ce};
            who[k] = c;
            pf[k++] = (struct pollfd){.fd = c->ufd, .events = ue}; /* -1 is ignored by poll */
        }
        int timeout = 1000;
        if (next_due != INT64_MAX) {
            int64_t left = (next_due - now + 999) / 1000;
            timeout = left < 0 ? 0 : left < 1000 ? (int)left : 1000;
        }
        int n = poll(pf, k, timeout);
        if (n < 0 && errno != EINTR)
            break;
        now = mono_us();
        if (pf[0].revents & POLLIN) {
            char drain[64];
            while (read(p->wake[0], drain, sizeof drain) > 0)
                ;
            apply_faults(p);
        }
        for (int i = 0; i < nn; i++)
            if (pf[1 + i].revents & POLLIN)
                accept_on(p, i);
        for (size_t j = 1 + (size_t)nn; j < k; j += 2) {
            pconn *c = who[j];
            if (!c->dead)
                conn_io(p, c, pf[j].revents, pf[j + 1].revents, now);
        }
        /* free closed connections */
        for (pconn **pp = &p->conns; *pp;) {
            pconn *c = *pp;
            if (c->dead) {
                *pp = c->next;
                conn_free(c);
            } else {
                pp = &c->next;
            }
        }
    }
    free(pf);
    free(who);
    return NULL;
}

/* --- life cycle ------------------------------------------------------------------------- */

/* Asks the upstream cluster which brokers it has (Metadata v1, no topics). */
static int discover(sim_proxy *p, char *errbuf, size_t errsize) {
    sim_kconn *kc;
    char err[300];
    if (sim_kconn_open(p->upstream, 5000, &kc, err, sizeof err)) {
        snprintf(errbuf, errsize, "upstream %s: %s", p->upstream, err);
        return -1;
    }
    int16_t ver = 1;
    int rc = sim_kconn_pick_version(kc, KW_API_METADATA, &ver, err, sizeof err);
    if (ver > 4) /* 1..4: brokers, and an empty topic list means none */
        ver = 4;
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_metadata_req req = {.n_topics = 0, .allow_auto_topic_creation = false};
    kw_metadata_req_encode(&body, ver, &req);
    kw_rbuf rb;
    if (rc == 0)
        rc = sim_kconn_call(kc, KW_API_METADATA, ver, &body, 10000, &rb, err, sizeof err);
    kw_wbuf_free(&body);
    kw_metadata_resp m;
    if (rc == 0 && kw_metadata_resp_decode(&rb, ver, p->arena, &m) != KW_ERR_NONE) {
        snprintf(err, sizeof err, "%s", rb.errmsg);
        rc = -1;
    }
    if (rc) {
        sim_kconn_close(kc);
        snprintf(errbuf, errsize, "upstream %s: %s", p->upstream, err);
        return -1;
    }
    if (m.n_brokers <= 0) {
        sim_kconn_close(kc);
        snprintf(errbuf, errsize, "upstream %s: its Metadata lists no brokers", p->upstream);
        return -1;
    }
    /* node id order, so the bootstrap line reads 1,2,3 */
    for (int32_t i = 1; i < m.n_brokers; i++)
        for (int32_t j = i; j > 0 && m.brokers[j].node_id < m.brokers[j - 1].node_id; j--) {
            kw_metadata_broker t = m.brokers[j];
            m.brokers[j] = m.brokers[j - 1];
            m.brokers[j - 1] = t;
        }
    size_t len = 0;
    for (int32_t i = 0; i < m.n_brokers; i++) {
        char host[256];
        kw_slice_cstr(m.brokers[i].host, host, sizeof host);
        int ni = node_learn(p, m.brokers[i].node_id, host, m.brokers[i].port);
        if (ni < 0) {
            sim_kconn_close(kc);
            snprintf(errbuf, errsize, "cannot listen on %s for broker %d: %s", p->listen_host,
                     (int)m.brokers[i].node_id, strerror(errno));
            return -1;
        }
        if (len < sizeof p->bootstrap)
            len += (size_t)snprintf(p->bootstrap + len, sizeof p->bootstrap - len, "%s%s:%d",
                                    len ? "," : "", p->listen_host, p->nodes[ni].port);
    }
    sim_kconn_close(kc); /* the decoded answer pointed into its buffer until here */
    return 0;
}

int sim_proxy_new(const sim_proxy_opts *o, sim_proxy **out, char *errbuf, size_t errsize) {
    *out = NULL;
    if (!o || !o->upstream || !o->upstream[0]) {
        snprintf(errbuf, errsize, "no upstream bootstrap address");
        return -1;
    }
    if (o->rtt_ms < 0 || o->rtt_ms > 600000) {
        snprintf(errbuf, errsize, "rtt %lld ms is not in 0..600000", (long long)o->rtt_ms);
        return -1;
    }
    sim_proxy *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(errbuf, errsize, "out of memory");
        return -1;
    }
    p->o = *o;
    snprintf(p->upstream, sizeof p->upstream, "%s", o->upstream);
    snprintf(p->listen_host, sizeof p->listen_host, "%s",
             o->listen_host ? o->listen_host : "127.0.0.1");
    p->o.upstream = p->upstream;
    p->o.listen_host = p->listen_host;
    pthread_mutex_init(&p->lock, NULL);
    p->wake[0] = p->wake[1] = -1;
    p->arena = kw_arena_new();
    if (!p->arena || pipe2(p->wake, O_NONBLOCK | O_CLOEXEC)) {
        snprintf(errbuf, errsize, "cannot set up the proxy: %s", strerror(errno));
        sim_proxy_destroy(p);
        return -1;
    }
    struct in_addr ia;
    if (inet_pton(AF_INET, p->listen_host, &ia) != 1) {
        snprintf(errbuf, errsize, "listen address '%.60s' is not an IPv4 address", p->listen_host);
        sim_proxy_destroy(p);
        return -1;
    }
    if (discover(p, errbuf, errsize)) {
        sim_proxy_destroy(p);
        return -1;
    }
    if (pthread_create(&p->thread, NULL, loop_main, p)) {
        snprintf(errbuf, errsize, "cannot start the proxy thread");
        sim_proxy_destroy(p);
        return -1;
    }
    p->thread_started = true;
    *out = p;
    return 0;
}

const char *sim_proxy_bootstrap(const sim_proxy *p) {
    return p->bootstrap;
}

int sim_proxy_nodes(sim_proxy *p, int32_t *ids, int max) {
    pthread_mutex_lock(&p->lock);
    int n = 0;
    for (int i = 0; i < p->n_nodes && n < max; i++)
        ids[n++] = p->nodes[i].id;
    pthread_mutex_unlock(&p->lock);
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && ids[j] < ids[j - 1]; j--) {
            int32_t t = ids[j];
            ids[j] = ids[j - 1];
            ids[j - 1] = t;
        }
    return n;
}

void sim_proxy_get_stats(sim_proxy *p, sim_proxy_stats *out) {
    pthread_mutex_lock(&p->lock);
    *out = p->st;
    pthread_mutex_unlock(&p->lock);
}

void sim_proxy_destroy(sim_proxy *p) {
    if (!p)
        return;
    if (p->thread_started) {
        atomic_store(&p->stop, true);
        wake(p);
        pthread_join(p->thread, NULL);
    }
    for (pconn *c = p->conns, *nx; c; c = nx) {
        nx = c->next;
        conn_close(p, c, NULL);
        conn_free(c);
    }
    for (int i = 0; i < p->n_nodes; i++)
        if (p->nodes[i].lfd >= 0)
            close(p->nodes[i].lfd);
    if (p->wake[0] >= 0)
        close(p->wake[0]);
    if (p->wake[1] >= 0)
        close(p->wake[1]);
    kw_arena_destroy(p->arena);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/* --- faults ----------------------------------------------------------------------------- */

typedef enum { F_RTT, F_DROP, F_CUT, F_BLACKHOLE, F_PARTITION, F_HEAL } fault_op;

/* Applies one fault to one node or all (-1). @locks takes p->lock. */
static int set_fault(sim_proxy *p, int32_t node, fault_op op, int64_t v) {
    pthread_mutex_lock(&p->lock);
    int lo = 0, hi = p->n_nodes;
    if (node >= 0) {
        lo = node_index(p, node);
        hi = lo + 1;
        if (lo < 0) {
            pthread_mutex_unlock(&p->lock);
            return -1;
        }
    }
    for (int i = lo; i < hi; i++) {
        pnode *n = &p->nodes[i];
        switch (op) {
        case F_RTT:
            n->rtt_us = v * 1000;
            break;
        case F_DROP:
            n->drop_next = (int32_t)v;
            break;
        case F_CUT:
            n->cut_gen++;
            break;
        case F_BLACKHOLE:
            n->blackhole = true;
            break;
        case F_PARTITION:
            n->partitioned = true;
            n->cut_gen++;
            break;
        case F_HEAL:
            n->rtt_us = 0;
            n->drop_next = 0;
            n->blackhole = n->partitioned = false;
            break;
        }
    }
    pthread_mutex_unlock(&p->lock);
    wake(p);
    return 0;
}

int sim_proxy_set_rtt(sim_proxy *p, int32_t node, int64_t rtt_ms) {
    if (rtt_ms < 0 || rtt_ms > 600000)
        return -1;
    return set_fault(p, node, F_RTT, rtt_ms);
}
int sim_proxy_drop_responses(sim_proxy *p, int32_t node, int32_t n) {
    if (n < 0)
        return -1;
    return set_fault(p, node, F_DROP, n);
}
int sim_proxy_cut(sim_proxy *p, int32_t node) {
    return set_fault(p, node, F_CUT, 0);
}
int sim_proxy_blackhole(sim_proxy *p, int32_t node) {
    return set_fault(p, node, F_BLACKHOLE, 0);
}
int sim_proxy_partition(sim_proxy *p, int32_t node) {
    return set_fault(p, node, F_PARTITION, 0);
}
int sim_proxy_heal(sim_proxy *p, int32_t node) {
    return set_fault(p, node, F_HEAL, 0);
}

/* Parses a whole decimal number in lo..hi. */
static bool parse_num(const char *s, long long lo, long long hi, long long *out) {
    if (!s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static void status_line(sim_proxy *p, char *reply, size_t size) {
    pthread_mutex_lock(&p->lock);
    size_t n = (size_t)snprintf(reply, size,
                                "ok: connections %lld requests %lld responses %lld dropped %lld "
                                "cuts %lld;",
                                (long long)p->st.connections, (long long)p->st.requests,
                                (long long)p->st.responses, (long long)p->st.dropped,
                                (long long)p->st.cuts);
    for (int i = 0; i < p->n_nodes && n < size; i++) {
        const pnode *nd = &p->nodes[i];
        n += (size_t)snprintf(reply + n, size - n, " broker %d %s:%d->%s:%d rtt %lld%s%s%s;",
                              (int)nd->id, p->listen_host, nd->port, nd->up_host, nd->up_port,
                              (long long)(nd->rtt_us / 1000), nd->drop_next ? " dropping" : "",
                              nd->blackhole ? " blackhole" : "",
                              nd->partitioned ? " partitioned" : "");
    }
    pthread_mutex_unlock(&p->lock);
}

int sim_proxy_command(sim_proxy *p, const char *line, char *reply, size_t size) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", line);
    char *save = NULL;
    char *w[4] = {0};
    int nw = 0;
    for (char *t = strtok_r(buf, " \t\r\n", &save); t && nw < 4;
         t = strtok_r(NULL, " \t\r\n", &save))
        w[nw++] = t;
    if (nw == 0) {
        snprintf(reply, size, "error: an empty line (try help)");
        return -1;
    }
    long long node = -1, v = 0;
    const char *cmd = w[0];
    if (!strcmp(cmd, "help")) {
        snprintf(reply, size,
                 "ok: rtt BROKER MS | drop BROKER N | cut BROKER | blackhole BROKER "
                 "| partition BROKER | heal [BROKER] | status (BROKER: a node id or "
                 "all)");
        return 0;
    }
    if (!strcmp(cmd, "status")) {
        status_line(p, reply, size);
        return 0;
    }
    int want = !strcmp(cmd, "rtt") || !strcmp(cmd, "drop")                                     ? 3
               : !strcmp(cmd, "cut") || !strcmp(cmd, "blackhole") || !strcmp(cmd, "partition") ? 2
               : !strcmp(cmd, "heal")                                                          ? -1
                                                                                               : 0;
    if (want == 0) {
        /* the word is quoted with control bytes replaced */
        char safe[40];
        size_t i = 0;
        for (; cmd[i] && i + 1 < sizeof safe; i++)
            safe[i] = (cmd[i] < 32 || cmd[i] == 127) ? '?' : cmd[i];
        safe[i] = '\0';
        snprintf(reply, size, "error: unknown command '%s' (try help)", safe);
        return -1;
    }
    if ((want > 0 && nw != want) || (want < 0 && nw > 2)) {
        snprintf(reply, size, "error: usage: %s",
                 want == 3   ? (!strcmp(cmd, "rtt") ? "rtt BROKER MS" : "drop BROKER N")
                 : want == 2 ? "cut|blackhole|partition BROKER"
                             : "heal [BROKER]");
        return -1;
    }
    if (nw >= 2 && strcmp(w[1], "all") && !parse_num(w[1], 0, INT32_MAX, &node)) {
        snprintf(reply, size, "error: '%.30s' is not a broker id", w[1]);
        return -1;
    }
    if (want == 3 && !parse_num(w[2], 0, !strcmp(cmd, "rtt") ? 600000 : 1000000, &v)) {
        snprintf(reply, size, "error: '%.30s' is not a number in 0..%d", w[2],
                 !strcmp(cmd, "rtt") ? 600000 : 1000000);
        return -1;
    }
    int rc;
    int32_t nd = (int32_t)node;
    if (!strcmp(cmd, "rtt"))
        rc = sim_proxy_set_rtt(p, nd, v);
    else if (!strcmp(cmd, "drop"))
        rc = sim_proxy_drop_responses(p, nd, (int32_t)v);
    else if (!strcmp(cmd, "cut"))
        rc = sim_proxy_cut(p, nd);
    else if (!strcmp(cmd, "blackhole"))
        rc = sim_proxy_blackhole(p, nd);
    else if (!strcmp(cmd, "partition"))
        rc = sim_proxy_partition(p, nd);
    else
        rc = sim_proxy_heal(p, nd);
    if (rc) {
        snprintf(reply, size, "error: no broker %lld (status lists them)", node);
        return -1;
    }
    char who[32];
    if (node < 0)
        snprintf(who, sizeof who, "every broker");
    else
        snprintf(who, sizeof who, "broker %lld", node);
    if (!strcmp(cmd, "rtt"))
        snprintf(reply, size, "ok: %s rtt %lld ms", who, v);
    else if (!strcmp(cmd, "drop"))
        snprintf(reply, size, "ok: %s drops its next %lld answers", who, v);
    else if (!strcmp(cmd, "cut"))
        snprintf(reply, size, "ok: %s: connections cut", who);
    else if (!strcmp(cmd, "blackhole"))
        snprintf(reply, size, "ok: %s is a black hole (accepts, never answers)", who);
    else if (!strcmp(cmd, "partition"))
        snprintf(reply, size, "ok: %s is unreachable (partitioned)", who);
    else
        snprintf(reply, size, "ok: %s healed", who);
    return 0;
}
