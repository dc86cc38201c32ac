/* sim/reader.c — the clerk who reads the shelves back (sim/reader.h has the contract).
 *
 * One blocking connection per broker, opened on first use: ApiVersions v0, then each API at
 * the highest version both sides speak. Requests go one at a time; every wait is a poll()
 * with the reader's deadline. Nothing here is specific to Courier's mock cluster.
 */
#include "sim/reader.h"

#include "sim/kconn.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RD_MAX_BROKERS 64
#define RD_HOST_MAX 256
#define RD_FETCH_PARTITION_MAX_BYTES (1 << 20)
#define RD_FETCH_MAX_BYTES (4 << 20)
#define RD_API_SLOTS 64

typedef struct rd_conn {
    int32_t node_id; /* -1 for a bootstrap server */
    char host[RD_HOST_MAX];
    int port;
    int fd;                         /* -1 when not connected */
    int16_t versions[RD_API_SLOTS]; /* picked version per API key, -1 = not shared */
} rd_conn;

typedef struct rd_partition {
    int32_t leader;       /* node id, -1 when none */
    int32_t leader_epoch; /* -1 when unknown */
} rd_partition;

struct sim_reader {
    char topic[256];
    int timeout_ms;
    int32_t corr;
    rd_conn bootstrap[RD_MAX_BROKERS];
    int n_bootstrap;
    rd_conn brokers[RD_MAX_BROKERS];
    int n_brokers;
    rd_partition *parts;
    int n_parts;
    kw_arena *arena;  /* decoded responses; reset per request */
    kw_arena *rarena; /* record headers; reset per batch */
    uint8_t *frame;   /* last response frame */
    size_t frame_cap;
    char err[512];
};

/* --- small helpers --------------------------------------------------------------------- */

static int64_t mono_ms(void) {
    return sim_kconn_now_ms();
}

static int fail(sim_reader *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(sim_reader *r, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
    return code;
}

/* Prefixes the current error sentence with a formatted context ("partition 3: Fetch: "). */
static int wrap(sim_reader *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int wrap(sim_reader *r, int code, const char *fmt, ...) {
    char old[sizeof r->err];
    snprintf(old, sizeof old, "%s", r->err);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
    size_t at = n < 0 ? 0 : (size_t)n;
    for (const char *q = ": "; *q && at + 1 < sizeof r->err; q++)
        r->err[at++] = *q;
    for (const char *q = old; *q && at + 1 < sizeof r->err; q++)
        r->err[at++] = *q;
    if (at < sizeof r->err)
        r->err[at] = '\0';
    return code;
}

/* True for the errors a consumer answers by refreshing metadata and retrying (Java's
 * Fetcher: NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION right after creation,
 * leader epoch errors), plus a connection that failed. */
static bool retry_after_refresh(int code) {
    switch (code) {
    case KW_ERR_NOT_LEADER_OR_FOLLOWER:
    case KW_ERR_LEADER_NOT_AVAILABLE:
    case KW_ERR_REPLICA_NOT_AVAILABLE:
    case KW_ERR_FENCED_LEADER_EPOCH:
    case KW_ERR_UNKNOWN_LEADER_EPOCH:
    case KW_ERR_BROKER_NOT_AVAILABLE:
    case KW_ERR_REQUEST_TIMED_OUT:
    case KW_ERR_NOT_ENOUGH_REPLICAS:
    case KW_ERR_OFFSET_NOT_AVAILABLE:
    case KW_ERR_KAFKA_STORAGE_ERROR:
    case KW_ERR__TRANSPORT:
    case KW_ERR__TIMED_OUT:
        return true;
    default:
        return false;
    }
}

/* Waits until a 100 ms pause has passed or the deadline, whichever is first. */
static void backoff_until(int64_t deadline) {
    int64_t left = deadline - mono_ms();
    if (left <= 0)
        return;
    if (left > 100)
        left = 100;
    struct timespec ts = {0, (long)left * 1000000L};
    nanosleep(&ts, NULL);
}

/* Splits "host:port" (or "[v6]:port") into host and port; false when malformed. */
static bool parse_hostport(const char *s, size_t n, char *host, size_t hostsize, int *port) {
    const char *colon = NULL;
    for (size_t i = 0; i < n; i++)
        if (s[i] == ':')
            colon = s + i;
    if (!colon || colon == s || (size_t)(colon - s) + 1 >= n)
        return false;
    const char *h = s;
    size_t hl = (size_t)(colon - s);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl == 0 || hl >= hostsize)
        return false;
    memcpy(host, h, hl);
    host[hl] = '\0';
    long p = 0;
    for (const char *c = colon + 1; c < s + n; c++) {
        if (*c < '0' || *c > '9')
            return false;
        p = p * 10 + (*c - '0');
        if (p > 65535)
            return false;
    }
    if (p <= 0)
        return false;
    *port = (int)p;
    return true;
}

static void conn_close(rd_conn *c) {
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

/* True when a decoder read every field and failed only on bytes left at the end. */
static bool only_trailing_bytes(const kw_rbuf *rb) {
    return rb->err == KW_ERR__MALFORMED && strstr(rb->errmsg, "trailing bytes") != NULL;
}

/* --- one connection -------------------------------------------------------------------- */

/* Connects within the deadline (sim_io_connect, sim/kconn.h). */
static int conn_connect(sim_reader *r, rd_conn *c, int64_t deadline) {
    char why[200];
    sim_io rc = sim_io_connect(c->host, c->port, deadline, &c->fd, why, sizeof why);
    if (rc == SIM_IO_TIMEOUT)
        return fail(r, KW_ERR__TIMED_OUT, "%s:%d: connect: no answer within %d ms", c->host,
                    c->port, r->timeout_ms);
    if (rc != SIM_IO_OK)
        return fail(r, KW_ERR__TRANSPORT, "%s:%d: %s", c->host, c->port, why);
    return 0;
}

/* sim_io_send_all / sim_io_recv_all, their failures said as the reader says them. */
static int send_all(sim_reader *r, rd_conn *c, const uint8_t *p, size_t n, int64_t deadline) {
    sim_io rc = sim_io_send_all(c->fd, p, n, deadline);
    if (rc == SIM_IO_TIMEOUT)
        return fail(r, KW_ERR__TIMED_OUT, "%s:%d: send: timed out", c->host, c->port);
    if (rc != SIM_IO_OK)
        return fail(r, KW_ERR__TRANSPORT, "%s:%d: send: %s", c->host, c->port,
                    rc == SIM_IO_CLOSED ? "the connection was closed" : strerror(errno));
    return 0;
}

static int recv_all(sim_reader *r, rd_conn *c, uint8_t *p, size_t n, int64_t deadline) {
    sim_io rc = sim_io_recv_all(c->fd, p, n, deadline);
    if (rc == SIM_IO_TIMEOUT)
        return fail(r, KW_ERR__TIMED_OUT, "%s:%d: no answer within %d ms", c->host, c->port,
                    r->timeout_ms);
    if (rc == SIM_IO_CLOSED)
        return fail(r, KW_ERR__TRANSPORT, "%s:%d: the broker closed the connection", c->host,
                    c->port);
    if (rc != SIM_IO_OK)
        return fail(r, KW_ERR__TRANSPORT, "%s:%d: recv: %s", c->host, c->port, strerror(errno));
    return 0;
}

/* Sends one request (header + body) and receives its answer; on success *rb reads the
 * response body (after the header) out of r->frame. A failure closes the connection. */
static int conn_call(sim_reader *r, rd_conn *c, int16_t key, int16_t version, const kw_wbuf *body,
                     int extra_wait_ms, kw_rbuf *rb) {
    int64_t deadline = mono_ms() + r->timeout_ms + extra_wait_ms;
    int rc;
    if (c->fd < 0 && (rc = conn_connect(r, c, deadline)) != 0)
        return rc;
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    int32_t corr = ++r->corr;
    kw_request_header h = {key, version, corr, kw_slice_str("courier-reader")};
    kw_frame_request(&wb, &h, body->p, body->len);
    if (wb.oom || body->oom) {
        kw_wbuf_free(&wb);
        return fail(r, KW_ERR__NO_MEMORY, "out of memory encoding a %s request", kw_api_name(key));
    }
    rc = send_all(r, c, wb.p, wb.len, deadline);
    kw_wbuf_free(&wb);
    uint8_t sz[4];
    if (rc == 0)
        rc = recv_all(r, c, sz, 4, deadline);
    if (rc != 0) {
        conn_close(c);
        return rc;
    }
    int32_t n = 0;
    char why[160];
    if (kw_frame_peek(sz, 4, KW_DEFAULT_MAX_FRAME, &n, why, sizeof why) < 0 || n < 4) {
        conn_close(c);
        return fail(r, KW_ERR__MALFORMED, "%s:%d: %s answer: bad frame size (%s)", c->host,
                    c->port, kw_api_name(key), n < 4 ? "shorter than a header" : why);
    }
    if ((size_t)n > r->frame_cap) {
        uint8_t *nf = realloc(r->frame, (size_t)n);
        if (!nf) {
            conn_close(c);
            return fail(r, KW_ERR__NO_MEMORY, "cannot allocate a %d-byte frame", (int)n);
        }
        r->frame = nf;
        r->frame_cap = (size_t)n;
    }
    if ((rc = recv_all(r, c, r->frame, (size_t)n, deadline)) != 0) {
        conn_close(c);
        return rc;
    }
    kw_rbuf_init(rb, r->frame, (size_t)n, kw_api_name(key));
    kw_response_header rh;
    kw_response_header_decode(rb, &rh, kw_response_header_version(key, version));
    if (rb->err || rh.correlation_id != corr) {
        conn_close(c);
        return fail(r, KW_ERR__MALFORMED, "%s:%d: %s answer: %s", c->host, c->port,
                    kw_api_name(key), rb->err ? rb->errmsg : "correlation id out of order");
    }
    kw_arena_reset(r->arena);
    return 0;
}

/* Opens the connection if needed and learns the versions: ApiVersions v0 (every broker
 * answers it), then per API the highest version both sides speak. */
static int conn_ready(sim_reader *r, rd_conn *c) {
    if (c->fd >= 0)
        return 0;
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_rbuf rb;
    int rc = conn_call(r, c, KW_API_API_VERSIONS, 0, &body, 0, &rb);
    kw_wbuf_free(&body);
    if (rc != 0)
        return rc;
    kw_api_versions_resp resp;
    if (kw_api_versions_resp_decode(&rb, 0, r->arena, &resp) != KW_ERR_NONE) {
        conn_close(c);
        return fail(r, KW_ERR__MALFORMED, "%s:%d: ApiVersions answer: %s", c->host, c->port,
                    rb.errmsg);
    }
    if (resp.error_code != 0) {
        conn_close(c);
        return fail(r, resp.error_code, "%s:%d: ApiVersions: %s", c->host, c->port,
                    kw_err_name((kw_err)resp.error_code));
    }
    for (int k = 0; k < RD_API_SLOTS; k++)
        c->versions[k] = -1;
    for (int32_t j = 0; j < resp.n_api_keys; j++) {
        const kw_api_range *theirs = &resp.api_keys[j];
        const kw_api_range *ours = kw_api_supported(theirs->api_key);
        if (!ours || theirs->api_key < 0 || theirs->api_key >= RD_API_SLOTS)
            continue;
        int16_t hi = theirs->max_version < ours->max_version ? theirs->max_version
                                                              : ours->max_version;
        int16_t lo = theirs->min_version > ours->min_version ? theirs->min_version
                                                              : ours->min_version;
        if (hi >= lo)
            c->versions[theirs->api_key] = hi;
    }
    return 0;
}

/* The version to use for `key` on a ready connection, or a failure naming the API. */
static int conn_version(sim_reader *r, rd_conn *c, int16_t key, int16_t *version) {
    int16_t v = c->versions[key];
    if (v < 0) {
        conn_close(c);
        return fail(r, KW_ERR__UNSUPPORTED_API,
                    "%s:%d: the broker speaks no %s version we speak", c->host, c->port,
                    kw_api_name(key));
    }
    *version = v;
    return 0;
}

/* --- metadata -------------------------------------------------------------------------- */

static rd_conn *broker_by_id(sim_reader *r, int32_t id) {
    for (int i = 0; i < r->n_brokers; i++)
        if (r->brokers[i].node_id == id)
            return &r->brokers[i];
    return NULL;
}

/* Replaces the broker list with the metadata's, keeping open connections whose address
 * stayed the same. */
static void update_brokers(sim_reader *r, const kw_metadata_resp *m) {
    rd_conn old[RD_MAX_BROKERS];
    int n_old = r->n_brokers;
    memcpy(old, r->brokers, sizeof(rd_conn) * (size_t)n_old);
    r->n_brokers = 0;
    for (int32_t i = 0; i < m->n_brokers && r->n_brokers < RD_MAX_BROKERS; i++) {
        rd_conn *c = &r->brokers[r->n_brokers++];
        memset(c, 0, sizeof *c);
        c->node_id = m->brokers[i].node_id;
        kw_slice_cstr(m->brokers[i].host, c->host, sizeof c->host);
        c->port = m->brokers[i].port;
        c->fd = -1;
        for (int k = 0; k < n_old; k++) {
            if (old[k].fd >= 0 && old[k].node_id == c->node_id && old[k].port == c->port &&
                !strcmp(old[k].host, c->host)) {
                *c = old[k];
                old[k].fd = -1;
                break;
            }
        }
    }
    for (int k = 0; k < n_old; k++)
        conn_close(&old[k]);
}

/* Asks one server for the topic's metadata. */
static int metadata_from(sim_reader *r, rd_conn *c) {
    int rc = conn_ready(r, c);
    int16_t v = 0;
    if (rc == 0)
        rc = conn_version(r, c, KW_API_METADATA, &v);
    if (rc != 0)
        return rc;
    kw_slice name = kw_slice_str(r->topic);
    kw_metadata_req req = {.n_topics = 1, .topics = &name, .allow_auto_topic_creation = false};
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_metadata_req_encode(&body, v, &req);
    kw_rbuf rb;
    rc = conn_call(r, c, KW_API_METADATA, v, &body, 0, &rb);
    kw_wbuf_free(&body);
    if (rc != 0)
        return rc;
    kw_metadata_resp m;
    if (kw_metadata_resp_decode(&rb, v, r->arena, &m) != KW_ERR_NONE) {
        conn_close(c);
        return fail(r, KW_ERR__MALFORMED, "%s:%d: Metadata answer: %s", c->host, c->port,
                    rb.errmsg);
    }
    const kw_metadata_topic *t = NULL;
    for (int32_t i = 0; i < m.n_topics; i++)
        if (kw_slice_eq(m.topics[i].name, r->topic))
            t = &m.topics[i];
    if (!t)
        return fail(r, KW_ERR_UNKNOWN_TOPIC_OR_PARTITION,
                    "%s:%d: Metadata answer does not mention topic '%s'", c->host, c->port,
                    r->topic);
    if (t->error_code != 0)
        return fail(r, t->error_code, "topic '%s': %s", r->topic,
                    kw_err_name((kw_err)t->error_code));
    int32_t np = 0;
    for (int32_t i = 0; i < t->n_partitions; i++)
        if (t->partitions[i].partition_index >= np)
            np = t->partitions[i].partition_index + 1;
    if (np <= 0 || np > 100000)
        return fail(r, KW_ERR_LEADER_NOT_AVAILABLE, "topic '%s': no partitions yet", r->topic);
    rd_partition *parts = calloc((size_t)np, sizeof *parts);
    if (!parts)
        return fail(r, KW_ERR__NO_MEMORY, "out of memory");
    for (int32_t i = 0; i < np; i++)
        parts[i] = (rd_partition){-1, -1};
    for (int32_t i = 0; i < t->n_partitions; i++) {
        const kw_metadata_partition *p = &t->partitions[i];
        parts[p->partition_index].leader = p->error_code ? -1 : p->leader_id;
        parts[p->partition_index].leader_epoch = p->leader_epoch;
    }
    free(r->parts);
    r->parts = parts;
    r->n_parts = np;
    update_brokers(r, &m);
    return 0;
}

/* One metadata refresh: the known brokers first, then the bootstrap servers. */
static int refresh_once(sim_reader *r) {
    int rc = KW_ERR__TRANSPORT;
    char first[sizeof r->err] = "";
    for (int i = 0; i < r->n_brokers; i++) {
        rc = metadata_from(r, &r->brokers[i]);
        if (rc == 0 || rc > 0)
            return rc;
        if (!first[0])
            snprintf(first, sizeof first, "%s", r->err);
    }
    for (int i = 0; i < r->n_bootstrap; i++) {
        rc = metadata_from(r, &r->bootstrap[i]);
        conn_close(&r->bootstrap[i]);
        if (rc == 0 || rc > 0)
            return rc;
        if (!first[0])
            snprintf(first, sizeof first, "%s", r->err);
    }
    if (first[0])
        snprintf(r->err, sizeof r->err, "no broker answered Metadata: %.400s", first);
    return rc;
}

/* Refreshes until the topic has partitions or the deadline passes. */
static int refresh_until(sim_reader *r, int64_t deadline) {
    for (;;) {
        int rc = refresh_once(r);
        if (rc == 0 || rc == KW_ERR_UNKNOWN_TOPIC_OR_PARTITION || !retry_after_refresh(rc) ||
            mono_ms() >= deadline)
            return rc;
        backoff_until(deadline);
    }
}

int sim_reader_refresh(sim_reader *r) {
    r->err[0] = '\0';
    return refresh_until(r, mono_ms() + r->timeout_ms);
}

/* The leader's connection, ready for requests. */
static int leader_conn(sim_reader *r, int32_t partition, rd_conn **out) {
    if (partition < 0 || partition >= r->n_parts)
        return fail(r, KW_ERR__UNKNOWN_PARTITION, "topic '%s' has no partition %d (it has %d)",
                    r->topic, (int)partition, r->n_parts);
    int32_t leader = r->parts[partition].leader;
    rd_conn *c = broker_by_id(r, leader);
    if (!c)
        return fail(r, KW_ERR_LEADER_NOT_AVAILABLE, "partition %d: no leader (leader id %d)",
                    (int)partition, (int)leader);
    int rc = conn_ready(r, c);
    if (rc != 0)
        return wrap(r, rc, "partition %d: leader %d", (int)partition, (int)leader);
    *out = c;
    return 0;
}

/* --- public API ------------------------------------------------------------------------ */

int sim_reader_open(const char *bootstrap, const char *topic, int timeout_ms, sim_reader **out,
                    char *errbuf, size_t errsize) {
    *out = NULL;
    if (errsize)
        errbuf[0] = '\0';
    if (!bootstrap || !topic || !*topic || strlen(topic) >= 250 || timeout_ms <= 0) {
        snprintf(errbuf, errsize, "reader: %s",
                 !bootstrap ? "no bootstrap servers"
                 : !topic || !*topic ? "no topic"
                 : timeout_ms <= 0   ? "the timeout must be positive"
                                     : "topic name too long");
        return KW_ERR__INVALID_ARG;
    }
    sim_reader *r = calloc(1, sizeof *r);
    if (r) {
        r->arena = kw_arena_new();
        r->rarena = kw_arena_new();
    }
    if (!r || !r->arena || !r->rarena) {
        snprintf(errbuf, errsize, "reader: out of memory");
        sim_reader_close(r);
        return KW_ERR__NO_MEMORY;
    }
    snprintf(r->topic, sizeof r->topic, "%s", topic);
    r->timeout_ms = timeout_ms;
    for (const char *s = bootstrap; *s;) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        while (n && (*s == ' ')) {
            s++;
            n--;
        }
        if (n) {
            if (r->n_bootstrap == RD_MAX_BROKERS) {
                snprintf(errbuf, errsize, "reader: more than %d bootstrap servers", RD_MAX_BROKERS);
                sim_reader_close(r);
                return KW_ERR__INVALID_ARG;
            }
            rd_conn *c = &r->bootstrap[r->n_bootstrap];
            c->node_id = -1;
            c->fd = -1;
            if (!parse_hostport(s, n, c->host, sizeof c->host, &c->port)) {
                snprintf(errbuf, errsize, "reader: bootstrap server '%.*s' is not host:port",
                         (int)(n > 100 ? 100 : n), s);
                sim_reader_close(r);
                return KW_ERR__INVALID_ARG;
            }
            r->n_bootstrap++;
        }
        s += n;
        if (*s == ',')
            s++;
    }
    if (r->n_bootstrap == 0) {
        snprintf(errbuf, errsize, "reader: no bootstrap servers in '%s'", bootstrap);
        sim_reader_close(r);
        return KW_ERR__INVALID_ARG;
    }
    int rc = refresh_until(r, mono_ms() + timeout_ms);
    if (rc != 0) {
        snprintf(errbuf, errsize, "%s", r->err);
        sim_reader_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

int sim_reader_partition_count(sim_reader *r) {
    return r->n_parts;
}

/* One ListOffsets request for one partition at `timestamp` (-2 earliest, -1 latest). */
static int list_offset(sim_reader *r, int32_t partition, int64_t timestamp, int64_t *offset) {
    rd_conn *c;
    int16_t v = 0;
    int rc = leader_conn(r, partition, &c);
    if (rc == 0)
        rc = conn_version(r, c, KW_API_LIST_OFFSETS, &v);
    if (rc != 0)
        return rc;
    kw_list_offsets_req_partition p = {partition, -1, timestamp};
    kw_list_offsets_req_topic t = {kw_slice_str(r->topic), 1, &p};
    kw_list_offsets_req req = {.replica_id = -1, .isolation_level = 0, .n_topics = 1, .topics = &t};
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_list_offsets_req_encode(&body, v, &req);
    kw_rbuf rb;
    rc = conn_call(r, c, KW_API_LIST_OFFSETS, v, &body, 0, &rb);
    kw_wbuf_free(&body);
    if (rc != 0)
        return wrap(r, rc, "partition %d: ListOffsets to leader %d", (int)partition,
                    (int)c->node_id);
    kw_list_offsets_resp m;
    /* librdkafka 2.0's mock cluster writes a ListOffsets v4+ partition's leader_epoch twice:
     * every field is there, so the extra bytes at the end are forgiven, as its own client
     * (which stops reading after the fields it knows) forgives them. */
    kw_list_offsets_resp_decode(&rb, v, r->arena, &m);
    if (rb.err != KW_ERR_NONE && !only_trailing_bytes(&rb)) {
        conn_close(c);
        return fail(r, KW_ERR__MALFORMED, "partition %d: ListOffsets answer: %s", (int)partition,
                    rb.errmsg);
    }
    if (m.n_topics != 1 || m.topics[0].n_partitions != 1 ||
        m.topics[0].partitions[0].partition_index != partition)
        return fail(r, KW_ERR__MALFORMED, "partition %d: ListOffsets answer names another partition",
                    (int)partition);
    const kw_list_offsets_resp_partition *rp = &m.topics[0].partitions[0];
    if (rp->error_code != 0)
        return fail(r, rp->error_code, "partition %d: ListOffsets: %s", (int)partition,
                    kw_err_name((kw_err)rp->error_code));
    *offset = rp->offset;
    return 0;
}

/* Runs op until it succeeds, fails for good, or the deadline passes; refreshes metadata
 * between tries when the error calls for it. */
#define WITH_RETRY(r, deadline, call)                                                              \
    do {                                                                                           \
        rc = (call);                                                                               \
        if (rc == 0 || !retry_after_refresh(rc) || mono_ms() >= (deadline))                       \
            break;                                                                                 \
        backoff_until(deadline);                                                                   \
        int rrc = refresh_once(r);                                                                 \
        if (rrc != 0 && !retry_after_refresh(rrc)) {                                               \
            rc = rrc;                                                                              \
            break;                                                                                 \
        }                                                                                          \
    } while (mono_ms() < (deadline))

int sim_reader_offsets(sim_reader *r, int32_t partition, int64_t *earliest, int64_t *latest) {
    r->err[0] = '\0';
    int64_t deadline = mono_ms() + r->timeout_ms;
    int rc;
    int64_t lo = -1, hi = -1;
    WITH_RETRY(r, deadline, list_offset(r, partition, -2, &lo));
    if (rc == 0)
        WITH_RETRY(r, deadline, list_offset(r, partition, -1, &hi));
    if (rc != 0)
        return rc;
    if (earliest)
        *earliest = lo;
    if (latest)
        *latest = hi;
    return 0;
}

typedef struct fetch_ctx {
    int32_t partition;
    int64_t offset; /* next offset wanted */
    int64_t until;  /* stop before this offset */
    sim_reader_record_fn fn;
    void *opaque;
    bool stopped;
    int64_t high_watermark;
} fetch_ctx;

/* Walks the batches of one partition's records, calling fn for records in [offset, until). A
 * partial batch at the end (the broker cut at max_bytes) is normal and ends the walk. */
static int deliver_batches(sim_reader *r, fetch_ctx *f, kw_slice records) {
    const uint8_t *p = records.p;
    size_t left = records.len > 0 ? (size_t)records.len : 0;
    while (left >= 12 && !f->stopped && f->offset < f->until) {
        int32_t blen = (int32_t)(((uint32_t)p[8] << 24) | ((uint32_t)p[9] << 16) |
                                 ((uint32_t)p[10] << 8) | p[11]);
        if (blen < 0 || (size_t)blen + 12 > left)
            break; /* partial batch */
        kw_batch b;
        size_t used = 0;
        char why[200];
        kw_err e = kw_batch_parse(p, left, true, &b, &used, why, sizeof why);
        if (e != KW_ERR_NONE)
            return fail(r, e, "partition %d: record batch at offset %lld: %s", (int)f->partition,
                        (long long)(left >= 8 ? (int64_t)((uint64_t)p[0] << 56 |
                                                          (uint64_t)p[1] << 48 |
                                                          (uint64_t)p[2] << 40 |
                                                          (uint64_t)p[3] << 32 |
                                                          (uint64_t)p[4] << 24 |
                                                          (uint64_t)p[5] << 16 |
                                                          (uint64_t)p[6] << 8 | p[7])
                                              : -1),
                        why);
        int64_t last = b.base_offset + b.last_offset_delta;
        if (last >= f->offset && !(b.attributes & 0x20)) {
            kw_record_iter it;
            kw_record_iter_init(&it, &b);
            kw_record rec;
            int n;
            kw_arena_reset(r->rarena);
            while ((n = kw_record_next(&it, r->rarena, &rec)) > 0) {
                if (rec.offset < f->offset)
                    continue;
                if (rec.offset >= f->until)
                    break;
                f->offset = rec.offset + 1;
                if (f->fn && f->fn(f->opaque, f->partition, &rec) != 0) {
                    f->stopped = true;
                    break;
                }
            }
            kw_record_iter_release(&it); /* a compressed batch's records */
            if (n < 0)
                return fail(r, it.rb.err, "partition %d: batch at offset %lld: %s",
                            (int)f->partition, (long long)b.base_offset, it.rb.errmsg);
        }
        /* Skip what the batch covered (control batches, compacted gaps). */
        if (!f->stopped && last + 1 > f->offset)
            f->offset = last + 1 < f->until ? last + 1 : f->until;
        p += used;
        left -= used;
    }
    return 0;
}

/* One Fetch request for one partition from f->offset. */
static int fetch_once(sim_reader *r, fetch_ctx *f, int max_wait_ms) {
    rd_conn *c;
    int16_t v = 0;
    int rc = leader_conn(r, f->partition, &c);
    if (rc == 0)
        rc = conn_version(r, c, KW_API_FETCH, &v);
    if (rc != 0)
        return rc;
    kw_fetch_req_partition p = {f->partition, -1, f->offset, -1, RD_FETCH_PARTITION_MAX_BYTES, -1};
    kw_fetch_req_topic t = {kw_slice_str(r->topic), 1, &p};
    kw_fetch_req req = {.replica_id = -1,
                        .max_wait_ms = max_wait_ms,
                        .min_bytes = 1,
                        .max_bytes = RD_FETCH_MAX_BYTES,
                        .isolation_level = 0,
                        .session_id = 0,
                        .session_epoch = -1,
                        .n_topics = 1,
                        .topics = &t,
                        .rack_id = kw_slice_str("")};
    kw_wbuf body;
    kw_wbuf_init(&body);
    kw_fetch_req_encode(&body, v, &req);
    kw_rbuf rb;
    rc = conn_call(r, c, KW_API_FETCH, v, &body, max_wait_ms, &rb);
    kw_wbuf_free(&body);
    if (rc != 0)
        return wrap(r, rc, "partition %d: Fetch from leader %d", (int)f->partition,
                    (int)c->node_id);
    kw_fetch_resp m;
    if (kw_fetch_resp_decode(&rb, v, r->arena, &m) != KW_ERR_NONE) {
        conn_close(c);
        return fail(r, KW_ERR__MALFORMED, "partition %d: Fetch answer: %s", (int)f->partition,
                    rb.errmsg);
    }
    if (m.error_code != 0)
        return fail(r, m.error_code, "partition %d: Fetch: %s", (int)f->partition,
                    kw_err_name((kw_err)m.error_code));
    for (int32_t i = 0; i < m.n_topics; i++) {
        for (int32_t j = 0; j < m.topics[i].n_partitions; j++) {
            const kw_fetch_resp_partition *rp = &m.topics[i].partitions[j];
            if (rp->partition_index != f->partition)
                continue;
            if (rp->error_code != 0)
                return fail(r, rp->error_code, "partition %d: Fetch at offset %lld: %s",
                            (int)f->partition, (long long)f->offset,
                            kw_err_name((kw_err)rp->error_code));
            f->high_watermark = rp->high_watermark;
            return deliver_batches(r, f, rp->records);
        }
    }
    return 0; /* nothing for us: an empty answer */
}

int sim_reader_read(sim_reader *r, int32_t partition, int64_t from, int64_t until,
                    sim_reader_record_fn fn, void *opaque) {
    r->err[0] = '\0';
    fetch_ctx f = {partition, from, until, fn, opaque, false, -1};
    int64_t deadline = mono_ms() + r->timeout_ms;
    while (f.offset < f.until && !f.stopped) {
        int64_t before = f.offset;
        int wait = r->timeout_ms < 500 ? r->timeout_ms : 500;
        int rc;
        WITH_RETRY(r, deadline, fetch_once(r, &f, wait));
        if (rc != 0)
            return rc;
        if (f.offset > before) {
            deadline = mono_ms() + r->timeout_ms; /* progress: a fresh deadline */
            continue;
        }
        if (mono_ms() >= deadline)
            return fail(r, KW_ERR__TIMED_OUT,
                        "partition %d: no record at offset %lld within %d ms (high watermark "
                        "%lld, reading up to %lld)",
                        (int)partition, (long long)f.offset, r->timeout_ms,
                        (long long)f.high_watermark, (long long)until);
        if (f.high_watermark >= 0 && f.high_watermark <= f.offset)
            backoff_until(deadline); /* nothing there yet; the broker may not wait for us */
    }
    return 0;
}

int sim_reader_poll(sim_reader *r, int32_t partition, int64_t offset, int max_wait_ms,
                    sim_reader_record_fn fn, void *opaque, int64_t *next, int64_t *high_watermark) {
    r->err[0] = '\0';
    fetch_ctx f = {partition, offset, INT64_MAX, fn, opaque, false, -1};
    int64_t deadline = mono_ms() + r->timeout_ms;
    int rc;
    WITH_RETRY(r, deadline, fetch_once(r, &f, max_wait_ms < 0 ? 0 : max_wait_ms));
    if (next)
        *next = f.offset;
    if (high_watermark)
        *high_watermark = f.high_watermark;
    return rc;
}

const char *sim_reader_error(sim_reader *r) {
    return r->err;
}

void sim_reader_close(sim_reader *r) {
    if (!r)
        return;
    for (int i = 0; i < r->n_brokers; i++)
        conn_close(&r->brokers[i]);
    for (int i = 0; i < r->n_bootstrap; i++)
        conn_close(&r->bootstrap[i]);
    free(r->parts);
    free(r->frame);
    kw_arena_destroy(r->arena);
    kw_arena_destroy(r->rarena);
    free(r);
}
